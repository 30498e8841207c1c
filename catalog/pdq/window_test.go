package pdq

import (
	"errors"
	"image"
	"image/color"
	"testing"
)

// TestWindowsWholeIsFromImage: a window covering the whole image hashes exactly as FromImage (the
// shared blur computes the same float32 values in the same order), on every reference image and
// on odd-sized sub-images (non-zero origin).
func TestWindowsWholeIsFromImage(t *testing.T) {
	for _, row := range RefRows(t) {
		img, err := DecodeFile(row.File)
		if err != nil {
			t.Fatal(err)
		}
		imgs := []image.Image{img}
		if s, ok := img.(interface {
			SubImage(image.Rectangle) image.Image
		}); ok {
			b := img.Bounds()
			if b.Dx() > 40 && b.Dy() > 40 {
				imgs = append(imgs, s.SubImage(image.Rect(b.Min.X+7, b.Min.Y+3, b.Max.X-11, b.Max.Y-5)))
			}
		}
		for _, m := range imgs {
			want, err := FromImage(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Windows(m, []image.Rectangle{m.Bounds(), m.Bounds()})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range got {
				if g != want {
					t.Errorf("%s %v: Windows(whole) = %s q%d, FromImage = %s q%d", row.Rel, m.Bounds(), g.Hash, g.Quality, want.Hash, want.Quality)
				}
			}
		}
	}
}

// TestWindowsSubWindow: a window of a picture hashes close to the same window cut out and hashed
// on its own (only the blur differs), and far from another window of it.
func TestWindowsSubWindow(t *testing.T) {
	row := RefRows(t)[0]
	img, err := DecodeFile(row.File)
	if err != nil {
		t.Fatal(err)
	}
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	centre := image.Rect(b.Min.X+w/10, b.Min.Y+h/10, b.Max.X-w/10, b.Max.Y-h/10)
	left := image.Rect(b.Min.X, b.Min.Y, b.Min.X+w/2, b.Max.Y)
	got, err := Windows(img, []image.Rectangle{centre, left})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []image.Rectangle{centre, left} {
		alone, err := FromImage(sub.SubImage(r))
		if err != nil {
			t.Fatal(err)
		}
		d := Distance(got[i].Hash, alone.Hash)
		t.Logf("%s window %v: %d bits from the window hashed alone (qualities %d/%d)", row.Rel, r, d, got[i].Quality, alone.Quality)
		if d > 16 {
			t.Errorf("window %v: %d bits from the same window hashed alone, want <= 16", r, d)
		}
	}
	if d := Distance(got[0].Hash, got[1].Hash); d < 64 {
		t.Errorf("centre and left half only %d bits apart", d)
	}
}

func TestWindowsTooSmall(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	if _, err := Windows(img, []image.Rectangle{image.Rect(0, 0, 4, 30)}); !errors.Is(err, ErrTooSmall) {
		t.Errorf("4 px window: %v, want ErrTooSmall", err)
	}
	if _, err := Windows(img, []image.Rectangle{image.Rect(38, 0, 60, 30)}); !errors.Is(err, ErrTooSmall) {
		t.Errorf("window clipped to 2 px: %v, want ErrTooSmall", err)
	}
	if _, err := Windows(image.NewGray(image.Rect(0, 0, 4, 4)), nil); !errors.Is(err, ErrTooSmall) {
		t.Errorf("4x4 image: %v, want ErrTooSmall", err)
	}
	if _, err := Windows(nil, nil); err == nil {
		t.Error("nil image: no error")
	}
	res, err := Windows(img, []image.Rectangle{image.Rect(0, 0, 5, 5)})
	if err != nil || len(res) != 1 {
		t.Errorf("5x5 window: %v %v", res, err)
	}
}

// brokenImage panics when read.
type brokenImage struct{ image.Gray }

func (brokenImage) At(x, y int) color.Color { panic("broken") }

func TestWindowsRecoversPanic(t *testing.T) {
	m := &brokenImage{Gray: *image.NewGray(image.Rect(0, 0, 10, 10))}
	if _, err := Windows(m, []image.Rectangle{m.Bounds()}); err == nil {
		t.Error("panic while reading pixels: no error")
	}
}

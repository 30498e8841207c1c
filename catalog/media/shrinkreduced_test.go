package media

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
)

// blockUp is the full-size image a reduced image stands for when every reduced pixel is constant
// over the scale x scale pixels it replaces (the last row and column cut to fullW x fullH). Chroma
// planes are expanded alike: full chroma sample c lies in reduced chroma sample c/scale.
func blockUp(t *testing.T, img image.Image, fullW, fullH, s int) image.Image {
	t.Helper()
	r := image.Rect(0, 0, fullW, fullH)
	switch m := img.(type) {
	case *image.Gray:
		out := image.NewGray(r)
		for y := range fullH {
			for x := range fullW {
				out.Pix[y*out.Stride+x] = m.Pix[(y/s)*m.Stride+x/s]
			}
		}
		return out
	case *image.NRGBA:
		out := image.NewNRGBA(r)
		for y := range fullH {
			for x := range fullW {
				copy(out.Pix[y*out.Stride+4*x:][:4], m.Pix[(y/s)*m.Stride+4*(x/s):][:4])
			}
		}
		return out
	case *image.YCbCr:
		out := image.NewYCbCr(r, m.SubsampleRatio)
		for y := range fullH {
			for x := range fullW {
				out.Y[y*out.YStride+x] = m.Y[(y/s)*m.YStride+x/s]
			}
		}
		for cy := range len(out.Cb) / out.CStride {
			for cx := range out.CStride {
				out.Cb[cy*out.CStride+cx] = m.Cb[(cy/s)*m.CStride+cx/s]
				out.Cr[cy*out.CStride+cx] = m.Cr[(cy/s)*m.CStride+cx/s]
			}
		}
		return out
	}
	t.Fatalf("blockUp: %T", img)
	return nil
}

// TestShrinkReducedIsShrinkOfTheBlocks: ShrinkReduced of a reduced image is exactly Shrink of the
// full-size image whose scale x scale blocks are constant (what it reads a reduced pixel as), for
// every kind of plane a reduced JPEG decode gives, odd full sizes, all chroma subsamplings, and
// outputs larger than the reduced image (1024 px from a 1/2 decode of 1600 px; with -short, the
// same cases at smaller sizes).
func TestShrinkReducedIsShrinkOfTheBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	fill := func(b []uint8) {
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
	}
	cases := []struct{ w, h, s, max int }{
		{203, 151, 2, 128}, {403, 301, 4, 256}, {997, 13, 8, 64}, {31, 29, 2, 320}, {300, 200, 4, 320},
	}
	if !testing.Short() { // the sizes ingest meets (about 15 s under the race detector)
		cases = append(cases, []struct{ w, h, s, max int }{
			{1600, 1200, 2, 1024}, {1603, 1201, 2, 1024}, {1203, 1601, 4, 1024}, {1000, 750, 2, 1024}, {1024, 768, 2, 1024},
		}...)
	}
	for _, c := range cases {
		rw, rh := (c.w+c.s-1)/c.s, (c.h+c.s-1)/c.s
		rr := image.Rect(0, 0, rw, rh)
		var imgs []image.Image
		g := image.NewGray(rr)
		fill(g.Pix)
		n := image.NewNRGBA(rr)
		fill(n.Pix)
		for i := 3; i < len(n.Pix); i += 4 {
			n.Pix[i] = 255
		}
		imgs = append(imgs, g, n)
		for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422,
			image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411} {
			y := image.NewYCbCr(rr, ratio)
			fill(y.Y)
			fill(y.Cb)
			fill(y.Cr)
			imgs = append(imgs, y)
		}
		for _, img := range imgs {
			name := fmt.Sprintf("%dx%d/%d %T", c.w, c.h, c.s, img)
			if y, ok := img.(*image.YCbCr); ok {
				name += " " + y.SubsampleRatio.String()
			}
			got := ShrinkReduced(img, c.w, c.h, c.s, c.max)
			want := Shrink(blockUp(t, img, c.w, c.h, c.s), c.max)
			if got.Bounds() != want.Bounds() {
				t.Errorf("%s: %v, want %v", name, got.Bounds(), want.Bounds())
				continue
			}
			if !bytes.Equal(pixOf(got), pixOf(want)) {
				t.Errorf("%s: pixels differ (max %d)", name, maxDiff(got, want))
			}
		}
	}
	// Sizes that are no reduction of the full size: plain Shrink.
	g := image.NewGray(image.Rect(0, 0, 50, 40))
	fill(g.Pix)
	if got, want := ShrinkReduced(g, 1000, 800, 2, 30), Shrink(g, 30); !bytes.Equal(pixOf(got), pixOf(want)) || got.Bounds() != want.Bounds() {
		t.Errorf("mismatched sizes: %v, want Shrink's %v", got.Bounds(), want.Bounds())
	}
}

func pixOf(img image.Image) []uint8 {
	switch m := img.(type) {
	case *image.Gray:
		return m.Pix
	case *image.NRGBA:
		return m.Pix
	}
	return nil
}

// TestShrinkReducedIntoReusesTheBuffer: with a large enough buffer (full of stale bytes) the
// YCbCr path writes its result there, the same pixels as a fresh ShrinkReduced; a short buffer is
// not used.
func TestShrinkReducedIntoReusesTheBuffer(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m := image.NewYCbCr(image.Rect(0, 0, 801, 600), image.YCbCrSubsampleRatio420)
	for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	want := ShrinkReduced(m, 1601, 1200, 2, 1024).(*image.NRGBA)
	buf := make([]uint8, 4*1024*1024)
	for i := range buf {
		buf[i] = 0xa5
	}
	got := ShrinkReducedInto(buf, m, 1601, 1200, 2, 1024).(*image.NRGBA)
	if &got.Pix[0] != &buf[0] || got.Rect != want.Rect || got.Stride != want.Stride || !bytes.Equal(got.Pix, want.Pix) {
		t.Errorf("into a buffer: %v stride %d, in place %v, same pixels %v", got.Rect, got.Stride, &got.Pix[0] == &buf[0], bytes.Equal(got.Pix, want.Pix))
	}
	short := make([]uint8, 100)
	if got := ShrinkReducedInto(short, m, 1601, 1200, 2, 1024).(*image.NRGBA); &got.Pix[0] == &short[0] || !bytes.Equal(got.Pix, want.Pix) {
		t.Errorf("a short buffer was used or changed the result")
	}
}

package thumbs

import (
	"fmt"
	"image"
	"image/jpeg"
	"io"

	"github.com/disintegration/imaging"
)

// Version identifies how thumbnails are made (size, filter, orientation
// handling, encoding). Bump it to invalidate old thumbnails.
const Version = 1

// MaxSide is the longest side of a thumbnail, in pixels.
const MaxSide = 320

// Quality is the JPEG quality of encoded thumbnails.
const Quality = 82

// Make resizes img (a small work image, e.g. from media.Shrink) to fit in
// MaxSide x MaxSide with a Lanczos filter, keeping the aspect ratio and
// never enlarging, and then applies the EXIF orientation so the thumbnail
// shows the picture upright:
//
//	1 as stored            5 transpose (mirror across the top-left diagonal)
//	2 mirror horizontally  6 rotate 90° clockwise
//	3 rotate 180°          7 transverse (mirror across the other diagonal)
//	4 mirror vertically    8 rotate 90° counter-clockwise
//
// Any other orientation (0, unknown) counts as 1. The result has its origin
// at (0, 0).
func Make(img image.Image, orientation int) *image.NRGBA {
	b := img.Bounds()
	var t *image.NRGBA
	if b.Dx() > MaxSide || b.Dy() > MaxSide {
		t = imaging.Fit(img, MaxSide, MaxSide, imaging.Lanczos)
	} else {
		t = imaging.Clone(img)
	}
	switch orientation {
	case 2:
		t = imaging.FlipH(t)
	case 3:
		t = imaging.Rotate180(t)
	case 4:
		t = imaging.FlipV(t)
	case 5:
		t = imaging.Transpose(t)
	case 6:
		t = imaging.Rotate270(t) // imaging rotates counter-clockwise: 270 CCW = 90 CW
	case 7:
		t = imaging.Transverse(t)
	case 8:
		t = imaging.Rotate90(t)
	}
	return t
}

// Encode writes img as a baseline JPEG of quality [Quality]. Transparent
// and translucent pixels are composited onto white first (JPEG has no
// alpha; Go's encoder would otherwise turn transparency black).
func Encode(w io.Writer, img image.Image) error {
	if err := jpeg.Encode(w, flatten(img), &jpeg.Options{Quality: Quality}); err != nil {
		return fmt.Errorf("thumbs: encode JPEG: %w", err)
	}
	return nil
}

// flatten returns an opaque version of img: the same image when it is
// already opaque, else img over white as *image.RGBA.
func flatten(img image.Image) image.Image {
	type opaquer interface{ Opaque() bool }
	if o, ok := img.(opaquer); ok && o.Opaque() {
		if n, ok := img.(*image.NRGBA); ok {
			// Opaque NRGBA has the same bytes as RGBA; take the encoder's
			// fast path without copying.
			return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
		}
		return img
	}
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA() // premultiplied, 16-bit
			i := out.PixOffset(x, y)
			white := 0xffff - a
			out.Pix[i+0] = uint8((r + white) >> 8)
			out.Pix[i+1] = uint8((g + white) >> 8)
			out.Pix[i+2] = uint8((bl + white) >> 8)
			out.Pix[i+3] = 0xff
		}
	}
	return out
}

// RelPath is the slash-separated path of a thumbnail inside a catalog
// directory: "thumbs/ab/<sha256hex>.jpg", where ab are the first two hex
// digits. sha256hex must be 64 lowercase hex digits (the catalog's text
// form of SHA-256); anything else is a programming error and panics, so
// that no path is ever built from untrusted text.
func RelPath(sha256hex string) string {
	if !validHex(sha256hex) {
		panic(fmt.Sprintf("thumbs: RelPath needs 64 lowercase hex digits, got %q", sha256hex))
	}
	return "thumbs/" + sha256hex[:2] + "/" + sha256hex + ".jpg"
}

func validHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

package jpeg

import (
	"bytes"
	"context"
	"fmt"
	"image"
	stdjpeg "image/jpeg"
	"testing"
)

// maxDiff is the largest per-sample difference between two decodes of the same size and
// kind, compared plane by plane (YCbCr chroma at its stored resolution).
func maxDiff(a, b image.Image) (int, error) {
	if a.Bounds() != b.Bounds() {
		return 0, fmt.Errorf("bounds %v vs %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	worst := 0
	upd := func(x, y uint8) {
		d := int(x) - int(y)
		if d < 0 {
			d = -d
		}
		worst = max(worst, d)
	}
	switch a := a.(type) {
	case *image.YCbCr:
		b, ok := b.(*image.YCbCr)
		if !ok || a.SubsampleRatio != b.SubsampleRatio {
			return 0, fmt.Errorf("types %T/%v vs %T", a, a.SubsampleRatio, b)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				upd(a.Y[a.YOffset(x, y)], b.Y[b.YOffset(x, y)])
				upd(a.Cb[a.COffset(x, y)], b.Cb[b.COffset(x, y)])
				upd(a.Cr[a.COffset(x, y)], b.Cr[b.COffset(x, y)])
			}
		}
	case *image.Gray:
		b, ok := b.(*image.Gray)
		if !ok {
			return 0, fmt.Errorf("types %T vs %T", a, b)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				upd(a.Pix[a.PixOffset(x, y)], b.Pix[b.PixOffset(x, y)])
			}
		}
	case *image.CMYK:
		b, ok := b.(*image.CMYK)
		if !ok {
			return 0, fmt.Errorf("types %T vs %T", a, b)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				for c := range 4 {
					upd(a.Pix[a.PixOffset(x, y)+c], b.Pix[b.PixOffset(x, y)+c])
				}
			}
		}
	case *image.RGBA:
		b, ok := b.(*image.RGBA)
		if !ok {
			return 0, fmt.Errorf("types %T vs %T", a, b)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				for c := range 4 {
					upd(a.Pix[a.PixOffset(x, y)+c], b.Pix[b.PixOffset(x, y)+c])
				}
			}
		}
	default:
		return 0, fmt.Errorf("unexpected type %T", a)
	}
	return worst, nil
}

// compareStd decodes data with both decoders at scale 1: same verdict, and the largest
// per-sample difference when both decode.
func compareStd(t testing.TB, data []byte) (diff int, ourErr, stdErr error) {
	t.Helper()
	ours, ourErr := Decode(context.Background(), data, Options{})
	std, stdErr := stdjpeg.Decode(bytes.NewReader(data))
	if ourErr != nil || stdErr != nil {
		return 0, ourErr, stdErr
	}
	d, err := maxDiff(ours, std)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return d, nil, nil
}

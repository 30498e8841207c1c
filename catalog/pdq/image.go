package pdq

import (
	"fmt"
	"image"
	"image/color"
)

// Luma weights of ITU-R BT.601 as float32, as in the reference.
const (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// lumaTables hold the float32 products weight*v for v in 0..255: the same rounded products the
// reference computes per pixel, looked up instead of multiplied.
var lumaTabR, lumaTabG, lumaTabB = func() (r, g, b [256]float32) {
	for v := range 256 {
		f := float32(v)
		r[v] = float32(lumaR * f)
		g[v] = float32(lumaG * f)
		b[v] = float32(lumaB * f)
	}
	return
}()

// rgbLuma is (0.299*R + 0.587*G) + 0.114*B in float32, each product rounded.
func rgbLuma(r, g, b uint8) float32 {
	return (lumaTabR[r] + lumaTabG[g]) + lumaTabB[b]
}

// FromImage hashes the stored pixels of img at full resolution (EXIF orientation is not applied).
// See the package documentation for how pixels become luminance, including the alpha rule.
// A panic while reading pixels (a broken image.Image implementation) is returned as an error.
func FromImage(img image.Image) (res Result, err error) {
	if img == nil {
		return Result{}, fmt.Errorf("pdq: nil image")
	}
	b := img.Bounds()
	rows, cols := b.Dy(), b.Dx()
	if err := checkDims(rows*cols, rows, cols); err != nil {
		return Result{}, err
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = Result{}, fmt.Errorf("pdq: reading pixels: %v", p)
		}
	}()
	w := getWork(rows*cols, rows)
	defer putWork(w)
	toLuma(img, w.a, w.b)
	return hashWork(w, rows, cols), nil
}

// toLuma fills dst (rows x cols of img's bounds) with luminance. scratch (same size) may be used
// as temporary storage. Images whose every pixel is grey (R == G == B) take the grey path: the
// value itself, not the weighted sum, as the reference does for one-channel input.
func toLuma(img image.Image, dst, scratch []float32) {
	b := img.Bounds()
	cols := b.Dx()
	switch m := img.(type) {
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):][:cols]
			d := dst[(y-b.Min.Y)*cols:][:cols]
			for x, v := range src {
				d[x] = float32(v)
			}
		}
		return
	case *image.Gray16:
		// The high byte: the 8-bit grey value the image decoders' own 8-bit conversion gives.
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):][:2*cols]
			d := dst[(y-b.Min.Y)*cols:][:cols]
			for x := range d {
				d[x] = float32(src[2*x])
			}
		}
		return
	}
	// Colour images: convert to RGB rows, remembering whether everything was grey. The red
	// channel is kept in scratch so that an all-grey image can be redone on the grey path.
	var diff uint8
	red := scratch
	rowRGB := func(y int, f func(x int) (r, g, bb uint8)) {
		d := dst[(y-b.Min.Y)*cols:][:cols]
		rd := red[(y-b.Min.Y)*cols:][:cols]
		for x := range d {
			r, g, bb := f(x)
			diff |= (r ^ g) | (g ^ bb)
			d[x] = rgbLuma(r, g, bb)
			rd[x] = float32(r)
		}
	}
	switch m := img.(type) {
	case *image.YCbCr:
		ycbcrLuma(m, dst, red, &diff)
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):][:4*cols]
			rowRGB(y, func(x int) (uint8, uint8, uint8) { return p[4*x], p[4*x+1], p[4*x+2] })
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):][:4*cols]
			rowRGB(y, func(x int) (uint8, uint8, uint8) {
				q := p[4*x : 4*x+4 : 4*x+4]
				if q[3] == 0xff {
					return q[0], q[1], q[2]
				}
				c := color.NRGBAModel.Convert(color.RGBA{q[0], q[1], q[2], q[3]}).(color.NRGBA)
				return c.R, c.G, c.B
			})
		}
	case *image.CMYK:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):][:4*cols]
			rowRGB(y, func(x int) (uint8, uint8, uint8) {
				return color.CMYKToRGB(p[4*x], p[4*x+1], p[4*x+2], p[4*x+3])
			})
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, c := range m.Palette {
			if i == 256 {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):][:cols]
			rowRGB(y, func(x int) (uint8, uint8, uint8) {
				c := &pal[p[x]] // an index outside the palette reads as black
				return c[0], c[1], c[2]
			})
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			rowRGB(y, func(x int) (uint8, uint8, uint8) {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, y)).(color.NRGBA)
				return c.R, c.G, c.B
			})
		}
	}
	if diff == 0 {
		copy(dst, red)
	}
}

// ycbcrLuma converts a YCbCr image with color.YCbCrToRGB per pixel (the conversion image/jpeg's
// images use for At and draw), for every chroma subsampling.
func ycbcrLuma(m *image.YCbCr, dst, red []float32, diff *uint8) {
	b := m.Rect
	cols := b.Dx()
	var dif uint8
	put := func(d, rd []float32, x int, yy, cb, cr uint8) {
		r, g, bb := color.YCbCrToRGB(yy, cb, cr)
		dif |= (r ^ g) | (g ^ bb)
		d[x] = rgbLuma(r, g, bb)
		rd[x] = float32(r)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		d := dst[(y-b.Min.Y)*cols:][:cols]
		rd := red[(y-b.Min.Y)*cols:][:cols]
		yrow := m.Y[m.YOffset(b.Min.X, y):][:cols]
		c0 := m.COffset(b.Min.X, y)
		switch {
		case m.SubsampleRatio == image.YCbCrSubsampleRatio444 || m.SubsampleRatio == image.YCbCrSubsampleRatio440:
			cb, cr := m.Cb[c0:][:cols], m.Cr[c0:][:cols]
			for x, yy := range yrow {
				put(d, rd, x, yy, cb[x], cr[x])
			}
		case (m.SubsampleRatio == image.YCbCrSubsampleRatio422 || m.SubsampleRatio == image.YCbCrSubsampleRatio420) && b.Min.X >= 0:
			// Pixel Min.X+x uses chroma column (Min.X+x)/2 - Min.X/2 = (x + Min.X&1)/2.
			off := b.Min.X & 1
			for x, yy := range yrow {
				ci := c0 + (x+off)/2
				put(d, rd, x, yy, m.Cb[ci], m.Cr[ci])
			}
		default: // 411, 410, negative coordinates: the generic offset
			for x, yy := range yrow {
				ci := m.COffset(b.Min.X+x, y)
				put(d, rd, x, yy, m.Cb[ci], m.Cr[ci])
			}
		}
	}
	*diff |= dif
}

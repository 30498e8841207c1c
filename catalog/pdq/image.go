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
	toLuma(img, w.a)
	return hashWork(w, rows, cols), nil
}

// toLuma fills dst (rows x cols of img's bounds) with luminance. Images whose every pixel is grey
// (R == G == B) take the grey path: the value itself, not the weighted sum, as the reference does
// for one-channel input. Such images are converted twice (first as colour, then as grey).
func toLuma(img image.Image, dst []float32) {
	if colourLuma(img, dst, false) == 0 {
		colourLuma(img, dst, true)
	}
}

// colourLuma fills dst with luminance, or with the red channel when grey is set, and returns the
// OR of R^G and G^B over all pixels (zero iff every pixel is grey). *image.Gray and *image.Gray16
// always write the grey value and return 0.
func colourLuma(img image.Image, dst []float32, grey bool) uint8 {
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
		return 0
	case *image.Gray16:
		// The high byte: the 8-bit grey value the image decoders' own 8-bit conversion gives.
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):][:2*cols]
			d := dst[(y-b.Min.Y)*cols:][:cols]
			for x := range d {
				d[x] = float32(src[2*x])
			}
		}
		return 0
	}
	// Colour images: convert to RGB rows, remembering whether everything was grey.
	var diff uint8
	rowRGB := func(y int, f func(x int) (r, g, bb uint8)) {
		d := dst[(y-b.Min.Y)*cols:][:cols]
		for x := range d {
			r, g, bb := f(x)
			diff |= (r ^ g) | (g ^ bb)
			if grey {
				d[x] = float32(r)
			} else {
				d[x] = rgbLuma(r, g, bb)
			}
		}
	}
	switch m := img.(type) {
	case *image.YCbCr:
		diff = ycbcrLuma(m, dst, grey)
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
	return diff
}

// ycbcrLuma is colourLuma for a YCbCr image: it converts with color.YCbCrToRGB per pixel (the conversion image/jpeg's
// images use for At and draw), for every chroma subsampling.
func ycbcrLuma(m *image.YCbCr, dst []float32, grey bool) uint8 {
	b := m.Rect
	cols := b.Dx()
	var dif uint8
	put := func(d []float32, x int, yy, cb, cr uint8) {
		r, g, bb := color.YCbCrToRGB(yy, cb, cr)
		dif |= (r ^ g) | (g ^ bb)
		if grey {
			d[x] = float32(r)
		} else {
			d[x] = rgbLuma(r, g, bb)
		}
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		d := dst[(y-b.Min.Y)*cols:][:cols]
		yrow := m.Y[m.YOffset(b.Min.X, y):][:cols]
		c0 := m.COffset(b.Min.X, y)
		switch {
		case m.SubsampleRatio == image.YCbCrSubsampleRatio444 || m.SubsampleRatio == image.YCbCrSubsampleRatio440:
			cb, cr := m.Cb[c0:][:cols], m.Cr[c0:][:cols]
			for x, yy := range yrow {
				put(d, x, yy, cb[x], cr[x])
			}
		case (m.SubsampleRatio == image.YCbCrSubsampleRatio422 || m.SubsampleRatio == image.YCbCrSubsampleRatio420) && b.Min.X&1 == 0:
			// Pixels Min.X+x and Min.X+x+1 (x even) share chroma column x/2.
			nc := (cols + 1) / 2
			cb, cr := m.Cb[c0:][:nc], m.Cr[c0:][:nc]
			x := 0
			for ; x+1 < cols; x += 2 {
				i := x / 2
				put(d, x, yrow[x], cb[i], cr[i])
				put(d, x+1, yrow[x+1], cb[i], cr[i])
			}
			if x < cols {
				put(d, x, yrow[x], cb[x/2], cr[x/2])
			}
		default: // 411, 410, odd left edge: the generic offset
			for x, yy := range yrow {
				ci := m.COffset(b.Min.X+x, y)
				put(d, x, yy, m.Cb[ci], m.Cr[ci])
			}
		}
	}
	return dif
}

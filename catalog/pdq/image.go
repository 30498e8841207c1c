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
	var grid [gridSize][gridSize]float32
	src := newLumaSource(img)
	blurGrid(rows, cols, src.row, &grid)
	if src.diff == 0 && !src.grey {
		// Every pixel was grey: the reference reads such content as one channel, the value itself.
		src.grey = true
		blurGrid(rows, cols, src.row, &grid)
	}
	return hashGrid(&grid), nil
}

// lumaSource writes an image's luminance row by row. Images whose every pixel is grey (R == G ==
// B) take the grey path: the value itself, not the weighted sum, as the reference does for
// one-channel input. The caller learns it from diff after a first pass and makes a second.
type lumaSource struct {
	img  image.Image
	b    image.Rectangle
	grey bool          // write the grey value (red channel) instead of the weighted sum
	diff uint8         // OR of R^G and G^B over every pixel written (zero: all grey)
	pal  [256][3]uint8 // *image.Paletted: the palette as straight RGB
}

func newLumaSource(img image.Image) *lumaSource {
	s := &lumaSource{img: img, b: img.Bounds()}
	switch m := img.(type) {
	case *image.Gray, *image.Gray16:
		s.grey = true
	case *image.Paletted:
		for i, c := range m.Palette {
			if i == 256 {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			s.pal[i] = [3]uint8{n.R, n.G, n.B} // an index outside the palette reads as black
		}
	}
	return s
}

// lumaOf is (0.299*R + 0.587*G) + 0.114*B in float32, or R for grey content.
func lumaOf(r, g, b uint8, grey bool) float32 {
	if grey {
		return float32(r)
	}
	return rgbLuma(r, g, b)
}

// row writes row j (0 = the top of the bounds) into d (Dx values).
func (s *lumaSource) row(j int, d []float32) {
	b := s.b
	y := b.Min.Y + j
	cols := b.Dx()
	d = d[:cols]
	grey := s.grey
	var dif uint8
	switch m := s.img.(type) {
	case *image.Gray:
		for x, v := range m.Pix[m.PixOffset(b.Min.X, y):][:cols] {
			d[x] = float32(v)
		}
	case *image.Gray16:
		// The high byte: the 8-bit grey value the image decoders' own 8-bit conversion gives.
		src := m.Pix[m.PixOffset(b.Min.X, y):][:2*cols]
		for x := range d {
			d[x] = float32(src[2*x])
		}
	case *image.YCbCr:
		dif = ycbcrRow(m, y, d, grey)
	case *image.NRGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):][:4*cols]
		for x := range d {
			q := p[4*x : 4*x+3 : 4*x+3]
			dif |= (q[0] ^ q[1]) | (q[1] ^ q[2])
			d[x] = lumaOf(q[0], q[1], q[2], grey)
		}
	case *image.RGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):][:4*cols]
		for x := range d {
			q := p[4*x : 4*x+4 : 4*x+4]
			r, g, bb := q[0], q[1], q[2]
			if q[3] != 0xff {
				c := color.NRGBAModel.Convert(color.RGBA{q[0], q[1], q[2], q[3]}).(color.NRGBA)
				r, g, bb = c.R, c.G, c.B
			}
			dif |= (r ^ g) | (g ^ bb)
			d[x] = lumaOf(r, g, bb, grey)
		}
	case *image.CMYK:
		p := m.Pix[m.PixOffset(b.Min.X, y):][:4*cols]
		for x := range d {
			r, g, bb := color.CMYKToRGB(p[4*x], p[4*x+1], p[4*x+2], p[4*x+3])
			dif |= (r ^ g) | (g ^ bb)
			d[x] = lumaOf(r, g, bb, grey)
		}
	case *image.Paletted:
		for x, i := range m.Pix[m.PixOffset(b.Min.X, y):][:cols] {
			c := &s.pal[i]
			dif |= (c[0] ^ c[1]) | (c[1] ^ c[2])
			d[x] = lumaOf(c[0], c[1], c[2], grey)
		}
	default:
		for x := range d {
			c := color.NRGBAModel.Convert(s.img.At(b.Min.X+x, y)).(color.NRGBA)
			dif |= (c.R ^ c.G) | (c.G ^ c.B)
			d[x] = lumaOf(c.R, c.G, c.B, grey)
		}
	}
	s.diff |= dif
}

// clampYCC is the integer part of a 16.16 fixed-point colour value clamped to 0..255, as in
// color.YCbCrToRGB.
func clampYCC(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// yccRGB converts luma yv with the chroma terms rc (91881*Cr'), gc (-22554*Cb' - 46802*Cr') and
// bc (116130*Cb') of color.YCbCrToRGB.
func yccRGB(yv uint8, rc, gc, bc int32) (uint8, uint8, uint8) {
	yy := int32(yv) * 0x10101
	return clampYCC(yy + rc), clampYCC(yy + gc), clampYCC(yy + bc)
}

// ycbcrRow writes the luminance of row y of a YCbCr image, converting each pixel exactly as
// color.YCbCrToRGB does (the conversion image/jpeg's images use for At and draw), inline: the
// chroma terms are computed once per chroma sample. It returns the OR of R^G and G^B.
func ycbcrRow(m *image.YCbCr, y int, d []float32, grey bool) uint8 {
	b := m.Rect
	cols := len(d)
	var dif uint8
	yrow := m.Y[m.YOffset(b.Min.X, y):][:cols]
	c0 := m.COffset(b.Min.X, y)
	switch {
	case m.SubsampleRatio == image.YCbCrSubsampleRatio444 || m.SubsampleRatio == image.YCbCrSubsampleRatio440:
		cb, cr := m.Cb[c0:][:cols], m.Cr[c0:][:cols]
		for x, yv := range yrow {
			cb1, cr1 := int32(cb[x])-128, int32(cr[x])-128
			r, g, bb := yccRGB(yv, 91881*cr1, -22554*cb1-46802*cr1, 116130*cb1)
			dif |= (r ^ g) | (g ^ bb)
			d[x] = lumaOf(r, g, bb, grey)
		}
	case (m.SubsampleRatio == image.YCbCrSubsampleRatio422 || m.SubsampleRatio == image.YCbCrSubsampleRatio420) && b.Min.X&1 == 0:
		// Pixels Min.X+x and Min.X+x+1 (x even) share chroma column x/2.
		nc := (cols + 1) / 2
		cb, cr := m.Cb[c0:][:nc], m.Cr[c0:][:nc]
		for i := range nc {
			cb1, cr1 := int32(cb[i])-128, int32(cr[i])-128
			rc, gc, bc := 91881*cr1, -22554*cb1-46802*cr1, 116130*cb1
			x := 2 * i
			r, g, bb := yccRGB(yrow[x], rc, gc, bc)
			dif |= (r ^ g) | (g ^ bb)
			d[x] = lumaOf(r, g, bb, grey)
			if x+1 < cols {
				r, g, bb = yccRGB(yrow[x+1], rc, gc, bc)
				dif |= (r ^ g) | (g ^ bb)
				d[x+1] = lumaOf(r, g, bb, grey)
			}
		}
	default: // 411, 410, odd left edge: the generic offset
		for x, yv := range yrow {
			ci := m.COffset(b.Min.X+x, y)
			r, g, bb := color.YCbCrToRGB(yv, m.Cb[ci], m.Cr[ci])
			dif |= (r ^ g) | (g ^ bb)
			d[x] = lumaOf(r, g, bb, grey)
		}
	}
	return dif
}

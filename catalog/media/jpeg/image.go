package jpeg

import (
	"image"
	"image/color"
)

// image wraps the decoded planes as an image of the output size.
func (d *decoder) image() (image.Image, error) {
	s := d.opts.Scale
	w, h := (d.width+s-1)/s, (d.height+s-1)/s
	rect := image.Rect(0, 0, w, h)
	if rect.Empty() {
		rect = image.Rectangle{}
	}
	c := &d.comp
	switch d.ncomp {
	case 1:
		return &image.Gray{Pix: c[0].plane, Stride: c[0].stride, Rect: rect}, nil
	case 3:
		if d.isRGB() {
			return d.rgba(rect), nil
		}
		ratio, _ := subsampleRatio(c[0].h/c[1].h, c[0].v/c[1].v)
		return &image.YCbCr{Y: c[0].plane, Cb: c[1].plane, Cr: c[2].plane,
			YStride: c[0].stride, CStride: c[1].stride, SubsampleRatio: ratio, Rect: rect}, nil
	}
	return d.cmyk(rect), nil
}

// isRGB says whether a 3-component file stores R, G and B rather than Y, Cb and Cr.
func (d *decoder) isRGB() bool {
	if d.jfif {
		return false
	}
	if d.adobe {
		return d.adobeTransform == 0
	}
	return d.comp[0].id == 'R' && d.comp[1].id == 'G' && d.comp[2].id == 'B'
}

// sampleAt returns component i's sample under output pixel (x, y) (nearest: a
// subsampled component's sample is repeated over the pixels it covers).
func (d *decoder) rowOf(i, y int) []uint8 {
	c := &d.comp[i]
	cy := y * c.v / d.vmax
	return c.plane[cy*c.stride : cy*c.stride+c.stride]
}

func (d *decoder) rgba(rect image.Rectangle) *image.RGBA {
	img := image.NewRGBA(rect)
	w, h := rect.Dx(), rect.Dy()
	for y := range h {
		r0, r1, r2 := d.rowOf(0, y), d.rowOf(1, y), d.rowOf(2, y)
		px := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			px[4*x] = r0[x*d.comp[0].h/d.hmax]
			px[4*x+1] = r1[x*d.comp[1].h/d.hmax]
			px[4*x+2] = r2[x*d.comp[2].h/d.hmax]
			px[4*x+3] = 255
		}
	}
	return img
}

// cmyk converts four planes to CMYK. Adobe files store CMYK inverted; YCCK
// (Adobe transform 2) is YCbCr for inverted C, M and Y plus inverted K.
func (d *decoder) cmyk(rect image.Rectangle) *image.CMYK {
	img := image.NewCMYK(rect)
	w, h := rect.Dx(), rect.Dy()
	ycck := d.adobe && d.adobeTransform == 2
	for y := range h {
		r0, r1, r2, r3 := d.rowOf(0, y), d.rowOf(1, y), d.rowOf(2, y), d.rowOf(3, y)
		px := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			a := r0[x*d.comp[0].h/d.hmax]
			b := r1[x*d.comp[1].h/d.hmax]
			c := r2[x*d.comp[2].h/d.hmax]
			k := r3[x*d.comp[3].h/d.hmax]
			if ycck {
				a, b, c = color.YCbCrToRGB(a, b, c)
				a, b, c = 255-a, 255-b, 255-c
			}
			px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = 255-a, 255-b, 255-c, 255-k
		}
	}
	return img
}

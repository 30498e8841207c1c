package media

import (
	"context"
	"errors"
	"image"

	"github.com/relcat/relcat/catalog/media/jpeg"
)

// Scale picks the reduction (1, 2, 4 or 8) at which a w x h image can be decoded while
// its longest side stays at least minSide: the largest such power of two, 1 when minSide <= 0
// or the image is already smaller. Only JPEG decodes at a reduced size (see [DecodeScaled]).
func Scale(w, h, minSide int) int {
	long := max(w, h)
	if minSide <= 0 {
		return 1
	}
	s := 1
	for s < 8 && (long+2*s-1)/(2*s) >= minSide {
		s *= 2
	}
	return s
}

// DecodeScaled is [DecodeContext] with a reduction for JPEG: data is decoded by the package's own
// DCT-domain decoder (catalog/media/jpeg) straight to 1/scale of its size (scale 1, 2, 4 or
// 8), each pixel the mean of the scale x scale pixels it replaces, as planar *image.YCbCr or
// *image.Gray (*image.CMYK and *image.RGBA for CMYK and RGB files), so no full-size image is
// allocated. The limits and checks are those of DecodeContext, applied to the full size the
// header claims; the context is checked while decoding (every MCU row). A JPEG that decoder does not support (12-bit,
// arithmetic-coded) is decoded by image/jpeg at full size when it can. Other formats ignore
// scale and decode at full size. The Config is the file's full size.
func DecodeScaled(ctx context.Context, data []byte, f Format, maxPixels int64, scale int) (image.Image, Config, error) {
	return DecodeScaledWith(ctx, data, f, maxPixels, scale, nil)
}

// Buffers are decoding buffers that one goroutine's successive decodes by [DecodeScaledWith] reuse:
// a progressive JPEG's coefficient buffers (catalog/media/jpeg's Buffers), tens of megabytes per
// 12 MP photo that would otherwise be allocated, cleared and faulted in every time. A decode grows
// them to what it needs ([DecodeMemoryScaled] counts that as a fresh allocation); between decodes
// they are the caller's to bound (Size, Release). The decoded image never refers to them. The zero
// value is ready to use.
type Buffers struct{ jpeg jpeg.Buffers }

// Size is the number of bytes the buffers hold.
func (b *Buffers) Size() int64 { return b.jpeg.Size() }

// Release lets go of the buffers.
func (b *Buffers) Release() { b.jpeg.Release() }

// DecodeScaledWith is [DecodeScaled] reusing bufs (when not nil) for a progressive JPEG.
func DecodeScaledWith(ctx context.Context, data []byte, f Format, maxPixels int64, scale int, bufs *Buffers) (image.Image, Config, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if f == Unknown {
		f = Sniff(data)
	}
	if f != JPEG {
		return DecodeContext(ctx, data, f, maxPixels)
	}
	cfg, ic, err := decodeConfig(data, f)
	if err != nil {
		return nil, cfg, err
	}
	if err := checkSize(f, cfg.Width, cfg.Height, ic.ColorModel, maxPixels); err != nil {
		return nil, cfg, err
	}
	if err := checkScans(data, cfg.Width, cfg.Height); err != nil {
		return nil, cfg, err
	}
	opts := jpeg.Options{Scale: scale}
	if bufs != nil {
		opts.Buffers = &bufs.jpeg
	}
	img, err := jpeg.Decode(ctx, data, opts)
	switch {
	case ctx.Err() != nil:
		return nil, cfg, newError(ctx.Err(), nil, "%s decoding interrupted", f.label())
	case err == nil:
		return img, cfg, nil
	case errors.Is(err, jpeg.ErrUnsupported):
		return DecodeContext(ctx, data, f, maxPixels)
	}
	return nil, cfg, decodeError(f, "pixels", err)
}

// DecodeMemoryScaled is [DecodeMemory] for [DecodeScaled] at the given scale: for a JPEG the
// planes (and, progressive, the coefficients) of the reduced decode, or what image/jpeg needs
// when the file falls back to it.
func DecodeMemoryScaled(data []byte, f Format, scale int) int64 {
	if f == Unknown {
		f = Sniff(data)
	}
	if f == JPEG {
		if c, err := jpeg.DecodeConfig(data); err == nil {
			return withOverhead(c.Memory(scale))
		}
	}
	return DecodeMemory(data, f)
}

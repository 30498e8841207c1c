package media

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/bits"
	"strconv"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel limit [Decode] applies when given a limit
// of zero or less: 100 million pixels.
const DefaultMaxPixels int64 = 100_000_000

// MaxAspectRatio is the most elongated image [DecodeContext] decodes: a long
// side of MaxAspectRatio times the short side or more is refused with
// ErrTooMuchWork before decoding. Shrinking such an image to a work size
// leaves a line of pixels (nothing a perceptual hash or a thumbnail can
// show), while the downscale's per-axis tables grow with the long side.
const MaxAspectRatio = 1024

// Config is what a file's header says about its pixels.
type Config struct {
	Format        Format
	Width, Height int
}

type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = map[Format]codec{
	JPEG: {jpeg.DecodeConfig, jpeg.Decode},
	PNG:  {png.DecodeConfig, png.Decode},
	GIF:  {gif.DecodeConfig, gif.Decode}, // gif.Decode returns the first frame
	WebP: {webp.DecodeConfig, webp.Decode},
	TIFF: {tiff.DecodeConfig, tiff.Decode},
	BMP:  {bmp.DecodeConfig, bmp.Decode},
}

// DecodeConfig reads the format's header. f is normally Sniff's answer; if
// it is Unknown the content is sniffed here. For HEIC, HEIF and AVIF the
// size comes from the primary item's 'ispe' property (0x0 when absent) and
// the error is nil. Decoder failures and panics are returned as ErrDecode.
func DecodeConfig(data []byte, f Format) (Config, error) {
	cfg, _, err := decodeConfig(data, f)
	return cfg, err
}

func decodeConfig(data []byte, f Format) (cfg Config, ic image.Config, err error) {
	if f == Unknown {
		f = Sniff(data)
	}
	cfg.Format = f
	switch {
	case f == Unknown:
		return cfg, ic, newError(ErrUnknownFormat, nil, "content is not a known image format")
	case f == HEIC || f == HEIF || f == AVIF:
		cfg.Width, cfg.Height = bmffSize(data)
		return cfg, ic, nil
	}
	c, ok := codecs[f]
	if !ok {
		return cfg, ic, newError(ErrUnknownFormat, nil, "unsupported format %q", string(f))
	}
	defer func() {
		if r := recover(); r != nil {
			err = decodeError(f, "header", panicError{r})
		}
	}()
	ic, err = c.config(bytes.NewReader(data))
	if err != nil {
		return cfg, ic, decodeError(f, "header", err)
	}
	cfg.Width, cfg.Height = ic.Width, ic.Height
	return cfg, ic, nil
}

// Decode is [DecodeContext] without a context.
func Decode(data []byte, f Format, maxPixels int64) (img image.Image, cfg Config, err error) {
	return DecodeContext(context.Background(), data, f, maxPixels)
}

// DecodeContext decodes the pixels of data (the first frame of an animation).
// f should be Sniff's answer (Unknown: sniffed here); it picks the decoder,
// whatever the file is called. It reads the header
// first and, before decoding anything, refuses with ErrTooManyPixels an
// empty image, more than maxPixels pixels, or a pixel buffer over
// 4*maxPixels bytes (16-bit formats), and with ErrTooMuchWork an aspect
// ratio over [MaxAspectRatio], a progressive JPEG whose scans exceed
// [MaxScanWork], or a TIFF strip that inflates past its declared size.
// maxPixels <= 0 means [DefaultMaxPixels]. Formats without a Go decoder give ErrNoDecoder
// together with the Config read from the header. Decoder errors (a JPEG
// cut off mid-scan, say) and panics are returned as ErrDecode. The Config
// comes back with every error, so the caller keeps what the header said.
//
// The decoder reads data through ctx: once ctx is done, decoding stops within
// a few milliseconds with an error wrapping ctx.Err().
//
// Memory: [DecodeMemory] estimates what the decoder allocates from the header
// (a progressive JPEG keeps its DCT coefficients, up to 12 bytes per pixel
// at 4:4:4; a TIFF decoder buffers a whole strip), so that a caller can bound
// concurrent decodes.
func DecodeContext(ctx context.Context, data []byte, f Format, maxPixels int64) (img image.Image, cfg Config, err error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, ic, err := decodeConfig(data, f)
	if err != nil {
		return nil, cfg, err
	}
	f = cfg.Format
	if !f.Decodable() {
		return nil, cfg, newError(ErrNoDecoder, nil, "%s pixels cannot be decoded (no Go decoder)", f.label())
	}
	if err := checkSize(f, cfg.Width, cfg.Height, ic.ColorModel, maxPixels); err != nil {
		return nil, cfg, err
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, decodeError(f, "pixels", panicError{r})
		}
	}()
	switch f {
	case JPEG:
		if err := checkScans(data, cfg.Width, cfg.Height); err != nil {
			return nil, cfg, err
		}
	case TIFF:
		if err := checkStrips(ctx, data); err != nil {
			return nil, cfg, err
		}
	}
	img, err = codecs[f].decode(newCtxReader(ctx, data))
	if cerr := ctx.Err(); cerr != nil {
		return nil, cfg, newError(cerr, nil, "%s decoding interrupted", f.label())
	}
	if err != nil {
		return nil, cfg, decodeError(f, "pixels", err)
	}
	return img, cfg, nil
}

// checkSize applies the pixel and buffer limits to a header's claims.
func checkSize(f Format, w, h int, cm color.Model, maxPixels int64) error {
	if w <= 0 || h <= 0 {
		return newError(ErrTooManyPixels, nil, "%s header claims %dx%d pixels, an empty image", f.label(), w, h)
	}
	if err := checkAspect(f, w, h); err != nil {
		return err
	}
	hi, n := bits.Mul64(uint64(w), uint64(h))
	if hi != 0 || n > uint64(maxPixels) {
		px := float64(w) * float64(h)
		return newError(ErrTooManyPixels, nil, "%s header claims %dx%d pixels (%s MP), over the limit of %s MP",
			f.label(), w, h, megas(px), megas(float64(maxPixels)))
	}
	bpp := bytesPerPixel(cm)
	if maxPixels <= math.MaxInt64/4 && int64(n)*bpp > 4*maxPixels {
		return newError(ErrTooManyPixels, nil, "%s header claims %dx%d pixels at %d bytes each (%s MB), over the limit of %s MB",
			f.label(), w, h, bpp, megas(float64(n)*float64(bpp)), megas(float64(4*maxPixels)))
	}
	return nil
}

// CheckAspect refuses with ErrTooMuchWork a w x h image (f names the format in the message) whose
// long side is over MaxAspectRatio times its short side, as DecodeContext does before decoding; a
// caller that budgets memory from the header calls it first.
func CheckAspect(f Format, w, h int) error { return checkAspect(f, w, h) }

func checkAspect(f Format, w, h int) error {
	if long, short := max(w, h), min(w, h); short > 0 && int64(long) > MaxAspectRatio*int64(short) {
		return newError(ErrTooMuchWork, nil, "%s header claims %dx%d pixels, an aspect ratio over %d:1 (no meaningful thumbnail or perceptual hash)",
			f.label(), w, h, MaxAspectRatio)
	}
	return nil
}

// bytesPerPixel estimates the decoded buffer per pixel for a colour model.
func bytesPerPixel(cm color.Model) int64 {
	switch cm {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := cm.(color.Palette); ok {
		return 1
	}
	return 4
}

// megas formats a count in millions: "3600", "100", "4.2".
func megas(n float64) string {
	m := n / 1e6
	if m >= 10 {
		return strconv.FormatFloat(math.Round(m), 'f', -1, 64)
	}
	return fmt.Sprintf("%.1f", m)
}

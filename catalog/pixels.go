package catalog

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"image"

	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
)

// workImage decodes data once (decodeBounded) and returns the one area-average downscale (longest
// side WorkSide) that feeds the perceptual hash and the thumbnail; the full-resolution image is
// dropped before it returns.
func workImage(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted) (image.Image, media.Config, error) {
	work, _, cfg, err := workAndReference(ctx, data, f, maxPixels, budget, sem, false)
	return work, cfg, err
}

// workAndReference decodes data once and returns the work image and, when ref is set, the
// reference full-resolution PDQ (pdq.VariantFull, what partners' hash lists hold) of the SAME
// decoded pixels. The reference hash needs 8 bytes a pixel of float buffers: they count against the
// decode-memory budget and sem while the full image is held. A reference hash that cannot be
// computed (an image under 5 px, or an image whose decode fits the budget but not the reference
// hash's buffers as well) is nil, not an error: the work image still stands.
func workAndReference(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted, ref bool) (image.Image, *PDQInfo, media.Config, error) {
	var extra int64
	if ref {
		extra = pdqBytesPerPixel
	}
	var work image.Image
	var refPDQ *PDQInfo
	// The work image needs no more than WorkSide pixels a side: a JPEG is decoded at the largest
	// reduction that keeps that many (a 4000x3000 photo at 1/2, 2000x1500), unless the reference
	// hash needs every pixel.
	minSide := workMinSide
	if ref {
		minSide = 0
	}
	cfg, err := decodeWith(ctx, data, f, maxPixels, budget, sem, extra, minSide, func(full image.Image, extraOK bool) {
		if ref && extraOK {
			refPDQ, _ = hashReference(full)
		}
		work = media.Shrink(full, WorkSide)
	})
	return work, refPDQ, cfg, err
}

// workMinSide is the smallest longest side a reduced JPEG decode may have: the work image is then
// the reduced decode itself when it is under WorkSide (a variable so tests can measure others).
var workMinSide = WorkSide

// pdqBytesPerPixel is what pdq.FromImage allocates per pixel of its input (two float32 buffers).
const pdqBytesPerPixel = 8

// hashReference computes the reference full-resolution PDQ of a decoded image.
func hashReference(full image.Image) (*PDQInfo, error) {
	r, err := pdq.FromImage(full)
	if err != nil {
		return nil, err
	}
	return &PDQInfo{Hash: r.Hash, Quality: r.Quality, Variant: pdq.VariantFull, Dihedral: r.Dihedral}, nil
}

// decodeBounded decodes data once, within the pixel limit and the decode-memory budget (default
// DefaultDecodeMemory), holding its share of sem (when not nil) while decoding. cfg is filled
// whenever the header could be read, even when the error is not nil.
func decodeBounded(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted) (image.Image, media.Config, error) {
	var full image.Image
	cfg, err := decodeWith(ctx, data, f, maxPixels, budget, sem, 0, 0, func(m image.Image, _ bool) { full = m })
	return full, cfg, err
}

// decodeWith decodes data once, within the pixel limit and the decode-memory budget, and calls use
// with the decoded image while still holding the budget. The image is full-resolution unless
// minSide > 0: then a JPEG is decoded at the largest reduction (1/2, 1/4, 1/8: media.Scale) whose
// longest side is still at least minSide, and the budget counts that reduced decode.
// extraPerPixel is what use itself allocates per decoded pixel: it is counted in the budget when
// it fits (use is told by extraOK); when only the decode fits, the image is decoded all the same
// and extraOK is false.
func decodeWith(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted, extraPerPixel int64, minSide int, use func(full image.Image, extraOK bool)) (media.Config, error) {
	cfg, err := media.DecodeConfig(data, f)
	if !f.Decodable() {
		return cfg, fmt.Errorf("relcat has no decoder for %s (hashes and EXIF are catalogued)", f)
	}
	if err != nil {
		return cfg, err
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px <= 0 || px > maxPixels {
		return cfg, fmt.Errorf("%w: %dx%d pixels is over the limit of %d MP (--max-pixels)", media.ErrTooManyPixels, cfg.Width, cfg.Height, maxPixels/1_000_000)
	}
	if budget <= 0 {
		budget = DefaultDecodeMemory
	}
	// What the decoder will allocate, from the header (a progressive JPEG keeps every coefficient:
	// up to 15 bytes a pixel). Over the budget, the file keeps its hashes and EXIF but is not decoded.
	scale := 1
	if f == media.JPEG {
		scale = media.Scale(cfg.Width, cfg.Height, minSide)
	}
	need := media.DecodeMemoryScaled(data, f, scale)
	if need <= 0 {
		need = px * 4
	}
	px = int64((cfg.Width+scale-1)/scale) * int64((cfg.Height+scale-1)/scale)
	extraOK := need+px*extraPerPixel <= budget
	if extraOK {
		need += px * extraPerPixel
	}
	if need > budget {
		return cfg, fmt.Errorf("%w: decoding %dx%d pixels would take about %d MiB, over the decode-memory budget of %d MiB",
			media.ErrTooManyPixels, cfg.Width, cfg.Height, need>>20, budget>>20)
	}
	if sem != nil {
		if err := sem.Acquire(ctx, need); err != nil {
			return cfg, err
		}
		defer sem.Release(need)
	}
	full, _, err := media.DecodeScaled(ctx, data, f, maxPixels, scale)
	if err != nil {
		return cfg, err
	}
	use(full, extraOK)
	return cfg, nil
}

// hashWork computes the stored PDQ variant from a work image.
func hashWork(work image.Image) (*PDQInfo, error) {
	r, err := pdq.FromImage(work)
	if err != nil {
		return nil, err
	}
	return &PDQInfo{Hash: r.Hash, Quality: r.Quality, Variant: pdq.VariantName(WorkSide), Dihedral: r.Dihedral}, nil
}

// FileHashes are the hashes of one file, computed without a catalog.
type FileHashes struct {
	Path     string   `json:"path"`
	SHA256   SHA256   `json:"sha256"`
	MD5      MD5      `json:"md5"`
	Size     int64    `json:"size"`
	Format   string   `json:"format"`
	Width    int      `json:"width,omitempty"`
	Height   int      `json:"height,omitempty"`
	PDQ      *PDQInfo `json:"pdq,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// HashOptions configure HashFile.
type HashOptions struct {
	MaxPixels   int64 // default DefaultMaxPixels
	MaxFileSize int64 // default DefaultMaxFileSize
	// Full computes PDQ at full resolution (the reference variant, "pdq-full", for sharing with
	// partners) instead of the catalog's work-image variant.
	Full bool
}

// HashFile reads one file and returns its SHA-256, MD5, format and PDQ hash. A file that is not an
// image, or cannot be read, is an error naming the reason; an image whose pixels cannot be decoded
// has no PDQ and a warning saying why.
func HashFile(ctx context.Context, path string, o HashOptions) (*FileHashes, error) {
	o = o.withDefaults()
	data, err := readRegular(path, o.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, err)
	}
	return hashBytes(ctx, path, data, o)
}

func (o HashOptions) withDefaults() HashOptions {
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	return o
}

func hashBytes(ctx context.Context, path string, data []byte, o HashOptions) (h *FileHashes, err error) {
	o = o.withDefaults()
	defer func() {
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("%s: internal error while decoding (please report): %v", path, r)
		}
	}()
	h = &FileHashes{Path: path, SHA256: sha256.Sum256(data), MD5: md5.Sum(data), Size: int64(len(data))}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty file (0 bytes)", path)
	}
	f := media.Sniff(data)
	if f == media.Unknown {
		return nil, fmt.Errorf("%s: unknown format: %s", path, describeUnknown(data))
	}
	h.Format = string(f)
	if o.Full {
		full, cfg, err := decodeBounded(ctx, data, f, o.MaxPixels, 0, nil)
		h.Width, h.Height = cfg.Width, cfg.Height
		if err == nil {
			h.PDQ, err = hashReference(full)
		}
		if err != nil {
			h.Warnings = append(h.Warnings, "no perceptual hash: "+err.Error())
		}
		return h, nil
	}
	work, cfg, err := workImage(ctx, data, f, o.MaxPixels, 0, nil)
	h.Width, h.Height = cfg.Width, cfg.Height
	if err == nil {
		h.PDQ, err = hashWork(work)
	}
	if err != nil {
		h.Warnings = append(h.Warnings, "no perceptual hash: "+err.Error())
	}
	return h, nil
}

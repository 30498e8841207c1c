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

// workImage decodes data once, within the pixel limit and the decode-memory budget (default
// DefaultDecodeMemory), and returns the one area-average downscale (longest side WorkSide) that feeds
// the perceptual hash and the thumbnail. It holds its share of sem (when not nil) until the
// downscale is done: the full-resolution image is alive until then, and dropped before it returns.
func workImage(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted) (image.Image, media.Config, error) {
	need, cfg, err := decodeNeed(data, f, maxPixels, 0, budget)
	if err != nil {
		return nil, cfg, err
	}
	if sem != nil {
		if err := sem.Acquire(ctx, need); err != nil {
			return nil, cfg, err
		}
		defer sem.Release(need)
	}
	work, err := decodeShrink(ctx, data, f, maxPixels)
	return work, cfg, err
}

// decodeShrink decodes (interruptibly) and downscales to WorkSide; the full image is garbage when
// it returns.
func decodeShrink(ctx context.Context, data []byte, f media.Format, maxPixels int64) (image.Image, error) {
	full, _, err := media.DecodeContext(ctx, data, f, maxPixels)
	if err != nil {
		return nil, err
	}
	return media.Shrink(full, WorkSide), nil
}

// decodeBounded decodes data once at full resolution, within the pixel limit and the decode-memory
// budget (default DefaultDecodeMemory), holding its share of sem (when not nil) while decoding. cfg
// is filled whenever the header could be read, even when the error is not nil.
func decodeBounded(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted) (image.Image, media.Config, error) {
	need, cfg, err := decodeNeed(data, f, maxPixels, 0, budget)
	if err != nil {
		return nil, cfg, err
	}
	if sem != nil {
		if err := sem.Acquire(ctx, need); err != nil {
			return nil, cfg, err
		}
		defer sem.Release(need)
	}
	full, _, err := media.DecodeContext(ctx, data, f, maxPixels)
	return full, cfg, err
}

// decodeNeed reads the header and returns the memory a decode and downscale of data will take
// (media.DecodeMemory, plus the downscale's row sums), or the reason it must not be decoded: no
// decoder, over the pixel limit, or needing more than budget (default DefaultDecodeMemory) together
// with held bytes already taken from it (the file's own bytes, in ingest).
func decodeNeed(data []byte, f media.Format, maxPixels, held, budget int64) (int64, media.Config, error) {
	cfg, err := media.DecodeConfig(data, f)
	if !f.Decodable() {
		return 0, cfg, fmt.Errorf("relcat has no decoder for %s (hashes and EXIF are catalogued)", f)
	}
	if err != nil {
		return 0, cfg, err
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px <= 0 || px > maxPixels {
		return 0, cfg, fmt.Errorf("%w: %dx%d pixels is over the limit of %d MP (--max-pixels)", media.ErrTooManyPixels, cfg.Width, cfg.Height, maxPixels/1_000_000)
	}
	if budget <= 0 {
		budget = DefaultDecodeMemory
	}
	// What the decoder will allocate, from the header (a progressive JPEG keeps every coefficient:
	// up to 15 bytes a pixel; TIFF buffers a whole strip), plus the downscale's row sums (8 bytes a
	// sample of one source row) and the work image. Over the budget, the file keeps its hashes and
	// EXIF but is not decoded.
	need := media.DecodeMemory(data, f)
	if need <= 0 {
		need = px * 4
	}
	need += 8*4*int64(max(cfg.Width, cfg.Height)) + 4*WorkSide*WorkSide
	if held+need > budget {
		file := ""
		if held > 0 {
			file = fmt.Sprintf(" besides the file's %d MiB", held>>20)
		}
		return 0, cfg, fmt.Errorf("%w: decoding %dx%d pixels would take about %d MiB%s, over the decode-memory budget of %d MiB",
			media.ErrTooManyPixels, cfg.Width, cfg.Height, need>>20, file, budget>>20)
	}
	return need, cfg, nil
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
			var r pdq.Result
			if r, err = pdq.FromImage(full); err == nil {
				h.PDQ = &PDQInfo{Hash: r.Hash, Quality: r.Quality, Variant: pdq.VariantFull, Dihedral: r.Dihedral}
			}
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

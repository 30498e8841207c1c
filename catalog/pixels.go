package catalog

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"image"
	"strconv"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
	"github.com/relcat/relcat/thumbs"
)

// workImage decodes data once (bounded) and returns the one area-average downscale (longest side
// WorkSide) that feeds the perceptual hash and the thumbnail; the decoded image is dropped before
// it returns.
func workImage(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted) (image.Image, media.Config, error) {
	work, _, cfg, err := workAndReference(ctx, data, f, maxPixels, budget, sem, false, false)
	return work, cfg, err
}

// workAndReference decodes data once and returns the work image and, when ref is set, the
// reference full-resolution PDQ (pdq.VariantFull, what partners' hash lists hold) of the SAME
// decoded pixels: exactly (a full-size decode hashed by pdq.FromImage) when exact is set or the
// image is not decoded at a reduction, otherwise from the reduced decode that makes the work image
// (pdq.FromReduced; see workDecodeSide). The hash's buffers count against the decode-memory budget
// and sem while the decoded image is held. A reference hash that cannot be computed (an image under
// 5 px, or an image whose decode fits the budget but not the hash's buffers as well) is nil, not an
// error: the work image still stands.
func workAndReference(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted, ref, exact bool) (image.Image, *PDQInfo, media.Config, error) {
	var work image.Image
	var refPDQ *PDQInfo
	cfg, err := decodeWith(ctx, data, f, maxPixels, budget, sem, ref, workDecodeSide(ref && exact), func(img image.Image, cfg media.Config, refOK bool) {
		work, refPDQ = useDecoded(img, cfg, ref && refOK)
	})
	return work, refPDQ, cfg, err
}

// workMinSide is the smallest longest side a reduced JPEG decode for the work image may have (a
// variable so tests can measure others: RELCAT_WORK_MIN_SIDE in TestScaledDecodePDQ). It is half
// the work image's: the work image is made from the reduced decode at its full size (1024 px) by
// media.ShrinkReduced, each reduced pixel read as constant over the pixels it replaces, so a
// 1600x1200 photo decoded at 1/2 (800x600) still gives a 1024x768 work image, and a 4000x3000 one
// is decoded at 1/4 (1000x750). Measured on every corpus JPEG (TestScaledDecodePDQ): with 512 the
// work-image PDQ stays within 2 bits of the one of image/jpeg's full decode, as with 1024 (the
// threshold before); with 384 (1/8 for 12 MP) up to 4 bits. A work image made smaller instead
// (the reduced decode hashed as it is) missed the 4-bit bar by up to 10 bits at 768.
var workMinSide = WorkSide / 2

// workDecodeSide is the minSide of the decode that makes the work image: the largest reduction
// whose longest side keeps workMinSide pixels (a 4000x3000 photo at 1/4, 1000x750; a 1600x1200
// one at 1/2), unless the exact reference hash needs every pixel.
//
// The reference PDQ of a JPEG decoded at a reduction (a long side of 1024 pixels or more) is then
// computed from that reduced decode by pdq.FromReduced, which applies the reference's full-size
// blur weights summed over each reduced pixel. It is not bit-exact: measured on every corpus photo
// and on the benchmark's photos (TestReducedReferencePDQ), it lands 0 or 2 bits from the exact
// hash, inside the 10 bits of Meta's conformance rule and of the differences JPEG decoders make.
// `relcat hash` and `ingest --exact-pdq` decode at full size and hash exactly.
func workDecodeSide(exactRef bool) int {
	if exactRef {
		return 0
	}
	return workMinSide
}

// useDecoded makes the work image (and the reference PDQ when ref is set) from a decode, at full
// size or reduced: the work image is always the size a full decode's would be.
func useDecoded(img image.Image, cfg media.Config, ref bool) (work image.Image, refPDQ *PDQInfo) {
	return useDecodedInto(nil, img, cfg, ref)
}

// useDecodedInto is useDecoded writing an RGBA work image's pixels into buf when it is large enough
// (media.ShrinkReducedInto; see workBuffers).
func useDecodedInto(buf []uint8, img image.Image, cfg media.Config, ref bool) (work image.Image, refPDQ *PDQInfo) {
	if ref {
		refPDQ, _ = hashReference(img, cfg)
	}
	return media.ShrinkReducedInto(buf, img, cfg.Width, cfg.Height, reductionOf(img.Bounds(), cfg), WorkSide), refPDQ
}

// workBuffers holds the pixel buffers of work images ingest has finished with (*[]uint8 of
// 4*WorkSide*WorkSide bytes): each photo's 4 MB work image would otherwise be a new allocation,
// cleared, and most of what the garbage collector is run for.
var workBuffers sync.Pool

// getWorkBuffer is a buffer for a work image's pixels; putWorkBuffer gives back the pixels of a
// work image that nothing references any more.
func getWorkBuffer() []uint8 {
	if p, ok := workBuffers.Get().(*[]uint8); ok {
		return *p
	}
	return make([]uint8, 4*WorkSide*WorkSide)
}

func putWorkBuffer(work image.Image) {
	if m, ok := work.(*image.NRGBA); ok && cap(m.Pix) == 4*WorkSide*WorkSide {
		p := m.Pix[:0]
		workBuffers.Put(&p)
	}
}

// thumbSource is the thumbnail's area average (thumbs.MaxSide, before orientation) of a decode,
// made from whichever of the decoded image and the work image has fewer pixels: a JPEG decoded at
// a reduction (a 1600 px photo's 800x600, a 12 MP one's 1000x750) is read as planes of luma and
// subsampled chroma, cheaper than the 1024 px RGBA work image; a full-size decode larger than the
// work image is not read again. Ingest and repair make thumbnails only here.
func thumbSource(decoded image.Image, cfg media.Config, work image.Image) image.Image {
	d, w := decoded.Bounds(), work.Bounds()
	if d.Dx()*d.Dy() <= w.Dx()*w.Dy() {
		return media.ShrinkReduced(decoded, cfg.Width, cfg.Height, reductionOf(d, cfg), thumbs.MaxSide)
	}
	return media.Shrink(work, thumbs.MaxSide)
}

// workAndThumb is workImage plus the thumbnail's source (thumbSource) from the same decode.
func workAndThumb(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted) (work, thumb image.Image, cfg media.Config, err error) {
	cfg, err = decodeWith(ctx, data, f, maxPixels, budget, sem, false, workDecodeSide(false), func(img image.Image, cfg media.Config, _ bool) {
		work, _ = useDecoded(img, cfg, false)
		thumb = thumbSource(img, cfg, work)
	})
	return work, thumb, cfg, err
}

// refMemory is what the reference hash of a w x h image decoded at 1/scale allocates.
func refMemory(w, h, scale int) int64 {
	if scale > 1 {
		return pdq.ReducedMemory((w+scale-1)/scale, (h+scale-1)/scale)
	}
	return pdq.StreamMemory(w, h)
}

// hashReference computes the reference full-resolution PDQ of a decoded image: exactly when img
// has the full size cfg gives (or cfg is unknown), else approximated from img, a reduced JPEG
// decode (each pixel the mean of the scale x scale pixels it replaces).
func hashReference(img image.Image, cfg media.Config) (*PDQInfo, error) {
	b := img.Bounds()
	var r pdq.Result
	var err error
	if s := reductionOf(b, cfg); s > 1 {
		r, err = pdq.FromReduced(img, cfg.Width, cfg.Height, s)
	} else {
		r, err = pdq.FromImage(img)
	}
	if err != nil {
		return nil, err
	}
	return &PDQInfo{Hash: r.Hash, Quality: r.Quality, Variant: pdq.VariantFull, Dihedral: r.Dihedral}, nil
}

// reductionOf is the reduction (2, 4 or 8) that made a b-sized decode of a cfg-sized image, or 1
// when b is the full size (or matches no reduction).
func reductionOf(b image.Rectangle, cfg media.Config) int {
	if b.Dx() == cfg.Width && b.Dy() == cfg.Height {
		return 1
	}
	for _, s := range []int{2, 4, 8} {
		if b.Dx() == (cfg.Width+s-1)/s && b.Dy() == (cfg.Height+s-1)/s {
			return s
		}
	}
	return 1
}

// decodeBounded decodes data once at full size, within the pixel limit and the decode-memory budget
// (default DefaultDecodeMemory), holding its share of sem (when not nil) while decoding. cfg is
// filled whenever the header could be read, even when the error is not nil.
func decodeBounded(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted) (image.Image, media.Config, error) {
	var full image.Image
	cfg, err := decodeWith(ctx, data, f, maxPixels, budget, sem, false, 0, func(m image.Image, _ media.Config, _ bool) { full = m })
	return full, cfg, err
}

// decodeWith decodes data once (interruptibly), within the pixel limit and the decode-memory
// budget, and calls use with the decoded image while still holding the budget: whatever use makes
// of it (the downscale, the reference hash) is done before the budget is released. With ref, the
// reference hash's buffers are counted in the budget when they fit (use is told by refOK); when
// only the decode fits, the image is decoded all the same and refOK is false.
//
// With minSide > 0 the image may be smaller: a JPEG is then decoded at the largest reduction (1/2,
// 1/4, 1/8: media.Scale) whose longest side is still at least minSide, each pixel the mean of those
// it replaces, and the budget counts that reduced decode. cfg is always the file's full size.
func decodeWith(ctx context.Context, data []byte, f media.Format, maxPixels, budget int64, sem *semaphore.Weighted, ref bool, minSide int, use func(img image.Image, cfg media.Config, refOK bool)) (media.Config, error) {
	need, refOK, scale, cfg, err := decodeNeedScaled(data, f, maxPixels, 0, budget, ref, minSide)
	if err != nil {
		return cfg, err
	}
	if sem != nil {
		if err := sem.Acquire(ctx, need); err != nil {
			return cfg, err
		}
		defer sem.Release(need)
	}
	img, _, err := media.DecodeScaled(ctx, data, f, maxPixels, scale)
	if err != nil {
		return cfg, err
	}
	use(img, cfg, refOK)
	return cfg, nil
}

// decodeNeed reads the header and returns the memory a full-size decode of data and its use will
// take, or the reason it must not be decoded: no decoder, over the pixel limit, or needing more than
// budget (default DefaultDecodeMemory) together with held bytes already taken from it (the file's
// own bytes, in ingest). The need is what the decoder allocates (media.DecodeMemory: a progressive
// JPEG keeps every coefficient, up to 15 bytes a pixel; TIFF buffers a whole strip), plus the
// downscale's row sums and work image, plus the reference hash's buffers when ref is set and they
// fit too (refOK).
func decodeNeed(data []byte, f media.Format, maxPixels, held, budget int64, ref bool) (need int64, refOK bool, cfg media.Config, err error) {
	need, refOK, _, cfg, err = decodeNeedScaled(data, f, maxPixels, held, budget, ref, 0)
	return need, refOK, cfg, err
}

// decodeNeedScaled is decodeNeed for a decode by media.DecodeScaled at the reduction it returns:
// the largest whose longest side is at least minSide (1, full size, when minSide <= 0 or the
// format is not JPEG).
func decodeNeedScaled(data []byte, f media.Format, maxPixels, held, budget int64, ref bool, minSide int) (need int64, refOK bool, scale int, cfg media.Config, err error) {
	cfg, err = media.DecodeConfig(data, f)
	if !f.Decodable() {
		return 0, false, 1, cfg, fmt.Errorf("relcat has no decoder for %s (hashes and EXIF are catalogued)", f)
	}
	if err != nil {
		return 0, false, 1, cfg, err
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px <= 0 || px > maxPixels {
		return 0, false, 1, cfg, fmt.Errorf("%w: %dx%d pixels is over the limit of %s MP (--max-pixels)", media.ErrTooManyPixels, cfg.Width, cfg.Height, megapixels(maxPixels))
	}
	if err := media.CheckAspect(f, cfg.Width, cfg.Height); err != nil {
		return 0, false, 1, cfg, err
	}
	if budget <= 0 {
		budget = DefaultDecodeMemory
	}
	scale = 1
	if f == media.JPEG {
		scale = media.Scale(cfg.Width, cfg.Height, minSide)
	}
	need = media.DecodeMemoryScaled(data, f, scale)
	if need <= 0 {
		need = px * 4
	}
	need += 8*4*int64(max(cfg.Width, cfg.Height)) + 4*WorkSide*WorkSide
	var extra int64
	if ref {
		extra = refMemory(cfg.Width, cfg.Height, scale)
	}
	refOK = ref && held+need+extra <= budget
	if refOK {
		need += extra
	}
	if held+need > budget {
		file := ""
		if held >= 1<<20 {
			file = fmt.Sprintf(" besides the file's %d MiB", held>>20)
		}
		return 0, false, 1, cfg, fmt.Errorf("%w: decoding %dx%d pixels would take about %d MiB%s, over the decode-memory budget of %d MiB",
			media.ErrTooManyPixels, cfg.Width, cfg.Height, need>>20, file, budget>>20)
	}
	return need, refOK, scale, cfg, nil
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
	PDQRef   *PDQInfo `json:"pdq_ref,omitempty"` // with HashOptions.Reference
	Warnings []string `json:"warnings,omitempty"`
	// regions are the region hashes of the work image (with HashOptions.Regions; hasRegions says
	// they were computed).
	regions    []RegionHash
	hasRegions bool
}

// HashOptions configure HashFile.
type HashOptions struct {
	MaxPixels   int64 // default DefaultMaxPixels
	MaxFileSize int64 // default DefaultMaxFileSize
	// Full computes PDQ at full resolution (the reference variant, "pdq-full", for sharing with
	// partners) instead of the catalog's work-image variant.
	Full bool
	// Reference also computes the reference full-resolution PDQ (FileHashes.PDQRef) from the same
	// decode as the work-image one (for checking watchlists, which hold the reference variant).
	Reference bool
	// Regions also computes the region hashes of the work image (issue 10; lookups match crops and
	// bands with them). Not with Full.
	Regions bool
}

// HashFile reads one file and returns its SHA-256, MD5, format and PDQ hash. A file that is not an
// image, or cannot be read, is an error naming the reason; an image whose pixels cannot be decoded
// has no PDQ and a warning saying why. A file over half of DefaultDecodeMemory is hashed by
// streaming, never held whole, and gets no PDQ (ingest does the same).
func HashFile(ctx context.Context, path string, o HashOptions) (*FileHashes, error) {
	o = o.withDefaults()
	f, fi, err := openRegular(path, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, err)
	}
	defer f.Close()
	if fi.Size() > o.MaxFileSize {
		return nil, fmt.Errorf("%s: file of %d bytes is over the limit of %d bytes (--max-file-size)", path, fi.Size(), o.MaxFileSize)
	}
	if fi.Size() > DefaultDecodeMemory/2 {
		s, err := streamFile(ctx, f, fi.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: %s", path, err)
		}
		format := media.Sniff(s.head)
		if format == media.Unknown {
			return nil, fmt.Errorf("%s: unknown format: %s", path, describeUnknown(s.head))
		}
		return &FileHashes{Path: path, SHA256: s.sum, MD5: s.md5, Size: fi.Size(), Format: string(format),
			Warnings: []string{fmt.Sprintf("no perceptual hash: a file of %d MiB is over half the decode-memory budget of %d MiB: hashed by streaming",
				fi.Size()>>20, DefaultDecodeMemory>>20)}}, nil
	}
	h := &heldFile{f: f, size: fi.Size()}
	if err := h.read(ctx, nil); err != nil {
		return nil, fmt.Errorf("%s: %s", path, err)
	}
	return hashBytes(ctx, path, h.data, o)
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
			h.PDQ, err = hashReference(full, cfg)
		}
		if err != nil {
			h.Warnings = append(h.Warnings, "no perceptual hash: "+err.Error())
		}
		return h, nil
	}
	work, ref, cfg, err := workAndReference(ctx, data, f, o.MaxPixels, 0, nil, o.Reference, false)
	h.Width, h.Height = cfg.Width, cfg.Height
	if err == nil && o.Regions {
		h.PDQ, h.regions, err = workHashes(work)
		h.PDQRef = ref
	} else if err == nil {
		h.PDQ, err = hashWork(work)
		h.PDQRef = ref
	}
	if err == nil && o.Regions {
		h.hasRegions = true
	}
	if err != nil {
		h.Warnings = append(h.Warnings, "no perceptual hash: "+err.Error())
	}
	return h, nil
}

// megapixels writes a pixel count in megapixels without rounding a small limit to 0: 100, 0.5, 12.25.
func megapixels(n int64) string {
	return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64)
}

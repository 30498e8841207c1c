package catalog

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/exifmeta"
	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/thumbs"

	bolt "go.etcd.io/bbolt"
)

// Defaults of IngestOptions.
const (
	DefaultMaxPixels    = 100_000_000 // 100 MP
	DefaultMaxFileSize  = 512 << 20   // 512 MiB
	DefaultDecodeMemory = 512 << 20   // bytes the decoders may allocate at once, all workers together
	// WorkSide is the longest side of the one area-average downscale of every decoded image, which
	// feeds both the PDQ hash and the thumbnail.
	WorkSide = 1024
)

// File statuses in an ingest.
const (
	StatusNew      = "new"
	StatusKnown    = "known"
	StatusRejected = "rejected"
)

// IngestOptions configure Ingest.
type IngestOptions struct {
	Release      ReleaseInfo // overrides release.json field by field
	Operator     string
	Command      string // the command line, for the log
	Recursive    bool
	FollowLinks  bool  // read symbolic links to files outside the release folder too
	NoCopy       bool  // do not preserve originals under objects/
	MaxPixels    int64 // refuse to decode images with more pixels (default 100 MP)
	MaxFileSize  int64 // refuse larger files (default 512 MiB)
	DecodeMemory int64 // bound on decoder memory at once, all workers together (default 512 MiB); a larger image is stored without pixels
	Workers      int   // default GOMAXPROCS
	// ExactPDQ decodes every JPEG at full size so that the reference full-resolution PDQ is exact
	// (pdq.FromImage). By default a JPEG with a long side of 1024 px or more is decoded at the
	// largest reduction (1/2, 1/4 or 1/8) keeping 512 px and its reference PDQ is
	// computed from that decode (pdq.FromReduced: a few bits from the exact hash; see the README).
	ExactPDQ bool
	// Progress, when set, is called after each file is committed or rejected (from one goroutine).
	Progress func(done, total int)
	// Start, when set, is called once per folder with the number of files found, before any is read.
	Start func(dir string, files int)
}

// FileResult is the outcome of one file of a release folder.
type FileResult struct {
	Path     string   `json:"path"` // as given on the command line, joined with the file's relative name
	Name     string   `json:"name"` // relative to the release folder
	Position int      `json:"position"`
	Status   string   `json:"status"` // new, known, rejected
	SHA256   *SHA256  `json:"sha256,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	NoPixels bool     `json:"no_pixels,omitempty"` // stored without thumbnail or perceptual hash
	Format   string   `json:"format,omitempty"`
	Repeat   bool     `json:"repeat,omitempty"`  // this sighting was already in the catalog
	Updated  bool     `json:"updated,omitempty"` // the stored image gained its original or its pixels
	// First is the origin when another batch released the photo before this one (nil when this batch
	// is the first to release it); Seen says how: byte-identical or as a near-duplicate.
	First *Sighting `json:"first_seen,omitempty"`
	Seen  string    `json:"seen_before,omitempty"` // "identical" or "near" (empty: first released here)
	// Earlier is the earliest sighting of the same bytes in another batch released before this one.
	Earlier *Sighting `json:"earlier,omitempty"`
	// FirstUncertain: the origin ties with another release the same day given as a bare date.
	FirstUncertain bool    `json:"first_seen_uncertain,omitempty"`
	Origin         *Origin `json:"origin,omitempty"` // the origin over the photo's family (OriginOf), maybe this batch
	Near           []Match `json:"near,omitempty"`   // near matches with a sighting in another batch, earliest release first
}

// How a photo of a release was seen before it (FileResult.Seen).
const (
	SeenIdentical = "identical"
	SeenNear      = "near"
)

// BatchSummary is the outcome of one release folder.
type BatchSummary struct {
	Batch     Batch        `json:"-"`
	Created   bool         `json:"created"`
	Unchanged bool         `json:"unchanged"` // nothing in the catalog changed
	Files     []FileResult `json:"-"`
	Notes     []string     `json:"notes,omitempty"`
	New       int          `json:"new"`
	Known     int          `json:"known"`
	Rejected  int          `json:"rejected"`
	NoPixels  int          `json:"no_pixels"`
	// The photos (files not rejected) in three groups by the origin rule: first released here;
	// released before byte-identical (reused); released before only as a near-duplicate.
	FirstHere int `json:"first_here"`
	Reused    int `json:"reused"`
	NearCount int `json:"near"`
	// CameraLeads: camera bodies of this release also seen in other affiliates' releases.
	CameraLeads []CameraLead `json:"-"`
}

// Partial reports whether some files were rejected or stored without pixels.
func (s *BatchSummary) Partial() bool { return s.Rejected > 0 || s.NoPixels > 0 }

// processed is what a worker hands the writer.
type processed struct {
	cand      candidate
	idx       int // index in the folder listing
	pos       int // position of the sighting (idx unless the folder changed)
	res       FileResult
	img       *Image // nil for rejected and known files
	addObject bool   // known image stored earlier with --no-copy: its original is now preserved
	upgrade   *Image // known image stored earlier over a limit, now decoded: its pixel fields
}

// Ingest ingests each folder as one batch, in the order given. It returns one summary per folder
// fully processed; on cancellation the error is ErrInterrupted and the catalog holds every chunk
// committed so far (re-running the ingest completes it).
func (c *Catalog) Ingest(ctx context.Context, dirs []string, opts IngestOptions) ([]*BatchSummary, error) {
	if c.readOnly {
		return nil, ErrReadOnly
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.DecodeMemory <= 0 {
		opts.DecodeMemory = DefaultDecodeMemory
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	plans, err := planIngest(dirs, opts, c.resolveAliasForIngest)
	if err != nil {
		return nil, err
	}
	var out []*BatchSummary
	for _, p := range plans {
		s, err := c.ingestFolder(ctx, p, opts)
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ingestPlan is one release folder, checked: its release info and its files.
type ingestPlan struct {
	dir   string
	info  ReleaseInfo
	aff   string
	rel   Released
	cands []candidate
	notes []string
}

// CheckIngest checks, without a catalog, what Ingest checks before it touches anything: every
// argument is a folder, its release info is complete and valid, and it holds at least one file.
// Callers use it to refuse a bad command line before creating a catalog.
func CheckIngest(dirs []string, opts IngestOptions) error {
	_, err := planIngest(dirs, opts, nil)
	return err
}

// planIngest validates every folder before anything is written: an error leaves the catalog as it was.
// resolve turns an affiliate alias into its slug; without it (no catalog yet) the affiliate is only
// required, not checked, since it may be an alias.
func planIngest(dirs []string, opts IngestOptions, resolve func(string) (string, error)) ([]ingestPlan, error) {
	var plans []ingestPlan
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s", ErrBadArgument, d, shortErr(err))
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%w: %s is a file: ingest takes release folders (one folder per release, its files the photos); to check one file, use relcat lookup", ErrBadArgument, d)
		}
		ri, _, err := readReleaseInfo(d)
		if err != nil {
			return nil, err
		}
		ri = ri.merge(opts.Release)
		check := ri
		if resolve != nil {
			if ri.Affiliate, err = resolve(ri.Affiliate); err != nil {
				return nil, err
			}
			check = ri
		} else if strings.TrimSpace(ri.Affiliate) != "" {
			check.Affiliate = "x" // maybe an alias: checked when the catalog is open
		}
		aff, rel, err := check.normalise(d)
		if err != nil {
			return nil, err
		}
		cands, notes, err := listFolder(d, opts.Recursive, opts.FollowLinks)
		if err != nil {
			return nil, err
		}
		if len(cands) == 0 {
			hint := "hidden files and release.json are not part of a release"
			if !opts.Recursive {
				hint += "; subfolders are read only with --recursive"
			}
			return nil, fmt.Errorf("%w: no image files in %s (%s): nothing was created", ErrBadArgument, d, hint)
		}
		plans = append(plans, ingestPlan{d, ri, aff, rel, cands, notes})
	}
	return plans, nil
}

func (c *Catalog) ingestFolder(ctx context.Context, p ingestPlan, opts IngestOptions) (*BatchSummary, error) {
	dir, ri, aff, rel, cands, notes := p.dir, p.info, p.aff, p.rel, p.cands, p.notes
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// The folder name is part of the batch identity and is stored as text: bytes that are not UTF-8
	// are written as \xNN (JSON would replace them, and the id could not be re-derived by verify).
	folder := textName(filepath.Base(abs))
	id, aff, rel, note, err := c.batchFor(aff, rel, folder)
	if err != nil {
		return nil, err
	}
	if note != "" {
		notes = append(notes, note)
	}
	batch := Batch{
		ID: id, Affiliate: aff, Released: rel,
		Source: ri.Source, Title: ri.Title, Notes: ri.Notes, Operator: opts.Operator,
		Folder: folder, Origin: abs,
	}
	sum := &BatchSummary{Batch: batch, Notes: notes, Unchanged: true}
	if opts.Start != nil {
		opts.Start(dir, len(cands))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan int)
	results := make(chan processed, 2*opts.Workers)
	sem := semaphore.NewWeighted(opts.DecodeMemory)

	g.Go(func() error {
		defer close(jobs)
		for i := range cands {
			select {
			case jobs <- i:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	workers, wctx := errgroup.WithContext(gctx)
	for w := 0; w < opts.Workers; w++ {
		workers.Go(func() error {
			var wb workerBuffers // this worker's reusable buffers
			for i := range jobs {
				p := c.processFile(wctx, dir, cands[i], i, opts, sem, &wb)
				select {
				case results <- p:
				case <-wctx.Done():
					return nil
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := workers.Wait()
		close(results)
		return err
	})
	var byPos = make([]FileResult, len(cands))
	g.Go(func() error {
		return c.writer(gctx, &batch, sum, results, byPos, opts, len(cands))
	})
	err = g.Wait()
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return nil, ErrInterrupted
	}
	if err != nil {
		return nil, err
	}
	sum.Batch = batch
	sum.Files = byPos
	if err := c.annotate(sum); err != nil {
		return nil, err
	}
	if err := c.cameraLeads(sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// processFile does all the CPU work of one file, outside any write transaction: one read (within
// the memory budget, hashing as it reads), EXIF, then (for new images only) one bounded decode, one
// downscale feeding the perceptual hash and the thumbnail, and the content-addressed copies. wb
// holds the worker's reusable buffers.
func (c *Catalog) processFile(ctx context.Context, dir string, cand candidate, pos int, opts IngestOptions, sem *semaphore.Weighted, wb *workerBuffers) (p processed) {
	p = processed{cand: cand, idx: pos, pos: pos, res: FileResult{
		Path: filepath.Join(dir, filepath.FromSlash(cand.rel)), Name: cand.rel, Position: pos,
	}}
	reject := func(reason string) processed {
		p.res.Status = StatusRejected
		p.res.Reason = reason
		return p
	}
	if cand.reject != "" {
		return reject(cand.reject)
	}
	defer func() {
		if r := recover(); r != nil {
			p.img = nil
			p = reject(fmt.Sprintf("internal error while processing (please report): %v", r))
		}
	}()
	f, fi, err := openRegular(cand.abs, false)
	if err != nil {
		return reject(err.Error())
	}
	defer f.Close()
	if fi.Size() > opts.MaxFileSize {
		return reject(fmt.Sprintf("file of %d bytes is over the limit of %d bytes (--max-file-size)", fi.Size(), opts.MaxFileSize))
	}
	if fi.Size() > opts.DecodeMemory/2 {
		// Too large to hold in the memory budget beside its decoding: hashed by streaming.
		return c.processStreamed(ctx, p, f, fi.Size(), opts)
	}
	h, err := readHeld(ctx, f, fi.Size(), sem, opts.DecodeMemory, reuseLimit(opts.DecodeMemory, opts.Workers), &wb.read)
	if err != nil {
		return reject(err.Error())
	}
	defer h.release()
	data, sum := h.data, h.sum
	p.res.SHA256 = &sum
	if len(data) == 0 {
		return reject("empty file (0 bytes)")
	}
	format := media.Sniff(data)
	p.res.Format = string(format)
	if format == media.Unknown {
		return reject("unknown format: " + describeUnknown(data))
	}
	known, err := c.knownImage(sum)
	if err != nil {
		return reject("catalog read: " + err.Error())
	}
	if known != nil {
		p.res.Status = StatusKnown
		if known.PixelsLimited && format.Decodable() {
			// Stored earlier without pixels because of a limit: the limits may allow it now.
			up := *known
			up.Warnings = append([]string(nil), known.EXIF.Warnings...)
			up.PixelsError, up.PixelsLimited = "", false
			c.decodeInto(ctx, &up, h, format, opts, wb)
			if up.Pixels {
				p.upgrade = &up
			}
		}
		if known.Object == "" && !opts.NoCopy {
			if _, err := writeContentFileSum(c.dir, objectRelPath(sum), h.data, sum, 0o444); err != nil {
				p.res.Warnings = append(p.res.Warnings, "could not preserve the original: "+err.Error())
			} else {
				p.addObject = true
			}
		}
		return p
	}
	img := &Image{SHA256: sum, MD5: MD5(md5.Sum(data)), Size: int64(len(data)), Format: string(format)}
	img.EXIF = readEXIF(data, format)
	img.Warnings = append(img.Warnings, img.EXIF.Warnings...)
	c.decodeInto(ctx, img, h, format, opts, wb)
	if !opts.NoCopy {
		replaced, err := writeContentFileSum(c.dir, objectRelPath(sum), h.data, sum, 0o444)
		if err != nil {
			return reject("could not preserve the original in the catalog: " + err.Error())
		}
		if replaced {
			img.Warnings = append(img.Warnings, "a damaged copy of this original in objects/ was replaced")
		}
		img.Object = objectRelPath(sum)
	}
	p.res.Status = StatusNew
	p.res.Warnings = img.Warnings
	p.res.NoPixels = !img.Pixels
	p.img = img
	return p
}

// processStreamed is processFile for a file larger than half the memory budget: it is read once by
// streaming (SHA-256 and MD5) and copied to objects/ by streaming, never held whole. It keeps its
// hashes, its format and the EXIF found in its first MiB, but is not decoded (a limit: a later ingest
// with a larger --decode-memory decodes it).
func (c *Catalog) processStreamed(ctx context.Context, p processed, f *os.File, size int64, opts IngestOptions) processed {
	reject := func(reason string) processed {
		p.res.Status = StatusRejected
		p.res.Reason = reason
		return p
	}
	s, err := streamFile(ctx, f, size)
	if err != nil {
		return reject(err.Error())
	}
	p.res.SHA256 = &s.sum
	format := media.Sniff(s.head)
	p.res.Format = string(format)
	if format == media.Unknown {
		return reject("unknown format: " + describeUnknown(s.head))
	}
	known, err := c.knownImage(s.sum)
	if err != nil {
		return reject("catalog read: " + err.Error())
	}
	if known != nil {
		p.res.Status = StatusKnown
		if known.Object == "" && !opts.NoCopy {
			if _, err := copyContentFile(ctx, c.dir, objectRelPath(s.sum), f, size, s.sum, 0o444); err != nil {
				p.res.Warnings = append(p.res.Warnings, "could not preserve the original: "+err.Error())
			} else {
				p.addObject = true
			}
		}
		return p
	}
	img := &Image{SHA256: s.sum, MD5: s.md5, Size: size, Format: string(format)}
	img.EXIF = readEXIF(s.head, format)
	img.Warnings = append(img.Warnings, img.EXIF.Warnings...)
	if cfg, err := media.DecodeConfig(s.head, format); err == nil {
		img.Width, img.Height = cfg.Width, cfg.Height
	}
	img.PixelsError = fmt.Sprintf("a file of %d MiB held in memory with its decoding would be over the decode-memory budget of %d MiB (--decode-memory): hashed by streaming, EXIF read from its first MiB only",
		size>>20, opts.DecodeMemory>>20)
	img.PixelsLimited = format.Decodable()
	img.Warnings = append(img.Warnings, "no thumbnail or perceptual hash: "+img.PixelsError)
	if !opts.NoCopy {
		replaced, err := copyContentFile(ctx, c.dir, objectRelPath(s.sum), f, size, s.sum, 0o444)
		if err != nil {
			return reject("could not preserve the original in the catalog: " + err.Error())
		}
		if replaced {
			img.Warnings = append(img.Warnings, "a damaged copy of this original in objects/ was replaced")
		}
		img.Object = objectRelPath(s.sum)
	}
	p.res.Status = StatusNew
	p.res.Warnings = img.Warnings
	p.res.NoPixels = true
	p.img = img
	return p
}

// readEXIF runs the EXIF reader behind recover: a parser panic is a finding, not a crash.
func readEXIF(data []byte, f media.Format) (m exifmeta.Meta) {
	defer func() {
		if r := recover(); r != nil {
			m = exifmeta.Meta{Warnings: []string{fmt.Sprintf("exif: reader failed: %v", r)}}
		}
	}()
	return exifmeta.Read(data, string(f))
}

// decodeInto decodes the pixels once (bounded), makes the work image, the perceptual hash and the
// thumbnail (and the reference full-resolution PDQ when refPDQAtIngest). Failures are recorded on
// img (stored without pixels), never fatal. The decoder's share of the memory budget is taken
// besides the file's and held until the downscale and the reference hash are done.
func (c *Catalog) decodeInto(ctx context.Context, img *Image, h *heldFile, f media.Format, opts IngestOptions, wb *workerBuffers) {
	need, refOK, scale, cfg, err := decodeNeedScaled(h.data, f, opts.MaxPixels, h.size, opts.DecodeMemory, refPDQAtIngest, workDecodeSide(refPDQAtIngest && opts.ExactPDQ))
	var work, small image.Image
	var ref *PDQInfo
	if err == nil {
		if err = h.grow(ctx, need, &wb.read); err == nil {
			var decoded image.Image
			if decoded, _, err = media.DecodeScaledWith(ctx, h.data, f, opts.MaxPixels, scale, &wb.decode); err == nil {
				work, ref = useDecodedInto(getWorkBuffer(), decoded, cfg, refOK)
				small = thumbSource(decoded, cfg, work)
			}
			decoded = nil
			if wb.decode.Size() > decodeReuseLimit(opts.DecodeMemory, opts.Workers) {
				wb.decode.Release() // kept between files only up to the limit
			}
			h.drop(need)
		}
	}
	if work != nil {
		// Nothing keeps the work image past this function: its pixels serve the next photo.
		defer putWorkBuffer(work)
	}
	img.Width, img.Height = cfg.Width, cfg.Height
	if err != nil {
		img.Pixels = false
		img.PixelsError = err.Error()
		img.PixelsLimited = errors.Is(err, media.ErrTooManyPixels)
		img.Warnings = append(img.Warnings, "no thumbnail or perceptual hash: "+err.Error())
		return
	}
	var rs []RegionHash
	if regionsAtIngest {
		// The region hashes (issue 10) from the same luminance and blur as the whole-image hash
		// (bit for bit hashWork's): crops and bands are matched with them.
		img.PDQ, rs, err = workHashes(work)
	} else {
		img.PDQ, err = hashWork(work)
	}
	img.PDQRef = ref
	if err == nil && regionsAtIngest {
		img.regions, img.hasRegions = rs, true
	}
	if err == nil && presearchAtIngest {
		// Here, beside the other workers' decodes, not in the commit (preSearch).
		img.pre = c.presearch(img.PDQ, img.regions, img.hasRegions)
	}
	if err == nil && ref == nil && refPDQAtIngest {
		img.Warnings = append(img.Warnings, "no reference full-resolution PDQ: the image plus its hash buffers are over the decode-memory budget")
	}
	if err != nil {
		img.Warnings = append(img.Warnings, "no perceptual hash: "+err.Error())
	} else if img.PDQ.Quality < DefaultMinQuality {
		img.Warnings = append(img.Warnings, fmt.Sprintf("low quality perceptual hash (%d < %d): left out of near matching", img.PDQ.Quality, DefaultMinQuality))
	}
	// The thumbnail comes from a second area average, of the reduced decode or the work image
	// (thumbSource; never of a full resolution larger than the work image): thumbs.Make then only
	// applies the orientation. A Lanczos resize of the work image cost as much CPU as decoding a
	// 1600 px JPEG (BenchmarkIngestStages).
	var buf bytes.Buffer
	if err := thumbs.Encode(&buf, thumbs.Make(small, img.EXIF.Orientation)); err != nil {
		img.PixelsError = "thumbnail: " + err.Error()
		img.Warnings = append(img.Warnings, img.PixelsError)
		return
	}
	rel := thumbs.RelPath(img.SHA256.String())
	ts := SHA256(sha256.Sum256(buf.Bytes()))
	if _, err := writeContentFileSum(c.dir, rel, buf.Bytes(), ts, 0o444); err != nil {
		img.PixelsError = "thumbnail: " + err.Error()
		img.Warnings = append(img.Warnings, img.PixelsError)
		return
	}
	img.Thumb, img.ThumbVersion, img.ThumbSHA256 = rel, thumbs.Version, &ts
	img.Pixels = true
}

// refPDQAtIngest: ingest stores the reference full-resolution PDQ beside the work-image one (a
// variable only so that BenchmarkIngest can measure what it costs).
var refPDQAtIngest = true

// presearchAtIngest: ingest's workers search the near indexes for each new image (preSearch); a
// variable so that a test can compare the edges stored with the commit's own searches.
var presearchAtIngest = true

// regionsAtIngest: ingest computes and stores region hashes (a variable so that BenchmarkIngest can
// measure what they cost, and tests can make a catalog as a build before them did).
var regionsAtIngest = true

// readRegular opens only a regular file (never blocking on a FIFO) and reads it whole into a buffer
// of its size if it is at most max bytes.
func readRegular(path string, max int64) ([]byte, error) {
	f, fi, err := openRegular(path, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > max {
		return nil, fmt.Errorf("file of %d bytes is over the limit of %d bytes (--max-file-size)", fi.Size(), max)
	}
	h := &heldFile{f: f, size: fi.Size()}
	if err := h.read(context.Background(), nil); err != nil {
		return nil, err
	}
	return h.data, nil
}

// describeUnknown says what an unrecognised file looks like.
func describeUnknown(data []byte) string {
	head := data[:min(len(data), 512)]
	text := true
	for _, b := range head {
		if b < 0x09 || (b > 0x0d && b < 0x20) || b == 0x7f {
			text = false
			break
		}
	}
	if text {
		return "looks like text, not an image (relcat reads JPEG, PNG, GIF, WebP, TIFF, BMP, HEIC/HEIF, AVIF)"
	}
	return "not a JPEG, PNG, GIF, WebP, TIFF, BMP, HEIC/HEIF or AVIF file"
}

func (c *Catalog) knownImage(s SHA256) (*Image, error) {
	var img *Image
	err := c.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketImages).Get(s[:])
		if v == nil {
			return nil
		}
		img = new(Image)
		return json.Unmarshal(v, img)
	})
	return img, err
}

// chunkFiles is how many files one write transaction commits (a variable for tests).
var chunkFiles = 64

// writer is the only goroutine that writes: it commits processed files in chunks.
func (c *Catalog) writer(ctx context.Context, batch *Batch, sum *BatchSummary, in <-chan processed, byPos []FileResult, opts IngestOptions, total int) error {
	var pending []processed
	done := 0
	var run uint64 // log sequence of this ingest's first entry: every entry of the run carries it
	flush := func(final bool) error {
		if len(pending) == 0 && !final {
			return nil
		}
		// After a cancellation nothing more is committed: a file processed meanwhile may carry
		// "interrupted" instead of its pixels, and a stored image is never decoded again.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.commitChunk(batch, sum, pending, opts, final, &run); err != nil {
			return err
		}
		for _, p := range pending {
			byPos[p.idx] = p.res
		}
		done += len(pending)
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
		pending = pending[:0]
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p, ok := <-in:
			if !ok {
				return flush(true)
			}
			pending = append(pending, p)
			if len(pending) >= chunkFiles {
				if err := flush(false); err != nil {
					return err
				}
			}
		}
	}
}

// commitChunk writes one chunk in one transaction: affiliate and batch (created or updated), images,
// sightings both ways, hash indexes and one log entry. It fixes each file's final status.
//
// A batch is marked incomplete by every chunk that changes it but the last (final), which marks it
// complete: an ingest interrupted in between leaves it incomplete until a re-run completes it. The
// log entries of one ingest carry the same run (the sequence number of its first entry), the last
// one Complete: a run whose entries end without it was interrupted.
func (c *Catalog) commitChunk(batch *Batch, sum *BatchSummary, chunk []processed, opts IngestOptions, final bool, run *uint64) error {
	// The originals and thumbnails the workers wrote must be durable before any record names them.
	for _, p := range chunk {
		if p.addObject || p.upgrade != nil || (p.img != nil && (p.img.Object != "" || p.img.Thumb != "")) {
			if err := syncContent(c.dir); err != nil {
				return fmt.Errorf("catalog: sync originals and thumbnails before commit: %w", err)
			}
			break
		}
	}
	var near *nearTx
	logged := false // this chunk wrote a log entry: the catalog changed
	var lastRun uint64
	metaNote := "" // the batch's source, title or notes changed
	err := c.update(func(tx *bolt.Tx) error {
		near = c.beginNear(tx)
		var err error
		logged, metaNote, lastRun, err = c.commitChunkTx(tx, near, batch, sum, chunk, opts, final, *run)
		return err
	})
	if err != nil {
		if near != nil {
			near.abort()
		}
		return fmt.Errorf("catalog: commit: %w", err)
	}
	// A log entry means something changed, if only the title: never say "nothing changed" then.
	if logged {
		sum.Unchanged = false
		if *run == 0 {
			*run = lastRun
		}
	}
	if metaNote != "" {
		sum.Notes = append(sum.Notes, metaNote)
	}
	for _, p := range chunk {
		switch p.res.Status {
		case StatusNew:
			sum.New++
			sum.Unchanged = false
			if p.res.NoPixels {
				sum.NoPixels++
			}
		case StatusKnown:
			sum.Known++
			if !p.res.Repeat || p.res.Updated {
				sum.Unchanged = false
			}
		case StatusRejected:
			sum.Rejected++
		}
	}
	near.done()
	return nil
}

// commitChunkTx writes one chunk of a batch inside tx (see commitChunk): affiliate and batch
// (created or updated), images with their hashes (through near), sightings both ways, and one log
// entry when anything changed (logged), in ingest run `run` (0: this entry starts one; lastRun is
// the run it was given). metaNote names a change of the batch's description.
func (c *Catalog) commitChunkTx(tx *bolt.Tx, near *nearTx, batch *Batch, sum *BatchSummary, chunk []processed, opts IngestOptions, final bool, run uint64) (logged bool, metaNote string, lastRun uint64, err error) {
	err = func() error {
		now := c.now().UTC()
		entry := LogEntry{Action: ActionIngest, Batch: batch.ID.String(), Affiliate: batch.Affiliate}
		changed := false

		affs := tx.Bucket(bucketAffiliates)
		if affs.Get([]byte(batch.Affiliate)) == nil {
			a := Affiliate{Slug: batch.Affiliate, Created: now}
			if err := putJSON(affs, []byte(batch.Affiliate), a); err != nil {
				return err
			}
			entry.Notes = append(entry.Notes, "affiliate "+batch.Affiliate+" created")
			changed = true
		}
		batches := tx.Bucket(bucketBatches)
		var stored Batch
		if v := batches.Get(batch.ID[:]); v != nil {
			if err := json.Unmarshal(v, &stored); err != nil {
				return fmt.Errorf("batch %s record: %w", batch.ID, err)
			}
			if stored.Source != batch.Source || stored.Title != batch.Title || stored.Notes != batch.Notes {
				if batch.Source == "" {
					batch.Source = stored.Source
				}
				if batch.Title == "" {
					batch.Title = stored.Title
				}
				if batch.Notes == "" {
					batch.Notes = stored.Notes
				}
				if stored.Source != batch.Source || stored.Title != batch.Title || stored.Notes != batch.Notes {
					entry.Notes = append(entry.Notes, fmt.Sprintf("batch metadata updated (was source=%q title=%q notes=%q)", stored.Source, stored.Title, stored.Notes))
					metaNote = "batch metadata updated: " + metadataChanges(stored, *batch)
					changed = true
				}
			}
			batch.Ingested, batch.Origin, batch.Files, batch.Incomplete = stored.Ingested, stored.Origin, stored.Files, stored.Incomplete
			batch.Aka = stored.Aka // identities from renames and edits
			if final && stored.Incomplete {
				entry.Notes = append(entry.Notes, "batch complete")
				changed = true
			}
			if batch.Operator == "" {
				batch.Operator = stored.Operator
			}
		} else {
			batch.Ingested = now
			sum.Created = true
			entry.Notes = append(entry.Notes, "batch created")
			changed = true
		}

		images := tx.Bucket(bucketImages)
		bimg := tx.Bucket(bucketBatchImages)
		ibat := tx.Bucket(bucketImageBatches)
		for i := range chunk {
			p := &chunk[i]
			if p.res.Status == StatusRejected {
				continue
			}
			s := *p.res.SHA256
			if p.img != nil && images.Get(s[:]) == nil {
				p.img.Ingested = now
				if err := putJSON(images, s[:], p.img); err != nil {
					return err
				}
				if err := indexSearch(tx, p.img); err != nil {
					return err
				}
				if err := tx.Bucket(bucketMD5).Put(md5Key(p.img.MD5, s), []byte{}); err != nil {
					return err
				}
				if err := putPDQRef(tx, s, p.img.PDQRef); err != nil {
					return err
				}
				if p.img.PDQ != nil {
					if err := near.putWithRegions(s, p.img.PDQ, p.img.regions, p.img.hasRegions, p.img.pre); err != nil {
						return err
					}
				}
				p.res.Status = StatusNew
			} else {
				p.res.Status = StatusKnown
				p.res.NoPixels = false
				p.res.Warnings = nil
				if p.addObject || p.upgrade != nil {
					var img Image
					if err := json.Unmarshal(images.Get(s[:]), &img); err != nil {
						return fmt.Errorf("image %s record: %w", s, err)
					}
					dirty := false
					if p.addObject && img.Object == "" {
						img.Object = objectRelPath(s)
						entry.Notes = append(entry.Notes, "original of "+s.String()+" now preserved")
						dirty = true
					}
					if u := p.upgrade; u != nil && !img.Pixels {
						img.Width, img.Height, img.Pixels, img.PixelsError, img.PixelsLimited = u.Width, u.Height, true, "", false
						img.Thumb, img.ThumbVersion, img.ThumbSHA256, img.Warnings = u.Thumb, u.ThumbVersion, u.ThumbSHA256, u.Warnings
						if err := putPDQRef(tx, s, u.PDQRef); err != nil {
							return err
						}
						if u.PDQ != nil {
							if err := near.putWithRegions(s, u.PDQ, u.regions, u.hasRegions, u.pre); err != nil {
								return err
							}
							img.PDQ = u.PDQ
						}
						entry.Notes = append(entry.Notes, "pixels of "+s.String()+" decoded (stored earlier over a limit)")
						dirty = true
					}
					if dirty {
						if err := putJSON(images, s[:], &img); err != nil {
							return err
						}
						if err := indexSearch(tx, &img); err != nil {
							return err
						}
						p.res.Updated = true
						changed = true
					}
				}
			}
			if hasSighting(ibat, s, batch.ID, p.cand.raw) {
				p.res.Repeat = true
				continue
			}
			bk := batchImageKey(batch.ID, p.pos)
			if bimg.Get(bk) != nil {
				// The folder changed since its last ingest and this position holds another file.
				// The old sighting stays (evidence is never rewritten); this one takes a free position.
				p.pos = nextFreePosition(bimg, batch.ID)
				p.res.Position = p.pos
				bk = batchImageKey(batch.ID, p.pos)
				p.res.Warnings = append(p.res.Warnings, "the folder changed since its last ingest: stored at a new position")
			}
			if err := putJSON(bimg, bk, sightingRecord{SHA256: s, Name: p.cand.rel, RawName: rawName(p.cand.raw)}); err != nil {
				return err
			}
			if err := ibat.Put(imageBatchKey(s, batch.ID, p.pos), []byte(p.cand.raw)); err != nil {
				return err
			}
			batch.Files++
			entry.Files = append(entry.Files, LogFile{SHA256: s.String(), Name: p.cand.rel, RawName: rawName(p.cand.raw), Position: p.pos, Status: p.res.Status})
			changed = true
		}
		if !changed {
			return nil
		}
		batch.Incomplete = !final
		if err := putBatchRecord(tx, batch); err != nil {
			return err
		}
		entry.Time = now
		entry.Operator = opts.Operator
		entry.Command = opts.Command
		entry.Tool = c.version
		entry.Released = batch.Released.String()
		entry.Run, entry.Complete = run, final
		if entry.Run == 0 {
			entry.Run = nextLogSeq(tx)
		}
		lastRun = entry.Run
		logged = true
		return appendLog(tx, &entry)
	}()
	return logged, metaNote, lastRun, err
}

// metadataChanges names the descriptive fields that differ between two records of a batch.
func metadataChanges(was, now Batch) string {
	var out []string
	for _, f := range [][3]string{{"source", was.Source, now.Source}, {"title", was.Title, now.Title}, {"notes", was.Notes, now.Notes}} {
		if f[1] != f[2] {
			out = append(out, fmt.Sprintf("%s %q (was %q)", f[0], f[2], f[1]))
		}
	}
	return strings.Join(out, ", ")
}

// hasSighting reports whether image s is already sighted in batch id under the exact name bytes.
func hasSighting(ibat *bolt.Bucket, s SHA256, id BatchID, name string) bool {
	prefix := make([]byte, 40)
	copy(prefix, s[:])
	copy(prefix[32:], id[:])
	cur := ibat.Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		if string(v) == name {
			return true
		}
	}
	return false
}

func nextFreePosition(b *bolt.Bucket, id BatchID) int {
	cur := b.Cursor()
	last := -1
	for k, _ := cur.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = cur.Next() {
		if _, pos, err := parseBatchImageKey(k); err == nil && pos > last {
			last = pos
		}
	}
	return last + 1
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

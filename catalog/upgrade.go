package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"path/filepath"
	"runtime"
	"sort"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/media"

	bolt "go.etcd.io/bbolt"
)

// ReferenceUpgrade is the outcome of UpgradeReferencePDQ.
type ReferenceUpgrade struct {
	Missing    int      `json:"missing"`     // decoded images without a reference PDQ before the run
	Computed   int      `json:"computed"`    // reference PDQs computed and stored
	NoOriginal int      `json:"no_original"` // images whose original was not preserved (--no-copy)
	Failed     []string `json:"failed,omitempty"`
}

// ReferenceUpgradeOptions configure UpgradeReferencePDQ.
type ReferenceUpgradeOptions struct {
	Operator     string
	Command      string
	MaxPixels    int64 // default DefaultMaxPixels
	DecodeMemory int64 // default DefaultDecodeMemory
	Workers      int   // default GOMAXPROCS
}

// UpgradeReferencePDQ is the schema-2 upgrade step of the reference full-resolution PDQ (the
// pdq_ref bucket): for every decoded image that has none (decoded by a schema-1 build, or over the
// budget of the reference hash), it decodes the preserved original once more, checks that its
// SHA-256 is the image's, and stores the reference hash. Images whose original was not preserved
// keep their work-image variant only, and exports say so per row. It is idempotent; `relcat
// reindex` calls it. One log entry records what it did.
func (c *Catalog) UpgradeReferencePDQ(ctx context.Context, o ReferenceUpgradeOptions) (*ReferenceUpgrade, error) {
	if c.readOnly {
		return nil, ErrReadOnly
	}
	o = o.withDefaults()
	res := &ReferenceUpgrade{}
	var todo []Image
	err := c.update(func(tx *bolt.Tx) error {
		ref, err := tx.CreateBucketIfNotExists(bucketPDQRef)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketImages).ForEach(func(k, v []byte) error {
			if ref.Get(k) != nil {
				return nil
			}
			var img Image
			if err := json.Unmarshal(v, &img); err != nil {
				return fmt.Errorf("image %x record: %w", k, err)
			}
			if !img.Pixels {
				return nil
			}
			res.Missing++
			if img.Object == "" {
				res.NoOriginal++
				return nil
			}
			todo = append(todo, img)
			return nil
		})
	})
	if err != nil || len(todo) == 0 {
		return res, err
	}
	refs := make([]*PDQInfo, len(todo))
	res.Failed, err = c.fromOriginals(ctx, o, todo, func(gctx context.Context, i int, data []byte, sem *semaphore.Weighted) error {
		var ref *PDQInfo
		var herr error
		// The decode and the hash ingest makes (see workAndReference), so that an upgraded image
		// holds what ingest would have stored.
		_, err := decodeWith(gctx, data, media.Sniff(data), o.MaxPixels, o.DecodeMemory, sem, true, workDecodeSide(false), func(img image.Image, cfg media.Config, ok bool) {
			if ok {
				ref, herr = hashReference(img, cfg)
			}
		})
		if err == nil && herr != nil {
			err = herr
		}
		if err == nil && ref == nil {
			err = fmt.Errorf("the image plus its hash buffers are over the decode-memory budget")
		}
		if err == nil {
			refs[i] = ref
		}
		return err
	})
	if err != nil {
		return res, err
	}
	err = c.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPDQRef)
		for i, p := range refs {
			if p == nil {
				continue
			}
			if err := b.Put(todo[i].SHA256[:], pdqValue(p)); err != nil {
				return err
			}
			res.Computed++
		}
		if res.Computed == 0 {
			return nil
		}
		e := LogEntry{Time: c.now(), Operator: o.Operator, Command: o.Command, Tool: c.version, Action: "upgrade",
			Notes: []string{fmt.Sprintf("reference full-resolution PDQ computed from the preserved originals for %d images", res.Computed)}}
		if n := len(res.Failed); n > 0 {
			e.Notes = append(e.Notes, fmt.Sprintf("%d images could not be decoded again", n))
		}
		return appendLog(tx, &e)
	})
	return res, err
}

// withDefaults fills the options' unset limits.
func (o ReferenceUpgradeOptions) withDefaults() ReferenceUpgradeOptions {
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.DecodeMemory <= 0 {
		o.DecodeMemory = DefaultDecodeMemory
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// fromOriginals is the loop of the upgrade steps that recompute something from the preserved
// originals: for each image of todo (o.Workers at a time, decodes within one decode-memory budget)
// it reads the original, checks that it hashes to the image's SHA-256, and calls compute(i, bytes).
// It returns one line per image that failed ("sha: reason", sorted); a cancelled ctx is
// ErrInterrupted.
func (c *Catalog) fromOriginals(ctx context.Context, o ReferenceUpgradeOptions, todo []Image, compute func(ctx context.Context, i int, data []byte, sem *semaphore.Weighted) error) ([]string, error) {
	errs := make([]string, len(todo))
	sem := semaphore.NewWeighted(o.DecodeMemory)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for i := range todo {
		g.Go(func() error {
			img := &todo[i]
			data, err := readStored(gctx, filepath.Join(c.dir, filepath.FromSlash(img.Object)), img.Size)
			if err != nil {
				errs[i] = err.Error()
				return nil
			}
			if SHA256(sha256.Sum256(data)) != img.SHA256 {
				errs[i] = "the preserved original does not hash to its name (run `relcat verify`)"
				return nil
			}
			err = compute(gctx, i, data, sem)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			if err != nil {
				errs[i] = err.Error()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, ErrInterrupted
	}
	var failed []string
	for i, e := range errs {
		if e != "" {
			failed = append(failed, todo[i].SHA256.String()+": "+e)
		}
	}
	sort.Strings(failed)
	return failed, nil
}

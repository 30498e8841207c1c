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
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.DecodeMemory <= 0 {
		o.DecodeMemory = DefaultDecodeMemory
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
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
	type out struct {
		sha SHA256
		p   *PDQInfo
		err string
	}
	results := make([]out, len(todo))
	sem := semaphore.NewWeighted(o.DecodeMemory)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for i := range todo {
		g.Go(func() error {
			img := &todo[i]
			results[i].sha = img.SHA256
			data, err := readStored(gctx, filepath.Join(c.dir, filepath.FromSlash(img.Object)), img.Size)
			if err != nil {
				results[i].err = err.Error()
				return nil
			}
			if SHA256(sha256.Sum256(data)) != img.SHA256 {
				results[i].err = "the preserved original does not hash to its name (run `relcat verify`)"
				return nil
			}
			var ref *PDQInfo
			var herr error
			// The decode and the hash ingest makes (see workAndReference), so that an upgraded
			// image holds what ingest would have stored.
			_, err = decodeWith(gctx, data, media.Sniff(data), o.MaxPixels, o.DecodeMemory, sem, true, workDecodeSide(false), func(img image.Image, cfg media.Config, ok bool) {
				if ok {
					ref, herr = hashReference(img, cfg)
				}
			})
			if gctx.Err() != nil {
				return gctx.Err()
			}
			if err == nil && herr != nil {
				err = herr
			}
			if err == nil && ref == nil {
				err = fmt.Errorf("the image plus its hash buffers are over the decode-memory budget")
			}
			if err != nil {
				results[i].err = err.Error()
				return nil
			}
			results[i].p = ref
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, ErrInterrupted
	}
	for _, r := range results {
		if r.err != "" {
			res.Failed = append(res.Failed, r.sha.String()+": "+r.err)
		}
	}
	sort.Strings(res.Failed)
	err = c.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPDQRef)
		for _, r := range results {
			if r.p == nil {
				continue
			}
			if err := b.Put(r.sha[:], pdqValue(r.p)); err != nil {
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

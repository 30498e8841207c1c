package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/media"

	bolt "go.etcd.io/bbolt"
)

// RegionUpgrade is the outcome of upgradeRegions.
type RegionUpgrade struct {
	Missing  int `json:"missing"`  // images with a perceptual hash but no region hashes of this version
	Computed int `json:"computed"` // region hashes computed from the preserved originals
	// NoOriginal lists the images whose original was not preserved (--no-copy): not upgraded, they
	// stay matched whole-image only.
	NoOriginal []SHA256 `json:"no_original,omitempty"`
	Failed     []string `json:"failed,omitempty"`
}

// upgradeRegions is the upgrade step of region hashes (issue 10): every image with a perceptual hash
// and no region hashes of RegionSetVersion (ingested before them, or with an older region set) gets
// them from its preserved original, decoded again into the work image exactly as ingest makes it
// (after checking the original's SHA-256). Images whose original was not kept are listed and keep
// whole-image matching only. It writes only the regions bucket: `relcat reindex` runs it before
// recomputing the edges, which then include the region edges. Idempotent.
func (c *Catalog) upgradeRegions(ctx context.Context, o ReferenceUpgradeOptions) (*RegionUpgrade, error) {
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
	res := &RegionUpgrade{}
	var todo []Image
	err := c.update(func(tx *bolt.Tx) error {
		if err := createOptionalBuckets(tx); err != nil {
			return err
		}
		rb := tx.Bucket(bucketRegions)
		imgs := tx.Bucket(bucketImages)
		return tx.Bucket(bucketPDQ).ForEach(func(k, _ []byte) error {
			if v := rb.Get(k); v != nil {
				if ver, _, err := parseRegionsValue(v); err == nil && ver == RegionSetVersion {
					return nil
				}
			}
			var img Image
			iv := imgs.Get(k)
			if iv == nil {
				return nil // a hash without an image record: verify reports it
			}
			if err := json.Unmarshal(iv, &img); err != nil {
				return fmt.Errorf("image %x record: %w", k, err)
			}
			res.Missing++
			if img.Object == "" {
				res.NoOriginal = append(res.NoOriginal, img.SHA256)
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
		rs  []RegionHash
		ok  bool
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
			work, _, err := workImage(gctx, data, media.Sniff(data), o.MaxPixels, o.DecodeMemory, sem)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			if err == nil {
				results[i].rs, err = regionHashes(work)
			}
			if err != nil {
				results[i].err = err.Error()
				return nil
			}
			results[i].ok = true
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
		rb := tx.Bucket(bucketRegions)
		pb := tx.Bucket(bucketPDQ)
		for _, r := range results {
			if !r.ok || pb.Get(r.sha[:]) == nil {
				continue
			}
			if err := rb.Put(r.sha[:], regionsValue(r.rs)); err != nil {
				return err
			}
			res.Computed++
		}
		return nil
	})
	return res, err
}

// regionStep is reindex's step of region hashes: its line for the report and the log, and the
// images left whole-image only (ReindexReport.NotUpgraded).
func regionStep(ctx context.Context, c *Catalog, o *ReindexOptions, r *ReindexReport) (string, error) {
	u, err := c.upgradeRegions(ctx, ReferenceUpgradeOptions{Operator: o.Operator, Command: o.Command})
	if err != nil {
		return "", err
	}
	line := fmt.Sprintf("%d of %d missing computed from the preserved originals", u.Computed, u.Missing)
	if n := len(u.NoOriginal); n > 0 {
		line += fmt.Sprintf(", %d not upgraded (no preserved original: matched whole-image only):", n)
		for i, s := range u.NoOriginal {
			if i == 20 {
				line += fmt.Sprintf(" and %d more", n-20)
				break
			}
			line += " " + s.String()
		}
		for _, s := range u.NoOriginal {
			r.NotUpgraded = append(r.NotUpgraded, s.String())
		}
	}
	if len(u.Failed) > 0 {
		line += fmt.Sprintf(", %d failed (first: %s)", len(u.Failed), u.Failed[0])
		r.NotUpgraded = append(r.NotUpgraded, u.Failed...)
	}
	return line, nil
}

package catalog

import (
	"context"
	"encoding/json"
	"fmt"

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
	o = o.withDefaults()
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
	computed := make([][]RegionHash, len(todo))
	done := make([]bool, len(todo))
	res.Failed, err = c.fromOriginals(ctx, o, todo, func(gctx context.Context, i int, data []byte, sem *semaphore.Weighted) error {
		work, _, err := workImage(gctx, data, media.Sniff(data), o.MaxPixels, o.DecodeMemory, sem)
		if err == nil {
			computed[i], err = regionHashes(work)
		}
		done[i] = err == nil
		return err
	})
	if err != nil {
		return res, err
	}
	err = c.update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRegions)
		pb := tx.Bucket(bucketPDQ)
		for i, rs := range computed {
			sha := todo[i].SHA256
			if !done[i] || pb.Get(sha[:]) == nil {
				continue
			}
			if err := rb.Put(sha[:], regionsValue(rs)); err != nil {
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

package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Selection chooses the batches an export or a bundle covers. Its fields are combined with AND;
// the zero Selection is the whole catalog.
type Selection struct {
	Batches   []BatchID // only these batches (none: every batch)
	Affiliate string    // only batches credited to this affiliate (slug, alias or name; unknown: ErrNotFound)
	Since     Released  // only batches released at or after this time (a bare date: its start, UTC)
	// Search, when set, keeps only the images it finds (relcat search's filters; its Limit is
	// ignored). Bundles ignore it: they carry whole batches.
	Search *SearchQuery
}

// IsZero reports whether s selects the whole catalog.
func (s Selection) IsZero() bool {
	return len(s.Batches) == 0 && s.Affiliate == "" && s.Since.IsZero() && s.Search == nil
}

func (s Selection) match(b *Batch) bool {
	if len(s.Batches) > 0 {
		found := false
		for _, id := range s.Batches {
			if id == b.ID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if s.Affiliate != "" && b.Affiliate != s.Affiliate {
		return false
	}
	if !s.Since.IsZero() && b.Released.Time.Before(s.Since.Time) {
		return false
	}
	return true
}

// selectedBatches reads the batches s selects, by id; a batch named in s.Batches that does not
// exist is ErrNotFound.
func selectedBatches(tx *bolt.Tx, s Selection) (map[BatchID]*Batch, error) {
	out := map[BatchID]*Batch{}
	if s.Affiliate != "" {
		// A slug, alias or name; an unknown one is an error, never an empty export.
		slug, err := affiliateByName(tx, s.Affiliate)
		if err != nil {
			return nil, err
		}
		if slug == "" {
			return nil, fmt.Errorf("%w: unknown affiliate %q (list them with `relcat affiliates`)", ErrNotFound, s.Affiliate)
		}
		s.Affiliate = slug
	}
	for _, id := range s.Batches {
		if tx.Bucket(bucketBatches).Get(id[:]) == nil {
			return nil, fmt.Errorf("%w: batch %s", ErrNotFound, id)
		}
	}
	err := tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
		var b Batch
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("batch %x record: %w", k, err)
		}
		if s.match(&b) {
			out[b.ID] = &b
		}
		return nil
	})
	return out, err
}

// ExportRow is one image of an export: its record (with both PDQ variants when stored) and every
// sighting of it in the catalog, earliest first.
type ExportRow struct {
	Image     *Image
	Sightings []Sighting
	Batches   map[BatchID]*Batch // the batch of every sighting (shared between rows: read only)
}

// exportChunk is how many images one read transaction of Export reads.
const exportChunk = 256

// Export calls fn for every image sighted in a selected batch, in SHA-256 order. It reads in
// chunks (short read transactions: a long export never holds up a writer's file growth) and stops
// at the first error fn returns or when ctx is cancelled. The whole catalog streams: each chunk
// reads on from the last image of the one before, so the first rows come at once and no list of
// every image is held; a selection lists its images first (what it selects, not the catalog).
func (c *Catalog) Export(ctx context.Context, s Selection, fn func(ExportRow) error) error {
	all := s.IsZero()
	var shas []SHA256
	if !all {
		var err error
		if shas, err = c.selectedImages(s); err != nil {
			return err
		}
	}
	var last []byte // whole catalog: the key of the last image read
	// One watch over the chunks: a catalog open for writing keeps its mapping between them.
	var watch mapWatch
	for start := 0; all || start < len(shas); start += exportChunk {
		if err := ctx.Err(); err != nil {
			return ErrInterrupted
		}
		var chunk []SHA256
		if !all {
			chunk = shas[start:min(start+exportChunk, len(shas))]
		}
		var rows []ExportRow
		err := c.view(func(tx *bolt.Tx) error {
			if all {
				cur := tx.Bucket(bucketImages).Cursor()
				k, _ := cur.First()
				if last != nil {
					if k, _ = cur.Seek(last); bytes.Equal(k, last) {
						k, _ = cur.Next()
					}
				}
				for ; k != nil && len(chunk) < exportChunk; k, _ = cur.Next() {
					if len(k) == len(SHA256{}) {
						chunk = append(chunk, SHA256(k))
					}
				}
			}
			watch.tx = tx
			cache := map[BatchID]*Batch{}
			for _, sha := range chunk {
				watch.step()
				img, err := getImage(tx, sha)
				if err != nil {
					return err
				}
				ss, err := sightingsOf(tx, sha, cache)
				if err != nil {
					return err
				}
				rows = append(rows, ExportRow{Image: img, Sightings: ss, Batches: cache})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if all {
			if len(chunk) == 0 {
				return nil
			}
			last = append(last[:0], chunk[len(chunk)-1][:]...)
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// selectedImages lists, in SHA-256 order, the images with a sighting in a batch s selects.
func (c *Catalog) selectedImages(s Selection) ([]SHA256, error) {
	var keep map[SHA256]bool
	if s.Search != nil {
		q := *s.Search
		q.Limit = 0
		r, err := c.Search(q)
		if err != nil {
			return nil, err
		}
		keep = make(map[SHA256]bool, len(r.Hits))
		for _, h := range r.Hits {
			keep[h.SHA256] = true
		}
		s.Search = nil
	}
	out, err := c.selectedBatchImages(s)
	if err != nil || keep == nil {
		return out, err
	}
	kept := out[:0]
	for _, sha := range out {
		if keep[sha] {
			kept = append(kept, sha)
		}
	}
	return kept, nil
}

// selectedBatchImages lists, in SHA-256 order, the images with a sighting in a batch s selects.
func (c *Catalog) selectedBatchImages(s Selection) ([]SHA256, error) {
	var out []SHA256
	err := c.view(func(tx *bolt.Tx) error {
		if s.IsZero() {
			return tx.Bucket(bucketImages).ForEach(func(k, _ []byte) error {
				var sha SHA256
				copy(sha[:], k)
				out = append(out, sha)
				return nil
			})
		}
		batches, err := selectedBatches(tx, s)
		if err != nil {
			return err
		}
		seen := map[SHA256]bool{}
		cur := tx.Bucket(bucketBatchImages).Cursor()
		for id := range batches {
			for k, v := cur.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, v = cur.Next() {
				var r sightingRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("batch_images %x: %w", k, err)
				}
				seen[r.SHA256] = true
			}
		}
		for sha := range seen {
			out = append(out, sha)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out, err
}

// SharedPDQ is the PDQ an export holds for an image: the reference full-resolution variant when it
// is stored (what partners' tools compute), otherwise relcat's work-image variant, named as such.
// Nil when the image has no perceptual hash.
func (img *Image) SharedPDQ() *PDQInfo {
	if img.PDQRef != nil {
		return img.PDQRef
	}
	return img.PDQ
}

// exportTime formats a time for exports (RFC 3339 UTC, empty when zero).
func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

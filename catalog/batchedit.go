package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Log actions of batch housekeeping.
const (
	ActionBatchEdit   = "batch-edit"
	ActionBatchRemove = "batch-rm"
	// StatusRemoved marks, in a batch-rm log entry, a sighting that was removed.
	StatusRemoved = "removed"
)

// BatchEdit lists the fields to change; nil leaves a field as it is.
type BatchEdit struct {
	Released  *string // a date or an RFC 3339 date-time
	Affiliate *string // slug, alias or name; a new slug creates the affiliate
	Title     *string
	Source    *string
	Notes     *string
}

// EditBatch changes a batch's release time, affiliate, title, source or notes without re-ingesting.
// The batch keeps its id and answers to its new identity too (re-ingesting its folder with the old
// or the corrected values adds to it). The log entry records every old and new value.
func (c *Catalog) EditBatch(id BatchID, e BatchEdit, o HousekeepingOptions) (*Batch, error) {
	var out *Batch
	err := c.update(func(tx *bolt.Tx) error {
		b, err := getBatch(tx, id)
		if err != nil {
			return err
		}
		var notes []string
		change := func(field, old, new string) {
			notes = append(notes, fmt.Sprintf("%s: %q -> %q", field, old, new))
		}
		if e.Released != nil {
			rel, err := ParseReleased(*e.Released)
			if err != nil {
				return err
			}
			if rel.String() != b.Released.String() {
				change("released", b.Released.String(), rel.String())
				b.Released = rel
			}
		}
		if e.Affiliate != nil {
			slug, err := affiliateByName(tx, *e.Affiliate)
			if err != nil {
				return err
			}
			if slug == "" {
				slug = strings.ToLower(strings.TrimSpace(*e.Affiliate))
				if !ValidSlug(slug) {
					return fmt.Errorf("%w: affiliate %q is neither a known affiliate nor a slug (lowercase letters, digits, dashes)", ErrBadArgument, *e.Affiliate)
				}
				if err := putJSON(tx.Bucket(bucketAffiliates), []byte(slug), Affiliate{Slug: slug, Created: c.now().UTC()}); err != nil {
					return err
				}
				notes = append(notes, "affiliate "+slug+" created")
			}
			if slug != b.Affiliate {
				change("affiliate", b.Affiliate, slug)
				b.Affiliate = slug
			}
		}
		for _, f := range []struct {
			name string
			v    *string
			dst  *string
		}{{"title", e.Title, &b.Title}, {"source", e.Source, &b.Source}, {"notes", e.Notes, &b.Notes}} {
			if f.v != nil && *f.v != *f.dst {
				change(f.name, *f.dst, *f.v)
				*f.dst = *f.v
			}
		}
		out = b
		if len(notes) == 0 {
			return nil
		}
		b.addAka(BatchIdentity(b.Affiliate, b.Released, b.Folder))
		if err := putBatchRecord(tx, b); err != nil {
			return err
		}
		return c.logChange(tx, o, LogEntry{Action: ActionBatchEdit, Batch: b.ID.String(), Affiliate: b.Affiliate,
			Released: b.Released.String(), Notes: notes})
	})
	return out, err
}

// RemoveReport says what RemoveBatch removed.
type RemoveReport struct {
	Batch     Batch    `json:"batch"`
	Sightings int      `json:"sightings"`      // sightings removed
	Removed   []SHA256 `json:"images_removed"` // images no other sighting referred to: record, indexes, original, thumbnail gone
	Kept      int      `json:"images_kept"`    // images still sighted elsewhere: kept with their originals
}

// RemoveBatch removes a batch: its sightings go; an image and its preserved original stay while
// another sighting refers to them, otherwise they go too. The log entry keeps the batch record, every
// removed sighting and every removed image, so nothing leaves without a trace.
func (c *Catalog) RemoveBatch(id BatchID, o HousekeepingOptions) (*RemoveReport, error) {
	r := &RemoveReport{Removed: []SHA256{}}
	var files []string // catalog-relative files of removed images
	var near *nearTx
	err := c.update(func(tx *bolt.Tx) error {
		near = c.beginNear(tx)
		b, err := getBatch(tx, id)
		if err != nil {
			return err
		}
		r.Batch = *b
		entry := LogEntry{Action: ActionBatchRemove, Batch: id.String(), Affiliate: b.Affiliate, Released: b.Released.String()}
		rec, _ := json.Marshal(b)
		entry.Notes = append(entry.Notes, "batch record: "+string(rec))
		bimg := tx.Bucket(bucketBatchImages)
		ibat := tx.Bucket(bucketImageBatches)
		type sighting struct {
			key []byte
			pos int
			rec sightingRecord
		}
		var ss []sighting
		cur := bimg.Cursor()
		for k, v := cur.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, v = cur.Next() {
			_, pos, err := parseBatchImageKey(k)
			if err != nil {
				return err
			}
			var sr sightingRecord
			if err := json.Unmarshal(v, &sr); err != nil {
				return fmt.Errorf("batch %s position %d: %w", id, pos, err)
			}
			ss = append(ss, sighting{bytes.Clone(k), pos, sr})
		}
		seen := map[SHA256]bool{}
		var order []SHA256
		for _, s := range ss {
			if err := bimg.Delete(s.key); err != nil {
				return err
			}
			if err := ibat.Delete(imageBatchKey(s.rec.SHA256, id, s.pos)); err != nil {
				return err
			}
			entry.Files = append(entry.Files, LogFile{SHA256: s.rec.SHA256.String(), Name: s.rec.Name, Position: s.pos, Status: StatusRemoved})
			if !seen[s.rec.SHA256] {
				seen[s.rec.SHA256] = true
				order = append(order, s.rec.SHA256)
			}
		}
		r.Sightings = len(ss)
		for _, sha := range order {
			if k, _ := ibat.Cursor().Seek(sha[:]); k != nil && bytes.HasPrefix(k, sha[:]) {
				r.Kept++
				continue
			}
			img, err := getImage(tx, sha)
			if err != nil {
				return err
			}
			if err := removeImageRecords(tx, near, img); err != nil {
				return err
			}
			r.Removed = append(r.Removed, sha)
			entry.Notes = append(entry.Notes, fmt.Sprintf("image %s removed (md5 %s, %d bytes, %s; no other sighting)", sha, img.MD5, img.Size, img.Format))
			if img.Object != "" {
				files = append(files, img.Object)
			}
			if img.Thumb != "" {
				files = append(files, img.Thumb)
			}
		}
		if err := deleteBatchRecord(tx, id); err != nil {
			return err
		}
		entry.Notes = append(entry.Notes, fmt.Sprintf("%d sightings removed; %d images removed, %d kept (sighted in other batches)", r.Sightings, len(r.Removed), r.Kept))
		return c.logChange(tx, o, entry)
	})
	if err != nil {
		return nil, err
	}
	near.done()
	// The records are gone (committed); now the files nothing refers to any more. A failure leaves
	// an unreferenced file behind, never a record without its file.
	for _, f := range files {
		_ = os.Remove(filepath.Join(c.dir, filepath.FromSlash(f)))
	}
	return r, nil
}

// removeImageRecords deletes an image's record and every index entry derived from it: search
// entries, md5, the reference PDQ, and (through the near writer) its perceptual hash, near id and
// edges.
func removeImageRecords(tx *bolt.Tx, near *nearTx, img *Image) error {
	s := img.SHA256
	if err := unindexSearch(tx, img); err != nil {
		return err
	}
	if err := tx.Bucket(bucketMD5).Delete(md5Key(img.MD5, s)); err != nil {
		return err
	}
	if ref := tx.Bucket(bucketPDQRef); ref != nil {
		if err := ref.Delete(s[:]); err != nil {
			return err
		}
	}
	if err := near.remove(s); err != nil {
		return err
	}
	return tx.Bucket(bucketImages).Delete(s[:])
}

// forgetRemoved is verify's reading of a batch-rm log entry: the sightings it lists were removed, so
// no stored sighting is expected for them any more.
func forgetRemoved(logged map[loggedSighting]loggedFile, e LogEntry) {
	id, err := hexBatch(e.Batch)
	if err != nil {
		return
	}
	for _, f := range e.Files {
		if f.Status == StatusRemoved {
			delete(logged, loggedSighting{id, f.Position})
		}
	}
}

func hexBatch(s string) (BatchID, error) {
	var id BatchID
	err := id.UnmarshalText([]byte(s))
	return id, err
}

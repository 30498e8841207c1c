package catalog

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Problem is one inconsistency found by Verify.
type Problem struct {
	Kind    string `json:"kind"`    // storage, record, index, sighting, batch, log, object, thumbnail
	Subject string `json:"subject"` // what is wrong: an image hash, a batch id, a log sequence, a path
	Detail  string `json:"detail"`
}

func (p Problem) String() string { return p.Kind + ": " + p.Subject + ": " + p.Detail }

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Quick bool // skip re-hashing originals and thumbnails (existence is still checked)
}

// VerifyReport is what Verify checked and found.
type VerifyReport struct {
	Images    int       `json:"images"`
	Batches   int       `json:"batches"`
	Sightings int       `json:"sightings"`
	LogItems  int       `json:"log_entries"`
	Objects   int       `json:"objects_checked"`
	Thumbs    int       `json:"thumbnails_checked"`
	Problems  []Problem `json:"problems"`
}

// Verify checks the catalog: bbolt's own consistency check, every record against the indexes (both
// directions of sightings, md5 and pdq indexes, batch counts), the log's hash chain, and every
// preserved original and thumbnail against its hash.
func (c *Catalog) Verify(ctx context.Context, o VerifyOptions) (*VerifyReport, error) {
	r := &VerifyReport{Problems: []Problem{}}
	add := func(kind, subject, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{kind, subject, fmt.Sprintf(format, args...)})
	}
	type fileCheck struct {
		kind, subject, rel string
		want               SHA256
		size               int64 // recorded size; -1 for thumbnails (bounded by maxThumbSize)
	}
	var files []fileCheck
	err := c.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			add("storage", "catalog.db", "%v", err)
		}
		batches := map[BatchID]*Batch{}
		_ = tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
			r.Batches++
			var b Batch
			if err := json.Unmarshal(v, &b); err != nil || len(k) != 8 || !bytes.Equal(b.ID[:], k) {
				add("record", fmt.Sprintf("batch %x", k), "unreadable or mismatched batch record")
				return nil
			}
			if tx.Bucket(bucketAffiliates).Get([]byte(b.Affiliate)) == nil {
				add("batch", b.ID.String(), "affiliate %q has no record", b.Affiliate)
			}
			batches[b.ID] = &b
			return nil
		})
		// batch -> images, checked against image -> batches.
		counts := map[BatchID]int{}
		ibat := tx.Bucket(bucketImageBatches)
		_ = tx.Bucket(bucketBatchImages).ForEach(func(k, v []byte) error {
			r.Sightings++
			id, pos, err := parseBatchImageKey(k)
			if err != nil {
				add("index", fmt.Sprintf("batch_images %x", k), "%v", err)
				return nil
			}
			counts[id]++
			var rec sightingRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				add("sighting", fmt.Sprintf("batch %s #%d", id, pos), "unreadable record: %v", err)
				return nil
			}
			if batches[id] == nil {
				add("sighting", fmt.Sprintf("batch %s #%d", id, pos), "batch has no record")
			}
			if tx.Bucket(bucketImages).Get(rec.SHA256[:]) == nil {
				add("sighting", fmt.Sprintf("batch %s #%d", id, pos), "image %s has no record", rec.SHA256)
			}
			if name := ibat.Get(imageBatchKey(rec.SHA256, id, pos)); name == nil || string(name) != rec.raw() || textName(rec.raw()) != rec.Name {
				add("sighting", fmt.Sprintf("batch %s #%d", id, pos), "missing from the image->batches index (image %s, %q)", rec.SHA256, rec.Name)
			}
			return nil
		})
		for id, b := range batches {
			if counts[id] != b.Files {
				add("batch", id.String(), "record says %d files, %d sightings stored", b.Files, counts[id])
			}
		}
		bimg := tx.Bucket(bucketBatchImages)
		sighted := map[SHA256]bool{}
		_ = ibat.ForEach(func(k, v []byte) error {
			s, id, pos, err := parseImageBatchKey(k)
			if err != nil {
				add("index", fmt.Sprintf("image_batches %x", k), "%v", err)
				return nil
			}
			sighted[s] = true
			rv := bimg.Get(batchImageKey(id, pos))
			var rec sightingRecord
			if rv == nil || json.Unmarshal(rv, &rec) != nil || rec.SHA256 != s || rec.raw() != string(v) {
				add("sighting", fmt.Sprintf("image %s in batch %s #%d", s, id, pos), "missing from the batch->images index")
			}
			return nil
		})
		// images, md5 and pdq indexes.
		pdqs := tx.Bucket(bucketPDQ)
		md5s := tx.Bucket(bucketMD5)
		_ = tx.Bucket(bucketImages).ForEach(func(k, v []byte) error {
			r.Images++
			var img Image
			if err := json.Unmarshal(v, &img); err != nil || len(k) != 32 || !bytes.Equal(img.SHA256[:], k) {
				add("record", fmt.Sprintf("image %x", k), "unreadable or mismatched image record")
				return nil
			}
			s := img.SHA256
			if !sighted[s] {
				add("sighting", s.String(), "image has no sighting")
			}
			if md5s.Get(md5Key(img.MD5, s)) == nil {
				add("index", s.String(), "md5 index lacks this image (md5 %s)", img.MD5)
			}
			pv := pdqs.Get(k)
			if img.Pixels && pv == nil && !hasWarning(img.Warnings, "no perceptual hash") {
				add("index", s.String(), "decoded image has no perceptual hash entry")
			}
			if pv != nil {
				if _, err := parsePDQValue(pv); err != nil {
					add("index", s.String(), "pdq entry: %v", err)
				}
			}
			if img.Object != "" {
				files = append(files, fileCheck{"object", s.String(), img.Object, s, img.Size})
			}
			if img.Thumb != "" {
				if img.ThumbSHA256 == nil {
					add("thumbnail", s.String(), "thumbnail without a recorded hash")
				} else {
					files = append(files, fileCheck{"thumbnail", s.String(), img.Thumb, *img.ThumbSHA256, -1})
				}
			}
			return nil
		})
		_ = md5s.ForEach(func(k, v []byte) error {
			iv := tx.Bucket(bucketImages).Get(k[min(len(k), 16):])
			var img Image
			if len(k) != 48 || iv == nil || json.Unmarshal(iv, &img) != nil || !bytes.Equal(img.MD5[:], k[:16]) {
				add("index", fmt.Sprintf("md5 %x", k[:min(len(k), 16)]), "entry for %x, which has no image record with this md5", k[min(len(k), 16):])
			}
			return nil
		})
		_ = pdqs.ForEach(func(k, v []byte) error {
			if tx.Bucket(bucketImages).Get(k) == nil {
				add("index", fmt.Sprintf("pdq %x", k), "perceptual hash of an image that has no record")
			}
			return nil
		})
		if err := checkNear(ctx, tx, add); err != nil {
			return err
		}
		for _, p := range checkLog(tx) {
			add("log", "log", "%s", p)
		}
		checkLoggedSightings(tx, add)
		checkSearch(tx, add)
		checkAffiliates(tx, add)
		r.LogItems = tx.Bucket(bucketLog).Stats().KeyN
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return r, ErrInterrupted
		}
		path := filepath.Join(c.dir, filepath.FromSlash(f.rel))
		if o.Quick {
			if err := checkStored(path, f.size); err != nil {
				add(f.kind, f.subject, "%s: %s%s", f.rel, err, repairHint(f.kind))
			}
			continue
		}
		sum, err := hashStored(ctx, path, f.size)
		if ctx.Err() != nil {
			return r, ErrInterrupted
		}
		if err != nil {
			add(f.kind, f.subject, "%s: %s%s", f.rel, shortErr(err), repairHint(f.kind))
			continue
		}
		if f.kind == "object" {
			r.Objects++
		} else {
			r.Thumbs++
		}
		if sum != f.want {
			add(f.kind, f.subject, "%s: content does not match its recorded SHA-256 (altered or damaged)%s", f.rel, repairHint(f.kind))
		}
	}
	return r, nil
}

func hasWarning(ws []string, prefix string) bool {
	for _, w := range ws {
		if len(w) >= len(prefix) && w[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// loggedSighting is the key of one sighting as an ingest log entry recorded it.
type loggedSighting struct {
	batch BatchID
	pos   int
}

// loggedFile is what the log recorded for one sighting, and in which entry.
type loggedFile struct {
	sha  SHA256
	name string
	seq  uint64
}

// checkLoggedSightings holds the sightings against the log: every ingest commits its sightings and
// the log entry that records them in one transaction, so each stored sighting must appear in exactly
// one log entry with the same image and name, and each sighting a log entry records must be stored.
// This catches what the hash chain alone cannot: a sighting removed from both indexes (with its
// batch count fixed up), and the last log entries deleted (a truncated chain is still a valid chain).
func checkLoggedSightings(tx *bolt.Tx, add func(kind, subject, format string, args ...any)) {
	logged := map[loggedSighting]loggedFile{}
	cur := tx.Bucket(bucketLog).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		var e LogEntry
		if json.Unmarshal(v, &e) != nil {
			continue // reported by checkLog
		}
		if e.Action == ActionBatchRemove {
			forgetRemoved(logged, e) // sightings removed by `relcat batch rm`
			continue
		}
		subject := fmt.Sprintf("log entry %d", e.Seq)
		var id BatchID
		if len(e.Files) > 0 {
			b, err := hex.DecodeString(e.Batch)
			if err != nil || len(b) != len(id) {
				add("log", subject, "batch %q is not a batch id", e.Batch)
				continue
			}
			copy(id[:], b)
		}
		for _, f := range e.Files {
			if f.Status == StatusRejected {
				continue
			}
			sha, err := ParseSHA256(f.SHA256)
			if err != nil {
				add("log", subject, "file %q: sha256 %q: %v", f.Name, f.SHA256, err)
				continue
			}
			ls := loggedSighting{id, f.Position}
			if prev, dup := logged[ls]; dup {
				add("log", subject, "records batch %s #%d again (already recorded by log entry %d)", id, f.Position, prev.seq)
				continue
			}
			logged[ls] = loggedFile{sha, f.raw(), e.Seq}
		}
	}
	bimg := tx.Bucket(bucketBatchImages)
	_ = bimg.ForEach(func(k, v []byte) error {
		id, pos, err := parseBatchImageKey(k)
		if err != nil {
			return nil // reported with the sightings
		}
		var rec sightingRecord
		if json.Unmarshal(v, &rec) != nil {
			return nil // reported with the sightings
		}
		ls := loggedSighting{id, pos}
		f, ok := logged[ls]
		subject := fmt.Sprintf("batch %s #%d", id, pos)
		switch {
		case !ok:
			add("log", subject, "sighting of image %s (%q) is recorded by no log entry (entries deleted?)", rec.SHA256, rec.Name)
		case f.sha != rec.SHA256 || f.name != rec.raw():
			add("log", subject, "sighting of image %s (%q) differs from log entry %d, which recorded image %s (%q)", rec.SHA256, rec.Name, f.seq, f.sha, f.name)
		}
		delete(logged, ls)
		return nil
	})
	left := make([]loggedSighting, 0, len(logged))
	for ls := range logged {
		left = append(left, ls)
	}
	sort.Slice(left, func(i, j int) bool {
		a, b := left[i], left[j]
		if logged[a].seq != logged[b].seq {
			return logged[a].seq < logged[b].seq
		}
		if c := bytes.Compare(a.batch[:], b.batch[:]); c != 0 {
			return c < 0
		}
		return a.pos < b.pos
	})
	for _, ls := range left {
		f := logged[ls]
		add("log", fmt.Sprintf("log entry %d", f.seq), "records image %s (%q) in batch %s #%d, which has no stored sighting (sighting deleted?)", f.sha, f.name, ls.batch, ls.pos)
	}
}

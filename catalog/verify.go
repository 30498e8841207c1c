package catalog

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

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
	// Progress, when set, is called now and then with the images checked so far and their number
	// (from the goroutine that called Verify).
	Progress func(done, total int)
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
	// NearIndex says whether the persisted near-duplicate index (near.idx) is current and matches the
	// hashes ("current"), is absent ("none": small catalogs have none) or is stale (with why; it is
	// not used, and the next ingest or reindex rewrites it).
	NearIndex string `json:"near_index"`
	// RegionIndex says the same as NearIndex of the persisted region index (regions.idx).
	RegionIndex string `json:"region_index"`
	// WholeOnly counts the images with a perceptual hash but no region hashes (ingested before them,
	// or with --no-copy and not upgraded by `relcat reindex`): matched whole-image only. Not a problem.
	WholeOnly int `json:"whole_only"`
}

// Verify checks the catalog: the storage (catalog.db's structure, read by relcat's own bounded
// checker, never by bbolt's Check, which is not safe on a damaged file), every record against the
// indexes (both directions of sightings, md5 and pdq indexes, batch counts), the batch records against
// their identity and the log, the log's hash chain and head, and every preserved original and
// thumbnail against its hash. When catalog.db cannot be read safely, only the storage is reported.
func (c *Catalog) Verify(ctx context.Context, o VerifyOptions) (*VerifyReport, error) {
	r := &VerifyReport{Problems: []Problem{}}
	add := func(kind, subject, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{kind, subject, fmt.Sprintf(format, args...)})
	}
	type fileCheck struct {
		kind, subject, rel string
		want               SHA256
		size               int64        // recorded size; -1 for thumbnails (bounded by maxThumbSize)
		facts              *recordFacts // originals: what the record says of the file
	}
	// tick is called once per record read: every 1,024 it checks for cancellation, so that Ctrl-C
	// stops a verify of a million images within a second.
	ticks := 0
	stopped := false
	tick := func() bool {
		if ticks++; ticks%1024 == 0 && ctx.Err() != nil {
			stopped = true
		}
		return stopped
	}
	// Originals and thumbnails are checked as their image record is read: no list of every file
	// is kept, and each record is decoded once.
	checkFile := func(f fileCheck) {
		if stopped {
			return
		}
		path := filepath.Join(c.dir, filepath.FromSlash(f.rel))
		if o.Quick {
			if err := checkStored(path, f.size); err != nil {
				add(f.kind, f.subject, "%s: %s%s", f.rel, err, repairHint(f.kind))
			}
			return
		}
		var sum SHA256
		var err error
		if f.facts != nil {
			sum, err = c.checkOriginal(ctx, path, f.want, f.size, f.facts, add)
		} else {
			sum, err = hashStored(ctx, path, f.size)
		}
		if ctx.Err() != nil {
			stopped = true
			return
		}
		if err != nil {
			add(f.kind, f.subject, "%s: %s%s", f.rel, shortErr(err), repairHint(f.kind))
			return
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
	if !c.verifyStorage(ctx, add) {
		if ctx.Err() != nil {
			return r, ErrInterrupted
		}
		return r, nil
	}
	err := c.view(func(tx *bolt.Tx) error {
		// With a bucket missing, the checks that need it stop at it (a nil bucket panics); each
		// group of checks runs on its own so that the others still report.
		section := func(what string, fn func()) {
			defer func() {
				if p := recover(); p != nil {
					add("storage", "catalog.db", "%s not checked: %v (missing bucket?)", what, p)
				}
			}()
			fn()
		}
		batches := map[BatchID]*Batch{}
		section("batch records", func() {
			_ = tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
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
		})
		section("batch records against the log", func() { checkBatchRecords(tx, batches, add) })
		section("sightings", func() {
			// batch -> images, checked against image -> batches.
			counts := map[BatchID]int{}
			ibat := tx.Bucket(bucketImageBatches)
			_ = tx.Bucket(bucketBatchImages).ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
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
			_ = ibat.ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
				s, id, pos, err := parseImageBatchKey(k)
				if err != nil {
					add("index", fmt.Sprintf("image_batches %x", k), "%v", err)
					return nil
				}
				rv := bimg.Get(batchImageKey(id, pos))
				var rec sightingRecord
				if rv == nil || json.Unmarshal(rv, &rec) != nil || rec.SHA256 != s || rec.raw() != string(v) {
					add("sighting", fmt.Sprintf("image %s in batch %s #%d", s, id, pos), "missing from the batch->images index")
				}
				return nil
			})
		})
		section("images and their indexes", func() {
			// images, md5 and pdq indexes.
			pdqs := tx.Bucket(bucketPDQ)
			md5s := tx.Bucket(bucketMD5)
			total := tx.Bucket(bucketImages).Stats().KeyN
			// Whether an image has a sighting: image_batches is keyed by the image's SHA-256 first,
			// so a cursor over it moves along with the images (no set of every sighted image).
			icur := tx.Bucket(bucketImageBatches).Cursor()
			ik, _ := icur.First()
			md5Found := 0
			_ = tx.Bucket(bucketImages).ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
				r.Images++
				if o.Progress != nil && r.Images%1024 == 0 {
					o.Progress(r.Images, total)
				}
				for ik != nil && bytes.Compare(ik[:min(32, len(ik))], k) < 0 {
					ik, _ = icur.Next()
				}
				sighted := ik != nil && len(k) == 32 && bytes.HasPrefix(ik, k)
				var img Image
				if err := json.Unmarshal(v, &img); err != nil || len(k) != 32 || !bytes.Equal(img.SHA256[:], k) {
					add("record", fmt.Sprintf("image %x", k), "unreadable or mismatched image record")
					return nil
				}
				s := img.SHA256
				if !sighted {
					add("sighting", s.String(), "image has no sighting")
				}
				if md5s.Get(md5Key(img.MD5, s)) == nil {
					add("index", s.String(), "md5 index lacks this image (md5 %s)", img.MD5)
				} else {
					md5Found++
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
					checkFile(fileCheck{"object", s.String(), img.Object, s, img.Size, factsOf(&img)})
				}
				if img.Thumb != "" {
					if img.ThumbSHA256 == nil {
						add("thumbnail", s.String(), "thumbnail without a recorded hash")
					} else {
						checkFile(fileCheck{"thumbnail", s.String(), img.Thumb, *img.ThumbSHA256, -1, nil})
					}
				}
				return nil
			})
			if o.Progress != nil && !stopped {
				o.Progress(r.Images, total)
			}
			// Every image found its md5 entry: when the index holds no other entry, it is exact, and
			// the image records need not be decoded a second time to name a stray one.
			md5Entries := 0
			mcur := md5s.Cursor()
			for k, _ := mcur.First(); k != nil && !tick(); k, _ = mcur.Next() {
				md5Entries++
			}
			if md5Entries != md5Found {
				_ = md5s.ForEach(func(k, v []byte) error {
					if tick() {
						return ErrInterrupted
					}
					iv := tx.Bucket(bucketImages).Get(k[min(len(k), 16):])
					var img Image
					if len(k) != 48 || iv == nil || json.Unmarshal(iv, &img) != nil || !bytes.Equal(img.MD5[:], k[:16]) {
						add("index", fmt.Sprintf("md5 %x", k[:min(len(k), 16)]), "entry for %x, which has no image record with this md5", k[min(len(k), 16):])
					}
					return nil
				})
			}
			_ = pdqs.ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
				if tx.Bucket(bucketImages).Get(k) == nil {
					add("index", fmt.Sprintf("pdq %x", k), "perceptual hash of an image that has no record")
				}
				return nil
			})
		})
		section("log", func() {
			for _, p := range checkLog(tx) {
				add("log", "log", "%s", p)
			}
			checkLogHead(tx, add)
			checkLoggedSightings(tx, add)
			r.LogItems = tx.Bucket(bucketLog).Stats().KeyN
		})
		if stopped {
			return ErrInterrupted
		}
		var nearErr error
		section("near-duplicate index", func() {
			if nearErr = checkNear(ctx, tx, add); nearErr == nil {
				r.NearIndex = c.checkNearFile(tx, add)
			}
		})
		if nearErr != nil {
			return nearErr
		}
		var regionErr error
		section("region hashes", func() {
			if r.WholeOnly, regionErr = checkRegions(tx, add); regionErr == nil {
				r.RegionIndex = c.checkRegionFile(tx, add)
			}
		})
		if regionErr != nil {
			return regionErr
		}
		section("search index", func() { checkSearch(tx, add) })
		section("affiliates", func() { checkAffiliates(tx, add) })
		return nil
	})
	if stopped || ctx.Err() != nil {
		return r, ErrInterrupted
	}
	if err != nil {
		return nil, err
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

// verifyStorage reports the storage check of catalog.db and the buckets the catalog lacks; it returns
// false when the records cannot be read safely (then nothing else is checked).
func (c *Catalog) verifyStorage(ctx context.Context, add func(kind, subject, format string, args ...any)) bool {
	sr := c.storage
	if !c.noDB {
		// Read the file inside a read transaction: no commit changes it meanwhile (lock.go).
		var err error
		if verr := c.rawView(func(*bolt.Tx) error {
			sr, err = checkStorage(ctx, filepath.Join(c.dir, dbFileName))
			return nil
		}); verr != nil && err == nil {
			err = verr
		}
		if err != nil {
			add("storage", "catalog.db", "cannot be read: %v", err)
			return false
		}
	}
	if sr != nil {
		for _, p := range sr.Problems {
			add("storage", "catalog.db", "%s", p)
		}
		if sr.Unsafe {
			add("storage", "catalog.db", "records not checked: the file cannot be read safely; %s", recoverAdvice(c.dir))
			return false
		}
	}
	for _, b := range c.missing {
		add("storage", "catalog.db", "bucket %s is missing", b)
	}
	return ctx.Err() == nil
}

// checkLogHead holds the last log entry against the head meta records: removing trailing entries
// (say a metadata-only entry) leaves a valid chain, but not the head.
func checkLogHead(tx *bolt.Tx, add func(kind, subject, format string, args ...any)) {
	var head *logHead
	if v := tx.Bucket(bucketMeta).Get(keyLogHead); v != nil {
		head = new(logHead)
		if err := json.Unmarshal(v, head); err != nil {
			add("log", "log head", "unreadable: %v", err)
			return
		}
	}
	k, v := tx.Bucket(bucketLog).Cursor().Last()
	var last LogEntry
	if k != nil && json.Unmarshal(v, &last) != nil {
		return // reported by checkLog
	}
	switch {
	case head == nil && k == nil:
	case head == nil:
		add("log", "log head", "the log has entries (last #%d) but the catalog records no log head", last.Seq)
	case k == nil:
		add("log", "log head", "the catalog records entry #%d (%.16s…) as the last, but the log is empty (entries removed)", head.Seq, head.Hash)
	case last.Seq != head.Seq || last.Hash != head.Hash:
		add("log", "log head", "the last entry is #%d (%.16s…) but the catalog records #%d (%.16s…) as the last: entries removed or replaced", last.Seq, last.Hash, head.Seq, head.Hash)
	}
}

// checkBatchRecords holds every batch record against its identity and against the log. The id must be
// the BatchIdentity of its affiliate, release time and folder. Every log entry carries the digest of
// all batch records its transaction left; when the current records do not give the last entry's
// digest, each batch record is compared with the last record of it a log entry carries, naming the
// fields that differ (a release date flipped in the file, an affiliate changed).
func checkBatchRecords(tx *bolt.Tx, batches map[BatchID]*Batch, add func(kind, subject, format string, args ...any)) {
	for id, b := range batches {
		// After an affiliate rename or merge or a batch edit the id stays and the identity of the new
		// fields is kept in Aka.
		if ident := BatchIdentity(b.Affiliate, b.Released, b.Folder); ident != id && !slices.Contains(b.Aka, ident) {
			add("batch", id.String(), "its affiliate %q, release time %s and folder %q do not give its id (a field was altered)", b.Affiliate, b.Released, b.Folder)
		}
	}
	type snap struct {
		seq uint64
		rec json.RawMessage // nil: the entry's transaction left no record
	}
	snaps := map[BatchID]snap{}
	lastDigest := ""
	cur := tx.Bucket(bucketLog).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		var e LogEntry
		if json.Unmarshal(v, &e) != nil {
			continue // reported by checkLog
		}
		lastDigest = e.BatchesDigest
		var id BatchID
		if b, err := hex.DecodeString(e.Batch); err == nil && len(b) == len(id) {
			copy(id[:], b)
			snaps[id] = snap{e.Seq, e.BatchRecord}
		}
	}
	if lastDigest == "" || lastDigest == batchesDigest(tx) {
		return // no digest (a log from before schema 2, or no log), or the records are as logged
	}
	found := false
	_ = tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
		var id BatchID
		copy(id[:], k)
		sn, ok := snaps[id]
		switch {
		case !ok || sn.rec == nil:
			add("batch", fmt.Sprintf("%x", k), "record written by no log entry (added behind the log's back?)")
			found = true
		default:
			if d := recordDiff(sn.rec, v); d != "" {
				add("batch", fmt.Sprintf("%x", k), "record differs from log entry %d: %s", sn.seq, d)
				found = true
			}
		}
		return nil
	})
	for id, sn := range snaps {
		if sn.rec != nil && tx.Bucket(bucketBatches).Get(id[:]) == nil {
			add("batch", id.String(), "log entry %d records this batch, which has no record (deleted?)", sn.seq)
			found = true
		}
	}
	if !found {
		add("batch", "batches", "the batch records do not match the digest of the last log entry (changed behind the log's back)")
	}
}

// recordDiff names the fields that differ between two JSON records ("" when none).
func recordDiff(logged, stored []byte) string {
	var a, b map[string]any
	if json.Unmarshal(logged, &a) != nil || json.Unmarshal(stored, &b) != nil {
		if bytes.Equal(logged, stored) {
			return ""
		}
		return "unreadable record"
	}
	var diffs []string
	for k, av := range a {
		bv, ok := b[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s missing (log: %v)", k, av))
		} else if fmt.Sprint(av) != fmt.Sprint(bv) {
			diffs = append(diffs, fmt.Sprintf("%s %v (log: %v)", k, bv, av))
		}
	}
	for k, bv := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %v added", k, bv))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime/debug"
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
	// Pages and FreePages are catalog.db's pages (under its high-water mark) and how many of them are
	// free: space the file keeps that `relcat compact` gives back. Not a problem.
	Pages     uint64 `json:"pages"`
	FreePages uint64 `json:"free_pages"`
	PageSize  uint64 `json:"page_size"`
	// lookedUp names the checks that looked records up one by one, because the two sides they hold
	// against each other differed (tests: a sound catalog is read in key order only).
	lookedUp []string
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
	var watch mapWatch // of the transaction in progress (mapped.go)
	tick := func() bool {
		watch.step()
		if ticks++; ticks%1024 == 0 && ctx.Err() != nil {
			stopped = true
		}
		return stopped
	}
	// Originals and thumbnails are checked after their chunk of image records is read (outside the
	// transaction): no list of every file is kept, and each record is decoded once.
	checkFile := func(f fileCheck) {
		if stopped {
			return
		}
		if verifyFileHook != nil {
			verifyFileHook()
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
	if !c.verifyStorage(ctx, r, add) {
		if ctx.Err() != nil {
			return r, ErrInterrupted
		}
		return r, nil
	}
	// With a bucket missing, the checks that need it stop at it (a nil bucket panics); each group of
	// checks runs on its own so that the others still report. section reports whether it ran through.
	section := func(what string, fn func()) (ok bool) {
		defer func() {
			if p := recover(); p != nil {
				add("storage", "catalog.db", "%s not checked: %v (missing bucket?)", what, p)
				ok = false
			}
		}()
		fn()
		return true
	}
	// The checks run in read transactions that a commit waits for (lock.go): the records' own
	// consistency in a few passes, the images in short transactions of verifyChunk records, and
	// the originals and thumbnails re-read between them, outside any transaction, so that an ingest
	// running beside a full verify waits for one chunk, not for every original to be re-hashed.
	// sighted counts the images with a sighting (the progress total); exactSightings: the sightings
	// were looked up one by one, and whether each image of a sighting has a record with them.
	sighted, exactSightings := 0, false
	err := c.view(func(tx *bolt.Tx) error {
		watch = mapWatch{tx: tx}
		defer func() { watch = mapWatch{} }()
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
		section("batch identities", func() { checkBatchIdentities(batches, add) })
		section("batch alias index", func() { checkBatchAka(tx, add) })
		section("sightings", func() {
			// batch -> images against image -> batches: both sides summed (verifysums.go), and
			// looked up one by one only when the sums differ.
			counts := map[BatchID]int{}
			ibat, bimg := tx.Bucket(bucketImageBatches), tx.Bucket(bucketBatchImages)
			sums := newSetSums(2)
			fwd, back := sums[0], sums[1]
			var pos4 [4]byte
			differ := false
			_ = bimg.ForEach(func(k, v []byte) error {
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
				if textName(rec.raw()) != rec.Name {
					differ = true // named below
				}
				binary.BigEndian.PutUint32(pos4[:], uint32(pos))
				fwd.add(rec.SHA256[:], id[:], pos4[:], []byte(rec.raw()))
				return nil
			})
			for id, b := range batches {
				if counts[id] != b.Files {
					add("batch", id.String(), "record says %d files, %d sightings stored", b.Files, counts[id])
				}
			}
			var last []byte
			_ = ibat.ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
				if len(k) >= 32 && !bytes.HasPrefix(k, last) {
					last = append(last[:0], k[:32]...)
					sighted++
				}
				if _, _, _, err := parseImageBatchKey(k); err != nil {
					add("index", fmt.Sprintf("image_batches %x", k), "%v", err)
					return nil
				}
				back.add(k[:32], k[32:40], k[40:44], v)
				return nil
			})
			if !differ && fwd.same(back) {
				return
			}
			// The two sides differ: name each sighting missing from the other side. Whether the
			// image of a sighting has a record is then checked here rather than with the images.
			exactSightings = true
			r.lookedUp = append(r.lookedUp, "sightings")
			_ = bimg.ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
				id, pos, err := parseBatchImageKey(k)
				var rec sightingRecord
				if err != nil || json.Unmarshal(v, &rec) != nil {
					return nil // reported above
				}
				if tx.Bucket(bucketImages).Get(rec.SHA256[:]) == nil {
					add("sighting", fmt.Sprintf("batch %s #%d", id, pos), "image %s has no record", rec.SHA256)
				}
				if name := ibat.Get(imageBatchKey(rec.SHA256, id, pos)); name == nil || string(name) != rec.raw() || textName(rec.raw()) != rec.Name {
					add("sighting", fmt.Sprintf("batch %s #%d", id, pos), "missing from the image->batches index (image %s, %q)", rec.SHA256, rec.Name)
				}
				return nil
			})
			_ = ibat.ForEach(func(k, v []byte) error {
				if tick() {
					return ErrInterrupted
				}
				s, id, pos, err := parseImageBatchKey(k)
				if err != nil {
					return nil // reported above
				}
				rv := bimg.Get(batchImageKey(id, pos))
				var rec sightingRecord
				if rv == nil || json.Unmarshal(rv, &rec) != nil || rec.SHA256 != s || rec.raw() != string(v) {
					add("sighting", fmt.Sprintf("image %s in batch %s #%d", s, id, pos), "missing from the batch->images index")
				}
				return nil
			})
		})
		return nil
	})
	if err != nil && !stopped {
		return nil, err
	}
	// Images, md5 and pdq indexes, a chunk at a time. Whether an image has a sighting: image_batches
	// is keyed by the image's SHA-256 first, so a cursor over it moves along with the images (no set
	// of every sighted image).
	total := sighted
	chunk := verifyChunk
	if c.verifyChunk > 0 {
		chunk = c.verifyChunk
	}
	md5Sums := newSetSums(2)
	md5Want, md5Have := md5Sums[0], md5Sums[1] // the md5 entries the records give, and those stored
	var search searchCheck                     // the metadata search index, checked from the same records
	var after []byte                           // the last image checked
	for !stopped {
		var files []fileCheck
		done := false
		err := c.view(func(tx *bolt.Tx) error {
			watch = mapWatch{tx: tx}
			defer func() { watch = mapWatch{} }()
			ok := section("images and their indexes", func() {
				// Images, image_batches and pdq are all keyed by the image's SHA-256 first: three
				// cursors move along together. The md5 and search entries each record gives are
				// summed, and held against the stored entries after the last chunk.
				images := tx.Bucket(bucketImages)
				cur, icur := images.Cursor(), tx.Bucket(bucketImageBatches).Cursor()
				// Without a pdq bucket (reported with the storage) the rest is still checked.
				pdqs := tx.Bucket(bucketPDQ)
				var pcur *bolt.Cursor // used only while pk is not nil
				if pdqs != nil {
					pcur = pdqs.Cursor()
				}
				var k, v, ik, pk, pv []byte
				if after == nil {
					k, v = cur.First()
					ik, _ = icur.First()
					if pdqs != nil {
						pk, pv = pcur.First()
					}
				} else {
					if k, v = cur.Seek(after); k != nil && bytes.Equal(k, after) {
						k, v = cur.Next()
					}
					for ik, _ = icur.Seek(after); ik != nil && bytes.HasPrefix(ik, after); ik, _ = icur.Next() {
					}
					if pdqs != nil {
						if pk, pv = pcur.Seek(after); pk != nil && bytes.Equal(pk, after) {
							pk, pv = pcur.Next()
						}
					}
				}
				// orphans names the sightings before key (all, when nil) whose image has no record.
				orphans := func(key []byte) {
					for ; ik != nil && (key == nil || bytes.Compare(ik[:min(32, len(ik))], key) < 0); ik, _ = icur.Next() {
						if s, id, pos, err := parseImageBatchKey(ik); err == nil && !exactSightings {
							add("sighting", fmt.Sprintf("batch %s #%d", id, pos), "image %s has no record", s)
						}
					}
				}
				// pdqStrays names the perceptual hashes before key (all, when nil) whose image has
				// no record.
				pdqStrays := func(key []byte) {
					for ; pk != nil && (key == nil || bytes.Compare(pk, key) < 0); pk, pv = pcur.Next() {
						add("index", fmt.Sprintf("pdq %x", pk), "perceptual hash of an image that has no record")
					}
				}
				for n := 0; k != nil && n < chunk; k, v = cur.Next() {
					n++
					after = append(after[:0], k...)
					if tick() {
						return
					}
					r.Images++
					if o.Progress != nil && r.Images%1024 == 0 {
						o.Progress(r.Images, max(total, r.Images))
					}
					orphans(k[:min(32, len(k))])
					hasSighting := ik != nil && len(k) == 32 && bytes.HasPrefix(ik, k)
					for ; ik != nil && bytes.HasPrefix(ik, k); ik, _ = icur.Next() {
					}
					pdqStrays(k)
					var pdqv []byte
					if pk != nil && bytes.Equal(pk, k) {
						pdqv = pv
						pk, pv = pcur.Next()
					}
					var img Image
					if err := json.Unmarshal(v, &img); err != nil || len(k) != 32 || !bytes.Equal(img.SHA256[:], k) {
						add("record", fmt.Sprintf("image %x", k), "unreadable or mismatched image record")
						continue
					}
					s := img.SHA256
					if !hasSighting {
						add("sighting", s.String(), "image has no sighting")
					}
					md5Want.add(img.MD5[:], s[:])
					if img.Pixels && pdqv == nil && pdqs != nil && !hasWarning(img.Warnings, "no perceptual hash") {
						add("index", s.String(), "decoded image has no perceptual hash entry")
					}
					if pdqv != nil {
						if _, err := parsePDQValue(pdqv); err != nil {
							add("index", s.String(), "pdq entry: %v", err)
						}
					}
					search.image(&img, pdqv)
					if img.Object != "" {
						files = append(files, fileCheck{"object", s.String(), img.Object, s, img.Size, factsOf(&img)})
					}
					if img.Thumb != "" {
						if img.ThumbSHA256 == nil {
							add("thumbnail", s.String(), "thumbnail without a recorded hash")
						} else {
							files = append(files, fileCheck{"thumbnail", s.String(), img.Thumb, *img.ThumbSHA256, -1, nil})
						}
					}
				}
				if k == nil {
					orphans(nil)
					pdqStrays(nil)
				}
				done = k == nil
			})
			done = done || !ok
			return nil
		})
		// Outside the transaction: a commit may pass while the files are read.
		for _, f := range files {
			checkFile(f)
		}
		if err != nil {
			if stopped {
				break
			}
			return nil, err
		}
		if done {
			break
		}
	}
	if o.Progress != nil && !stopped {
		o.Progress(r.Images, max(total, r.Images))
	}
	if stopped {
		return r, ErrInterrupted
	}
	// The remaining checks are each self-contained: one transaction each, so that a commit can pass
	// between them.
	steps := []func(tx *bolt.Tx) error{
		func(tx *bolt.Tx) error {
			section("the md5 index", func() {
				// The md5 entries the image records gave, summed, against those stored: when they
				// differ (damage, or an image committed between the chunks above), each image is
				// looked up, and each entry.
				md5s := tx.Bucket(bucketMD5)
				mcur := md5s.Cursor()
				for k, _ := mcur.First(); k != nil && !tick(); k, _ = mcur.Next() {
					md5Have.add(k)
				}
				if stopped || md5Want.same(md5Have) {
					return
				}
				r.lookedUp = append(r.lookedUp, "md5")
				images := tx.Bucket(bucketImages)
				_ = images.ForEach(func(k, v []byte) error {
					if tick() {
						return ErrInterrupted
					}
					var img Image
					if json.Unmarshal(v, &img) != nil || len(k) != 32 || !bytes.Equal(img.SHA256[:], k) {
						return nil // reported with the images
					}
					if md5s.Get(md5Key(img.MD5, img.SHA256)) == nil {
						add("index", img.SHA256.String(), "md5 index lacks this image (md5 %s)", img.MD5)
					}
					return nil
				})
				_ = md5s.ForEach(func(k, v []byte) error {
					if tick() {
						return ErrInterrupted
					}
					iv := images.Get(k[min(len(k), 16):])
					var img Image
					if len(k) != 48 || iv == nil || json.Unmarshal(iv, &img) != nil || !bytes.Equal(img.MD5[:], k[:16]) {
						add("index", fmt.Sprintf("md5 %x", k[:min(len(k), 16)]), "entry for %x, which has no image record with this md5", k[min(len(k), 16):])
					}
					return nil
				})
			})
			return nil
		},
		func(tx *bolt.Tx) error {
			var logErr error
			// One pass over the log, each entry decoded once, feeds the three checks that read it:
			// the hash chain, the batch records against the log, the sightings against the log.
			var chain chainCheck
			var bs batchSnaps
			ls := newLoggedSightings()
			section("log", func() {
				cur := tx.Bucket(bucketLog).Cursor()
				for k, v := cur.First(); k != nil && !tick(); k, v = cur.Next() {
					r.LogItems++
					var e LogEntry
					if verifyLogDecoded != nil {
						verifyLogDecoded()
					}
					if err := json.Unmarshal(v, &e); err != nil {
						chain.entry(k, nil, err)
						ls.clean = false // its sightings are compared one by one, from what can be read
						continue
					}
					chain.entry(k, &e, nil)
					bs.entry(&e)
					ls.entry(&e)
				}
				for _, p := range chain.problems {
					add("log", "log", "%s", p)
				}
				checkLogHead(tx, add)
			})
			if stopped {
				return nil
			}
			section("batch records against the log", func() { checkBatchRecords(tx, &bs, add) })
			section("sightings against the log", func() { logErr = checkLoggedSightings(ctx, tx, ls, add) })
			return logErr
		},
		func(tx *bolt.Tx) error {
			var nearErr error
			section("near-duplicate index", func() {
				var looked []string
				looked, nearErr = checkNearCounted(ctx, tx, add)
				r.lookedUp = append(r.lookedUp, looked...)
				if nearErr == nil {
					r.NearIndex = c.checkNearFile(tx, add)
				}
			})
			return nearErr
		},
		func(tx *bolt.Tx) error {
			var regionErr error
			section("region hashes", func() {
				if r.WholeOnly, regionErr = checkRegions(ctx, tx, add); regionErr == nil {
					r.RegionIndex = c.checkRegionFile(tx, add)
				}
			})
			return regionErr
		},
		func(tx *bolt.Tx) error {
			section("search index", func() {
				search.strays(tx, tick, add)
				if search.lookedUp {
					r.lookedUp = append(r.lookedUp, "search")
				}
			})
			section("affiliates", func() { checkAffiliates(tx, add) })
			return nil
		},
	}
	for _, step := range steps {
		if stopped || ctx.Err() != nil {
			return r, ErrInterrupted
		}
		err := c.view(func(tx *bolt.Tx) error {
			watch = mapWatch{tx: tx}
			defer func() { watch = mapWatch{} }()
			return step(tx)
		})
		// The index files' checks each rebuild an index of the catalog's hashes (hundreds of MB at
		// a million images) and drop it: let the memory go before the next is built, so that the
		// peak is the larger of them, not their sum.
		debug.FreeOSMemory()
		if err != nil {
			if stopped || ctx.Err() != nil {
				return r, ErrInterrupted
			}
			return nil, err
		}
	}
	if stopped || ctx.Err() != nil {
		return r, ErrInterrupted
	}
	return r, nil
}

// verifyFileHook, when set (tests), runs before each original or thumbnail is checked.
var verifyFileHook func()

// verifyChunk is how many image records one of verify's read transactions checks; their files
// are checked after it ends.
const verifyChunk = 16384

func hasWarning(ws []string, prefix string) bool {
	for _, w := range ws {
		if len(w) >= len(prefix) && w[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// checkLoggedSightings holds the sightings against the log: every ingest commits its sightings and
// the log entry that records them in one transaction, so each stored sighting must appear in exactly
// one log entry with the same image and name, and each sighting a log entry records must be stored.
// This catches what the hash chain alone cannot: a sighting removed from both indexes (with its
// batch count fixed up), and the last log entries deleted (a truncated chain is still a valid chain).
//
// Memory stays bounded at any size. First one pass over the log and one over the sightings sum a
// keyed hash of every (batch, position, image, name) each side records (the key is drawn at random
// for this run, so no stored content can be made to cancel out): equal sums, and no batch removal
// in the log, prove the two sides hold the same sightings, each once. Otherwise the sightings are
// matched one by one, a share of the batches at a time (loggedPartSize sightings a pass), naming
// every difference.
func checkLoggedSightings(ctx context.Context, tx *bolt.Tx, l *loggedSightings, add func(kind, subject, format string, args ...any)) error {
	n, clean, err := l.agree(ctx, tx)
	if err != nil || clean {
		return err
	}
	parts := uint64(max(1, (n+loggedPartSize-1)/loggedPartSize))
	for part := range parts {
		if err := checkLoggedPart(ctx, tx, add, parts, part); err != nil {
			return err
		}
	}
	return nil
}

// loggedPartSize is how many sightings one pass of the one-by-one comparison holds (tests lower it).
var loggedPartSize = 1 << 18

// loggedEntry is the part of a log entry the comparison reads.
type loggedEntry struct {
	Seq    uint64    `json:"seq"`
	Action string    `json:"action"`
	Batch  string    `json:"batch,omitempty"`
	Files  []LogFile `json:"files,omitempty"`
}

// sightingSum adds up a keyed hash of sightings, in four 64-bit lanes.
type sightingSum struct {
	key [32]byte
	sum [4]uint64
	buf []byte
}

func (s *sightingSum) add(id BatchID, pos int, sha SHA256, name string, sign uint64) {
	s.buf = append(append(append(append(append(s.buf[:0], s.key[:]...), id[:]...), byte(pos>>24), byte(pos>>16), byte(pos>>8), byte(pos)), sha[:]...), name...)
	h := sha256.Sum256(s.buf)
	for i := range s.sum {
		s.sum[i] += sign * binary.LittleEndian.Uint64(h[8*i:])
	}
}

// loggedSightings sums the sightings the log records (see checkLoggedSightings), entry by entry
// as verify's one pass over the log decodes them.
type loggedSightings struct {
	logged *sightingSum
	clean  bool // no batch removal and no malformed file in the log (so far)
}

func newLoggedSightings() *loggedSightings {
	l := &loggedSightings{logged: &sightingSum{}, clean: true}
	if _, err := rand.Read(l.logged.key[:]); err != nil {
		l.clean = false // no key: compare one by one
	}
	return l
}

// entry adds the sightings of one decoded log entry.
func (l *loggedSightings) entry(e *LogEntry) {
	if e.Action == ActionBatchRemove {
		l.clean = false // a removal and a repeated record could cancel out: compare one by one
		return
	}
	if len(e.Files) == 0 {
		return
	}
	id, err := hexBatch(e.Batch)
	if err != nil {
		l.clean = false
		return
	}
	for _, f := range e.Files {
		if f.Status == StatusRejected {
			continue
		}
		sha, err := ParseSHA256(f.SHA256)
		if err != nil {
			l.clean = false
			continue
		}
		l.logged.add(id, f.Position, sha, f.raw(), 1)
	}
}

// agree reports whether the log (summed into l) and the stored sightings provably agree, and how
// many sightings are stored.
func (l *loggedSightings) agree(ctx context.Context, tx *bolt.Tx) (stored int, clean bool, err error) {
	have := &sightingSum{key: l.logged.key}
	watch := mapWatch{tx: tx}
	clean = l.clean
	err = tx.Bucket(bucketBatchImages).ForEach(func(k, v []byte) error {
		watch.step()
		if stored++; stored%4096 == 0 && ctx.Err() != nil {
			return ErrInterrupted
		}
		id, pos, err := parseBatchImageKey(k)
		var rec sightingRecord
		if err != nil || json.Unmarshal(v, &rec) != nil {
			clean = false // reported with the sightings
			return nil
		}
		have.add(id, pos, rec.SHA256, rec.raw(), 1)
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return stored, clean && l.logged.sum == have.sum, nil
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

// checkLoggedPart compares, one by one, the sightings of the batches of one part (of parts; by
// the batch id) with what the log records of them, naming every difference.
func checkLoggedPart(ctx context.Context, tx *bolt.Tx, add func(kind, subject, format string, args ...any), parts, part uint64) error {
	inPart := func(id BatchID) bool { return binary.BigEndian.Uint64(id[:])%parts == part }
	logged := map[loggedSighting]loggedFile{}
	n := 0
	watch := mapWatch{tx: tx}
	cur := tx.Bucket(bucketLog).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		watch.step()
		if n++; n%1024 == 0 && ctx.Err() != nil {
			return ErrInterrupted
		}
		var le loggedEntry
		if json.Unmarshal(v, &le) != nil {
			continue // reported by checkLog
		}
		e := LogEntry{Seq: le.Seq, Action: le.Action, Batch: le.Batch, Files: le.Files}
		if e.Action == ActionBatchRemove {
			forgetRemoved(logged, e) // sightings removed by `relcat batch rm`
			continue
		}
		subject := fmt.Sprintf("log entry %d", e.Seq)
		var id BatchID
		if len(e.Files) > 0 {
			b, err := hex.DecodeString(e.Batch)
			if err != nil || len(b) != len(id) {
				if part == 0 {
					add("log", subject, "batch %q is not a batch id", e.Batch)
				}
				continue
			}
			copy(id[:], b)
		}
		if !inPart(id) {
			continue
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
	err := bimg.ForEach(func(k, v []byte) error {
		watch.step()
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ErrInterrupted
		}
		id, pos, err := parseBatchImageKey(k)
		if err != nil || !inPart(id) {
			return nil // malformed keys are reported with the sightings
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
	if err != nil {
		return err
	}
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
	return nil
}

// verifyStorage reports the storage check of catalog.db and the buckets the catalog lacks; it returns
// false when the records cannot be read safely (then nothing else is checked).
func (c *Catalog) verifyStorage(ctx context.Context, r *VerifyReport, add func(kind, subject, format string, args ...any)) bool {
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
		r.Pages, r.FreePages, r.PageSize = sr.Pages, sr.Free, sr.Size
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

// verifyLogDecoded, when set (tests), is called for each log entry verify decodes.
var verifyLogDecoded func()

// checkBatchIdentities holds every batch record against its identity: the id must be the
// BatchIdentity of its affiliate, release time and folder.
func checkBatchIdentities(batches map[BatchID]*Batch, add func(kind, subject, format string, args ...any)) {
	for id, b := range batches {
		// After an affiliate rename or merge or a batch edit the id stays and the identity of the new
		// fields is kept in Aka.
		if b.ID != id || !b.identityHolds() {
			add("batch", id.String(), "its affiliate %q, release time %s and folder %q do not give its id (a field was altered)", b.Affiliate, b.Released, b.Folder)
		}
	}
}

// batchSnaps is what the log says of the batch records, entry by entry as verify's one pass over
// the log decodes them: the last record of each batch an entry carries, and the digests of all
// batch records the last entry carries.
type batchSnaps struct {
	snaps               map[BatchID]batchSnap
	lastDigest, lastSum string
}

type batchSnap struct {
	seq uint64
	rec json.RawMessage // nil: the entry's transaction left no record
}

func (s *batchSnaps) entry(e *LogEntry) {
	if s.snaps == nil {
		s.snaps = map[BatchID]batchSnap{}
	}
	s.lastDigest, s.lastSum = e.BatchesDigest, e.BatchesSum
	var id BatchID
	if b, err := hex.DecodeString(e.Batch); err == nil && len(b) == len(id) {
		copy(id[:], b)
		s.snaps[id] = batchSnap{e.Seq, e.BatchRecord}
	}
}

// checkBatchRecords holds the batch records against the log (read in the same transaction). Every
// log entry carries the digest of all batch records its transaction left (BatchesSum, or
// BatchesDigest in older entries); when the current records do not give the last entry's digest,
// each batch record is compared with the last record of it a log entry carries, naming the fields
// that differ (a release date flipped in the file, an affiliate changed).
func checkBatchRecords(tx *bolt.Tx, bs *batchSnaps, add func(kind, subject, format string, args ...any)) {
	snaps, lastDigest, lastSum := bs.snaps, bs.lastDigest, bs.lastSum
	switch {
	case lastSum != "":
		if lastSum == batchSumOf(tx).digest() {
			return // the records are as logged
		}
	case lastDigest == "" || lastDigest == batchesDigest(tx):
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

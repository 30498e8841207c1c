package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// verifyFixture is a small catalog built once (one sample folder, ingested in two runs so that the
// log has two entries that both add sightings) and copied for every case of TestVerifyFindsDamage.
type verifyFixture struct {
	dir    string // the catalog directory to copy
	batch  BatchID
	sights []sightingAt // in position order
	first  Image        // the image at position 0: decoded, with thumbnail and PDQ, one sighting
	second Image        // the image at position 1
}

type sightingAt struct {
	sha  SHA256
	name string
	pos  int
}

// buildVerifyFixture ingests samples/releases/2020-03-09-sinai (8 files): first without its last
// file, then with it, so the log holds entry 1 (7 sightings) and entry 2 (1 sighting).
func buildVerifyFixture(t *testing.T) (fx verifyFixture) {
	t.Helper()
	src := filepath.Join(repoRoot(t), "samples", "releases", "2020-03-09-sinai")
	tmp := t.TempDir()
	folder := filepath.Join(tmp, "src", filepath.Base(src))
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".jpg") {
			last = e.Name()
		}
	}
	copyIn := func(name string) error {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(folder, name), data, 0o644)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name() != last {
			if err := copyIn(e.Name()); err != nil {
				t.Fatal(err)
			}
		}
	}
	fx.dir = filepath.Join(tmp, "cat")
	c, err := Open(fx.dir, Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Ingest(ctx, []string{folder}, IngestOptions{Operator: "test", Command: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := copyIn(last); err != nil {
		t.Fatal(err)
	}
	sums, err := c.Ingest(ctx, []string{folder}, IngestOptions{Operator: "test", Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	fx.batch = sums[0].Batch.ID
	d, err := c.Batch(fx.batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, bi := range d.Images {
		fx.sights = append(fx.sights, sightingAt{bi.Image.SHA256, bi.Name, bi.Position})
	}
	if len(fx.sights) != 8 {
		t.Fatalf("fixture: %d sightings, want 8", len(fx.sights))
	}
	fx.first, fx.second = *d.Images[0].Image, *d.Images[1].Image
	n := 0
	_ = c.Log(func(LogEntry) bool { n++; return true })
	if n != 2 || !fx.first.Pixels || fx.first.Thumb == "" || fx.first.Object == "" {
		t.Fatalf("fixture: %d log entries, first image pixels=%v thumb=%q object=%q", n, fx.first.Pixels, fx.first.Thumb, fx.first.Object)
	}
	return fx
}

// copyTree copies a catalog directory, keeping file modes (preserved originals stay read-only).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, data, 0o600); err != nil {
			return err
		}
		return os.Chmod(out, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flipByte changes one byte in the middle of a (possibly read-only) file of the catalog.
func flipByte(t *testing.T, path string) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantProblem matches a Problem: same kind, same subject, detail containing the given text.
type wantProblem struct{ kind, subject, detail string }

func (w wantProblem) matches(p Problem) bool {
	return p.Kind == w.kind && p.Subject == w.subject && strings.Contains(p.Detail, w.detail)
}

// TestVerifyFindsDamage breaks one thing per case on a copy of a freshly ingested catalog and checks
// that Verify names it by kind and subject, and reports nothing else: every wanted problem is found
// and every problem found is wanted.
func TestVerifyFindsDamage(t *testing.T) {
	t.Parallel()
	fx := buildVerifyFixture(t)
	img, img2 := fx.first, fx.second
	sha := img.SHA256.String()
	bid := fx.batch.String()
	s0 := fmt.Sprintf("batch %s #0", bid)
	update := func(t *testing.T, c *Catalog, fn func(tx *bolt.Tx) error) {
		t.Helper()
		if err := c.update(fn); err != nil {
			t.Fatal(err)
		}
	}
	file := func(c *Catalog, rel string) string { return filepath.Join(c.dir, filepath.FromSlash(rel)) }
	notLogged := func(pos int) wantProblem {
		return wantProblem{"log", fmt.Sprintf("batch %s #%d", bid, pos), "recorded by no log entry"}
	}

	cases := []struct {
		name       string
		quick      bool
		logEntries int // left in the log after the damage (default 2)
		images     int // image records checked (default 8)
		damage     func(t *testing.T, c *Catalog)
		want       []wantProblem
	}{
		{name: "clean catalog", damage: func(*testing.T, *Catalog) {}},
		{name: "clean catalog, quick", quick: true, damage: func(*testing.T, *Catalog) {}},
		{
			name:   "original altered",
			damage: func(t *testing.T, c *Catalog) { flipByte(t, file(c, img.Object)) },
			want:   []wantProblem{{"object", sha, img.Object + ": content does not match its recorded SHA-256"}},
		},
		{
			// --quick does not re-hash: an altered original passes (documented), a missing one does not.
			name:   "original altered, quick",
			quick:  true,
			damage: func(t *testing.T, c *Catalog) { flipByte(t, file(c, img.Object)) },
		},
		{
			name:  "original missing, quick",
			quick: true,
			damage: func(t *testing.T, c *Catalog) {
				if err := os.Remove(file(c, img.Object)); err != nil {
					t.Fatal(err)
				}
			},
			want: []wantProblem{{"object", sha, img.Object + ": no such file or directory"}},
		},
		{
			name: "original missing",
			damage: func(t *testing.T, c *Catalog) {
				if err := os.Remove(file(c, img.Object)); err != nil {
					t.Fatal(err)
				}
			},
			want: []wantProblem{{"object", sha, img.Object + ": no such file or directory"}},
		},
		{
			name: "thumbnail missing",
			damage: func(t *testing.T, c *Catalog) {
				if err := os.Remove(file(c, img.Thumb)); err != nil {
					t.Fatal(err)
				}
			},
			want: []wantProblem{{"thumbnail", sha, img.Thumb + ": no such file or directory"}},
		},
		{
			name:   "thumbnail altered",
			damage: func(t *testing.T, c *Catalog) { flipByte(t, file(c, img.Thumb)) },
			want:   []wantProblem{{"thumbnail", sha, img.Thumb + ": content does not match its recorded SHA-256"}},
		},
		{
			name: "sighting deleted from batch_images only",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketBatchImages).Delete(batchImageKey(fx.batch, 0)) })
			},
			want: []wantProblem{
				{"sighting", fmt.Sprintf("image %s in batch %s #0", sha, bid), "missing from the batch->images index"},
				{"batch", bid, "record says 8 files, 7 sightings stored"},
				{"log", "log entry 1", fmt.Sprintf("records image %s (%q) in batch %s #0, which has no stored sighting", sha, fx.sights[0].name, bid)},
			},
		},
		{
			name: "sighting deleted from image_batches only",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return tx.Bucket(bucketImageBatches).Delete(imageBatchKey(img.SHA256, fx.batch, 0))
				})
			},
			want: []wantProblem{
				{"sighting", s0, "missing from the image->batches index"},
				{"sighting", sha, "image has no sighting"},
			},
		},
		{
			// Both directions removed and the count fixed up: only the log still knows.
			name: "sighting deleted both ways, batch count fixed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					if err := tx.Bucket(bucketBatchImages).Delete(batchImageKey(fx.batch, 0)); err != nil {
						return err
					}
					if err := tx.Bucket(bucketImageBatches).Delete(imageBatchKey(img.SHA256, fx.batch, 0)); err != nil {
						return err
					}
					return editJSON(tx, bucketBatches, fx.batch[:], func(b *Batch) { b.Files-- })
				})
			},
			want: []wantProblem{
				{"sighting", sha, "image has no sighting"},
				{"log", "log entry 1", "which has no stored sighting"},
				{"batch", bid, "record differs from log entry 2: files 7 (log: 8)"},
			},
		},
		{
			name: "sighting renamed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return putJSON(tx.Bucket(bucketBatchImages), batchImageKey(fx.batch, 0), sightingRecord{SHA256: img.SHA256, Name: "renamed.jpg"})
				})
			},
			want: []wantProblem{
				{"sighting", s0, "missing from the image->batches index"},
				{"sighting", fmt.Sprintf("image %s in batch %s #0", sha, bid), "missing from the batch->images index"},
				{"log", s0, fmt.Sprintf("(%q) differs from log entry 1", "renamed.jpg")},
			},
		},
		{
			name: "md5 index entry deleted",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketMD5).Delete(md5Key(img.MD5, img.SHA256)) })
			},
			want: []wantProblem{{"index", sha, "md5 index lacks this image (md5 " + img.MD5.String() + ")"}},
		},
		{
			name: "dangling md5 index entry",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return tx.Bucket(bucketMD5).Put([]byte("0123456789abcdef"+strings.Repeat("x", 32)), []byte{})
				})
			},
			want: []wantProblem{{"index", fmt.Sprintf("md5 %x", "0123456789abcdef"), "has no image record with this md5"}},
		},
		{
			name: "md5 index entry moved to another image",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					if err := tx.Bucket(bucketMD5).Delete(md5Key(img.MD5, img.SHA256)); err != nil {
						return err
					}
					return tx.Bucket(bucketMD5).Put(md5Key(img.MD5, img2.SHA256), []byte{})
				})
			},
			want: []wantProblem{
				{"index", sha, "md5 index lacks this image"},
				{"index", "md5 " + img.MD5.String(), fmt.Sprintf("entry for %s, which has no image record with this md5", img2.SHA256)},
			},
		},
		{
			name: "pdq entry of a decoded image deleted",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketPDQ).Delete(img.SHA256[:]) })
			},
			want: []wantProblem{{"index", sha, "decoded image has no perceptual hash entry"},
				{"index", sha, "names this image, whose hash has another near id or none"},
				{"index", sha, "region hashes of an image without a perceptual hash"}},
		},
		{
			name: "pdq entry truncated",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					v := tx.Bucket(bucketPDQ).Get(img.SHA256[:])
					return tx.Bucket(bucketPDQ).Put(img.SHA256[:], append([]byte(nil), v[:len(v)-1]...))
				})
			},
			want: []wantProblem{{"index", sha, "pdq entry: pdq value of"}},
		},
		{
			name: "image record not JSON",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketImages).Put(img.SHA256[:], []byte(`{"sha256":`)) })
			},
			want: []wantProblem{
				{"record", "image " + sha, "unreadable or mismatched image record"},
				// The md5 entry now points to a record that does not read.
				{"index", "md5 " + img.MD5.String(), "which has no image record with this md5"},
			},
		},
		{
			name: "batch file count changed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return editJSON(tx, bucketBatches, fx.batch[:], func(b *Batch) { b.Files = 9 })
				})
			},
			want: []wantProblem{
				{"batch", bid, "record says 9 files, 8 sightings stored"},
				{"batch", bid, "record differs from log entry 2: files 9 (log: 8)"},
			},
		},
		{
			// Issue 12 item 13: image records held against the re-read original.
			name: "image size changed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return editJSON(tx, bucketImages, img.SHA256[:], func(i *Image) { i.Size++ })
				})
			},
			want: []wantProblem{{"object", sha, fmt.Sprintf("%s: %d bytes, %d recorded", img.Object, img.Size, img.Size+1)}},
		},
		{
			name: "image md5 changed, record and index",
			damage: func(t *testing.T, c *Catalog) {
				other := MD5{1, 2, 3}
				update(t, c, func(tx *bolt.Tx) error {
					if err := tx.Bucket(bucketMD5).Delete(md5Key(img.MD5, img.SHA256)); err != nil {
						return err
					}
					if err := tx.Bucket(bucketMD5).Put(md5Key(other, img.SHA256), []byte{}); err != nil {
						return err
					}
					return editJSON(tx, bucketImages, img.SHA256[:], func(i *Image) { i.MD5 = other })
				})
			},
			want: []wantProblem{{"record", sha, fmt.Sprintf("md5 %s recorded, the original's is %s", MD5{1, 2, 3}, img.MD5)}},
		},
		{
			name: "image format changed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return editJSON(tx, bucketImages, img.SHA256[:], func(i *Image) { i.Format = "png" })
				})
			},
			want: []wantProblem{{"record", sha, `format "png" recorded, the original is "jpeg"`}, {"index", sha, "metadata search index lacks entry"}, {"index", sha, "match no image record or a different value"}},
		},
		{
			name: "image EXIF make changed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return editJSON(tx, bucketImages, img.SHA256[:], func(i *Image) { i.EXIF.Make = "Planted" })
				})
			},
			want: []wantProblem{{"record", sha, "EXIF differs from the original's: make Planted (original: "}, {"index", sha, "metadata search index lacks entry"}, {"index", sha, "match no image record or a different value"}},
		},
		{
			name:  "image EXIF make changed, quick",
			quick: true,
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return editJSON(tx, bucketImages, img.SHA256[:], func(i *Image) { i.EXIF.Make = "Planted" })
				})
			},
			// --quick does not re-read originals: only the search index gives it away.
			want: []wantProblem{{"index", sha, "metadata search index lacks entry"}, {"index", sha, "match no image record or a different value"}},
		},
		{
			// Issue 12 item 13: one bit of the release date (2020-03-09 -> 2020-03-08) in the record.
			name: "batch release date changed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return editJSON(tx, bucketBatches, fx.batch[:], func(b *Batch) { b.Released.Time = b.Released.Time.AddDate(0, 0, -1) })
				})
			},
			want: []wantProblem{
				{"batch", bid, "do not give its id"},
				{"batch", bid, "record differs from log entry 2: released 2020-03-08T07:30:00Z (log: 2020-03-09T07:30:00Z)"},
			},
		},
		{
			name: "batch affiliate changed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					if err := putJSON(tx.Bucket(bucketAffiliates), []byte("is-other"), Affiliate{Slug: "is-other"}); err != nil {
						return err
					}
					return editJSON(tx, bucketBatches, fx.batch[:], func(b *Batch) { b.Affiliate = "is-other" })
				})
			},
			want: []wantProblem{
				{"batch", bid, "do not give its id"},
				{"batch", bid, "record differs from log entry 2: affiliate is-other (log: is-sinai)"},
			},
		},
		{
			// A metadata-only change (a new title, logged), then its log entry removed: the chain is
			// still valid and no sighting is missing; the log head and the batch record give it away.
			name: "trailing metadata-only log entry removed",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					if err := editJSON(tx, bucketBatches, fx.batch[:], func(b *Batch) { b.Title = "retitled" }); err != nil {
						return err
					}
					return appendLog(tx, &LogEntry{Action: "edit", Batch: bid, Tool: "test"})
				})
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketLog).Delete(seqKey(3)) })
			},
			want: []wantProblem{
				{"log", "log head", "the last entry is #2"},
				{"batch", bid, "record differs from log entry 2: title retitled (log: DEMO 4"},
			},
		},
		{
			name: "log entry altered",
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					return editJSON(tx, bucketLog, seqKey(1), func(e *LogEntry) { e.Operator = "someone else" })
				})
			},
			want: []wantProblem{{"log", "log", "log entry 1: altered"}},
		},
		{
			// The record gone, everything that refers to it left: its sightings, md5, perceptual
			// hash and search entries are each named.
			name:   "image record deleted",
			quick:  true,
			images: 7,
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketImages).Delete(img.SHA256[:]) })
			},
			want: []wantProblem{
				{"sighting", s0, "image " + sha + " has no record"},
				{"index", "md5 " + img.MD5.String(), "entry for " + sha + ", which has no image record"},
				{"index", "pdq " + sha, "perceptual hash of an image that has no record"},
				{"index", sha, "metadata search index entries match no image record"},
			},
		},
		{
			name:  "near id not mapped back",
			quick: true,
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error {
					id, _ := pdqNearID(tx.Bucket(bucketPDQ).Get(img.SHA256[:]))
					return tx.Bucket(bucketNearIDs).Put(seqKey(id), img2.SHA256[:])
				})
			},
			want: []wantProblem{
				{"index", "pdq " + sha, "is not mapped back to this image"},
				{"index", img2.SHA256.String(), "names this image, whose hash has another near id"},
			},
		},
		{
			name:       "first log entry deleted",
			logEntries: 1,
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketLog).Delete(seqKey(1)) })
			},
			want: []wantProblem{
				{"log", "log", "log entry 2: out of sequence (expected 1)"},
				{"log", "log", "log entry 2: chain broken"},
				notLogged(0), notLogged(1), notLogged(2), notLogged(3), notLogged(4), notLogged(5), notLogged(6),
			},
		},
		{
			// A truncated chain is still a valid chain; the sightings it recorded give it away.
			name:       "last log entry deleted",
			logEntries: 1,
			damage: func(t *testing.T, c *Catalog) {
				update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketLog).Delete(seqKey(2)) })
			},
			want: []wantProblem{
				notLogged(7),
				{"log", "log head", "the last entry is #1"},
				{"batch", bid, "record differs from log entry 1: files 8 (log: 7)"},
			},
		},
	}
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "cat")
		copyTree(t, fx.dir, dir)
		c, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Verify(ctx, VerifyOptions{}); !errors.Is(err, ErrInterrupted) {
			t.Errorf("verify with a cancelled context: %v, want ErrInterrupted", err)
		}
	})
	lookedUpFor := map[string]string{
		"sighting renamed":        "sightings",
		"md5 index entry deleted": "md5",
		"near id not mapped back": "near ids",
		"image record deleted":    "search",
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "cat")
			copyTree(t, fx.dir, dir)
			c, err := Open(dir, Options{Now: fixedClock(), Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tc.damage(t, c)
			r, err := c.Verify(context.Background(), VerifyOptions{Quick: tc.quick})
			if err != nil {
				t.Fatal(err)
			}
			if tc.images == 0 {
				tc.images = 8
			}
			if r.Images != tc.images && tc.name != "image record not JSON" {
				t.Errorf("checked %d images, want %d", r.Images, tc.images)
			}
			if tc.logEntries == 0 {
				tc.logEntries = 2
			}
			if r.Batches != 1 || r.LogItems != tc.logEntries {
				t.Errorf("checked %d batches, %d log entries", r.Batches, r.LogItems)
			}
			if !tc.quick && len(tc.want) == 0 && (r.Objects != 8 || r.Thumbs != 8) {
				t.Errorf("re-hashed %d originals and %d thumbnails, want 8 and 8", r.Objects, r.Thumbs)
			}
			if tc.quick && (r.Objects != 0 || r.Thumbs != 0) {
				t.Errorf("--quick re-hashed %d originals and %d thumbnails", r.Objects, r.Thumbs)
			}
			// A sound catalog is read in key order, bucket by bucket: no record is looked up one by
			// one (issue 13: lookups all over catalog.db made verify grow faster than the catalog).
			// A damaged index is: that is how its problems are named.
			if len(tc.want) == 0 && len(r.lookedUp) > 0 {
				t.Errorf("nothing wrong, yet %v looked records up one by one", r.lookedUp)
			}
			if w, ok := lookedUpFor[tc.name]; ok && !slices.Contains(r.lookedUp, w) {
				t.Errorf("%s looked up %v, want %s among them", tc.name, r.lookedUp, w)
			}
			// Read in transactions of 3 image records, verify finds the same: the indexes held
			// against the records across the chunks' boundaries.
			c.verifyChunk = 3
			r3, err := c.Verify(context.Background(), VerifyOptions{Quick: tc.quick})
			c.verifyChunk = 0
			if err != nil {
				t.Fatal(err)
			}
			if a, b := problemSet(r.Problems), problemSet(r3.Problems); a != b {
				t.Errorf("read 3 images a transaction, verify finds\n%s\ninstead of\n%s", b, a)
			}
			for _, w := range tc.want {
				found := false
				for _, p := range r.Problems {
					found = found || w.matches(p)
				}
				if !found {
					t.Errorf("missing problem %s: %s: …%s…", w.kind, w.subject, w.detail)
				}
			}
			for _, p := range r.Problems {
				wanted := false
				for _, w := range tc.want {
					wanted = wanted || w.matches(p)
				}
				if !wanted {
					t.Errorf("unexpected problem: %s", p)
				}
			}
		})
	}
}

// problemSet is problems sorted, one a line.
func problemSet(ps []Problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// editJSON rewrites one JSON record in place, without touching anything that refers to it.
func editJSON[T any](tx *bolt.Tx, bucket, key []byte, fn func(*T)) error {
	b := tx.Bucket(bucket)
	v := b.Get(key)
	if v == nil {
		return fmt.Errorf("%s %x: no record", bucket, key)
	}
	var rec T
	if err := json.Unmarshal(v, &rec); err != nil {
		return err
	}
	fn(&rec)
	return putJSON(b, key, &rec)
}

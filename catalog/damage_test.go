package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// damageFixture ingests two sample folders into a catalog, closes it and returns its directory.
func damageFixture(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(context.Background(), sampleDirs(t)[:2], IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	return dir
}

// rootPage returns the page id of a bucket's root page and the page size (bbolt read-only).
func rootPage(t *testing.T, dir string, bucket []byte) (uint64, uint64) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, dbFileName), 0o644, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id uint64
	db.View(func(tx *bolt.Tx) error {
		id = uint64(tx.Bucket(bucket).Root())
		return nil
	})
	if id == 0 {
		t.Fatalf("bucket %s is inline", bucket)
	}
	return id, uint64(db.Info().PageSize)
}

// patch writes b at offset off of catalog.db.
func patch(t *testing.T, dir string, off uint64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, dbFileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(off)); err != nil {
		t.Fatal(err)
	}
}

func u16(v uint16) []byte { b := make([]byte, 2); binary.NativeEndian.PutUint16(b, v); return b }
func u32(v uint32) []byte { b := make([]byte, 4); binary.NativeEndian.PutUint32(b, v); return b }
func u64(v uint64) []byte { b := make([]byte, 8); binary.NativeEndian.PutUint64(b, v); return b }

// withDeadline fails the test when fn does not return within d (a hang).
func withDeadline(t *testing.T, what string, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %s (hang)", what, d)
	}
}

// Issue 12 item 9: one damaged page of catalog.db made show/dupes/verify panic, and a huge overflow
// count made verify run for ever. Each damage below is refused at Open with ErrDamaged naming the
// catalog and what to do, for readers and writers alike; verify opens it and reports it.
func TestDamagedCatalogRefusedNotPanicking(t *testing.T) {
	fixture := damageFixture(t)
	images, ps := rootPage(t, fixture, bucketImages)
	logRoot, _ := rootPage(t, fixture, bucketLog)
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string // in the storage problem
	}{
		{"wrong page flags", func(t *testing.T, dir string) { patch(t, dir, images*ps+8, u16(0x20)) }, "not a branch or leaf page"},
		{"page id mismatch", func(t *testing.T, dir string) { patch(t, dir, images*ps, u64(images+1)) }, "says it is page"},
		{"bad element offset", func(t *testing.T, dir string) { patch(t, dir, images*ps+16+4, u32(0x7fffffff)) }, "runs past the end of the page"},
		{"huge element count", func(t *testing.T, dir string) { patch(t, dir, logRoot*ps+10, u16(0xfff0)) }, "do not fit in the page"},
		{"huge overflow count", func(t *testing.T, dir string) { patch(t, dir, images*ps+12, u32(0xfffffff0)) }, "overflow pages"},
		{"truncated", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, dbFileName), int64(3*ps)); err != nil {
				t.Fatal(err)
			}
		}, "truncated"},
		{"page reached twice", func(t *testing.T, dir string) {
			// Point the log bucket's root at the images bucket's root page.
			data, _ := os.ReadFile(filepath.Join(dir, dbFileName))
			old := u64(logRoot)
			for off := uint64(0); off+8 <= uint64(len(data)); off++ {
				// The bucket header (root pgid, sequence) follows the key "log" in the root leaf.
				if string(data[off:min(off+3, uint64(len(data)))]) == "log" && string(data[off+3:off+11]) == string(old) {
					patch(t, dir, off+3, u64(images))
					return
				}
			}
			t.Fatal("log bucket header not found")
		}, "reached twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cat")
			copyTree(t, fixture, dir)
			tc.damage(t, dir)
			withDeadline(t, tc.name, 20*time.Second, func() {
				for _, ro := range []bool{true, false} {
					c, err := Open(dir, Options{ReadOnly: ro, LockTimeout: time.Second})
					if err == nil {
						c.Close()
						t.Fatalf("read-only %v: opened a damaged catalog", ro)
					}
					if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "relcat verify") {
						t.Errorf("read-only %v: %v", ro, err)
					}
				}
				c, err := Open(dir, Options{AllowDamaged: true})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.Batches(""); !errors.Is(err, ErrDamaged) {
					t.Errorf("query on a damaged catalog: %v", err)
				}
				r, err := c.Verify(context.Background(), VerifyOptions{})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, p := range r.Problems {
					found = found || (p.Kind == "storage" && strings.Contains(p.Detail, tc.want))
				}
				if !found {
					t.Errorf("verify does not report %q: %v", tc.want, r.Problems)
				}
			})
		})
	}
}

// Issue 12 item 11: catalog.db emptied or deleted beside a full objects/: ingest started a fresh
// catalog and orphaned the originals, and verify said ok. Now every open refuses, with what to do.
func TestMissingDatabaseBesideContentIsDamage(t *testing.T) {
	fixture := damageFixture(t)
	for _, state := range []string{"missing", "empty"} {
		dir := filepath.Join(t.TempDir(), "cat")
		copyTree(t, fixture, dir)
		db := filepath.Join(dir, dbFileName)
		if state == "missing" {
			os.Remove(db)
		} else {
			os.Truncate(db, 0)
		}
		for _, ro := range []bool{true, false} {
			_, err := Open(dir, Options{ReadOnly: ro})
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "catalog.db is "+state) || !strings.Contains(err.Error(), "objects/ holds") || !strings.Contains(err.Error(), "backup") {
				t.Errorf("%s, read-only %v: %v", state, ro, err)
			}
		}
		if st, err := os.Stat(db); state == "missing" && err == nil || state == "empty" && (err != nil || st.Size() != 0) {
			t.Errorf("%s: catalog.db was recreated", state)
		}
	}
	// A directory without content still starts a new catalog.
	c, err := Open(filepath.Join(t.TempDir(), "new"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// Issue 12 item 12: a missing bucket made every command refuse; a missing batch record made dupes,
// lookup, history, show of other batches and ingest of unrelated folders fail. Now queries answer
// what they can and name the damage; verify runs and reports it.
func TestMissingBucketAndBatchRecordDegrade(t *testing.T) {
	fixture := damageFixture(t)
	sinai := BatchIdentity("is-sinai", Released{Time: time.Date(2019, 11, 2, 0, 0, 0, 0, time.UTC), DateOnly: true}, "2019-11-02-sinai")
	ctx := context.Background()

	t.Run("batch record missing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cat")
		copyTree(t, fixture, dir)
		c, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBatches).Delete(sinai[:]) }); err != nil {
			t.Fatal(err)
		}
		bs, err := c.Batches("")
		if err != nil || len(bs) != 1 {
			t.Fatalf("batches: %d %v", len(bs), err)
		}
		if _, err := c.Batch(bs[0].ID); err != nil {
			t.Errorf("show of the other batch: %v", err)
		}
		if _, err := c.Dupes(DupesOptions{}); err != nil {
			t.Errorf("dupes: %v", err)
		}
		signpost := filepath.Join(sampleDirs(t)[1], "01-signpost.jpg") // also in the sinai batch
		r, err := c.Lookup(ctx, signpost, MatchOptions{}, HashOptions{})
		if err != nil || len(r.Exact) != 1 || r.Exact[0].Batch != bs[0].ID {
			t.Errorf("lookup: %v %+v", err, r)
		}
		if _, err := c.History(r.Hashes.SHA256, MatchOptions{}); err != nil {
			t.Errorf("history: %v", err)
		}
		if _, err := c.Ingest(ctx, sampleDirs(t)[2:3], IngestOptions{}); err != nil {
			t.Errorf("ingest of an unrelated folder: %v", err)
		}
		if d := strings.Join(c.Damage(), "\n"); !strings.Contains(d, "batch "+sinai.String()+" has no record") {
			t.Errorf("damage not named: %q", d)
		}
		rep, err := c.Verify(ctx, VerifyOptions{Quick: true})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range rep.Problems {
			found = found || strings.Contains(p.Detail, "batch has no record")
		}
		if !found {
			t.Errorf("verify: %v", rep.Problems)
		}
		c.Close()
	})

	t.Run("bucket missing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cat")
		copyTree(t, fixture, dir)
		db, err := bolt.Open(filepath.Join(dir, dbFileName), 0o644, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketPDQ) })
		db.Close()
		c, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("a catalog without its pdq bucket does not open: %v", err)
		}
		bs, err := c.Batches("")
		if err != nil || len(bs) != 2 {
			t.Errorf("batches: %d %v", len(bs), err)
		}
		if _, err := c.Dupes(DupesOptions{Exact: true}); err != nil {
			t.Errorf("dupes --exact needs no pdq: %v", err)
		}
		if _, err := c.Dupes(DupesOptions{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "pdq") {
			t.Errorf("near dupes without the pdq bucket: %v", err)
		}
		rep, err := c.Verify(ctx, VerifyOptions{Quick: true})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range rep.Problems {
			found = found || strings.Contains(p.Detail, "bucket pdq is missing")
		}
		if !found || rep.Images == 0 {
			t.Errorf("verify: %d images, %v", rep.Images, rep.Problems)
		}
		c.Close()
		if w, err := Open(dir, Options{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "lacks bucket(s) pdq") {
			if err == nil {
				w.Close()
			}
			t.Errorf("a writer on a catalog without its pdq bucket: %v", err)
		}
	})
}

// Every transaction goes through the catalog boundary (view/update in damage.go), which turns a panic
// or a fault on a damaged file into ErrDamaged; a direct db.View or db.Update would bypass it.
func TestEveryTransactionAtTheBoundary(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		// lock.go is the layer below the boundary: it opens the file per transaction (rawView, rawUpdate).
		if strings.HasSuffix(f, "_test.go") || f == "damage.go" || f == "lock.go" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "db.View(") || strings.Contains(line, "db.Update(") || strings.Contains(line, "db.Begin(") {
				t.Errorf("%s:%d: a transaction outside the catalog boundary (use c.view or c.update): %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// BenchmarkStorageCheck: the storage check every Open runs, on the samples catalog (four releases)
// (-run '^$' -bench StorageCheck ./catalog).
func BenchmarkStorageCheck(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock(), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Ingest(context.Background(), sampleDirs(b), IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	c.Close()
	benchStorageCheck(b, filepath.Join(dir, dbFileName))
}

// BenchmarkStorageCheckLarge: the storage check on a bbolt file of 300,000 records of 600 bytes
// (about the size of the image records of 300,000 photos).
func BenchmarkStorageCheckLarge(b *testing.B) {
	path := filepath.Join(b.TempDir(), dbFileName)
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		b.Fatal(err)
	}
	val := make([]byte, 600)
	for chunk := 0; chunk < 30; chunk++ {
		if err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bucketImages)
			if err != nil {
				return err
			}
			for i := 0; i < 10000; i++ {
				k := sha256.Sum256([]byte{byte(chunk), byte(i), byte(i >> 8)})
				if err := bk.Put(k[:], val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	benchStorageCheck(b, path)
}

func benchStorageCheck(b *testing.B, path string) {
	fi, _ := os.Stat(path)
	for b.Loop() {
		r, err := checkStorage(context.Background(), path)
		if err != nil || r.Unsafe {
			b.Fatal(err, r)
		}
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
}

// BenchmarkVerifySamples: a full verify (originals re-read) of the samples catalog.
func BenchmarkVerifySamples(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock(), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Ingest(context.Background(), sampleDirs(b), IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, err := c.Verify(context.Background(), VerifyOptions{}); err != nil || len(r.Problems) > 0 {
			b.Fatal(err, r.Problems)
		}
	}
}

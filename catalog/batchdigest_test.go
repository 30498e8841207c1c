package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// batchSumState reads the writer's running state and the last log entry's digest, and recomputes
// the state from the records.
func batchSumState(t *testing.T, c *Catalog) (running, recomputed *batchSum, logged string, current bool) {
	t.Helper()
	err := c.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keyBatchesSum)
		current = v != nil
		running = loadBatchSum(tx)
		recomputed = batchSumOf(tx)
		_, lv := tx.Bucket(bucketLog).Cursor().Last()
		var e LogEntry
		if err := json.Unmarshal(lv, &e); err != nil {
			return err
		}
		logged = e.BatchesSum
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return
}

// TestBatchSumFollowsEveryChange: every change that writes batch records (ingest, a second ingest
// adding to a batch, an edit, an affiliate rename and merge, a removal, a bundle import) keeps the
// running digest equal to the one recomputed from the records, and every log entry carries it; no
// log entry is written with the old full-scan digest.
func TestBatchSumFollowsEveryChange(t *testing.T) {
	c := openTest(t)
	ho := HousekeepingOptions{Operator: "tester", Command: "test"}
	check := func(step string) {
		t.Helper()
		running, recomputed, logged, stored := batchSumState(t, c)
		if !stored {
			t.Fatalf("%s: no running digest in meta", step)
		}
		if *running != *recomputed {
			t.Fatalf("%s: the running digest differs from the records'", step)
		}
		if logged != recomputed.digest() {
			t.Fatalf("%s: last log entry carries %.16s, the records give %.16s", step, logged, recomputed.digest())
		}
	}
	dirs := sampleDirs(t)
	ingestDirs(t, c, "a", dirs[0], dirs[1])
	check("ingest")
	ingestDirs(t, c, "a", dirs[2])
	check("second ingest")
	bs, err := c.Batches("")
	if err != nil || len(bs) < 3 {
		t.Fatalf("batches: %v %d", err, len(bs))
	}
	title := "edited title"
	if _, err := c.EditBatch(bs[0].ID, BatchEdit{Title: &title}, ho); err != nil {
		t.Fatal(err)
	}
	check("edit")
	if err := c.RenameAffiliate(bs[1].Affiliate, "renamed-aff", ho); err != nil {
		t.Fatal(err)
	}
	check("rename")
	if err := c.MergeAffiliates("renamed-aff", bs[0].Affiliate, ho); err != nil {
		t.Fatal(err)
	}
	check("merge")
	bundle := bundleOf(t, c, Selection{})
	if _, err := c.RemoveBatch(bs[2].ID, ho); err != nil {
		t.Fatal(err)
	}
	check("remove")
	if _, err := c.ImportBundle(t.Context(), bundle, BundleImportOptions{Operator: "importer"}); err != nil {
		t.Fatal(err)
	}
	check("bundle import")
	_ = c.Log(func(e LogEntry) bool {
		if e.BatchesDigest != "" || e.BatchesSum == "" {
			t.Errorf("log entry %d: batches_digest %q, batches_sum %q", e.Seq, e.BatchesDigest, e.BatchesSum)
		}
		return true
	})
}

// TestBatchSumOrderFree: the digest is a function of the set of records, not of the order in which
// they were written or of records written and deleted on the way.
func TestBatchSumOrderFree(t *testing.T) {
	recs := [][2]string{{"k1", "v1"}, {"k2", "v2"}, {"k3", "a longer value"}}
	var a, b batchSum
	for _, r := range recs {
		a.apply([]byte(r[0]), []byte(r[1]), 1)
	}
	b.apply([]byte("k3"), []byte("an older value"), 1)
	for i := len(recs) - 1; i >= 0; i-- {
		b.apply([]byte(recs[i][0]), []byte(recs[i][1]), 1)
	}
	b.apply([]byte("k3"), []byte("an older value"), -1)
	if a != b {
		t.Fatal("same records, different states")
	}
	var c batchSum
	c.apply([]byte("k1"), []byte("v1"), 1)
	c.apply([]byte("k2"), []byte("v2"), 1)
	c.apply([]byte("k3"), []byte("a longer valuf"), 1)
	if c.digest() == a.digest() {
		t.Fatal("one byte changed, same digest")
	}
	// Key and value boundaries are part of the element: ("k1v", "1") is another record.
	var d, e batchSum
	d.apply([]byte("k1"), []byte("v1"), 1)
	e.apply([]byte("k1v"), []byte("1"), 1)
	if d == e {
		t.Fatal("key/value boundary not hashed")
	}
}

// TestBatchSumConstantWork: once the running digest exists, a commit does not read the batch
// records (the old digest read all of them at every log entry); a catalog written by an older
// relcat (log head moved without the running digest) is recomputed once, and a record altered behind
// the log's back stays reported after later ingests instead of being taken into the next digest.
func TestBatchSumConstantWork(t *testing.T) {
	c := openTest(t)
	dirs := sampleDirs(t)
	ingestDirs(t, c, "a", dirs[0])
	scans := 0
	batchSumScanned = func() { scans++ }
	t.Cleanup(func() { batchSumScanned = nil })
	ingestDirs(t, c, "a", dirs[1])
	if scans != 0 {
		t.Errorf("an ingest into a catalog with a running digest read all batch records %d times", scans)
	}
	// An older writer: meta holds no running digest for the current head.
	update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyBatchesSum) })
	ingestDirs(t, c, "a", dirs[2])
	if scans != 1 {
		t.Errorf("after an older writer, %d full reads of the batch records, want 1", scans)
	}
	running, recomputed, logged, _ := batchSumState(t, c)
	if *running != *recomputed || logged != recomputed.digest() {
		t.Fatal("the recomputed running digest is not the records'")
	}

	// Tamper with a record, then ingest another release: verify still names the record.
	bs, err := c.Batches("")
	if err != nil {
		t.Fatal(err)
	}
	victim := bs[0]
	update(t, c, func(tx *bolt.Tx) error {
		return editJSON(tx, bucketBatches, victim.ID[:], func(b *Batch) { b.Title = "altered" })
	})
	if len(dirs) > 3 {
		ingestDirs(t, c, "a", dirs[3])
	}
	r, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range r.Problems {
		if p.Kind == "batch" && p.Subject == victim.ID.String() && strings.Contains(p.Detail, "title altered") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the altered record is not reported after a later ingest: %v", r.Problems)
	}
	// Put it back, so that the cleanup's full verification passes.
	update(t, c, func(tx *bolt.Tx) error {
		return editJSON(tx, bucketBatches, victim.ID[:], func(b *Batch) { b.Title = victim.Title })
	})
}

func update(t *testing.T, c *Catalog, fn func(tx *bolt.Tx) error) {
	t.Helper()
	if err := c.update(fn); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkBatchDigest: what one log entry costs for the digest of the batch records, the old way
// (read and hash every record) and the running one (expand the changed record, read and write the
// 2 KB state). On RELCAT_SCALE_DIR's catalog (opened read-only) when set, else on a generated one
// of 20,000 images (1,325 batches).
func BenchmarkBatchDigest(b *testing.B) {
	var c *Catalog
	if dir := os.Getenv("RELCAT_SCALE_DIR"); dir != "" {
		var err error
		if c, err = Open(dir, Options{ReadOnly: true}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
	} else {
		c = openTest(b)
		buildScale(b, c, 20000, 3, nil)
	}
	err := c.view(func(tx *bolt.Tx) error {
		batches := tx.Bucket(bucketBatches).Stats().KeyN
		k, v := tx.Bucket(bucketBatches).Cursor().First()
		b.Run(fmt.Sprintf("full-scan/%d-batches", batches), func(b *testing.B) {
			for b.Loop() {
				_ = batchesDigest(tx)
			}
		})
		s := batchSumOf(tx)
		b.Run(fmt.Sprintf("running/%d-batches", batches), func(b *testing.B) {
			for b.Loop() {
				// What putBatchRecord and appendLog add per entry: one record out, one in, the
				// digest, the state decoded and encoded twice.
				s.apply(k, v, -1)
				s.apply(k, v, 1)
				_ = s.digest()
				for range 2 {
					_ = s.bytes()
				}
			}
		})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

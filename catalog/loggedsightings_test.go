package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Issue 13: verify held every logged sighting in one map (a million entries at a million images).
// Now a clean log is proven by two sums in constant memory, and differences are named by comparing
// a share of the batches at a time: the same problems, whatever the share.
func TestLoggedSightingsBoundedMemory(t *testing.T) {
	// Not openTest: its clean-up verifies, and this test damages the catalog on purpose.
	c, err := Open(filepath.Join(t.TempDir(), "cat"), Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	buildScale(t, c, 400, 5, nil)
	problems := func(part int) []string {
		t.Helper()
		defer func(v int) { loggedPartSize = v }(loggedPartSize)
		loggedPartSize = part
		var out []string
		err := c.view(func(tx *bolt.Tx) error {
			return checkLoggedSightings(context.Background(), tx, loggedFromLog(tx), func(kind, subject, format string, args ...any) {
				out = append(out, Problem{kind, subject, fmt.Sprintf(format, args...)}.String())
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	agree := func() (int, bool) {
		t.Helper()
		var n int
		var clean bool
		err := c.view(func(tx *bolt.Tx) (err error) {
			n, clean, err = loggedFromLog(tx).agree(context.Background(), tx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, clean
	}
	n, clean := agree()
	if !clean || n < 400 {
		t.Fatalf("clean catalog: %d sightings, agree %v", n, clean)
	}
	if p := problems(1 << 18); len(p) != 0 {
		t.Fatalf("clean catalog: %v", p)
	}
	// A batch removal in the log: the sums cannot prove it (a removal and a repeated record could
	// cancel out), so the sightings are compared one by one, and agree.
	bs, err := c.Batches("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveBatch(bs[3].ID, HousekeepingOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, clean := agree(); clean {
		t.Error("a log with a batch removal proven by the sums alone")
	}
	for _, part := range []int{1 << 18, 7, 1} {
		if p := problems(part); len(p) != 0 {
			t.Errorf("after a batch removal, %d sightings a pass: %v", part, p)
		}
	}
	// Damage: one sighting deleted both ways, one renamed, one added behind the log's back.
	var del, ren BatchID
	err = c.update(func(tx *bolt.Tx) error {
		bimg := tx.Bucket(bucketBatchImages)
		cur := bimg.Cursor()
		k, v := cur.First()
		id, pos, _ := parseBatchImageKey(k)
		var rec sightingRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		del = id
		if err := bimg.Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket(bucketImageBatches).Delete(imageBatchKey(rec.SHA256, id, pos)); err != nil {
			return err
		}
		k, v = cur.Last()
		id, pos, _ = parseBatchImageKey(k)
		ren = id
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		if err := putJSON(bimg, batchImageKey(id, pos), sightingRecord{SHA256: rec.SHA256, Name: "renamed.jpg"}); err != nil {
			return err
		}
		return putJSON(bimg, batchImageKey(id, 999), sightingRecord{SHA256: rec.SHA256, Name: "added.jpg"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, clean := agree(); clean {
		t.Fatal("damaged sightings proven by the sums")
	}
	want := problems(1 << 18)
	if len(want) != 3 {
		t.Fatalf("deleted sighting (batch %s), renamed and added (batch %s): %d problems %v", del, ren, len(want), want)
	}
	for _, part := range []int{7, 1} {
		if got := problems(part); !slices.Equal(got, want) {
			t.Errorf("%d sightings a pass: %v, want %v", part, got, want)
		}
	}
}

// loggedFromLog sums the sightings of every log entry, as verify's pass over the log does.
func loggedFromLog(tx *bolt.Tx) *loggedSightings {
	l := newLoggedSightings()
	_ = tx.Bucket(bucketLog).ForEach(func(_, v []byte) error {
		var e LogEntry
		if json.Unmarshal(v, &e) != nil {
			l.clean = false
			return nil
		}
		l.entry(&e)
		return nil
	})
	return l
}

// TestVerifyDecodesLogOnce: verify reads the log in one pass that feeds the hash chain, the batch
// records and the sightings checks (it decoded every entry three times).
func TestVerifyDecodesLogOnce(t *testing.T) {
	c := openTest(t)
	ingestDirs(t, c, "a", sampleDirs(t)...)
	entries := 0
	_ = c.Log(func(LogEntry) bool { entries++; return true })
	decoded := 0
	verifyLogDecoded = func() { decoded++ }
	t.Cleanup(func() { verifyLogDecoded = nil })
	r, err := c.Verify(t.Context(), VerifyOptions{Quick: true})
	if err != nil || len(r.Problems) != 0 {
		t.Fatalf("verify: %v %v", err, r.Problems)
	}
	if entries == 0 || decoded != entries || r.LogItems != entries {
		t.Errorf("verify decoded %d log entries for %d in the log (report: %d)", decoded, entries, r.LogItems)
	}
}

package catalog

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// repoRoot finds the module root from the package directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// corpusDir returns the shared corpus when RELCAT_CORPUS is set; it fails when the variable points
// nowhere, and skips (the corpus suites are opt-in) when it is not set.
func corpusDir(t testing.TB) string {
	t.Helper()
	v := os.Getenv("RELCAT_CORPUS")
	if v == "" {
		t.Skip("RELCAT_CORPUS not set: the full-corpus suite runs in CI (RELCAT_CORPUS=../shared/corpus)")
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(repoRoot(t), v)
	}
	if _, err := os.Stat(filepath.Join(v, "MANIFEST.tsv")); err != nil {
		t.Fatalf("RELCAT_CORPUS=%s is set but holds no MANIFEST.tsv: %v", os.Getenv("RELCAT_CORPUS"), err)
	}
	return v
}

// fixedClock returns a clock that advances one second per call, for deterministic ingest times.
func fixedClock() func() time.Time {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// openTest opens a fresh catalog in a temporary directory; on cleanup it closes it and runs the full
// verification, failing the test on any inconsistency.
func openTest(t testing.TB) *Catalog {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkInvariants(t, c)
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// sampleDirs lists the bundled demo release folders in date order.
func sampleDirs(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(repoRoot(t), "samples", "releases", "*"))
	if err != nil || len(dirs) < 3 {
		t.Fatalf("samples/releases: %v (%d folders)", err, len(dirs))
	}
	return dirs
}

// expectedRow is one line of samples/expected.tsv.
type expectedRow struct {
	dir, file, originDir, originFile, relation string
}

func sampleExpectations(t testing.TB) []expectedRow {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "samples", "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []expectedRow
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 5 {
			t.Fatalf("expected.tsv: %q", sc.Text())
		}
		rows = append(rows, expectedRow{c[0], c[1], c[2], c[3], c[4]})
	}
	return rows
}

// checkInvariants runs the full verification and fails on any problem.
func checkInvariants(t testing.TB, c *Catalog) {
	t.Helper()
	r, err := c.Verify(context.Background(), VerifyOptions{})
	if err != nil {
		t.Errorf("verify: %v", err)
		return
	}
	for _, p := range r.Problems {
		t.Errorf("invariant: %s", p)
	}
}

// dumpState renders the catalog's content canonically: every record and index, with ingest times
// and log entries left out unless withLog (two ingests of the same folders at other times compare
// equal), and the hashes of the files under objects/ and thumbs/.
func dumpState(t testing.TB, c *Catalog, withLog bool) string {
	t.Helper()
	var b strings.Builder
	err := c.view(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if string(name) == string(bucketLog) && !withLog {
				continue
			}
			fmt.Fprintf(&b, "[%s]\n", name)
			var ids []string
			err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				val := string(v)
				// Near ids follow the order the writer received the files in, which parallel
				// workers vary: compare which images have one, not the numbers.
				switch string(name) {
				case string(bucketNearIDs):
					ids = append(ids, fmt.Sprintf("%x", v))
					return nil
				case string(bucketPDQ):
					if _, ok := pdqNearID(v); ok {
						val = string(v[:len(v)-8]) + "+id"
					}
				}
				if !withLog {
					switch string(name) {
					case string(bucketImages):
						var img Image
						if err := json.Unmarshal(v, &img); err != nil {
							return err
						}
						img.Ingested = time.Time{}
						out, _ := json.Marshal(img)
						val = string(out)
					case string(bucketBatches):
						var bt Batch
						if err := json.Unmarshal(v, &bt); err != nil {
							return err
						}
						bt.Ingested = time.Time{}
						out, _ := json.Marshal(bt)
						val = string(out)
					case string(bucketAffiliates):
						var a Affiliate
						if err := json.Unmarshal(v, &a); err != nil {
							return err
						}
						a.Created = time.Time{}
						out, _ := json.Marshal(a)
						val = string(out)
					case string(bucketMeta):
						if string(k) == string(keyCreated) || string(k) == string(keyLogHead) || string(k) == string(keyCatalogID) {
							val = ""
						}
						if string(k) == string(keyBatchesSum) {
							// The running digest names the log head it is current at, and its lanes
							// hash the records' exact bytes (times included, normalised above):
							// verify holds it against the records (checkInvariants).
							val = "(running digest)"
						}
						if string(k) == string(keyBatchAkaAt) {
							val = "(alias index stamp: a hash of the running digest)"
						}
					}
				}
				fmt.Fprintf(&b, "%x=%s\n", k, val)
				return nil
			})
			if err != nil {
				return err
			}
			sort.Strings(ids)
			for _, id := range ids {
				fmt.Fprintf(&b, "near id -> %s\n", id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"objects", "thumbs"} {
		_ = filepath.WalkDir(filepath.Join(c.dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(c.dir, p)
			fmt.Fprintf(&b, "%s %x\n", rel, sha256.Sum256(data))
			return nil
		})
	}
	return b.String()
}

// evaluation marks a measurement over many real photos (pixel arithmetic, no concurrency of its
// own): skipped with -short, which CI uses for its race-detector pass; CI's full pass (the
// README's go test ./..., without -race) runs it.
func evaluation(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a measurement over many photos: runs without -short (CI's full pass)")
	}
}

package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// rawDump lists every bucket (with its sequence) and record of catalog.db, read by bbolt directly.
func rawDump(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b bytes.Buffer
	var walk func(bk *bolt.Bucket)
	walk = func(bk *bolt.Bucket) {
		fmt.Fprintf(&b, "seq %d\n", bk.Sequence())
		_ = bk.ForEach(func(k, v []byte) error {
			if v == nil && bk.Bucket(k) != nil {
				b.WriteString("bucket " + string(k) + "\n")
				walk(bk.Bucket(k))
				return nil
			}
			b.Write(k)
			b.WriteString("=")
			b.Write(v)
			b.WriteString("\n")
			return nil
		})
	}
	_ = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			b.WriteString("top " + string(name) + "\n")
			walk(bk)
			return nil
		})
	})
	return b.String()
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCompact: after a batch is removed (free pages), compact leaves a file no larger with the same
// buckets, sequences and records, read by bbolt itself; a reader opened before the swap reads the
// new file; the writer goes on ingesting; verify (openTest's cleanup) finds nothing wrong.
func TestCompact(t *testing.T) {
	c := openTest(t)
	dirs := sampleDirs(t)
	ingestDirs(t, c, "test", dirs[:len(dirs)-1]...)
	bs := mustBatches(t, c)
	if _, err := c.RemoveBatch(bs[0].ID, HousekeepingOptions{Operator: "test", Command: "test"}); err != nil {
		t.Fatal(err)
	}
	// Small writes leave free pages too: a few commits of little.
	for i := range 5 {
		if err := c.update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put([]byte("compact-test"), bytes.Repeat([]byte{byte(i)}, 100000))
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete([]byte("compact-test")) }); err != nil {
		t.Fatal(err)
	}
	// A bucket holding a nested bucket between its records, with sequences (relcat's buckets are
	// flat; the copy is not).
	if err := c.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("compact-test"))
		if err != nil {
			return err
		}
		_ = b.SetSequence(7)
		_ = b.Put([]byte("a"), []byte("1"))
		_ = b.Put([]byte("c"), []byte{})
		n, err := b.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		_ = n.SetSequence(9)
		return n.Put([]byte("x"), []byte("2"))
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.dir, dbFileName)
	want := rawDump(t, path)
	state := dumpState(t, c, true)
	reader, err := Open(c.dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	before := len(mustBatches(t, reader))

	// Many write transactions: the copy finds its bucket again in each.
	defer func(b int) { compactTxBytes = b }(compactTxBytes)
	compactTxBytes = 4096
	r, err := c.Compact(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.BytesAfter != fi.Size() || r.BytesAfter >= r.BytesBefore || r.Records == 0 || r.Buckets < len(allBuckets) {
		t.Errorf("report %+v (file now %d bytes): want a smaller file, every bucket", r, fi.Size())
	}
	if got := rawDump(t, path); got != want {
		t.Errorf("compact changed the content of catalog.db")
	}
	if got := dumpState(t, c, true); got != state {
		t.Errorf("compact changed what the catalog reads")
	}
	if n := len(mustBatches(t, reader)); n != before {
		t.Errorf("a reader opened before the swap reads %d batches, want %d", n, before)
	}
	if m := tempFiles(t, c.dir); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if err := c.update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("compact-test")) }); err != nil {
		t.Fatal(err)
	}
	ingestDirs(t, c, "test", dirs[len(dirs)-1])
}

// TestCompactInterrupted: a compact cancelled half way leaves catalog.db byte for byte as it was and no
// temporary file; a temporary file a killed compact left is removed by the next writer.
func TestCompactInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ingestSamples(t, c)
	path := filepath.Join(c.dir, dbFileName)
	sum := func() [32]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	was := sum()
	// Ctrl-C in the middle of the copy, after some transactions of it have committed.
	defer func(n int64, b int) { compactCheckEvery, compactTxBytes = n, b }(compactCheckEvery, compactTxBytes)
	compactCheckEvery, compactTxBytes = 16, 4096
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	if _, err := c.Compact(ctx, func(done, total int64) {
		if calls++; calls == 20 {
			cancel()
		}
	}); !errors.Is(err, ErrInterrupted) || calls < 20 {
		t.Fatalf("compact cancelled after %d progress calls: %v, want ErrInterrupted", calls, err)
	}
	if sum() != was {
		t.Errorf("a cancelled compact changed catalog.db")
	}
	if m := tempFiles(t, c.dir); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	// As a killed compact leaves it.
	left := filepath.Join(c.dir, dbFileName+".tmp-123")
	if err := os.WriteFile(left, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(dir, Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the next writer left %s: %v", left, err)
	}
	checkInvariants(t, c)
}

package catalog

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// familyDump is every stored image's family, searched in the index (not read from edges), as JSON.
func familyDump(t *testing.T, c *Catalog) string {
	t.Helper()
	searchOnly = true
	defer func() { searchOnly = false }()
	var b strings.Builder
	for _, h := range allHashes(t, c) {
		f, err := c.Family(h.sha, h.p, MatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(f)
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestNearFile: a writer leaves near.idx when it closes; the next process maps it instead of
// building the index and answers the same; images added since are read from the catalog; a
// removal makes it stale (not used, rewritten by the next writer); verify compares it with the
// hashes and names a damaged one; a damaged or foreign file is never used.
func TestNearFile(t *testing.T) {
	old := persistMinHashes
	persistMinHashes = 1
	defer func() { persistMinHashes = old }()
	dir := filepath.Join(t.TempDir(), "cat")
	dirs := sampleDirs(t)
	c, err := Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(context.Background(), dirs[:len(dirs)-1], IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	want := familyDump(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, nearFileName)); err != nil {
		t.Fatalf("no index file after the writer closed: %v", err)
	}
	reader := func() *Catalog {
		t.Helper()
		r, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := reader()
	if _, err := r.index(); err != nil || r.idxWhy != "" || len(r.maps) != 1 {
		t.Fatalf("reader did not use the index file: %v %q", err, r.idxWhy)
	}
	if got := familyDump(t, r); got != want {
		t.Errorf("families from the mapped index differ:\n got %s\nwant %s", got, want)
	}
	checkInvariants(t, r)
	r.Close()

	// One more release: the file stays (a small tail), a reader adds the new images from bbolt.
	old2 := persistMinHashes
	c, err = Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(context.Background(), dirs[len(dirs)-1:], IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	want = familyDump(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	persistMinHashes = old2
	r = reader()
	if _, err := r.index(); err != nil || r.idxWhy != "" || r.idxFileTop == r.idx.top {
		t.Fatalf("reader: %v %q, file top %d, index top %d: want the file plus a tail", err, r.idxWhy, r.idxFileTop, r.idx.top)
	}
	if got := familyDump(t, r); got != want {
		t.Errorf("families from the mapped index plus tail differ:\n got %s\nwant %s", got, want)
	}
	// The tail was stored in the file's room, in place: the arrays were not copied to grow.
	if m := r.maps[0]; len(r.idx.shas) != nearFileSlots(r.idxFileTop) ||
		uintptr(unsafe.Pointer(&r.idx.shas[0])) < uintptr(unsafe.Pointer(&m[0])) ||
		uintptr(unsafe.Pointer(&r.idx.shas[0])) >= uintptr(unsafe.Pointer(&m[0]))+uintptr(len(m)) {
		t.Errorf("the tail's images were not added in the mapped file's room (%d slots, want %d)", len(r.idx.shas), nearFileSlots(r.idxFileTop))
	}
	r.Close()

	// A removal makes the file stale: a reader builds from the catalog and answers the same.
	c, err = Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	victim := allHashes(t, c)[0].sha
	var w *nearTx
	if err := c.update(func(tx *bolt.Tx) error { w = c.beginNear(tx); return w.remove(victim) }); err != nil {
		t.Fatal(err)
	}
	w.done()
	want = familyDump(t, c)
	c.noPersist = true // leave the stale file, as a crash would
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	r = reader()
	if _, err := r.index(); err != nil || !strings.Contains(r.idxWhy, "left the catalog") {
		t.Fatalf("reader of a stale file: %v %q", err, r.idxWhy)
	}
	if got := familyDump(t, r); got != want {
		t.Errorf("families after a removal differ")
	}
	r.Close()
	c, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // rewrites it
		t.Fatal(err)
	}
	r = reader()
	if _, err := r.index(); err != nil || r.idxWhy != "" {
		t.Fatalf("the writer did not rewrite the stale file: %v %q", err, r.idxWhy)
	}
	if got := familyDump(t, r); got != want {
		t.Errorf("families from the rewritten file differ")
	}
	r.Close()

	// Damage: verify names it, readers do not use it.
	path := filepath.Join(dir, nearFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[nearFileHeader+64+40] ^= 0xff // a hash inside the index section
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r = reader()
	rep, err := r.Verify(context.Background(), VerifyOptions{Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		found = found || (p.Subject == nearFileName && strings.Contains(p.Detail, "differs"))
	}
	if !found {
		t.Errorf("verify did not name the damaged index file: %v", rep.Problems)
	}
	r.Close()
	// The image and the quality of each near id, after the index, are compared too (streamed).
	h, err := parseNearHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{nearFileHeader + int(h.indexLen) + 32*int(h.top) + 5, len(data) - 1} {
		d := append([]byte(nil), data...)
		d[nearFileHeader+64+40] ^= 0xff // the index as written
		d[off] ^= 0x01
		if err := os.WriteFile(path, d, 0o644); err != nil {
			t.Fatal(err)
		}
		r = reader()
		rep, err := r.Verify(context.Background(), VerifyOptions{Quick: true})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range rep.Problems {
			found = found || (p.Subject == nearFileName && strings.Contains(p.Detail, "disagrees"))
		}
		if !found {
			t.Errorf("slot byte %d of %d altered: %v", off, len(d), rep.Problems)
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	data[20] ^= 0xff // the header: checksum mismatch, never used
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r = reader()
	if _, err := r.index(); err != nil || !strings.Contains(r.idxWhy, "checksum") {
		t.Errorf("damaged header: %v %q", err, r.idxWhy)
	}
	if got := familyDump(t, r); got != want {
		t.Errorf("families with a damaged file differ")
	}
	r.Close()
	// A file of another catalog.
	other := filepath.Join(t.TempDir(), "other")
	c2, err := Open(other, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	c, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // rewrites the damaged file
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	if err := os.WriteFile(filepath.Join(other, nearFileName), good, 0o644); err != nil {
		t.Fatal(err)
	}
	r2, err := Open(other, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.index(); err != nil || !strings.Contains(r2.idxWhy, "another catalog") {
		t.Errorf("foreign file: %v %q", err, r2.idxWhy)
	}
}

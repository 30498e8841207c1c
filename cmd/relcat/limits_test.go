package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaxFileSizeFlag: --max-file-size (MiB) rejects a larger file unread in ingest and hash, and
// must be positive.
func TestMaxFileSizeFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rel")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.jpg")
	if err := os.WriteFile(big, append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 2<<20)...), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := filepath.Join(t.TempDir(), "cat")
	out, _, code := relcat(t, "--catalog", cat, "--json", "ingest", "--affiliate", "is-test", "--released", "2020-01-01", "--max-file-size", "1", dir)
	if code != 3 || !strings.Contains(out, "over the limit of 1048576 bytes (--max-file-size)") {
		t.Errorf("ingest --max-file-size 1: exit %d, %s", code, out)
	}
	_, errOut, code := relcat(t, "hash", "--max-file-size", "1", big)
	if code != 3 || !strings.Contains(errOut, "(--max-file-size)") {
		t.Errorf("hash --max-file-size 1: exit %d, %s", code, errOut)
	}
	for _, args := range [][]string{{"hash", "--max-file-size", "0", big}, {"--catalog", cat, "ingest", "--max-file-size", "0", dir}} {
		if _, _, code := relcat(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

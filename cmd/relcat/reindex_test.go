package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReindexCommand: reindex on a catalog of the demo releases rebuilds the edges (dupes, history
// and --limit answer the same before and after), logs itself, and the catalog verifies.
func TestReindexCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	dupes := func(args ...string) string {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat, "--json", "dupes"}, args...)...)
		if code != exitOK {
			t.Fatalf("dupes %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	before := dupes()
	if n := len(jsonLines(t, before)); n < 2 {
		t.Fatalf("dupes found %d clusters in the demo releases", n)
	}
	limited := jsonLines(t, dupes("--limit", "1"))
	if len(limited) != 1 || !strings.HasPrefix(before, strings.SplitN(before, "\n", 2)[0]) {
		t.Errorf("dupes --limit 1 gave %d clusters", len(limited))
	}
	for _, args := range [][]string{{"batches", "--limit", "2"}, {"log", "--limit", "2"}, {"log", "--since", "2000-01-01", "--limit", "2"}} {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat, "--json"}, args...)...)
		if n := len(jsonLines(t, out)); code != exitOK || n != 2 {
			t.Errorf("%v: exit %d, %d records\n%s", args, code, n, errOut)
		}
	}
	if _, _, code := relcat(t, "--catalog", cat, "batches", "--limit", "-1"); code != exitUsage {
		t.Errorf("batches --limit -1: exit %d, want %d", code, exitUsage)
	}
	out, errOut, code := relcat(t, "--catalog", cat, "reindex")
	if code != exitOK || !strings.Contains(out, "near-duplicate edges:") || !strings.Contains(out, "pairs within distance 31") {
		t.Fatalf("reindex: exit %d\n%s\n%s", code, out, errOut)
	}
	if after := dupes(); after != before {
		t.Errorf("dupes after reindex differ:\n%s\nbefore:\n%s", after, before)
	}
	out, _, _ = relcat(t, "--catalog", cat, "log")
	if !strings.Contains(out, " reindex ") {
		t.Errorf("log lacks the reindex:\n%s", out)
	}
	if out, errOut, code := relcat(t, "--catalog", cat, "verify"); code != exitOK {
		t.Errorf("verify after reindex: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCompactCommand: compact on a catalog with free pages says what it did (text and JSON), the
// file shrinks, and verify and the answers are as before.
func TestCompactCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	dupes, _, _ := relcat(t, "--catalog", cat, "dupes")
	// verify says how much is free, and names compact when a quarter or more is.
	defer func(b uint64) { compactHintBytes = b }(compactHintBytes)
	compactHintBytes = 1
	vout, _, code := relcat(t, "--catalog", cat, "--json", "verify", "--quick")
	var freeBefore, pagesBefore float64
	for _, r := range jsonLines(t, vout) {
		if r["type"] == "verify" {
			freeBefore, pagesBefore = r["free_pages"].(float64), r["pages"].(float64)
			if code != exitOK || r["page_size"] != float64(os.Getpagesize()) || freeBefore <= 0 || freeBefore >= r["pages"].(float64) {
				t.Errorf("verify before compact: exit %d, pages %v, free %v, page size %v", code, r["pages"], freeBefore, r["page_size"])
			}
		}
	}
	if freeBefore*4 < pagesBefore {
		t.Fatalf("the samples' catalog has %v free pages of %v: less than the quarter this test needs", freeBefore, pagesBefore)
	}
	if vout, _, _ := relcat(t, "--catalog", cat, "verify", "--quick"); !strings.Contains(vout, "`relcat compact` gives them back") {
		t.Errorf("verify names no compact (%v of %v pages free):\n%s", freeBefore, pagesBefore, vout)
	}
	before, err := os.Stat(filepath.Join(cat, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := relcat(t, "--catalog", cat, "compact")
	if code != exitOK || !strings.HasPrefix(out, "catalog.db: ") || !strings.Contains(out, "records in") {
		t.Fatalf("compact exit %d\n%s\n%s", code, out, errOut)
	}
	after, err := os.Stat(filepath.Join(cat, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() >= before.Size() {
		t.Errorf("catalog.db %d -> %d bytes: not smaller", before.Size(), after.Size())
	}
	if out, _, code := relcat(t, "--catalog", cat, "verify"); code != exitOK || strings.Contains(out, "relcat compact") {
		t.Errorf("verify after compact: exit %d\n%s", code, out)
	}
	if got, _, _ := relcat(t, "--catalog", cat, "dupes"); got != dupes {
		t.Errorf("dupes after compact:\n%s\nwant\n%s", got, dupes)
	}
	out, _, code = relcat(t, "--catalog", cat, "--json", "compact")
	recs := jsonLines(t, out)
	// A second compact starts from the file the first left.
	if code != exitOK || len(recs) != 1 || recs[0]["type"] != "compact" || recs[0]["bytes_before"] != float64(after.Size()) || recs[0]["bytes_after"] == nil {
		t.Errorf("compact --json: exit %d %v", code, recs)
	}
}

// TestWritersNeedACatalog: commands that only change or rewrite records refuse a directory without
// a catalog (naming it) and create nothing there; ingest starts one.
func TestWritersNeedACatalog(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "none")
	for _, args := range [][]string{{"compact"}, {"reindex"}, {"repair"}, {"affiliate", "alias", "is-sinai", "ISS"},
		{"batch", "rm", "0123456789abcdef", "--yes"}, {"watchlist", "rm", "partners"}} {
		_, errOut, code := relcat(t, append([]string{"--catalog", cat}, args...)...)
		if code != exitError || !strings.Contains(errOut, "no catalog at "+cat) {
			t.Errorf("%v on no catalog: exit %d %q", args, code, errOut)
		}
		if _, err := os.Stat(cat); !os.IsNotExist(err) {
			t.Fatalf("%v created %s: %v", args, cat, err)
		}
	}
}

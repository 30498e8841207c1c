package main

import (
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

package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ingestSampleCatalog ingests the demo releases into a new catalog and returns its directory.
func ingestSampleCatalog(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cat")
	if _, stderr, code := relcat(t, append([]string{"--catalog", dir, "ingest"}, sampleDirs(t)...)...); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	return dir
}

func TestExportCommand(t *testing.T) {
	cat := ingestSampleCatalog(t)
	out, stderr, code := relcat(t, "--catalog", cat, "export", "--format", "csv", "--affiliate", "is-sinai")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	if !strings.Contains(stderr, "PDQ variant: per row") {
		t.Errorf("stderr does not say the PDQ variant: %q", stderr)
	}
	// -o writes a new file and never overwrites one.
	file := filepath.Join(t.TempDir(), "list.txt")
	if _, stderr, code := relcat(t, "--catalog", cat, "export", "--format", "pdq-list", "-o", file); code != 0 || !strings.Contains(stderr, "PDQ variant: pdq-full") {
		t.Fatalf("export -o: exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(data), "pdq ") {
		t.Fatalf("pdq-list file: %q %v", data, err)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "export", "--format", "pdq-list", "-o", file); code != 1 || !strings.Contains(stderr, "does not overwrite") {
		t.Errorf("export over an existing file: exit %d: %s", code, stderr)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "export", "--format", "xml"); code != 2 || !strings.Contains(stderr, "pdq-csv") {
		t.Errorf("export --format xml: exit %d: %s", code, stderr)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "export", "--batch", "ffffffffffffffff"); code != 1 || !strings.Contains(stderr, "ffffffffffffffff") {
		t.Errorf("export --batch unknown: exit %d: %s", code, stderr)
	}
	out, stderr, code = relcat(t, "--catalog", cat, "export", "--format", "csv", "--make", "sony")
	if recs, err := csv.NewReader(strings.NewReader(out)).ReadAll(); code != 0 || err != nil || len(recs) != 2 || !strings.EqualFold(recs[1][12], "sony") {
		t.Errorf("export --make sony: exit %d, %q %s", code, out, stderr)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "export", "--box", "1,2"); code != 2 {
		t.Errorf("export --box 1,2: exit %d: %s", code, stderr)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "export", "--since", "yesterday"); code != 2 {
		t.Errorf("export --since yesterday: exit %d: %s", code, stderr)
	}
}

func TestWatchlistCommands(t *testing.T) {
	src := ingestSampleCatalog(t)
	list := filepath.Join(t.TempDir(), "partner.csv")
	if _, stderr, code := relcat(t, "--catalog", src, "export", "--format", "pdq-csv", "--affiliate", "is-sinai", "-o", list); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	cat := filepath.Join(t.TempDir(), "cat")
	out, stderr, code := relcat(t, "--catalog", cat, "watchlist", "import", "partner", list)
	if code != 0 || !strings.Contains(out, "pdq-csv") {
		t.Fatalf("import: exit %d %s %s", code, out, stderr)
	}
	// A bad list: exit 1, the line named, nothing imported.
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("pdq 00\npdq "+strings.Repeat("ab", 32)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "watchlist", "import", "bad", bad); code != 1 || !strings.Contains(stderr, "line 1") {
		t.Errorf("bad list: exit %d: %s", code, stderr)
	}
	out, _, _ = relcat(t, "--catalog", cat, "watchlist", "ls")
	if !strings.Contains(out, "partner") || strings.Contains(out, "bad") {
		t.Errorf("ls: %s", out)
	}
	// Ingest reports the hits (text), lookup reports them (JSON), hits lists them.
	dirs := sampleDirs(t)
	out, stderr, code = relcat(t, append([]string{"--catalog", cat, "ingest"}, dirs...)...)
	if code != 0 || !strings.Contains(out, "WATCHLIST partner:") || !strings.Contains(out, "hit a watchlist") {
		t.Fatalf("ingest: exit %d, no watchlist hit in\n%s%s", code, out, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dirs[1], "*.jpg"))
	out, _, code = relcat(t, append([]string{"--catalog", cat, "--json", "lookup"}, files...)...)
	hits := 0
	for _, r := range jsonLines(t, out) {
		if r["type"] == "watchlist_hit" {
			hits++
			if r["list"] != "partner" || r["kind"] != "pdq" || r["transform"] == nil || r["variant"] != "pdq-full" {
				t.Errorf("lookup hit %v", r)
			}
		}
	}
	if code != 0 || hits == 0 {
		t.Errorf("lookup: exit %d, %d watchlist hits", code, hits)
	}
	out, _, code = relcat(t, "--catalog", cat, "watchlist", "hits", "partner")
	if code != 0 || !strings.Contains(out, "image(s) hit watchlist partner") || !strings.Contains(out, "pdq d=") {
		t.Errorf("hits: exit %d: %s", code, out)
	}
	out, _, _ = relcat(t, "--catalog", cat, "--json", "watchlist", "show", "partner")
	if n := strings.Count(out, `"type":"entry"`); n < 5 {
		t.Errorf("show: %d entries", n)
	}
	if _, _, code := relcat(t, "--catalog", cat, "watchlist", "rm", "partner"); code != 0 {
		t.Errorf("rm: exit %d", code)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "watchlist", "hits", "partner"); code != 1 || !strings.Contains(stderr, "no watchlist") {
		t.Errorf("hits after rm: exit %d %s", code, stderr)
	}
	out, _, _ = relcat(t, "--catalog", cat, "log")
	if !strings.Contains(out, "watchlist-import") || !strings.Contains(out, "watchlist-rm") {
		t.Errorf("log lacks the watchlist entries:\n%s", out)
	}
}

func TestBundleCommands(t *testing.T) {
	dirs := sampleDirs(t)
	tmp := t.TempDir()
	// Two machines ingest into bundles, one catalog imports them.
	var parts []string
	for i, d := range dirs {
		p := filepath.Join(tmp, fmt.Sprintf("part%d.relcat", i))
		out, stderr, code := relcat(t, "ingest", "--bundle-out", p, d)
		if code != 0 || !strings.Contains(out, "batch") || !strings.Contains(out, "originals") {
			t.Fatalf("ingest --bundle-out: exit %d\n%s%s", code, out, stderr)
		}
		parts = append(parts, p)
	}
	if _, stderr, code := relcat(t, "ingest", "--bundle-out", parts[0], dirs[0]); code != 1 || !strings.Contains(stderr, "does not overwrite") {
		t.Errorf("--bundle-out over an existing file: exit %d %s", code, stderr)
	}
	cat := filepath.Join(tmp, "cat")
	out, stderr, code := relcat(t, append([]string{"--catalog", cat, "bundle", "import"}, parts...)...)
	if code != 0 || strings.Count(out, "imported") != len(parts) {
		t.Fatalf("bundle import: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = relcat(t, "--catalog", cat, "bundle", "import", parts[0])
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Errorf("second import: exit %d %s", code, out)
	}
	if out, _, code := relcat(t, "--catalog", cat, "verify"); code != 0 {
		t.Errorf("verify after imports: exit %d\n%s", code, out)
	}
	// Export one affiliate's batches and import them elsewhere.
	one := filepath.Join(tmp, "sinai.relcat")
	if _, stderr, code := relcat(t, "--catalog", cat, "bundle", "export", "--affiliate", "is-sinai", "-o", one); code != 0 {
		t.Fatalf("bundle export: %s", stderr)
	}
	other := filepath.Join(tmp, "other")
	out, _, code = relcat(t, "--catalog", other, "--json", "bundle", "import", one)
	if code != 0 || !strings.Contains(out, `"new_batches":2`) {
		t.Errorf("import of one affiliate: exit %d %s", code, out)
	}
	// Usage and refusals.
	if _, _, code := relcat(t, "--catalog", cat, "bundle", "export", "-o", filepath.Join(tmp, "x.relcat")); code != 2 {
		t.Errorf("bundle export without a selection: exit %d", code)
	}
	if _, _, code := relcat(t, "--catalog", cat, "bundle", "export", "--all"); code != 2 {
		t.Errorf("bundle export without -o: exit %d", code)
	}
	junk := filepath.Join(tmp, "junk.relcat")
	if err := os.WriteFile(junk, []byte("not a tar file at all, just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "bundle", "import", junk); code != 1 || !strings.Contains(stderr, "junk.relcat") || !strings.Contains(stderr, "not changed") {
		t.Errorf("junk bundle: exit %d %s", code, stderr)
	}
	if _, stderr, code := relcat(t, "--catalog", cat, "bundle", "import", "--max-size", "0.000001", parts[0]); code != 1 || !strings.Contains(stderr, "over the limit") {
		t.Errorf("bundle over --max-size: exit %d %s", code, stderr)
	}
}

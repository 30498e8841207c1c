package main

import (
	"encoding/csv"
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
	if _, stderr, code := relcat(t, "--catalog", cat, "export", "--since", "yesterday"); code != 2 {
		t.Errorf("export --since yesterday: exit %d: %s", code, stderr)
	}
}

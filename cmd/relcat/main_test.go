package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod")
		}
		dir = filepath.Dir(dir)
	}
}

// relcat runs one command line in-process and returns stdout, stderr and the exit code.
func relcat(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func sampleDirs(t testing.TB) []string {
	dirs, err := filepath.Glob(filepath.Join(repoRoot(t), "samples", "releases", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatal("no samples")
	}
	return dirs
}

// jsonLines parses every line of out as a JSON object and returns them.
func jsonLines(t testing.TB, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		if _, ok := m["type"].(string); !ok {
			t.Fatalf("JSON line without type: %q", line)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestQuickStartOnSamples(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...)
	if code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"2019-11-05-khorasan", "seen before", "identical", "first released 2019-11-02 by is-sinai", "mirrored left-right"} {
		if !strings.Contains(out, want) {
			t.Errorf("ingest summary lacks %q:\n%s", want, out)
		}
	}
	t.Log(out)
	// The batch view marks photos seen in an earlier release, identical (=) or near (~).
	var khorasan string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "2019-11-05-khorasan: batch ") {
			khorasan = strings.Fields(line)[2]
		}
	}
	show, _, code := relcat(t, "--catalog", cat, "show", khorasan)
	for _, want := range []string{"02-dog.jpg", "= 2019-11-02 is-sinai", "~ 2019-11-02 is-sinai (d=", "mirrored left-right", "rotated 90° clockwise"} {
		if code != exitOK || !strings.Contains(show, want) {
			t.Errorf("show %s (exit %d) lacks %q:\n%s", khorasan, code, want, show)
		}
	}
	// Re-running says nothing changed.
	out, _, code = relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...)
	if code != exitOK || strings.Count(out, "nothing changed") != len(sampleDirs(t)) {
		t.Errorf("re-ingest: exit %d\n%s", code, out)
	}
}

func TestJSONOutputsParse(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	out, _, code := relcat(t, append([]string{"--catalog", cat, "--json", "ingest"}, sampleDirs(t)...)...)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	recs := jsonLines(t, out)
	var files, summaries int
	var aSHA, aBatch string
	for _, r := range recs {
		switch r["type"] {
		case "file":
			files++
			for _, k := range []string{"path", "status", "sha256"} {
				if _, ok := r[k]; !ok {
					t.Errorf("file record lacks %s: %v", k, r)
				}
			}
			aSHA = r["sha256"].(string)
		case "summary":
			summaries++
			for _, k := range []string{"batch", "affiliate", "files", "new", "known", "rejected"} {
				if _, ok := r[k]; !ok {
					t.Errorf("summary lacks %s: %v", k, r)
				}
			}
			aBatch = r["batch"].(string)
		}
	}
	if summaries != len(sampleDirs(t)) || files < 30 {
		t.Errorf("%d summaries, %d files", summaries, files)
	}
	for _, args := range [][]string{
		{"batches"}, {"affiliates"}, {"show", aBatch}, {"show", aSHA}, {"show", aSHA[:10]},
		{"dupes"}, {"dupes", "--exact"}, {"dupes", "--across-affiliates"}, {"dupes", "--since", "2020-01-01"},
		{"history", aSHA}, {"log"},
		{"lookup", filepath.Join(sampleDirs(t)[1], "07-ship.jpg")},
		{"hash", filepath.Join(sampleDirs(t)[0], "01-receipt.jpg")},
	} {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat, "--json"}, args...)...)
		if code != exitOK {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
			continue
		}
		if len(jsonLines(t, out)) == 0 {
			t.Errorf("%v: no JSON output", args)
		}
	}
	// show of an image follows the contract.
	out, _, _ = relcat(t, "--catalog", cat, "--json", "show", aSHA)
	img := jsonLines(t, out)[0]
	for _, k := range []string{"sha256", "md5", "size", "format", "width", "height", "exif", "sightings"} {
		if _, ok := img[k]; !ok {
			t.Errorf("image record lacks %s", k)
		}
	}
	// lookup of a mirrored copy: near match with the transform.
	out, _, _ = relcat(t, "--catalog", cat, "--json", "lookup", filepath.Join(sampleDirs(t)[1], "07-ship.jpg"))
	lk := jsonLines(t, out)[0]
	if ex := lk["exact"].([]any); len(ex) != 1 {
		t.Errorf("lookup of an ingested file: exact %v", ex)
	}
}

func TestLookupNearMatch(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if _, _, code := relcat(t, "--catalog", cat, "ingest", sampleDirs(t)[0]); code != exitOK {
		t.Fatal("ingest failed")
	}
	out, errOut, code := relcat(t, "--catalog", cat, "--json", "lookup", filepath.Join(sampleDirs(t)[1], "07-ship.jpg"))
	if code != exitOK {
		t.Fatalf("exit %d %s", code, errOut)
	}
	lk := jsonLines(t, out)[0]
	near := lk["near"].([]any)
	if len(lk["exact"].([]any)) != 0 || len(near) == 0 {
		t.Fatalf("want a near match only: %v", lk)
	}
	m := near[0].(map[string]any)
	if m["transform"] != "flipy" || m["distance"].(float64) > 31 {
		t.Errorf("mirrored ship: %v", m)
	}
	out, _, _ = relcat(t, "--catalog", cat, "lookup", filepath.Join(sampleDirs(t)[1], "07-ship.jpg"))
	if !strings.Contains(out, "mirrored left-right") {
		t.Errorf("text lookup does not say mirrored left-right:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if _, _, code := relcat(t, "--catalog", cat, "ingest", "--bogus"); code != exitUsage {
		t.Errorf("unknown flag: exit %d", code)
	}
	// No affiliate anywhere: usage error naming the fix.
	dir := t.TempDir()
	data, _ := os.ReadFile(filepath.Join(sampleDirs(t)[0], "01-receipt.jpg"))
	os.WriteFile(filepath.Join(dir, "a.jpg"), data, 0o644)
	_, errOut, code := relcat(t, "--catalog", cat, "ingest", dir)
	if code != exitUsage || !strings.Contains(errOut, "--affiliate") {
		t.Errorf("no affiliate: exit %d, %q", code, errOut)
	}
	// A rejected file makes the ingest partial.
	os.WriteFile(filepath.Join(dir, "notes.jpg"), []byte("just text\n"), 0o644)
	out, _, code := relcat(t, "--catalog", cat, "ingest", dir, "--affiliate", "is-test", "--released", "2020-02-02")
	if code != exitPartial || !strings.Contains(out, "rejected  notes.jpg") {
		t.Errorf("partial: exit %d\n%s", code, out)
	}
	// Not found is an error.
	if _, _, code := relcat(t, "--catalog", cat, "show", "ffffffff"); code != exitError {
		t.Errorf("show unknown: exit %d", code)
	}
	// Lock contention: exit 4 within seconds.
	c, err := catalog.Open(cat, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, errOut, code = relcat(t, "--catalog", cat, "ingest", dir, "--affiliate", "is-test", "--released", "2020-02-02")
	if code != exitLocked || !strings.Contains(errOut, "in use by another relcat process") {
		t.Errorf("locked: exit %d %q", code, errOut)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("locked catalog took %s to report", d)
	}
}

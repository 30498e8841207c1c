package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code := relcat(t, "--catalog", cat, "--json", "batches")
	if code != exitOK {
		t.Fatal(code)
	}
	var khorasan string
	for _, r := range jsonLines(t, out) {
		if r["folder"] == "2019-11-05-khorasan" {
			khorasan = r["id"].(string)
		}
	}
	file := filepath.Join(t.TempDir(), "r.html")
	if _, errOut, code := relcat(t, "--catalog", cat, "report", "--batch", khorasan[:6], "-o", file); code != exitOK {
		t.Fatalf("report exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"07-ship.jpg", "seen before: identical", "data:image/jpeg;base64,", khorasan} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, args := range [][]string{
		{"report", "--batch", khorasan},                           // no -o
		{"report", "--batch", khorasan, "--timeline", "-o", file}, // two kinds
		{"report", "-o", file},                                    // none
		{"report", "--batch", khorasan, "--exact", "-o", file},    // a dupes filter without --dupes
		{"report", "--dupes", "--max-distance", "99", "-o", file}, // bad threshold
	} {
		if _, errOut, code := relcat(t, append([]string{"--catalog", cat}, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
	}
	if _, errOut, code := relcat(t, "--catalog", cat, "report", "--batch", "ffffffffffffffff", "-o", filepath.Join(t.TempDir(), "x.html")); code != exitError || !strings.Contains(errOut, "no batch or image") {
		t.Errorf("unknown batch: exit %d: %s", code, errOut)
	}
}

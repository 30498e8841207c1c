package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyCommand: `relcat verify` exits 0 and says ok on a fresh catalog, exits 1 naming the
// damaged thumbnail (text and JSON), --quick skips re-hashing but still reports a missing file.
func TestVerifyCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	folder := filepath.Join(repoRoot(t), "samples", "releases", "2020-03-09-sinai")
	if out, errOut, code := relcat(t, "--catalog", cat, "ingest", folder); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := relcat(t, "--catalog", cat, "verify")
	if code != exitOK || !strings.HasSuffix(out, ": ok\n") || strings.Contains(out, "PROBLEM") || errOut != "" {
		t.Fatalf("verify of a fresh catalog: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out, "checked 8 images, 1 batches, 8 sightings, 1 log entries, 8 originals and 8 thumbnails re-hashed") {
		t.Errorf("verify summary: %q", out)
	}
	out, _, code = relcat(t, "--catalog", cat, "--json", "verify")
	recs := jsonLines(t, out)
	if code != exitOK || len(recs) != 1 || recs[0]["type"] != "verify" || len(recs[0]["problems"].([]any)) != 0 {
		t.Errorf("verify --json of a fresh catalog: exit %d\n%s", code, out)
	}

	// Damage one thumbnail.
	thumbs, _ := filepath.Glob(filepath.Join(cat, "thumbs", "*", "*.jpg"))
	if len(thumbs) != 8 {
		t.Fatalf("%d thumbnails", len(thumbs))
	}
	thumb := thumbs[0]
	sha := strings.TrimSuffix(filepath.Base(thumb), ".jpg")
	rel := "thumbs/" + filepath.Base(filepath.Dir(thumb)) + "/" + filepath.Base(thumb)
	data, err := os.ReadFile(thumb)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x80
	if err := os.Chmod(thumb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(thumb, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = relcat(t, "--catalog", cat, "verify")
	wantLine := "PROBLEM thumbnail: " + sha + ": " + rel + ": content does not match its recorded SHA-256 (altered or damaged) (fix: `relcat repair` makes it again from the original)\n"
	if code != exitError || !strings.HasPrefix(out, wantLine) || !strings.HasSuffix(out, ": 1 problem(s)\n") {
		t.Errorf("verify of a damaged thumbnail: exit %d, want %d and %q\nstdout: %s", code, exitError, wantLine, out)
	}
	if errOut != "relcat: verify found problems: 1\n" {
		t.Errorf("stderr: %q", errOut)
	}
	out, _, code = relcat(t, "--catalog", cat, "--json", "verify")
	recs = jsonLines(t, out)
	if code != exitError || len(recs) != 2 || recs[0]["type"] != "problem" || recs[0]["kind"] != "thumbnail" ||
		recs[0]["subject"] != sha || recs[1]["type"] != "verify" {
		t.Errorf("verify --json of a damaged thumbnail: exit %d\n%s", code, out)
	}
	// --quick does not re-hash: the altered thumbnail passes; a missing one does not.
	out, _, code = relcat(t, "--catalog", cat, "verify", "--quick")
	if code != exitOK || !strings.Contains(out, "0 originals and 0 thumbnails re-hashed: ok") {
		t.Errorf("verify --quick with an altered thumbnail: exit %d\n%s", code, out)
	}
	if err := os.Remove(thumb); err != nil {
		t.Fatal(err)
	}
	out, _, code = relcat(t, "--catalog", cat, "verify", "--quick")
	wantLine = "PROBLEM thumbnail: " + sha + ": " + rel + ": no such file or directory (fix: `relcat repair` makes it again from the original)\n"
	if code != exitError || !strings.HasPrefix(out, wantLine) {
		t.Errorf("verify --quick with a missing thumbnail: exit %d, want %d and %q\n%s", code, exitError, wantLine, out)
	}
	// A catalog that does not exist is an error, not "ok".
	if _, errOut, code := relcat(t, "--catalog", filepath.Join(t.TempDir(), "none"), "verify"); code != exitError || !strings.Contains(errOut, "no catalog") {
		t.Errorf("verify of no catalog: exit %d %q", code, errOut)
	}
}

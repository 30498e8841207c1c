package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSearchCommand: search on the demo releases, text and JSON from the same values, and the
// errors: an unknown affiliate (exit 1, named), no filter or a malformed box (exit 2).
func TestSearchCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code := relcat(t, "--catalog", cat, "search", "--low-quality")
	if code != exitOK || !strings.Contains(out, "01-sunrise.jpg") || !strings.Contains(out, "1 image matches") {
		t.Errorf("--low-quality: exit %d\n%s", code, out)
	}
	// GPS in northern Italy: the receipt (Rome is south of the box), the parking photo and its WebP.
	out, _, code = relcat(t, "--catalog", cat, "--json", "search", "--box", "44,5,47,12")
	recs := jsonLines(t, out)
	var names []string
	for _, r := range recs {
		if r["type"] == "search_hit" {
			names = append(names, r["first_seen"].(map[string]any)["name"].(string))
		}
	}
	if code != exitOK || strings.Join(names, ",") != "04-parking.jpg,06-parking.webp" || recs[len(recs)-1]["total"] != float64(2) {
		t.Errorf("--box: exit %d %v\n%s", code, names, out)
	}
	out, _, code = relcat(t, "--catalog", cat, "search", "--affiliate", "is-khorasan", "--stripped", "--limit", "3")
	if code != exitOK || !strings.Contains(out, "7 images match (the first 3 shown; --limit 0 shows all)") {
		t.Errorf("--affiliate --stripped --limit: exit %d\n%s", code, out)
	}
	if _, errOut, code := relcat(t, "--catalog", cat, "search", "--affiliate", "is-atlantis"); code != exitError || !strings.Contains(errOut, `unknown affiliate "is-atlantis"`) {
		t.Errorf("unknown affiliate: exit %d %s", code, errOut)
	}
	for _, args := range [][]string{{}, {"--box", "1,2,3"}, {"--near", "1,2,0"}, {"--taken-from", "yesterday"}} {
		if _, errOut, code := relcat(t, append([]string{"--catalog", cat, "search"}, args...)...); code != exitUsage {
			t.Errorf("search %v: exit %d, want 2: %s", args, code, errOut)
		}
	}
}

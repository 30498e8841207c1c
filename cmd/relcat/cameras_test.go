package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCamerasCommandAndLead: `cameras` lists the body shared by two affiliates first, in text and
// JSON; the ingest summary of the second release says "shared camera body" on its own line and in a
// camera_lead record.
func TestCamerasCommandAndLead(t *testing.T) {
	root := t.TempDir()
	cat := filepath.Join(root, "cat")
	a := release(t, root, "a", "is-sinai", "2019-11-02", map[string][]byte{"01.jpg": cameraPhoto(1, "Canon", "Canon EOS 7D", "0480110523", "")})
	b := release(t, root, "b", "is-yemen", "2019-11-04", map[string][]byte{
		"01.jpg": cameraPhoto(2, "Canon", "Canon EOS 7D", "0480110523", ""), "02.jpg": cameraPhoto(3, "Sony", "DSC-HX5V", "77", "")})
	if out, errOut, code := relcat(t, "--catalog", cat, "ingest", a); code != exitOK || strings.Contains(out, "lead:") {
		t.Fatalf("ingest a: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code := relcat(t, "--catalog", cat, "ingest", b)
	if code != exitOK || !strings.Contains(out, "  lead: shared camera body Canon EOS 7D serial 0480110523 in 01.jpg; also in 2019-11-02 is-sinai\n") {
		t.Errorf("ingest b: exit %d\n%s", code, out)
	}
	text, _, code := relcat(t, "--catalog", cat, "cameras")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if code != exitOK || len(lines) != 3 || !strings.Contains(lines[1], "0480110523") || !strings.Contains(lines[1], "is-sinai, is-yemen") {
		t.Errorf("cameras: exit %d\n%s", code, text)
	}
	js, _, _ := relcat(t, "--catalog", cat, "--json", "cameras", "--shared")
	recs := jsonLines(t, js)
	if len(recs) != 1 || recs[0]["type"] != "camera" || recs[0]["serial"] != "0480110523" || recs[0]["images"] != float64(2) {
		t.Errorf("cameras --json --shared: %v", recs)
	}
	if _, errOut, code := relcat(t, "--catalog", cat, "cameras", "--affiliate", "nobody"); code != exitError || !strings.Contains(errOut, `unknown affiliate "nobody"`) {
		t.Errorf("unknown affiliate: exit %d %s", code, errOut)
	}
	js, _, _ = relcat(t, "--catalog", cat, "--json", "ingest", b)
	found := false
	for _, r := range jsonLines(t, js) {
		if r["type"] == "camera_lead" {
			found = true
		}
	}
	if !found {
		t.Errorf("no camera_lead record on re-ingest:\n%s", js)
	}
}

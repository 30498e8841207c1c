package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestShowForensicCues: show prints the cues in text and JSON, from the same values.
func TestShowForensicCues(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	railway := filepath.Join(repoRoot(t), "samples", "releases", "2019-11-02-sinai", "07-railway.jpg")
	out, _, code := relcat(t, "--catalog", cat, "--json", "lookup", railway)
	if code != exitOK {
		t.Fatalf("lookup exit %d", code)
	}
	sha := jsonLines(t, out)[0]["sha256"].(string)
	text, _, code := relcat(t, "--catalog", cat, "show", sha)
	for _, want := range []string{"cue       resized: EXIF says 4288x2848, the pixels are 858x570", "cue       edited: software \"Adobe Bridge CS5\"", "cue       gps_implausible: latitude is not a number"} {
		if code != exitOK || !strings.Contains(text, want) {
			t.Errorf("show lacks %q:\n%s", want, text)
		}
	}
	js, _, _ := relcat(t, "--catalog", cat, "--json", "show", sha)
	rec := jsonLines(t, js)[0]
	f, ok := rec["forensics"].(map[string]any)
	if !ok {
		t.Fatalf("image record lacks forensics: %v", rec)
	}
	var codes []string
	for _, fl := range f["flags"].([]any) {
		codes = append(codes, fl.(map[string]any)["code"].(string))
	}
	if strings.Join(codes, ",") != "resized,edited,gps_implausible" || f["taken"] != "2011-03-12T15:36:11" || f["zone"] != "unknown" {
		t.Errorf("forensics %v", f)
	}
}

package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// regionCropFile writes the first sample release's ship cropped to its centred 80 % (a JPEG) and
// returns its path.
func regionCropFile(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sampleDirs(t)[0], "09-ship.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	w, h := b.Dx()*80/100, b.Dy()*80/100
	x0, y0 := b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2
	crop := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(x0, y0, x0+w, y0+h))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, crop, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "repost")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ship-crop.jpg")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegionMatchOutputs (issue 10 item 2): a crop found through region hashes is reported by
// lookup, ingest, show, history and dupes in text (the words, the regions, the region pair's
// distance) and in --json (the additive `region` object), the same distance everywhere.
func TestRegionMatchOutputs(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if _, errOut, code := relcat(t, "--catalog", cat, "ingest", sampleDirs(t)[0]); code != exitOK {
		t.Fatalf("ingest: %d %s", code, errOut)
	}
	crop := regionCropFile(t)
	out, errOut, code := relcat(t, "--catalog", cat, "--json", "lookup", crop)
	if code != exitOK {
		t.Fatalf("lookup: %d %s", code, errOut)
	}
	lk := jsonLines(t, out)[0]
	near, _ := lk["near"].([]any)
	if len(near) == 0 {
		t.Fatalf("the 80 %% crop is not found: %s", out)
	}
	m := near[0].(map[string]any)
	region, ok := m["region"].(map[string]any)
	if !ok || !strings.Contains(region["description"].(string), "cropped") || region["query_region"] != "whole" {
		t.Fatalf("lookup match %v: want a region object saying cropped, from the whole photo", m)
	}
	dist := m["distance"].(float64)
	text, _, _ := relcat(t, "--catalog", cat, "lookup", crop)
	desc := region["description"].(string)
	if !strings.Contains(text, desc) || !strings.Contains(text, "whole ~ "+region["match_region"].(string)) {
		t.Errorf("text lookup lacks %q and its regions:\n%s", desc, text)
	}
	// Ingest it as a repost: the summary, show, history and dupes say the same.
	out, errOut, code = relcat(t, "--catalog", cat, "--json", "ingest", "--affiliate", "reposter", "--released", "2020-01-01", filepath.Dir(crop))
	if code != exitOK {
		t.Fatalf("ingest repost: %d %s", code, errOut)
	}
	var sha string
	for _, r := range jsonLines(t, out) {
		if r["type"] == "file" {
			sha, _ = r["sha256"].(string)
			o, _ := r["origin"].(map[string]any)
			if o == nil || o["region"] == nil || o["distance"].(float64) != dist {
				t.Errorf("ingest summary origin %v: want the region match at d=%v", o, dist)
			}
		}
	}
	if sha == "" {
		t.Fatal("no file record")
	}
	for _, args := range [][]string{{"show", sha}, {"history", sha}} {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: %d %s", args, code, errOut)
		}
		if !strings.Contains(out, desc) {
			t.Errorf("%v does not say %q:\n%s", args, desc, out)
		}
	}
	out, _, code = relcat(t, "--catalog", cat, "dupes")
	if code != exitOK || !strings.Contains(out, desc) {
		t.Errorf("dupes (exit %d) does not say %q:\n%s", code, desc, out)
	}
	out, _, _ = relcat(t, "--catalog", cat, "--json", "dupes")
	if !strings.Contains(out, `"region":{"query_region"`) {
		t.Errorf("dupes --json has no region object:\n%s", out)
	}
}

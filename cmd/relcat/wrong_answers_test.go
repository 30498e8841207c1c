package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMaxDistanceZero: --max-distance 0 is a threshold like any other (only hashes identical under
// some rotation or mirror), not "the default" (issue 12 item 15). The samples hold a re-encoded copy
// at d=0 and edited copies at d=4..14.
func TestMaxDistanceZero(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	dirs := sampleDirs(t)[:2] // 2019-11-02-sinai, 2019-11-05-khorasan
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, dirs...)...); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := relcat(t, "--catalog", cat, "--json", "dupes", "--max-distance", "0")
	if code != exitOK {
		t.Fatalf("dupes: exit %d %s", code, errOut)
	}
	zeroNear := 0
	for _, r := range jsonLines(t, out) {
		for i, m := range r["members"].([]any) {
			d := m.(map[string]any)["distance"].(float64)
			if d != 0 {
				t.Errorf("dupes --max-distance 0 lists a member at d=%v", d)
			}
			if i > 0 {
				zeroNear++
			}
		}
	}
	if zeroNear == 0 {
		t.Errorf("dupes --max-distance 0 lost the d=0 copies:\n%s", out)
	}
	// With the default threshold the same catalog has members further away: the flag made the difference.
	out, _, _ = relcat(t, "--catalog", cat, "--json", "dupes")
	far := 0
	for _, r := range jsonLines(t, out) {
		for _, m := range r["members"].([]any) {
			if m.(map[string]any)["distance"].(float64) > 0 {
				far++
			}
		}
	}
	if far == 0 {
		t.Fatalf("default dupes has no member at d>0: the test proves nothing")
	}
	// lookup of the mirrored ship (d=22): a near match by default, none at 0.
	ship := filepath.Join(repoRoot(t), "samples", "releases", "2020-03-09-sinai", "08-ship.jpg")
	for _, tc := range []struct {
		args []string
		near bool
	}{{nil, true}, {[]string{"--max-distance", "0"}, false}} {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat, "--json", "lookup", ship}, tc.args...)...)
		if code != exitOK {
			t.Fatalf("lookup %v: exit %d %s", tc.args, code, errOut)
		}
		lk := jsonLines(t, out)[0]
		for _, m := range lk["near"].([]any) {
			if d := m.(map[string]any)["distance"].(float64); !tc.near && d != 0 {
				t.Errorf("lookup %v: near match at d=%v", tc.args, d)
			}
		}
		if tc.near && len(lk["near"].([]any)) == 0 && len(lk["exact"].([]any)) == 0 {
			t.Errorf("lookup %v of the ship found nothing: the test proves nothing", tc.args)
		}
	}
	// history of a sinai photo with edited copies in khorasan: near sightings only at d=0.
	out, _, _ = relcat(t, "--catalog", cat, "--json", "dupes")
	var withFar string
	for _, r := range jsonLines(t, out) {
		ms := r["members"].([]any)
		for _, m := range ms[1:] {
			if m.(map[string]any)["distance"].(float64) > 0 {
				withFar = ms[0].(map[string]any)["sha256"].(string)
			}
		}
	}
	out, errOut, code = relcat(t, "--catalog", cat, "--json", "history", withFar, "--max-distance", "0")
	if code != exitOK {
		t.Fatalf("history: exit %d %s", code, errOut)
	}
	h := jsonLines(t, out)[0]
	for _, m := range h["near"].([]any) {
		if d := m.(map[string]any)["distance"].(float64); d != 0 {
			t.Errorf("history --max-distance 0 lists a near copy at d=%v", d)
		}
	}
}

// --released 0001-01-01 was stored and shown as an empty date (it is Go's zero time): release years
// before 1900 are refused as typos, with a usage error naming the range (issue 12 item 16).
func TestReleasedYearOneRefused(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	for _, d := range []string{"0001-01-01", "0001-01-01T00:00:00Z", "1899-12-31"} {
		_, errOut, code := relcat(t, "--catalog", cat, "ingest", sampleDirs(t)[0], "--released", d)
		if code != exitUsage || !strings.Contains(errOut, "from 1900 to 9999") {
			t.Errorf("--released %s: exit %d: %s", d, code, errOut)
		}
	}
}

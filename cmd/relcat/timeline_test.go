package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTimelineCommand: the demo releases in time order with their sources, filters, and an unknown
// affiliate (exit 1).
func TestTimelineCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code := relcat(t, "--catalog", cat, "timeline")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 6 || !strings.HasPrefix(lines[1], "2019-11-02") ||
		!strings.Contains(lines[2], "2019-11-02 is-sinai (3 identical, 6 near)") ||
		!strings.Contains(lines[4], "2019-11-05 is-khorasan (1 identical); 2020-01-14 is-west-africa (1 near)") {
		t.Errorf("timeline: exit %d\n%s", code, out)
	}
	out, _, code = relcat(t, "--catalog", cat, "--json", "timeline", "--affiliate", "is-sinai", "--since", "2019-11-03")
	recs := jsonLines(t, out)
	if code != exitOK || len(recs) != 1 || recs[0]["type"] != "timeline_release" || recs[0]["new"] != float64(3) {
		t.Errorf("timeline --affiliate --since: exit %d %v", code, recs)
	}
	if _, errOut, code := relcat(t, "--catalog", cat, "timeline", "--affiliate", "is-atlantis"); code != exitError || !strings.Contains(errOut, "unknown affiliate") {
		t.Errorf("unknown affiliate: exit %d %s", code, errOut)
	}
	// --limit: the first releases, the same rows as the whole timeline's (the columns as wide as
	// what is printed).
	lim, _, code := relcat(t, "--catalog", cat, "timeline", "--limit", "2")
	limLines := strings.Split(strings.TrimSpace(lim), "\n")
	if code != exitOK || len(limLines) != 3 {
		t.Fatalf("timeline --limit 2: exit %d\n%s", code, lim)
	}
	for i, l := range limLines {
		if strings.Join(strings.Fields(l), " ") != strings.Join(strings.Fields(lines[i]), " ") {
			t.Errorf("timeline --limit 2, line %d: %q, the whole timeline has %q", i, l, lines[i])
		}
	}
	if _, _, code := relcat(t, "--catalog", cat, "timeline", "--limit", "-1"); code != exitUsage {
		t.Errorf("--limit -1: exit %d", code)
	}
	if _, _, code := relcat(t, "--catalog", cat, "timeline", "--since", "soon"); code != exitUsage {
		t.Errorf("bad --since: exit %d", code)
	}
}

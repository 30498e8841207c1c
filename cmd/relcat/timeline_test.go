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
	if _, _, code := relcat(t, "--catalog", cat, "timeline", "--since", "soon"); code != exitUsage {
		t.Errorf("bad --since: exit %d", code)
	}
}

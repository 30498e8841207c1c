package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAffiliateAndBatchCommands: alias, rename, merge and show of affiliates, batch edit and rm,
// each logged, verify clean after each, unknown affiliates in filters an error (exit 1).
func TestAffiliateAndBatchCommands(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	verify := func(step string) {
		t.Helper()
		if out, errOut, code := relcat(t, "--catalog", cat, "verify"); code != exitOK {
			t.Errorf("verify after %s: exit %d\n%s%s", step, code, out, errOut)
		}
	}
	out, errOut, code := relcat(t, "--catalog", cat, "affiliate", "alias", "is-khorasan", "ISKP", "Wilayat Khurasan", "--operator", "ana")
	if code != exitOK || !strings.Contains(out, "aliases   ISKP, Wilayat Khurasan") {
		t.Errorf("alias: exit %d\n%s%s", code, out, errOut)
	}
	verify("alias")
	out, _, code = relcat(t, "--catalog", cat, "--json", "export", "--affiliate", "ISKP")
	if code != exitOK || !strings.Contains(out, "is-khorasan") || !strings.Contains(out, "12-night") {
		t.Errorf("export --affiliate ISKP: exit %d\n%.400s", code, out)
	}
	out, _, code = relcat(t, "--catalog", cat, "batches", "--affiliate", "iskp")
	if code != exitOK || !strings.Contains(out, "is-khorasan") || strings.Contains(out, "is-sinai") {
		t.Errorf("batches --affiliate iskp: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"batches", "--affiliate", "is-atlantis"}, {"dupes", "--affiliate", "is-atlantis"}, {"affiliate", "show", "is-atlantis"}, {"export", "--affiliate", "is-atlantis"}, {"timeline", "--affiliate", "is-atlantis"}} {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat}, args...)...)
		if code != exitError || !strings.Contains(errOut, `unknown affiliate "is-atlantis"`) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if _, _, code := relcat(t, "--catalog", cat, "affiliate", "rename", "ISKP", "is-khurasan"); code != exitOK {
		t.Errorf("rename: exit %d", code)
	}
	if _, errOut, code := relcat(t, "--catalog", cat, "affiliate", "merge", "is-west-africa", "is-sinai"); code != exitOK {
		t.Errorf("merge: exit %d %s", code, errOut)
	}
	verify("rename and merge")
	out, _, code = relcat(t, "--catalog", cat, "affiliate", "show", "is-west-africa")
	if code != exitOK || !strings.Contains(out, "affiliate is-sinai") || !strings.Contains(out, "releases  3") || !strings.Contains(out, "affiliate-merge") {
		t.Errorf("show merged: exit %d\n%s", code, out)
	}
	// Re-ingesting everything after rename and merge changes nothing.
	out, _, code = relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...)
	if code != exitOK || strings.Count(out, "nothing changed") != len(sampleDirs(t)) {
		t.Errorf("re-ingest after rename/merge: exit %d\n%s", code, out)
	}
	js, _, _ := relcat(t, "--catalog", cat, "--json", "batches", "--affiliate", "is-khorasan")
	recs := jsonLines(t, js)
	if len(recs) != 1 {
		t.Fatalf("batches of the renamed affiliate: %v", recs)
	}
	id := recs[0]["id"].(string)
	if _, errOut, code := relcat(t, "--catalog", cat, "batch", "edit", id); code != exitUsage {
		t.Errorf("edit without fields: exit %d %s", code, errOut)
	}
	out, _, code = relcat(t, "--catalog", cat, "batch", "edit", id[:8], "--released", "2019-11-06")
	if code != exitOK || !strings.Contains(out, "released 2019-11-06") {
		t.Errorf("edit: exit %d\n%s", code, out)
	}
	logOut, _, _ := relcat(t, "--catalog", cat, "--json", "log")
	if !strings.Contains(logOut, `released: \"2019-11-05\" -\u003e \"2019-11-06\"`) {
		t.Errorf("log lacks the old value:\n%s", logOut)
	}
	verify("edit")
	if _, errOut, code := relcat(t, "--catalog", cat, "batch", "rm", id); code != exitUsage || !strings.Contains(errOut, "--yes") {
		t.Errorf("rm without --yes: exit %d %s", code, errOut)
	}
	out, _, code = relcat(t, "--catalog", cat, "batch", "rm", id, "--yes")
	// The khorasan batch: 12 sightings; kept are its three byte-identical reposts of is-sinai photos,
	// its resized church (west-africa shows the same bytes) and its watermarked parking (reposted by
	// is-sinai); the other 7 go.
	if code != exitOK || !strings.Contains(out, "12 sightings; 7 images removed, 5 kept") {
		t.Errorf("rm: exit %d\n%s", code, out)
	}
	verify("rm")
}

package main

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7 items 5 and 17: a bad command line is refused with a message naming the fix, before any
// catalog or batch is created.
func TestIngestRefusesBadArgumentsFirst(t *testing.T) {
	root := t.TempDir()
	cat := filepath.Join(root, "cat")
	empty := filepath.Join(root, "empty")
	if err := os.MkdirAll(filepath.Join(empty, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(empty, ".hidden.jpg"), []byte("x"), 0o644)
	typo := filepath.Join(root, "typo")
	os.MkdirAll(typo, 0o755)
	os.WriteFile(filepath.Join(typo, "release.json"), []byte(`{"affiliate":"is-x","releasd":"2019-01-01"}`), 0o644)
	file := filepath.Join(repoRoot(t), "samples", "releases", filepath.FromSlash(sampleDog))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{empty, "--affiliate", "is-x", "--released", "2020-01-01"}, "no image files in " + empty},
		{[]string{empty, "--affiliate", "is-x", "--released", "2020-01-01"}, "--recursive"},
		{[]string{file, "--affiliate", "is-x", "--released", "2020-01-01"}, "ingest takes release folders"},
		{[]string{typo}, `unknown field "releasd"`},
	} {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("ingest %v: exit %d, stderr %q, want exit 2 saying %q\n%s", tc.args, code, errOut, tc.want, out)
		}
		if strings.Count(errOut, "bad argument") > 1 || strings.Contains(errOut, "lstat") {
			t.Errorf("ingest %v: %q", tc.args, errOut)
		}
		if _, err := os.Stat(cat); err == nil {
			t.Fatalf("ingest %v created the catalog", tc.args)
		}
	}
	// --max-pixels below 1 MP is said as given, not "0 MP".
	out, _, code := relcat(t, "--catalog", cat, "ingest", "--max-pixels", "0.5", filepath.Join(repoRoot(t), "samples", "releases", "2020-03-09-sinai"))
	if code != exitPartial || !strings.Contains(out, "over the limit of 0.5 MP") {
		t.Errorf("--max-pixels 0.5: exit %d\n%s", code, out)
	}
	// history and show given a file name the command to use.
	for _, cmd := range []string{"history", "show"} {
		_, errOut, code := relcat(t, "--catalog", cat, cmd, file)
		if code != exitUsage || !strings.Contains(errOut, "for a file, use relcat lookup") {
			t.Errorf("%s FILE: exit %d %q", cmd, code, errOut)
		}
	}
	// lookup --json of a missing file: an error record, the other files go on, exit 3.
	out, _, code = relcat(t, "--catalog", cat, "--json", "lookup", filepath.Join(root, "missing.jpg"), file)
	recs := jsonLines(t, out)
	if code != exitPartial || len(recs) != 2 || recs[0]["type"] != "error" || !strings.Contains(recs[0]["error"].(string), "missing.jpg") || recs[1]["type"] != "lookup" {
		t.Errorf("lookup --json missing: exit %d\n%s", code, out)
	}
}

// Issue 7 item 12: lookup by SHA-256, MD5 or PDQ hex; show by MD5.
func TestLookupByHash(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)[:2]...)...); code != exitOK {
		t.Fatalf("ingest: %d\n%s%s", code, out, errOut)
	}
	ship := filepath.Join(repoRoot(t), "samples", "releases", filepath.FromSlash(sampleShip))
	mirror := filepath.Join(repoRoot(t), "samples", "releases", filepath.FromSlash(sampleShipMirror))
	data, _ := os.ReadFile(ship)
	sha := sha256.Sum256(data)
	m5 := md5.Sum(data)
	shaHex, md5Hex := hex.EncodeToString(sha[:]), hex.EncodeToString(m5[:])
	// The file's own answer, to compare with.
	out, _, _ := relcat(t, "--catalog", cat, "--json", "lookup", ship)
	byFile := jsonLines(t, out)[0]
	for _, ref := range []string{shaHex, "sha256:" + shaHex, md5Hex, "md5:" + strings.ToUpper(md5Hex)} {
		out, errOut, code := relcat(t, "--catalog", cat, "--json", "lookup", ref)
		if code != exitOK {
			t.Fatalf("lookup %s: exit %d %s", ref, code, errOut)
		}
		r := jsonLines(t, out)[0]
		if r["sha256"] != shaHex || len(r["exact"].([]any)) != len(byFile["exact"].([]any)) ||
			len(r["near"].([]any)) != len(byFile["near"].([]any)) || originKey(t, r["origin"].(map[string]any)["sighting"]) != originKey(t, byFile["origin"].(map[string]any)["sighting"]) {
			t.Errorf("lookup %s:\n%v\nlookup of the file:\n%v", ref, r, byFile)
		}
	}
	// A PDQ hash: the mirrored copy's reference hash, as a partner would send it.
	out, _, code := relcat(t, "hash", "--format", "pdq-csv", mirror)
	if code != exitOK {
		t.Fatal(out)
	}
	pdqHex := strings.Split(out, ",")[0]
	for _, ref := range []string{"pdq:" + pdqHex, pdqHex} {
		out, errOut, code := relcat(t, "--catalog", cat, "--json", "lookup", ref)
		if code != exitOK {
			t.Fatalf("lookup %s: exit %d %s", ref, code, errOut)
		}
		r := jsonLines(t, out)[0]
		near, _ := r["near"].([]any)
		if len(near) == 0 || r["origin"] == nil || r["pdq"] != pdqHex {
			t.Errorf("lookup %s: %v", ref, r)
		}
	}
	// An unknown hash: not in the catalog, not an error.
	out, _, code = relcat(t, "--catalog", cat, "lookup", "md5:"+strings.Repeat("0", 32))
	if code != exitOK || !strings.Contains(out, "not in the catalog") {
		t.Errorf("unknown md5: exit %d\n%s", code, out)
	}
	// Neither a file nor a hash.
	_, errOut, code := relcat(t, "--catalog", cat, "lookup", "pdq:xyz")
	if code != exitPartial || !strings.Contains(errOut, "neither a file nor a hash") {
		t.Errorf("lookup pdq:xyz: exit %d %q", code, errOut)
	}
	// show by MD5, with and without the prefix.
	for _, ref := range []string{md5Hex, "md5:" + md5Hex} {
		out, errOut, code := relcat(t, "--catalog", cat, "--json", "show", ref)
		if code != exitOK || jsonLines(t, out)[0]["sha256"] != shaHex {
			t.Errorf("show %s: exit %d %s\n%s", ref, code, errOut, out)
		}
	}
}

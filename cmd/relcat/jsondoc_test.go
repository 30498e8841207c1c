package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestREADMEListsEveryJSONField (issue 7 item 18): every field name the JSON output of ingest,
// batches, affiliates, show (image and batch), lookup (file, hash, error), dupes, history, hash, log
// and verify emits, at any depth, is named in the README's JSON table row of its record type or in
// the shared definitions below the table (sighting, match, origin). Raw EXIF tag names are data.
func TestREADMEListsEveryJSONField(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sec := string(readme)
	i := strings.Index(sec, "## JSON output")
	if i < 0 {
		t.Fatal("README has no JSON output section")
	}
	sec = sec[i:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	rows := map[string]string{} // record type -> its table row
	shared := ""
	for _, line := range strings.Split(sec, "\n") {
		if strings.HasPrefix(line, "| `") {
			cells := strings.SplitN(line, "|", 3)
			for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(cells[1], -1) {
				rows[m[1]] += cells[2]
			}
		} else {
			shared += line
		}
	}
	root := t.TempDir()
	cat := filepath.Join(root, "cat")
	seen := map[string]map[string]bool{} // type -> field names
	var collect func(typ string, v any, under string)
	collect = func(typ string, v any, under string) {
		switch x := v.(type) {
		case map[string]any:
			if under == "raw" {
				return
			}
			for k, e := range x {
				if seen[typ] == nil {
					seen[typ] = map[string]bool{}
				}
				seen[typ][k] = true
				collect(typ, e, k)
			}
		case []any:
			for _, e := range x {
				collect(typ, e, under)
			}
		}
	}
	runJSON := func(args ...string) {
		t.Helper()
		out, errOut, code := relcat(t, append([]string{"--catalog", cat, "--json"}, args...)...)
		if code != exitOK && code != exitPartial {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		for _, r := range jsonLines(t, out) {
			collect(r["type"].(string), r, "")
		}
	}
	runJSON(append([]string{"ingest"}, sampleDirs(t)...)...)
	// A same-day release and a rejected file, for the uncertain flag, reasons and warnings.
	x := mkRelease(t, root, "sameday", "is-x", "2019-11-02T09:00:00Z", map[string]string{"antennas.jpg": sampleAntennas})
	os.WriteFile(filepath.Join(x, "notes.jpg"), []byte("text\n"), 0o644)
	runJSON("ingest", x)
	runJSON("batches")
	runJSON("affiliates")
	runJSON("dupes")
	runJSON("log")
	runJSON("verify", "--quick")
	ship := filepath.Join(repoRoot(t), "samples", "releases", filepath.FromSlash(sampleShip))
	runJSON("lookup", ship, filepath.Join(root, "missing.jpg"), "md5:"+strings.Repeat("0", 32), "pdq:"+strings.Repeat("f", 64))
	runJSON("hash", ship)
	out, _, _ := relcat(t, "--catalog", cat, "--json", "batches")
	for _, b := range jsonLines(t, out) {
		runJSON("show", b["id"].(string))
	}
	out, _, _ = relcat(t, "--catalog", cat, "--json", "lookup", ship)
	sha := jsonLines(t, out)[0]["sha256"].(string)
	runJSON("show", sha)
	runJSON("history", sha)
	// Issue 7 items 9-16: search, cameras (and the ingest's camera lead), timeline, affiliate and
	// batch housekeeping, repair.
	a := release(t, root, "cam-a", "is-sinai", "2019-12-01", map[string][]byte{"01.jpg": cameraPhoto(1, "Canon", "Canon EOS 7D", "0480110523", "")})
	b := release(t, root, "cam-b", "is-yemen", "2019-12-02", map[string][]byte{"01.jpg": cameraPhoto(2, "Canon", "Canon EOS 7D", "0480110523", "")})
	runJSON("ingest", a, b)
	runJSON("search", "--format", "jpeg", "--limit", "3")
	runJSON("cameras")
	runJSON("timeline")
	runJSON("affiliate", "alias", "is-khorasan", "ISKP")
	runJSON("affiliate", "show", "ISKP")
	out, _, _ = relcat(t, "--catalog", cat, "--json", "batches", "--affiliate", "is-yemen")
	yemen := jsonLines(t, out)[0]["id"].(string)
	runJSON("batch", "edit", yemen, "--released", "2019-12-03")
	if err := os.Remove(filepath.Join(cat, "thumbs", sha[:2], sha+".jpg")); err != nil {
		t.Fatal(err)
	}
	runJSON("repair")
	runJSON("batch", "rm", yemen, "--yes")
	runJSON("compact")

	var missing []string
	for typ, fields := range seen {
		row, ok := rows[typ]
		if !ok {
			missing = append(missing, "record type "+typ)
			continue
		}
		for f := range fields {
			if f == "type" {
				continue
			}
			if !strings.Contains(row, "`"+f+"`") && !strings.Contains(shared, `"`+f+`"`) && !strings.Contains(shared, "`"+f+"`") {
				missing = append(missing, typ+"."+f)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("JSON fields emitted but not listed in the README's JSON output section: %s", strings.Join(missing, ", "))
	}
}

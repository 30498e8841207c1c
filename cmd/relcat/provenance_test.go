package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mkRelease makes a release folder with a release.json and copies of sample files (files maps the
// name in the release to a path under samples/releases).
func mkRelease(t testing.TB, root, name, aff, released string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for dst, src := range files {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), "samples", "releases", filepath.FromSlash(src)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ri, _ := json.Marshal(map[string]string{"affiliate": aff, "released": released})
	if err := os.WriteFile(filepath.Join(dir, "release.json"), ri, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const (
	sampleDog        = "2019-11-02-sinai/03-dog.jpg"
	sampleShip       = "2019-11-02-sinai/09-ship.jpg"
	sampleShipMirror = "2019-11-05-khorasan/07-ship.jpg"
	sampleAntennas   = "2019-11-02-sinai/02-antennas.jpg"
)

// Issue 7 item 2: releases ingested out of date order (11-06, then 11-04, then 11-02): the summary of
// the older release ranks by release time, as history does, and a same-day release is flagged.
func TestIngestOutOfOrderSummary(t *testing.T) {
	root := t.TempDir()
	cat := filepath.Join(root, "cat")
	somalia := mkRelease(t, root, "somalia", "is-somalia", "2019-11-06", map[string]string{"dog.jpg": sampleDog, "ship.jpg": sampleShipMirror})
	yemen := mkRelease(t, root, "yemen", "is-yemen", "2019-11-04", map[string]string{"dog.jpg": sampleDog, "ship.jpg": sampleShipMirror})
	sinai := mkRelease(t, root, "sinai", "is-sinai", "2019-11-02", map[string]string{"dog.jpg": sampleDog, "ship.jpg": sampleShip})
	sameDay := mkRelease(t, root, "sameday", "is-x", "2019-11-02T09:00:00Z", map[string]string{"antennas.jpg": sampleAntennas})
	sinai2 := mkRelease(t, root, "sinai2", "is-sinai", "2019-11-02", map[string]string{"antennas.jpg": sampleAntennas})
	var outs []string
	for _, d := range []string{somalia, yemen, sinai, sameDay, sinai2} {
		out, errOut, code := relcat(t, "--catalog", cat, "ingest", d)
		if code != exitOK {
			t.Fatalf("ingest %s: exit %d\n%s%s", d, code, out, errOut)
		}
		outs = append(outs, out)
	}
	t.Logf("yemen:\n%s\nsinai:\n%s\nsinai2:\n%s", outs[1], outs[2], outs[4])
	for i, bad := range []string{"first seen 2019-11-06", "first released 2019-11-06"} {
		if strings.Contains(outs[1], bad) {
			t.Errorf("yemen 2019-11-04 summary credits the later release (%d): %s", i, outs[1])
		}
	}
	for _, bad := range []string{"first seen 2019-11-06", "first released 2019-11-06", "first seen 2019-11-04", "first released 2019-11-04"} {
		if strings.Contains(outs[2], bad) {
			t.Errorf("sinai 2019-11-02 summary credits a later release (%q):\n%s", bad, outs[2])
		}
	}
	// The same day, one of them a bare date: the ranking is uncertain either way.
	if !strings.Contains(outs[4], "uncertain") {
		t.Errorf("sinai2 (bare date) ties with is-x the same day: no uncertain flag:\n%s", outs[4])
	}
}

// originKey identifies an origin sighting in JSON output: image, batch and position.
func originKey(t *testing.T, v any) string {
	t.Helper()
	s, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not a sighting: %v", v)
	}
	return fmt.Sprintf("%v/%v/%v(%v %v)", s["sha256"], s["batch"], s["position"], s["released"], s["affiliate"])
}

// TestProvenanceScenario ingests seven releases in shuffled order, then asks every command (ingest
// summary of a re-run, lookup, show, history, dupes) for the origin of every photo: all must name
// the same sighting and the same "uncertain" flag.
func TestProvenanceScenario(t *testing.T) {
	root := t.TempDir()
	cat := filepath.Join(root, "cat")
	rel := map[string]string{
		"sinai": mkRelease(t, root, "sinai", "is-sinai", "2019-11-02", map[string]string{
			"dog.jpg": sampleDog, "ship.jpg": sampleShip, "antennas.jpg": sampleAntennas,
			"church.jpg": "2019-11-02-sinai/06-church.jpg", "parking.jpg": "2019-11-02-sinai/04-parking.jpg"}),
		"khorasan": mkRelease(t, root, "khorasan", "is-khorasan", "2019-11-05", map[string]string{
			"dog.jpg": "2019-11-05-khorasan/02-dog.jpg", "ship.jpg": sampleShipMirror, "antennas.jpg": "2019-11-05-khorasan/10-antennas.jpg",
			"church.jpg": "2019-11-05-khorasan/05-church.jpg", "parking.jpg": "2019-11-05-khorasan/09-parking.jpg",
			"flowers.jpg": "2019-11-05-khorasan/11-flowers.jpg"}),
		"west-africa": mkRelease(t, root, "west-africa", "is-west-africa", "2020-01-14", map[string]string{
			"antennas.png": "2020-01-14-west-africa/05-antennas.png", "parking.webp": "2020-01-14-west-africa/06-parking.webp",
			"flowers.jpg": "2020-01-14-west-africa/07-flowers.jpg", "church.jpg": "2020-01-14-west-africa/08-church.jpg",
			"leaf.jpg": "2020-01-14-west-africa/03-leaf.jpg"}),
		"sinai-2020": mkRelease(t, root, "sinai-2020", "is-sinai", "2020-03-09T07:30:00Z", map[string]string{
			"antennas.jpg": "2020-03-09-sinai/01-antennas.jpg", "parking.jpg": "2020-03-09-sinai/04-parking.jpg",
			"ship.jpg": "2020-03-09-sinai/08-ship.jpg", "leaf.jpg": "2020-03-09-sinai/03-leaf.jpg"}),
		"yemen": mkRelease(t, root, "yemen", "is-yemen", "2019-11-04", map[string]string{
			"ship.jpg": sampleShipMirror, "dog.jpg": sampleDog}),
		"sameday": mkRelease(t, root, "sameday", "is-x", "2019-11-02T09:00:00Z", map[string]string{
			"antennas.jpg": sampleAntennas}),
		"early": mkRelease(t, root, "early", "is-early", "2019-11-01", map[string]string{
			"flowers.jpg": "2019-11-05-khorasan/11-flowers.jpg"}),
	}
	order := []string{"west-africa", "yemen", "sinai-2020", "khorasan", "early", "sameday", "sinai"}
	for _, name := range order {
		if out, errOut, code := relcat(t, "--catalog", cat, "ingest", rel[name]); code != exitOK {
			t.Fatalf("ingest %s: exit %d\n%s%s", name, code, out, errOut)
		}
	}
	// A re-run of every release: its summary must tell the final story.
	var dirs []string
	for _, name := range order {
		dirs = append(dirs, rel[name])
	}
	out, errOut, code := relcat(t, append([]string{"--catalog", cat, "--json", "ingest"}, dirs...)...)
	if code != exitOK {
		t.Fatalf("re-ingest: exit %d\n%s", code, errOut)
	}
	type answer struct {
		origin    string
		uncertain bool
		path      string
	}
	// What the re-run summaries say per release, for the timeline: the three groups, and where the
	// recycled photos come from (identical: the earlier release of the bytes; near: the origin).
	type flow struct{ firstHere, reused, near float64 }
	summaryOf := map[string]flow{}
	from := map[string]string{} // "batch identical|near source" -> count, as text
	var pending []map[string]any
	for _, r := range jsonLines(t, out) {
		switch r["type"] {
		case "file":
			pending = append(pending, r)
		case "summary":
			b := r["batch"].(string)
			summaryOf[b] = flow{r["first_here"].(float64), r["reused"].(float64), r["near"].(float64)}
			counts := map[string]int{}
			for _, f := range pending {
				switch f["seen_before"] {
				case "identical":
					counts["identical "+f["earlier"].(map[string]any)["batch"].(string)]++
				case "near":
					counts["near "+f["origin"].(map[string]any)["sighting"].(map[string]any)["batch"].(string)]++
				}
			}
			from[b] = fmt.Sprint(counts)
			pending = nil
		}
	}
	want := map[string]answer{} // by sha256, from the ingest summary
	for _, r := range jsonLines(t, out) {
		if r["type"] != "file" {
			continue
		}
		o, _ := r["origin"].(map[string]any)
		if o == nil {
			t.Fatalf("ingest file record without origin: %v", r)
		}
		sha := r["sha256"].(string)
		a := answer{originKey(t, o["sighting"]), o["uncertain"] == true, r["path"].(string)}
		if old, ok := want[sha]; ok && (old.origin != a.origin || old.uncertain != a.uncertain) {
			t.Errorf("ingest: %s has two origins: %+v and %+v", sha[:12], old, a)
		}
		want[sha] = a
	}
	if len(want) < 15 {
		t.Fatalf("only %d distinct photos", len(want))
	}
	check := func(cmd, sha, origin string, uncertain bool) {
		t.Helper()
		if w := want[sha]; w.origin != origin || w.uncertain != uncertain {
			t.Errorf("%s of %s (%s): origin %s uncertain %v; ingest summary says %s uncertain %v", cmd, sha[:12], filepath.Base(w.path), origin, uncertain, w.origin, w.uncertain)
		}
	}
	uncertainSeen, nearOrigins := 0, 0
	for sha, w := range want {
		if w.uncertain {
			uncertainSeen++
		}
		if !strings.HasPrefix(w.origin, sha) {
			nearOrigins++
		}
		out, errOut, code := relcat(t, "--catalog", cat, "--json", "show", sha)
		if code != exitOK {
			t.Fatalf("show %s: %d %s", sha, code, errOut)
		}
		r := jsonLines(t, out)[0]
		o := r["origin"].(map[string]any)
		check("show", sha, originKey(t, o["sighting"]), o["uncertain"] == true)

		out, errOut, code = relcat(t, "--catalog", cat, "--json", "history", sha)
		if code != exitOK {
			t.Fatalf("history %s: %d %s", sha, code, errOut)
		}
		r = jsonLines(t, out)[0]
		check("history", sha, originKey(t, r["origin"]), r["uncertain"] == true)

		out, errOut, code = relcat(t, "--catalog", cat, "--json", "lookup", w.path)
		if code != exitOK {
			t.Fatalf("lookup %s: %d %s", w.path, code, errOut)
		}
		r = jsonLines(t, out)[0]
		o = r["origin"].(map[string]any)
		check("lookup", sha, originKey(t, o["sighting"]), o["uncertain"] == true)
	}
	if uncertainSeen == 0 || nearOrigins == 0 {
		t.Errorf("the scenario should hold uncertain origins (%d) and origins through a near-duplicate (%d)", uncertainSeen, nearOrigins)
	}
	// dupes: every image whose origin is another image is a member of that image's cluster, and
	// every cluster's origin is the origin of each of its members (but an origin image whose own
	// origin lies further back).
	out, errOut, code = relcat(t, "--catalog", cat, "--json", "dupes")
	if code != exitOK {
		t.Fatalf("dupes: %d %s", code, errOut)
	}
	inCluster := map[string]bool{}
	for _, cl := range jsonLines(t, out) {
		origin := originKey(t, cl["origin"])
		for i, mv := range cl["members"].([]any) {
			m := mv.(map[string]any)
			sha := m["sha256"].(string)
			if i == 0 && !strings.HasPrefix(want[sha].origin, sha) {
				continue // an origin image of this cluster, itself a copy of an earlier photo
			}
			inCluster[sha] = true
			check("dupes", sha, origin, m["uncertain"] == true)
		}
	}
	for sha, w := range want {
		if !strings.HasPrefix(w.origin, sha) && !inCluster[sha] {
			t.Errorf("dupes: %s (%s) has origin %s but is in no cluster of it", sha[:12], filepath.Base(w.path), w.origin)
		}
	}
	// timeline: per release the same three groups as the ingest summary, and recycled photos
	// attributed to the same releases (the origin for near-duplicates).
	out, errOut, code = relcat(t, "--catalog", cat, "--json", "timeline")
	if code != exitOK {
		t.Fatalf("timeline: %d %s", code, errOut)
	}
	releases := jsonLines(t, out)
	if len(releases) != len(order) {
		t.Errorf("timeline: %d releases, want %d", len(releases), len(order))
	}
	last := ""
	for _, r := range releases {
		b := r["batch"].(map[string]any)
		id, released := b["id"].(string), b["released"].(string)
		if released < last[:min(len(last), len(released))] {
			t.Errorf("timeline: %s listed after %s", released, last)
		}
		last = released
		if got := (flow{r["new"].(float64), r["identical"].(float64), r["near"].(float64)}); got != summaryOf[id] {
			t.Errorf("timeline %s (%s): new/identical/near %v, ingest summary %v", id, b["folder"], got, summaryOf[id])
		}
		counts := map[string]int{}
		for _, sv := range r["sources"].([]any) {
			src := sv.(map[string]any)
			for _, kind := range []string{"identical", "near"} {
				if n := int(src[kind].(float64)); n > 0 {
					counts[kind+" "+src["batch"].(string)] += n
				}
			}
		}
		if fmt.Sprint(counts) != from[id] {
			t.Errorf("timeline %s (%s): sources %v, ingest summary %s", id, b["folder"], counts, from[id])
		}
	}
}

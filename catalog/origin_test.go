package catalog

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/relcat/relcat/catalog/pdq"
)

// mkRelease makes a release folder named name under root with a release.json and copies of sample
// files: files maps the name in the release to a path under samples/releases.
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

func ingestOne(t testing.TB, c *Catalog, dir string) *BatchSummary {
	t.Helper()
	sums, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sums[0]
}

// Sample files used by the provenance tests: the dog is byte-identical in the first two demo
// releases; the khorasan ship is a mirrored copy of the sinai ship.
const (
	sampleDog        = "2019-11-02-sinai/03-dog.jpg"
	sampleShip       = "2019-11-02-sinai/09-ship.jpg"
	sampleShipMirror = "2019-11-05-khorasan/07-ship.jpg"
)

// Issue 7 item 1: re-running an ingest that changes nothing must tell the same story: the release
// that published a photo first is not credited to a later one, and near matches stay.
func TestRerunKeepsProvenance(t *testing.T) {
	root := t.TempDir()
	c := openTest(t)
	early := mkRelease(t, root, "early", "is-early", "2019-11-01", map[string]string{"ship.jpg": sampleShipMirror})
	sinai := mkRelease(t, root, "sinai", "is-sinai", "2019-11-02", map[string]string{"dog.jpg": sampleDog, "ship.jpg": sampleShip})
	khorasan := mkRelease(t, root, "khorasan", "is-khorasan", "2019-11-05", map[string]string{"dog.jpg": sampleDog})
	ingestOne(t, c, early)
	first := ingestOne(t, c, sinai)
	ingestOne(t, c, khorasan)
	again := ingestOne(t, c, sinai)
	if !again.Unchanged {
		t.Errorf("re-run: unchanged=%v", again.Unchanged)
	}
	for _, s := range []*BatchSummary{first, again} {
		dog, ship := fileByName(s, "dog.jpg"), fileByName(s, "ship.jpg")
		if dog.First != nil {
			t.Errorf("dog.jpg was first released by is-sinai, summary says first seen %+v", dog.First)
		}
		if len(ship.Near) == 0 || ship.First == nil || ship.First.Affiliate != "is-early" {
			t.Errorf("ship.jpg: near %+v first %+v: want its mirrored copy released earlier by is-early", ship.Near, ship.First)
		}
		if s.NearCount != 1 || s.Reused != 0 {
			t.Errorf("summary: near %d reused %d, want 1 and 0", s.NearCount, s.Reused)
		}
	}
}

// Issue 7 item 3: lookup of a file byte-identical to a later release names the origin over the
// whole family, which here is an earlier near-duplicate.
func TestLookupOriginOverFamily(t *testing.T) {
	root := t.TempDir()
	c := openTest(t)
	ingestOne(t, c, mkRelease(t, root, "sinai", "is-sinai", "2019-11-02", map[string]string{"ship.jpg": sampleShip}))
	yemen := mkRelease(t, root, "yemen", "is-yemen", "2019-11-04", map[string]string{"ship.jpg": sampleShipMirror})
	ingestOne(t, c, yemen)
	r, err := c.Lookup(context.Background(), filepath.Join(yemen, "ship.jpg"), MatchOptions{}, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Exact) != 1 || r.Exact[0].Affiliate != "is-yemen" {
		t.Errorf("exact %+v", r.Exact)
	}
	if len(r.Near) != 1 || r.Near[0].Sightings[0].Affiliate != "is-sinai" {
		t.Fatalf("near %+v: want the earlier is-sinai ship", r.Near)
	}
	if r.Origin == nil || r.Origin.Sighting.Affiliate != "is-sinai" || r.Origin.Distance != r.Near[0].Distance {
		t.Errorf("origin %+v: want is-sinai at d=%d", r.Origin, r.Near[0].Distance)
	}
}

// Issue 7 item 4: one pair of photos has one distance in every command.
func TestPairDistanceSameEverywhere(t *testing.T) {
	evaluation(t)
	c := openTest(t)
	sums := ingestSamples(t, c)
	type pair struct{ a, b SHA256 }
	dist := map[pair]int{}
	record := func(where string, a, b SHA256, d int) {
		t.Helper()
		if a == b {
			return
		}
		if bytes32Less(b, a) {
			a, b = b, a
		}
		if old, ok := dist[pair{a, b}]; ok && old != d {
			t.Errorf("%s: %s-%s d=%d, elsewhere d=%d", where, a.String()[:8], b.String()[:8], d, old)
		}
		dist[pair{a, b}] = d
	}
	for _, s := range sums {
		for _, f := range s.Files {
			for _, m := range f.Near {
				record("ingest "+s.Batch.Folder+"/"+f.Name, *f.SHA256, m.SHA256, m.Distance)
			}
		}
	}
	cls, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cls {
		for _, m := range cl.Members {
			record("dupes member", cl.Members[0].SHA256, m.SHA256, m.Distance)
		}
		for _, e := range cl.Edges {
			record("dupes edge", e.A, e.B, e.Distance)
		}
	}
	for _, s := range sums {
		for _, f := range s.Files {
			if f.SHA256 == nil {
				continue
			}
			h, err := c.History(*f.SHA256, MatchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range h.Near {
				record("history "+f.Name, *f.SHA256, m.SHA256, m.Distance)
			}
			r, err := c.Lookup(context.Background(), f.Path, MatchOptions{}, HashOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Near {
				record("lookup "+f.Name, *f.SHA256, m.SHA256, m.Distance)
			}
		}
	}
	if len(dist) < 6 {
		t.Errorf("only %d near pairs compared", len(dist))
	}
}

func bytes32Less(a, b SHA256) bool { return a.String() < b.String() }

// pdqOfSamples hashes every sample photo through the catalog's own path.
func pdqOfSamples(t testing.TB) []*PDQInfo {
	t.Helper()
	var out []*PDQInfo
	for _, dir := range sampleDirs(t) {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if filepath.Base(f) == "release.json" {
				continue
			}
			h, err := HashFile(context.Background(), f, HashOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if h.PDQ != nil {
				out = append(out, h.PDQ)
			}
		}
	}
	return out
}

// checkPairSymmetry: PairDistance(a, b) equals PairDistance(b, a) and reports the inverse transform.
func checkPairSymmetry(t *testing.T, ps []*PDQInfo) int {
	t.Helper()
	n := 0
	for i := range ps {
		for j := range ps {
			dab, tab := PairDistance(ps[i], ps[j])
			dba, tba := PairDistance(ps[j], ps[i])
			if dab != dba || tab != tba.Inverse() {
				t.Fatalf("pair %d,%d: d=%d %s one way, d=%d %s the other", i, j, dab, tab, dba, tba)
			}
			if i == j && (dab != 0 || tab != pdq.AsIs) {
				t.Fatalf("photo %d against itself: d=%d %s", i, dab, tab)
			}
			n++
		}
	}
	return n
}

// TestPairDistanceSymmetric checks the symmetry of the pair distance over every pair of sample
// photos, and over the whole corpus when RELCAT_CORPUS is set.
func TestPairDistanceSymmetric(t *testing.T) {
	n := checkPairSymmetry(t, pdqOfSamples(t))
	t.Logf("%d sample pairs symmetric", n)
	if os.Getenv("RELCAT_CORPUS") == "" {
		return
	}
	var ps []*PDQInfo
	for _, p := range corpusPhotos(t) {
		if p.pdq != nil {
			ps = append(ps, p.pdq)
		}
	}
	t.Logf("%d corpus pairs symmetric", checkPairSymmetry(t, ps))
}

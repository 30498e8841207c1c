package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func searchNames(t *testing.T, c *Catalog, names map[SHA256]string, q SearchQuery) string {
	t.Helper()
	r, err := c.Search(q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	var out []string
	for _, h := range r.Hits {
		out = append(out, names[h.SHA256])
	}
	if r.Total != len(r.Hits) && q.Limit == 0 {
		t.Errorf("total %d, %d hits", r.Total, len(r.Hits))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// TestSearchFilters: every filter alone and combined, against photos whose metadata is known.
func TestSearchFilters(t *testing.T) {
	c := openTest(t)
	root := t.TempDir()
	rome := [2]float64{41.9028, 12.4964}
	paris := [2]float64{48.8566, 2.3522}
	fiji := [2]float64{-17.7134, 178.065}
	photos := map[string]photoMeta{
		"a1": {Make: "Canon", Model: "Canon EOS 7D", Serial: "0480110523", Lens: "EF-S18-135mm", Software: "Adobe Photoshop CS5", Taken: "2019:10:30 08:00:00", GPS: &rome},
		"a2": {Make: "Canon", Model: "Canon EOS 5D", Taken: "2019:11:01 23:30:00", Offset: "+03:00", GPS: &paris},
		"a3": {NoEXIF: true},
		"b1": {Make: "NIKON CORPORATION", Model: "NIKON D5000", Lens: "18.0-55.0 mm", Taken: "2019:11:03 10:00:00", GPS: &fiji},
		"b2": {Make: "Canon", Model: "Canon EOS 7D", Serial: "0480110523", Software: "GIMP 2.10", Taken: "2018:01:01 00:00:00"},
	}
	files := func(keys ...string) map[string][]byte {
		m := map[string][]byte{}
		for i, k := range keys {
			m[k+".jpg"] = photoBytes(100+i+int(k[0])*10+int(k[1]), photos[k])
		}
		return m
	}
	a := writeRelease(t, root, "a", "is-sinai", "2019-11-02", files("a1", "a2", "a3"))
	b := writeRelease(t, root, "b", "is-khorasan", "2019-11-05T07:30:00Z", files("b1", "b2"))
	sums, err := c.Ingest(context.Background(), []string{a, b}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[SHA256]string{}
	for _, s := range sums {
		for _, f := range s.Files {
			names[*f.SHA256] = strings.TrimSuffix(f.Name, ".jpg")
		}
	}
	if err := c.AliasAffiliate("is-khorasan", []string{"ISKP"}, HousekeepingOptions{}); err != nil {
		t.Fatal(err)
	}
	day := func(s string) Released {
		r, err := ParseReleased(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		q    SearchQuery
		want string
	}{
		{SearchQuery{Make: "canon"}, "a1,a2,b2"},
		{SearchQuery{Make: " CANON "}, "a1,a2,b2"},
		{SearchQuery{Model: "canon eos 7d"}, "a1,b2"},
		{SearchQuery{Model: "canon*"}, "a1,a2,b2"},
		{SearchQuery{Model: "canon eos"}, ""},
		{SearchQuery{Serial: "0480110523"}, "a1,b2"},
		{SearchQuery{Lens: "18.0-55.0 mm"}, "b1"},
		{SearchQuery{Software: "gimp*"}, "b2"},
		{SearchQuery{Format: "jpeg"}, "a1,a2,a3,b1,b2"},
		{SearchQuery{Format: "png"}, ""},
		{SearchQuery{Stripped: true}, "a3"},
		{SearchQuery{Affiliates: []string{"is-sinai"}}, "a1,a2,a3"},
		{SearchQuery{Affiliates: []string{"iskp"}}, "b1,b2"},
		{SearchQuery{Affiliates: []string{"is-sinai", "ISKP"}, Make: "canon"}, "a1,a2,b2"},
		{SearchQuery{ReleasedFrom: day("2019-11-03")}, "b1,b2"},
		{SearchQuery{ReleasedTo: day("2019-11-02")}, "a1,a2,a3"},
		{SearchQuery{ReleasedFrom: day("2019-11-05T07:30:00Z"), ReleasedTo: day("2019-11-05T07:30:00Z")}, "b1,b2"},
		{SearchQuery{TakenFrom: day("2019-10-30"), TakenTo: day("2019-11-01")}, "a1,a2"}, // a2 is 2019-11-01T20:30Z
		{SearchQuery{TakenFrom: day("2019-11-01T21:00:00Z")}, "b1"},
		{SearchQuery{TakenTo: day("2018-12-31")}, "b2"},
		{SearchQuery{Box: &GeoBox{South: 40, West: 0, North: 50, East: 15}}, "a1,a2"},
		{SearchQuery{Box: &GeoBox{South: -20, West: 170, North: -10, East: -170}}, "b1"}, // across the antimeridian
		{SearchQuery{Near: &GeoCircle{Lat: 41.89, Lon: 12.49, RadiusKm: 5}}, "a1"},
		{SearchQuery{Near: &GeoCircle{Lat: 41.89, Lon: 12.49, RadiusKm: 1200}}, "a1,a2"}, // Rome-Paris is 1106 km
		{SearchQuery{Near: &GeoCircle{Lat: 41.89, Lon: 12.49, RadiusKm: 1000}}, "a1"},
		{SearchQuery{Make: "canon", Serial: "0480110523", Affiliates: []string{"is-khorasan"}}, "b2"},
		{SearchQuery{Make: "canon", Stripped: true}, ""},
	} {
		if got := searchNames(t, c, names, tc.q); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.q, got, tc.want)
		}
	}
	r, err := c.Search(SearchQuery{Make: "canon", Limit: 2})
	if err != nil || r.Total != 3 || len(r.Hits) != 2 || names[r.Hits[0].SHA256][0] != 'a' {
		t.Errorf("limit: %v %+v", err, r)
	}
	if r.Hits[0].First.Affiliate != "is-sinai" || r.Hits[0].Sightings != 1 || r.Hits[0].Make != "Canon" {
		t.Errorf("hit %+v", r.Hits[0])
	}
	if _, err := c.Search(SearchQuery{Affiliates: []string{"is-nowhere"}}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "is-nowhere") {
		t.Errorf("unknown affiliate: %v", err)
	}
	if _, err := c.Search(SearchQuery{}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("no filter: %v", err)
	}
	if _, err := c.Search(SearchQuery{Box: &GeoBox{South: 10, North: 0}}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("bad box: %v", err)
	}
}

// TestSearchIndexVerifyAndRebuild: verify names a missing and a stray search index entry and says
// to run reindex; UpgradeSearchIndex (the reindex step) rebuilds the index to the same content.
func TestSearchIndexVerifyAndRebuild(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	before := dumpBucket(t, c, bucketSearch)
	var victim []byte
	err := c.update(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketSearch).Cursor().First()
		victim = bytes.Clone(k)
		if err := tx.Bucket(bucketSearch).Delete(k); err != nil {
			return err
		}
		var s SHA256
		s[0] = 1
		return tx.Bucket(bucketSearch).Put(searchKey(searchMake, searchText("forged"), s), []byte{})
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range r.Problems {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	if len(got) != 2 || !strings.Contains(all, "lacks entry") || !strings.Contains(all, "0100000000") || strings.Count(all, "run `relcat reindex`") != 2 {
		t.Errorf("verify after damaging the search index (removed %q):\n%s", victim, all)
	}
	n, err := c.UpgradeSearchIndex(context.Background())
	if err != nil || n != 36 { // the demo releases: 36 distinct images
		t.Fatalf("rebuild: %d images, %v", n, err)
	}
	if after := dumpBucket(t, c, bucketSearch); after != before {
		t.Errorf("rebuilt index differs from the one ingest wrote")
	}
}

func dumpBucket(t *testing.T, c *Catalog, name []byte) string {
	t.Helper()
	var b strings.Builder
	if err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(name).ForEach(func(k, v []byte) error {
			fmt.Fprintf(&b, "%x=%x\n", k, v)
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSearchLimitKeepsOrder: a search with --limit N gives the first N hits of the whole list, in
// the same order, and the same total; the hits are kept in bounded memory (topHits), the images
// recycled across releases (several sightings each) ordered by their earliest sighting.
func TestSearchLimitKeepsOrder(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "cat"), Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	buildScale(t, c, 600, 3, nil)
	for _, q := range []SearchQuery{
		{Affiliates: []string{"aff-03", "aff-07", "aff-11"}},
		{Format: "jpeg"},
		{Format: "jpeg", Affiliates: []string{"aff-05"}},
	} {
		all, err := c.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		if all.Total < 12 || len(all.Hits) != all.Total {
			t.Fatalf("%+v: %d hits of %d", q, len(all.Hits), all.Total)
		}
		recycled := 0
		for i, h := range all.Hits {
			if h.Sightings > 1 {
				recycled++
			}
			if i > 0 && h.First.Before(all.Hits[i-1].First) {
				t.Fatalf("%+v: hit %d first seen before hit %d", q, i, i-1)
			}
		}
		if recycled == 0 {
			t.Errorf("%+v: no hit with several sightings: the order of first sightings is not exercised", q)
		}
		for _, limit := range []int{1, 2, 3, 7, 19, all.Total, all.Total + 5} {
			q.Limit = limit
			r, err := c.Search(q)
			if err != nil {
				t.Fatal(err)
			}
			want := all.Hits[:min(limit, len(all.Hits))]
			if r.Total != all.Total || !reflect.DeepEqual(r.Hits, want) {
				t.Errorf("%+v: --limit %d gave %d hits (total %d), not the first %d of %d", q, limit, len(r.Hits), r.Total, len(want), all.Total)
			}
		}
	}
}

// TestSearchEach: the hits come in order, a chunk at a time, each with the total, and together are
// Search's; an error from fn stops it; a cancelled context stops it before the first chunk; no match
// is one call without hits.
func TestSearchEach(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	q := SearchQuery{Format: "jpeg"}
	all, err := c.Search(q)
	if err != nil || len(all.Hits) < 10 {
		t.Fatalf("search: %v, %d hits", err, len(all.Hits))
	}
	defer func(n int) { searchChunk = n }(searchChunk)
	searchChunk = 3
	var got []SearchHit
	calls := 0
	err = c.SearchEach(context.Background(), q, func(total int, hits []SearchHit) error {
		calls++
		if total != all.Total || len(hits) == 0 || len(hits) > 3 {
			t.Errorf("chunk %d: total %d, %d hits", calls, total, len(hits))
		}
		got = append(got, hits...)
		return nil
	})
	if err != nil || calls != (len(all.Hits)+2)/3 || !reflect.DeepEqual(got, all.Hits) {
		t.Errorf("SearchEach: %v, %d chunks, %d hits; want Search's %d", err, calls, len(got), len(all.Hits))
	}
	stop := errors.New("enough")
	calls = 0
	if err := c.SearchEach(context.Background(), q, func(int, []SearchHit) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("fn's error: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	if err := c.SearchEach(ctx, q, func(int, []SearchHit) error { calls++; return nil }); !errors.Is(err, ErrInterrupted) || calls != 0 {
		t.Errorf("cancelled: %v after %d calls", err, calls)
	}
	calls = 0
	err = c.SearchEach(context.Background(), SearchQuery{Make: "Nobody"}, func(total int, hits []SearchHit) error {
		calls++
		if total != 0 || len(hits) != 0 {
			t.Errorf("no match: total %d, %d hits", total, len(hits))
		}
		return nil
	})
	if err != nil || calls != 1 {
		t.Errorf("no match: %v, %d calls", err, calls)
	}
}

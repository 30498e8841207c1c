package catalog

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestTimelineOnSamples: the timeline of the demo releases agrees with the ingest summaries (the
// same origin rule: first released here, identical, near) and names where recycled photos come from.
func TestTimelineOnSamples(t *testing.T) {
	c := openTest(t)
	sums := ingestSamples(t, c)
	tl, err := c.Timeline(TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl) != 5 {
		t.Fatalf("%d releases, want 5", len(tl))
	}
	for i, r := range tl {
		s := sums[r.Batch.Folder]
		if r.Photos != len(s.Files)-s.Rejected || r.New != s.FirstHere || r.Identical != s.Reused || r.Near != s.NearCount {
			t.Errorf("%s: timeline %d photos, %d new, %d identical, %d near; ingest summary %d files, %d first here, %d reused, %d near",
				r.Batch.Folder, r.Photos, r.New, r.Identical, r.Near, len(s.Files), s.FirstHere, s.Reused, s.NearCount)
		}
		if i > 0 && r.Batch.Released.Time.Before(tl[i-1].Batch.Released.Time) {
			t.Errorf("not in time order: %s after %s", r.Batch.Released, tl[i-1].Batch.Released)
		}
	}
	kh := tl[1]
	// Khorasan recycles release 1 only: 3 identical files, and every near-duplicate that PDQ finds.
	if kh.Batch.Affiliate != "is-khorasan" || len(kh.Sources) != 1 || kh.Sources[0].Affiliate != "is-sinai" ||
		kh.Sources[0].Identical != 3 || kh.Sources[0].Near != kh.Near || kh.New != 2+1 { // flowers, night, and the tractor (the 10% crop PDQ misses)
		t.Errorf("khorasan: %+v", kh)
	}
	// The last is-sinai release recycles from all three earlier releases: its own antennas
	// (identical), receipt and ship (near) from release 1; khorasan's watermarked parking, byte for
	// byte; west-africa's leaf, cropped.
	last := tl[3]
	if len(last.Sources) != 3 || last.Sources[0].Released.String() != "2019-11-02" || last.Sources[0].Identical != 1 || last.Sources[0].Near != 2 ||
		last.Sources[1].Affiliate != "is-khorasan" || last.Sources[1].Identical != 1 || last.Sources[2].Near != 1 || last.New != 3 {
		t.Errorf("last release: %+v", last)
	}
	only, err := c.Timeline(TimelineOptions{Affiliate: "is-sinai", Since: Released{Time: tl[1].Batch.Released.Time}})
	if err != nil || len(only) != 1 || only[0].Batch.ID != last.Batch.ID {
		t.Errorf("--affiliate is-sinai --since: %v %+v", err, only)
	}
	if _, err := c.Timeline(TimelineOptions{Affiliate: "is-atlantis"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown affiliate: %v", err)
	}
}

// TestTimelinePage: a page of the timeline is that window of the whole one, and the page function
// is told the number of releases the options select.
func TestTimelinePage(t *testing.T) {
	c := openTest(t)
	ingestDirs(t, c, "a", sampleDirs(t)...)
	all, err := c.Timeline(TimelineOptions{})
	if err != nil || len(all) < 4 {
		t.Fatalf("timeline: %v, %d releases", err, len(all))
	}
	// Limit: the first releases (only those read).
	if got, err := c.Timeline(TimelineOptions{Limit: 2}); err != nil || !reflect.DeepEqual(got, all[:2]) {
		t.Errorf("Limit 2: %v, %d releases", err, len(got))
	}
	for _, w := range [][2]int{{0, 2}, {1, 3}, {2, len(all)}, {len(all) - 1, len(all) + 3}, {3, 3}} {
		told := -1
		got, err := c.TimelinePage(TimelineOptions{}, func(total int) (int, int) { told = total; return w[0], w[1] })
		if err != nil {
			t.Fatal(err)
		}
		want := all[w[0]:min(w[1], len(all))]
		if told != len(all) || !reflect.DeepEqual(got, want) {
			t.Errorf("window %v: told %d of %d, got %d releases, want %d", w, told, len(all), len(got), len(want))
		}
	}
}

// TestTimelineEach: the releases come a chunk at a time, in order, and together are the timeline; an
// error from fn stops the reading there; a cancelled context stops it before the first chunk.
func TestTimelineEach(t *testing.T) {
	c := openTest(t)
	ingestDirs(t, c, "a", sampleDirs(t)...)
	all, err := c.Timeline(TimelineOptions{})
	if err != nil || len(all) < 4 {
		t.Fatalf("timeline: %v, %d releases", err, len(all))
	}
	defer func(n int) { timelineChunk = n }(timelineChunk)
	timelineChunk = 2
	var got []TimelineRelease
	calls := 0
	err = c.TimelineEach(context.Background(), TimelineOptions{}, nil, func(rs []TimelineRelease) error {
		calls++
		if len(rs) == 0 || len(rs) > 2 {
			t.Errorf("a chunk of %d releases", len(rs))
		}
		got = append(got, rs...)
		return nil
	})
	if err != nil || calls != (len(all)+1)/2 || !reflect.DeepEqual(got, all) {
		t.Errorf("TimelineEach: %v, %d chunks, %d releases; want %d chunks, the timeline", err, calls, len(got), (len(all)+1)/2)
	}
	stop := errors.New("enough")
	calls = 0
	if err := c.TimelineEach(context.Background(), TimelineOptions{}, nil, func([]TimelineRelease) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("fn's error: %v after %d calls, want it after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	if err := c.TimelineEach(ctx, TimelineOptions{}, nil, func([]TimelineRelease) error { calls++; return nil }); !errors.Is(err, ErrInterrupted) || calls != 0 {
		t.Errorf("cancelled: %v after %d calls", err, calls)
	}
}

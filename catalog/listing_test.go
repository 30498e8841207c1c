package catalog

import (
	"fmt"
	"testing"
)

// TestListingsLimitAndSince: batches and log entries listed with --limit and --since are exactly
// the head of the full, ordered listing, from the right place.
func TestListingsLimitAndSince(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	all, err := c.Batches("")
	if err != nil || len(all) < 3 {
		t.Fatalf("batches: %v (%d)", err, len(all))
	}
	list := func(o BatchListOptions) []Batch {
		var out []Batch
		if err := c.BatchesEach(o, func(b Batch) error { out = append(out, b); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := list(BatchListOptions{Limit: 2}); fmt.Sprint(got) != fmt.Sprint(all[:2]) {
		t.Errorf("--limit 2: %v, want %v", got, all[:2])
	}
	since := all[1].Released
	var want []Batch
	for _, b := range all {
		if !b.Released.Time.Before(since.Time) {
			want = append(want, b)
		}
	}
	if got := list(BatchListOptions{Since: since}); fmt.Sprint(got) != fmt.Sprint(want) || len(want) == len(all) {
		t.Errorf("--since %s: %d batches, want %d of %d", since, len(got), len(want), len(all))
	}
	if got := list(BatchListOptions{Affiliate: all[0].Affiliate, Limit: 1}); len(got) != 1 || got[0].ID != all[0].ID {
		t.Errorf("--affiliate --limit 1: %v", got)
	}

	var entries []LogEntry
	if err := c.Log(func(e LogEntry) bool { entries = append(entries, e); return true }); err != nil || len(entries) < 3 {
		t.Fatalf("log: %v (%d)", err, len(entries))
	}
	logs := func(o LogOptions) []uint64 {
		var out []uint64
		if err := c.LogEach(o, func(e LogEntry) bool { out = append(out, e.Seq); return true }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for i, e := range entries {
		got := logs(LogOptions{Since: e.Time, Limit: 2})
		// The first entry at or after e's time (the fixed clock gives every entry its own second).
		if len(got) == 0 || got[0] != e.Seq || len(got) > 2 || (i+1 < len(entries) && len(got) != 2) {
			t.Errorf("--since %s --limit 2: %v, want from %d", e.Time, got, e.Seq)
		}
	}
	if got := logs(LogOptions{Since: entries[len(entries)-1].Time.Add(1)}); len(got) != 0 {
		t.Errorf("--since after the last entry: %v", got)
	}
	if got := logs(LogOptions{Limit: 1}); len(got) != 1 || got[0] != 1 {
		t.Errorf("--limit 1: %v", got)
	}
}

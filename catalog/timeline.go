package catalog

import (
	"context"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// TimelineOptions select the releases of Timeline.
type TimelineOptions struct {
	Affiliate string   // only this affiliate's releases (slug, alias or name); sources may be any affiliate's
	Since     Released // only releases at or after this time
	Limit     int      // only the first this many releases (0: all); TimelinePage's window applies after
}

// TimelineSource is an earlier release that photos of a release were recycled from.
type TimelineSource struct {
	ReleaseRef
	Identical int `json:"identical"` // photos whose same bytes that release published first
	Near      int `json:"near"`      // photos released before only as near-duplicates, first by that release (their origin)
}

// TimelineRelease is one release with where its photos come from.
type TimelineRelease struct {
	Batch     Batch            `json:"batch"`
	Photos    int              `json:"photos"`    // files of the release (sightings)
	New       int              `json:"new"`       // first released here (the origin is this release)
	Identical int              `json:"identical"` // recycled byte-identical from an earlier release
	Near      int              `json:"near"`      // recycled as a near-duplicate of an earlier release's photo
	Uncertain int              `json:"uncertain"` // photos whose origin ties with another release (same day, bare date)
	Sources   []TimelineSource `json:"sources"`   // the releases recycled from, earliest first
}

// Timeline lists releases in time order (release time, then ingest time) and, for each, how many of
// its photos are new and how many were recycled from which earlier releases, in the ingest summary's
// three groups: identical (these bytes were released before: the source is the earliest release of
// the bytes), near (only a near-duplicate was released before: the source is the photo's origin), new
// (first released here). Origins are the one rule's (OriginOf over the family, read by batchDetailTx
// as Catalog.Batch reads them for show, history and the ingest summary).
func (c *Catalog) Timeline(o TimelineOptions) ([]TimelineRelease, error) {
	return c.TimelinePage(o, nil)
}

// TimelinePage is Timeline for one page of it: page is told how many releases o selects and
// returns the window [lo, hi) of them (in time order) to read; only those are read (nil: all).
func (c *Catalog) TimelinePage(o TimelineOptions, page func(total int) (lo, hi int)) ([]TimelineRelease, error) {
	out := []TimelineRelease{}
	err := c.TimelineEach(context.Background(), o, page, func(rs []TimelineRelease) error {
		out = append(out, rs...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TimelineEach is TimelinePage handing the releases to fn as they are read, a chunk of up to
// timelineChunk at a time in time order, so that a listing of every release starts at once and holds
// one chunk (at a million images the whole timeline takes minutes). It stops when fn returns an
// error, or with ErrInterrupted when ctx is done (checked between chunks).
func (c *Catalog) TimelineEach(ctx context.Context, o TimelineOptions, page func(total int) (lo, hi int), fn func([]TimelineRelease) error) error {
	// The releases selected, in time order (only those decoded: BatchesEach applies Since and Limit).
	var ids []BatchID
	err := c.BatchesEach(BatchListOptions(o), func(b Batch) error {
		ids = append(ids, b.ID)
		return nil
	})
	if err != nil {
		return err
	}
	if page != nil {
		lo, hi := page(len(ids))
		lo, hi = max(0, min(lo, len(ids))), max(0, min(hi, len(ids)))
		ids = ids[lo:max(lo, hi)]
	}
	// The releases are read timelineChunk at a time, each chunk in one read transaction (a
	// release's images and families from the stored edges; a read-only process opens catalog.db
	// for every transaction, so one per image cost more than the reading).
	for start := 0; start < len(ids); start += timelineChunk {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		ds := make([]*BatchDetail, 0, timelineChunk)
		var pending [][]int
		err := c.view(func(tx *bolt.Tx) error {
			cache := map[BatchID]*Batch{}
			watch := mapWatch{tx: tx}
			for _, id := range ids[start:min(start+timelineChunk, len(ids))] {
				d, p, err := batchDetailTx(tx, id, cache)
				if err != nil {
					return err
				}
				ds, pending = append(ds, d), append(pending, p)
				watch.stepN(len(d.Images))
			}
			return nil
		})
		if err != nil {
			return err
		}
		rs := make([]TimelineRelease, 0, len(ds))
		for i, d := range ds {
			if err := c.finishBatchDetail(d, pending[i]); err != nil {
				return err
			}
			rs = append(rs, timelineRelease(d))
		}
		if err := fn(rs); err != nil {
			return err
		}
	}
	return nil
}

// timelineChunk is how many releases one read transaction of Timeline reads (tests lower it).
var timelineChunk = 64

// timelineRelease counts a release's new and recycled photos and the earlier releases they come
// from.
func timelineRelease(d *BatchDetail) TimelineRelease {
	b := d.Batch
	r := TimelineRelease{Batch: d.Batch, Sources: []TimelineSource{}}
	from := map[BatchID]*TimelineSource{}
	source := func(ref ReleaseRef) *TimelineSource {
		src := from[ref.Batch]
		if src == nil {
			src = &TimelineSource{ReleaseRef: ref}
			from[ref.Batch] = src
		}
		return src
	}
	for _, bi := range d.Images {
		r.Photos++
		if bi.Origin != nil && bi.Origin.Uncertain {
			r.Uncertain++
		}
		switch og := bi.Origin; {
		case bi.Earlier != nil:
			// These bytes were released before: recycled from that release.
			r.Identical++
			source(ReleaseRef{Batch: bi.Earlier.Batch, Affiliate: bi.Earlier.Affiliate, Released: bi.Earlier.Released}).Identical++
		case og != nil && og.Sighting.Batch != b.ID:
			// Only a near-duplicate was released before: recycled from the origin's release.
			r.Near++
			source(ReleaseRef{Batch: og.Sighting.Batch, Affiliate: og.Sighting.Affiliate, Released: og.Sighting.Released}).Near++
		default:
			r.New++
		}
	}
	for _, s := range from {
		r.Sources = append(r.Sources, *s)
	}
	sort.Slice(r.Sources, func(i, j int) bool {
		a, b := r.Sources[i], r.Sources[j]
		if !a.Released.Time.Equal(b.Released.Time) {
			return a.Released.Time.Before(b.Released.Time)
		}
		return a.Batch.String() < b.Batch.String()
	})
	return r
}

package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/relcat/relcat/catalog/hindex"
	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// ReindexOptions configure Reindex.
type ReindexOptions struct {
	Operator string
	Command  string // the command line, for the log
	// Progress, when set, is called now and then with the step running and how far it is.
	Progress func(step string, done, total int)
}

// ReindexReport says what Reindex did.
type ReindexReport struct {
	FromSchema int      `json:"from_schema"`
	ToSchema   int      `json:"to_schema"`
	Hashes     int      `json:"hashes"` // perceptual hashes given near ids
	Edges      int      `json:"edges"`  // near-duplicate pairs stored
	Steps      []string `json:"steps"`  // one line per step run
	// RegionEdges are the pairs stored that match through region hashes (issue 10).
	RegionEdges int `json:"region_edges"`
	// NotUpgraded lists the images left without region hashes (no preserved original, or a failed
	// decode): they are matched whole-image only.
	NotUpgraded []string `json:"not_upgraded,omitempty"`
}

// upgradeStep rebuilds or upgrades one kind of derived stored data. Run gets the open, writable
// catalog (whatever its schema version: 1 when upgrading) and returns a line for the report and the
// log. Steps must be idempotent: reindex may be run any number of times.
type upgradeStep struct {
	name string
	run  func(ctx context.Context, c *Catalog, o *ReindexOptions, r *ReindexReport) (string, error)
}

// upgradeSteps is the one place that lists what `relcat reindex` rebuilds, in order. Whoever adds
// stored data derived from other records (an index, a hash computed at ingest) adds its step here.
var upgradeSteps = []upgradeStep{
	// Before the edges: rebuildNear stores the region edges of the region hashes this step adds.
	{"region hashes", regionStep},
	{"near-duplicate edges", rebuildNear},
	{"metadata search index", func(ctx context.Context, c *Catalog, _ *ReindexOptions, _ *ReindexReport) (string, error) {
		n, err := c.UpgradeSearchIndex(ctx)
		return fmt.Sprintf("%d images indexed for search and cameras", n), err
	}},
	{"reference PDQ", func(ctx context.Context, c *Catalog, o *ReindexOptions, _ *ReindexReport) (string, error) {
		u, err := c.UpgradeReferencePDQ(ctx, ReferenceUpgradeOptions{Operator: o.Operator, Command: o.Command})
		if err != nil {
			return "", err
		}
		line := fmt.Sprintf("%d of %d missing computed from the preserved originals", u.Computed, u.Missing)
		if u.NoOriginal > 0 {
			line += fmt.Sprintf(", %d without a preserved original", u.NoOriginal)
		}
		if len(u.Failed) > 0 {
			line += fmt.Sprintf(", %d failed (first: %s)", len(u.Failed), u.Failed[0])
		}
		return line, nil
	}},
}

// Reindex rebuilds every derived store of the catalog (near ids, near-duplicate edges, and each step
// in upgradeSteps) from the records, upgrades a catalog of an older schema version to
// SchemaVersion, and logs what it did. Open the catalog with Options.Upgrade to reindex a catalog
// of an older version. It is safe to interrupt: a step commits in pieces and a re-run redoes it.
func (c *Catalog) Reindex(ctx context.Context, o ReindexOptions) (*ReindexReport, error) {
	if c.readOnly {
		return nil, ErrReadOnly
	}
	r := &ReindexReport{FromSchema: c.schema, ToSchema: SchemaVersion}
	// Buckets a newer schema added.
	err := c.update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return createOptionalBuckets(tx)
	})
	if err != nil {
		return nil, err
	}
	for _, st := range upgradeSteps {
		if err := ctx.Err(); err != nil {
			return r, ErrInterrupted
		}
		line, err := st.run(ctx, c, &o, r)
		if err != nil {
			return r, fmt.Errorf("reindex: %s: %w", st.name, err)
		}
		r.Steps = append(r.Steps, st.name+": "+line)
	}
	err = c.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		if err := meta.Put(keyEdgesMax, []byte(strconv.Itoa(EdgeMaxDistance))); err != nil {
			return err
		}
		notes := slices.Clone(r.Steps)
		if r.FromSchema != SchemaVersion {
			notes = append(notes, fmt.Sprintf("schema upgraded from version %d to %d", r.FromSchema, SchemaVersion))
		}
		e := LogEntry{Time: c.now().UTC(), Operator: o.Operator, Command: o.Command, Tool: c.version, Action: "reindex", Notes: notes}
		return appendLog(tx, &e)
	})
	if err != nil {
		return r, err
	}
	c.schema = SchemaVersion
	c.dropIndex()
	if err := c.persistIndex(true); err != nil {
		return r, fmt.Errorf("reindex: write the near index file: %w", err)
	}
	if err := c.persistRegionIndex(true); err != nil {
		return r, fmt.Errorf("reindex: write the region index file: %w", err)
	}
	return r, nil
}

// reindexChunk is how many images one write transaction of reindex covers.
const reindexChunk = 20_000

// rebuildNear gives every perceptual hash a near id (keeping the arrival order of the ids it has,
// then images without one by ingest time) and recomputes every edge.
func rebuildNear(ctx context.Context, c *Catalog, o *ReindexOptions, r *ReindexReport) (string, error) {
	type rec struct {
		sha      SHA256
		id       uint64 // 0: none yet
		ingested time.Time
	}
	var recs []rec
	err := c.view(func(tx *bolt.Tx) error {
		imgs := tx.Bucket(bucketImages)
		return tx.Bucket(bucketPDQ).ForEach(func(k, v []byte) error {
			if len(k) != 32 {
				return fmt.Errorf("pdq key of %d bytes", len(k))
			}
			var x rec
			copy(x.sha[:], k)
			if _, err := parsePDQValue(v); err != nil {
				return fmt.Errorf("image %s pdq record: %w", x.sha, err)
			}
			x.id, _ = pdqNearID(v)
			if x.id == 0 {
				var img struct {
					Ingested time.Time `json:"ingested"`
				}
				if iv := imgs.Get(k); iv != nil {
					_ = json.Unmarshal(iv, &img)
				}
				x.ingested = img.Ingested
			}
			recs = append(recs, x)
			return nil
		})
	})
	if err != nil {
		return "", err
	}
	slices.SortFunc(recs, func(a, b rec) int {
		switch {
		case a.id != 0 && b.id != 0:
			return cmpUint(a.id, b.id)
		case a.id != 0:
			return -1
		case b.id != 0:
			return 1
		}
		if c := a.ingested.Compare(b.ingested); c != 0 {
			return c
		}
		return bytes.Compare(a.sha[:], b.sha[:])
	})
	// New ids 1..n in that order; the near_ids and edges buckets start again.
	err = c.update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketNearIDs, bucketEdges} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return bumpNearGen(tx)
	})
	if err != nil {
		return "", err
	}
	for start := 0; start < len(recs); start += reindexChunk {
		if err := ctx.Err(); err != nil {
			return "", ErrInterrupted
		}
		end := min(start+reindexChunk, len(recs))
		err := c.update(func(tx *bolt.Tx) error {
			pb, nb := tx.Bucket(bucketPDQ), tx.Bucket(bucketNearIDs)
			for i := start; i < end; i++ {
				id := uint64(i + 1)
				s := recs[i].sha
				p, err := parsePDQValue(pb.Get(s[:]))
				if err != nil {
					return fmt.Errorf("image %s pdq record: %w", s, err)
				}
				if err := pb.Put(s[:], pdqNearValue(p, id)); err != nil {
					return err
				}
				if err := nb.Put(seqKey(id), s[:]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		if o.Progress != nil {
			o.Progress("near ids", end, len(recs))
		}
	}
	r.Hashes = len(recs)
	c.dropIndex()
	ix, err := c.index()
	if err != nil {
		return "", err
	}
	rix, err := c.regionIndex()
	if err != nil {
		return "", err
	}
	pairs, regionPairs, err := c.rebuildEdges(ctx, ix, rix, len(recs), o)
	if err != nil {
		return "", err
	}
	r.Edges, r.RegionEdges = pairs, regionPairs
	return fmt.Sprintf("%d hashes, %d pairs within distance %d, %d more through region hashes", len(recs), pairs, EdgeMaxDistance, regionPairs), nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// edgePair is one edge found by reindex, from the later image a to the earlier b (region set when
// it is a region edge).
type edgePair struct {
	a, b   SHA256
	qa, qb int
	dist   int
	tr     uint8
	region *regionPair
}

// rebuildEdges finds the edges of every image towards the earlier ones (ids 1..n), as ingest did
// when each arrived, with GOMAXPROCS searching goroutines and one writer.
func (c *Catalog) rebuildEdges(ctx context.Context, ix *nearIndex, rix *regionIndex, n int, o *ReindexOptions) (int, int, error) {
	type chunk struct {
		start int
		pairs []edgePair
	}
	g, gctx := errgroup.WithContext(ctx)
	starts := make(chan int)
	results := make(chan chunk, 2)
	g.Go(func() error {
		defer close(starts)
		for s := 1; s <= n; s += reindexChunk {
			select {
			case starts <- s:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	workers, wctx := errgroup.WithContext(gctx)
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() error {
			var buf []hindex.Match
			for start := range starts {
				var pairs []edgePair
				err := c.view(func(tx *bolt.Tx) error {
					pb := tx.Bucket(bucketPDQ)
					for id := uint64(start); id < uint64(min(start+reindexChunk, n+1)); id++ {
						if id%1024 == 0 && wctx.Err() != nil {
							return wctx.Err()
						}
						s := ix.shas[id]
						pa, err := parsePDQValue(pb.Get(s[:]))
						if err != nil {
							return fmt.Errorf("image %s pdq record: %w", s, err)
						}
						var hits []hit
						ix.mu.RLock()
						hits, buf = ix.discover(pa, id, buf)
						ix.mu.RUnlock()
						for _, h := range hits {
							po, err := parsePDQValue(pb.Get(h.sha[:]))
							if err != nil {
								return fmt.Errorf("image %s pdq record: %w", h.sha, err)
							}
							if d, t := edgeOf(s, pa, h.sha, po); d <= EdgeMaxDistance {
								pairs = append(pairs, edgePair{s, h.sha, pa.Quality, po.Quality, d, uint8(t), nil})
							}
						}
						// Region edges, found as ingest finds them (regionmatch.go).
						rs, err := storedRegions(tx, s)
						if err != nil {
							return err
						}
						q := &hashSet{whole: pa, regions: rs}
						cands, err := c.regionCandidates(ix, rix, q, s, id, tx)
						if err != nil {
							return err
						}
						for _, cs := range cands {
							cp, err := storedHashSet(tx, cs)
							if err != nil {
								return err
							}
							if cp == nil || wholeEdge(pa, cp.whole) {
								continue
							}
							if rp, ok := regionPairMatch(s, q, cs, cp); ok {
								pairs = append(pairs, edgePair{a: s, b: cs, dist: rp.dist, tr: uint8(rp.tr), region: &rp})
							}
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
				select {
				case results <- chunk{start, pairs}:
				case <-wctx.Done():
					return wctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := workers.Wait()
		close(results)
		return err
	})
	total, regionTotal, done := 0, 0, 0
	g.Go(func() error {
		for ch := range results {
			err := c.update(func(tx *bolt.Tx) error {
				eb := tx.Bucket(bucketEdges)
				for _, p := range ch.pairs {
					if p.region != nil {
						if err := putRegionEdge(eb, p.a, p.b, *p.region); err != nil {
							return err
						}
						regionTotal++
						continue
					}
					if err := putEdge(eb, p.a, p.qa, p.b, p.qb, p.dist, pdq.Transform(p.tr)); err != nil {
						return err
					}
					total++
				}
				return nil
			})
			if err != nil {
				return err
			}
			done += min(reindexChunk, n+1-ch.start)
			if o.Progress != nil {
				o.Progress("edges", done, n)
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return total, regionTotal, ErrInterrupted
		}
		return total, regionTotal, err
	}
	return total, regionTotal, nil
}

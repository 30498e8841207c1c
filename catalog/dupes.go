package catalog

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// DupesOptions select which recycled photos Dupes reports.
type DupesOptions struct {
	Exact            bool // only byte-identical reuse
	Match            MatchOptions
	AcrossAffiliates bool     // only clusters seen under two or more affiliates
	Affiliate        string   // only clusters with a sighting by this affiliate
	Since            Released // only clusters with a sighting released at or after this time
	Limit            int      // stop after this many clusters (0: all)
}

// Member is one image of a cluster.
type Member struct {
	SHA256    SHA256     `json:"sha256"`
	Distance  int        `json:"distance"`  // to the origin image (0 for the origin itself)
	Transform string     `json:"transform"` // how this image relates to the origin image
	Quality   int        `json:"quality,omitempty"`
	Sightings []Sighting `json:"sightings"`
}

// Edge is a near match between two members; A is the earlier one, Transform says how B relates to A.
type Edge struct {
	A         SHA256 `json:"a"`
	B         SHA256 `json:"b"`
	Distance  int    `json:"distance"`
	Transform string `json:"transform"`
}

// Cluster is a recycled photo: the origin (earliest sighting) and every copy.
//
// Clustering rule (no transitive chaining): images are taken in first-seen order; each image not yet
// in a cluster starts one and becomes its origin image; the cluster takes every other unclustered
// image within the threshold of the origin image (under any of the 8 rotations/mirrors). Edges list
// every pair of members within the threshold. So every member is a near-duplicate of the origin
// itself, never merely of another member: unrelated photos cannot chain into one "mega-cluster".
type Cluster struct {
	Origin  Sighting `json:"origin"`
	Members []Member `json:"members"`
	Edges   []Edge   `json:"edges"`
}

// Dupes finds recycled photos: images sighted in more than one batch, and (unless Exact) groups of
// near-duplicates, each with its origin. It collects what DupesEach streams.
func (c *Catalog) Dupes(o DupesOptions) ([]Cluster, error) {
	var out []Cluster
	err := c.DupesEach(context.Background(), o, func(cl Cluster) error {
		out = append(out, cl)
		return nil
	})
	return out, err
}

// dupeEntry is an image that can belong to a cluster: sighted in two batches or more, or with a
// near-duplicate.
type dupeEntry struct {
	sha   SHA256
	first Sighting
	near  bool // has an edge within the threshold (or, searched, may have a match)
}

// DupesEach streams the clusters of Dupes to fn, origins in first-seen order, each as soon as it is
// complete. With the default threshold or a stricter one it reads the stored edges: one pass over
// the sightings and the edges (keys in the same order, read side by side) finds the images that
// can belong to a cluster, which are then taken in first-seen order; memory grows with those
// images, not with the catalog. A threshold above EdgeMaxDistance or a quality floor below
// EdgeMinQuality searches the index for every image instead (slow at scale). o.Limit stops after
// that many clusters; ctx stops it early with ErrInterrupted.
func (c *Catalog) DupesEach(ctx context.Context, o DupesOptions, fn func(Cluster) error) error {
	mo, err := o.Match.norm()
	if err != nil {
		return err
	}
	stored := edgesAnswer(mo)
	var ix *nearIndex
	if !o.Exact && !stored {
		if ix, err = c.index(); err != nil {
			return err
		}
	}
	return c.db.View(func(tx *bolt.Tx) error {
		cache := map[BatchID]*Batch{}
		all, err := dupeCandidates(ctx, tx, cache, o.Exact, stored, mo)
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b dupeEntry) int {
			if a.first.Before(b.first) {
				return -1
			}
			if b.first.Before(a.first) {
				return 1
			}
			return 0
		})
		bySHA := make(map[SHA256]int, len(all))
		for i, e := range all {
			bySHA[e.sha] = i
		}
		assigned := make([]bool, len(all))
		pdqs := tx.Bucket(bucketPDQ)
		getPDQ := func(s SHA256) (*PDQInfo, error) {
			v := pdqs.Get(s[:])
			if v == nil {
				return nil, nil
			}
			p, err := parsePDQValue(v)
			if err != nil {
				return nil, fmt.Errorf("image %s pdq record: %w", s, err)
			}
			return p, nil
		}
		// neighbours lists the matches of s within the threshold.
		neighbours := func(s SHA256) ([]Match, error) {
			p, err := getPDQ(s)
			if err != nil || p == nil {
				return nil, err
			}
			if stored {
				return edgeMatches(tx, s, p.Quality, mo)
			}
			return ix.near(&p.Dihedral, p.Quality, s, mo), nil
		}
		emitted := 0
		for i, e := range all {
			if assigned[i] {
				continue
			}
			if i%256 == 0 && ctx.Err() != nil {
				return ErrInterrupted
			}
			assigned[i] = true
			sight, err := sightingsOf(tx, e.sha, cache)
			if err != nil {
				return err
			}
			origin := Member{SHA256: e.sha, Distance: 0, Transform: pdq.AsIs.String(), Sightings: sight}
			cl := Cluster{Origin: e.first, Members: []Member{origin}, Edges: []Edge{}}
			group := []int{i}
			if e.near && !o.Exact {
				ms, err := neighbours(e.sha)
				if err != nil {
					return err
				}
				slices.SortFunc(ms, func(a, b Match) int {
					if a.Distance != b.Distance {
						return a.Distance - b.Distance
					}
					return bytes.Compare(a.SHA256[:], b.SHA256[:])
				})
				for _, m := range ms {
					j, ok := bySHA[m.SHA256]
					if !ok || assigned[j] {
						continue
					}
					assigned[j] = true
					// m.Transform says how the origin relates to the member; the member is described
					// relative to the origin.
					t, _ := pdq.ParseTransform(m.Transform)
					ss, err := sightingsOf(tx, m.SHA256, cache)
					if err != nil {
						return err
					}
					cl.Members = append(cl.Members, Member{SHA256: m.SHA256, Distance: m.Distance, Transform: t.Inverse().String(), Quality: m.Quality, Sightings: ss})
					group = append(group, j)
				}
			}
			if p, err := getPDQ(e.sha); err != nil {
				return err
			} else if p != nil {
				cl.Members[0].Quality = p.Quality
			}
			batches := map[BatchID]bool{}
			for _, m := range cl.Members {
				for _, s := range m.Sightings {
					batches[s.Batch] = true
				}
			}
			if len(group) < 2 && len(batches) < 2 {
				continue
			}
			if len(group) > 1 {
				if cl.Edges, err = clusterEdges(tx, all, group, stored, mo, getPDQ); err != nil {
					return err
				}
			}
			if !keepCluster(&cl, o) {
				continue
			}
			if err := fn(cl); err != nil {
				return err
			}
			emitted++
			if o.Limit > 0 && emitted >= o.Limit {
				return nil
			}
		}
		return nil
	})
}

// clusterEdges lists every pair of a cluster's members within the threshold, the earlier member as
// A, Transform saying how B relates to A.
func clusterEdges(tx *bolt.Tx, all []dupeEntry, group []int, stored bool, mo MatchOptions, getPDQ func(SHA256) (*PDQInfo, error)) ([]Edge, error) {
	out := []Edge{}
	in := map[SHA256]int{}
	for gi, i := range group {
		in[all[i].sha] = gi
	}
	for gi, i := range group {
		a := all[i]
		if stored {
			// a's stored edges to later members of the group; the entry a->b says how a relates
			// to b, the edge wants how the later one relates to the earlier.
			p, err := getPDQ(a.sha)
			if err != nil || p == nil {
				if err != nil {
					return nil, err
				}
				continue
			}
			ms, err := edgeMatches(tx, a.sha, p.Quality, mo)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				gj, ok := in[m.SHA256]
				if !ok || gj <= gi {
					continue
				}
				out = append(out, orientEdge(all[i], all[group[gj]], m))
			}
			continue
		}
		pa, err := getPDQ(a.sha)
		if err != nil || pa == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		for _, j := range group[gi+1:] {
			b := all[j]
			pb, err := getPDQ(b.sha)
			if err != nil {
				return nil, err
			}
			if pb == nil {
				continue
			}
			d, t := edgeOf(a.sha, pa, b.sha, pb)
			if d <= mo.MaxDistance {
				out = append(out, orientEdge(a, b, Match{SHA256: b.sha, Distance: d, Transform: t.String()}))
			}
		}
	}
	return out, nil
}

// orientEdge turns the match m of x (m.SHA256 is y; m.Transform how x relates to y) into an Edge
// with the earlier image as A.
func orientEdge(x, y dupeEntry, m Match) Edge {
	t, _ := pdq.ParseTransform(m.Transform)
	if y.first.Before(x.first) {
		// A = y, B = x: how x relates to y is m's transform.
		return Edge{A: y.sha, B: x.sha, Distance: m.Distance, Transform: t.String()}
	}
	return Edge{A: x.sha, B: y.sha, Distance: m.Distance, Transform: t.Inverse().String()}
}

// dupeCandidates lists, with their first sightings, the images sighted in two batches or more and
// (unless exact) those with an edge within the threshold (stored) or with a usable hash (not
// stored: only a search can tell). The image_batches and edges buckets are both keyed by SHA-256
// first, so one cursor over each, read side by side, answers both questions in one pass.
func dupeCandidates(ctx context.Context, tx *bolt.Tx, cache map[BatchID]*Batch, exact, stored bool, mo MatchOptions) ([]dupeEntry, error) {
	var out []dupeEntry
	ecur := tx.Bucket(bucketEdges).Cursor()
	ek, ev := ecur.First()
	pdqs := tx.Bucket(bucketPDQ)
	// hasNear reports whether s has an edge (or a hash, when not stored) within the threshold.
	hasNear := func(s SHA256) (bool, error) {
		if exact {
			return false, nil
		}
		if !stored {
			v := pdqs.Get(s[:])
			return len(v) > 0 && int(v[0]) >= mo.MinQuality, nil
		}
		for ek != nil && bytes.Compare(ek[:min(32, len(ek))], s[:]) < 0 {
			ek, ev = ecur.Next()
		}
		found := false
		for ; ek != nil && bytes.HasPrefix(ek, s[:]); ek, ev = ecur.Next() {
			if found || len(ek) < 33 || ek[32] != edgeWhole {
				continue
			}
			e, err := parseEdge(ek, ev)
			if err != nil {
				return false, fmt.Errorf("image %s: %w (run `relcat reindex`)", s, err)
			}
			if e.dist <= mo.MaxDistance && e.qualityB >= mo.MinQuality {
				found = true
			}
		}
		if found && mo.MinQuality > EdgeMinQuality {
			v := pdqs.Get(s[:])
			found = v != nil && int(v[0]) >= mo.MinQuality
		}
		return found, nil
	}
	var cur SHA256
	var first Sighting
	var n, batches int
	var lastBatch BatchID
	flush := func() error {
		if n == 0 {
			return nil
		}
		near, err := hasNear(cur)
		if err != nil {
			return err
		}
		if near || batches > 1 {
			out = append(out, dupeEntry{sha: cur, first: first, near: near})
		}
		return nil
	}
	c := tx.Bucket(bucketImageBatches).Cursor()
	count := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if count%4096 == 0 && ctx.Err() != nil {
			return nil, ErrInterrupted
		}
		count++
		s, bid, pos, err := parseImageBatchKey(k)
		if err != nil {
			return nil, err
		}
		if s != cur || n == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			cur, n, batches = s, 0, 0
		}
		b := cache[bid]
		if b == nil {
			if b, err = getBatch(tx, bid); err != nil {
				return nil, err
			}
			cache[bid] = b
		}
		sg := Sighting{SHA256: s, Batch: bid, Affiliate: b.Affiliate, Released: b.Released, Position: pos, Ingested: b.Ingested}
		if n == 0 || sg.Before(first) {
			sg.Name = string(v)
			first = sg
		}
		if n == 0 || bid != lastBatch {
			batches++
			lastBatch = bid
		}
		n++
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func keepCluster(cl *Cluster, o DupesOptions) bool {
	affs := map[string]bool{}
	since := o.Since.IsZero()
	hasAff := o.Affiliate == ""
	for _, m := range cl.Members {
		for _, s := range m.Sightings {
			affs[s.Affiliate] = true
			if s.Affiliate == o.Affiliate {
				hasAff = true
			}
			if !o.Since.IsZero() && !s.Released.Time.Before(o.Since.Time) {
				since = true
			}
		}
	}
	if o.AcrossAffiliates && len(affs) < 2 {
		return false
	}
	return hasAff && since
}

// History is the provenance of an image: its sightings and those of its near-duplicates, earliest
// first, with the first one named as the origin.
type History struct {
	Image     *Image     `json:"image"`
	Sightings []Sighting `json:"sightings"`
	Near      []Match    `json:"near"`
	Origin    *Sighting  `json:"origin,omitempty"`
	Uncertain bool       `json:"uncertain,omitempty"` // the origin ties with another sighting on a bare date
}

// History returns the provenance of an image.
func (c *Catalog) History(s SHA256, o MatchOptions) (*History, error) {
	mo, err := o.norm()
	if err != nil {
		return nil, err
	}
	d, err := c.Image(s)
	if err != nil {
		return nil, err
	}
	h := &History{Image: d.Image, Sightings: d.Sightings, Near: []Match{}}
	if d.Image.PDQ != nil {
		if h.Near, err = c.storedNearWithSightings(s, d.Image.PDQ, mo); err != nil {
			return nil, err
		}
	}
	var all []Sighting
	all = append(all, h.Sightings...)
	for _, m := range h.Near {
		all = append(all, m.Sightings...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	if len(all) > 0 {
		first := all[0]
		h.Origin = &first
		h.Uncertain = uncertainFirst(first, all)
	}
	return h, nil
}

// uncertainFirst reports whether first ties with a sighting of another batch: released the same day
// when either of them gives only a date (a bare date counts as the start of the day UTC, so which
// came first is not known).
func uncertainFirst(first Sighting, all []Sighting) bool {
	for _, s := range all {
		if s.Batch != first.Batch && (first.Released.DateOnly || s.Released.DateOnly) && sameDay(first.Released, s.Released) {
			return true
		}
	}
	return false
}

func sameDay(a, b Released) bool {
	return a.Time.UTC().Format("2006-01-02") == b.Time.UTC().Format("2006-01-02")
}

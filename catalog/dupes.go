package catalog

import (
	"fmt"
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
// near-duplicates, each with its origin.
func (c *Catalog) Dupes(o DupesOptions) ([]Cluster, error) {
	mo, err := o.Match.norm()
	if err != nil {
		return nil, err
	}
	type entry struct {
		sha   SHA256
		sight []Sighting
		p     *PDQInfo
	}
	var all []*entry
	bySHA := map[SHA256]*entry{}
	err = c.view(func(tx *bolt.Tx) error {
		cache := map[BatchID]*Batch{}
		return tx.Bucket(bucketImages).ForEach(func(k, v []byte) error {
			var s SHA256
			copy(s[:], k)
			e := &entry{sha: s}
			var err error
			if e.sight, err = sightingsOf(tx, s, cache); err != nil {
				return err
			}
			if len(e.sight) == 0 {
				return nil
			}
			// Byte-identical reuse needs no perceptual hash (and answers without the pdq bucket).
			if pv := pdqValueOf(tx, k, !o.Exact); pv != nil {
				if e.p, err = parsePDQValue(pv); err != nil {
					return fmt.Errorf("image %s pdq record: %w", s, err)
				}
			}
			all = append(all, e)
			bySHA[s] = e
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].sight[0].Before(all[j].sight[0]) })

	var ix *nearIndex
	if !o.Exact {
		if ix, err = c.index(); err != nil {
			return nil, err
		}
	}
	member := func(e *entry, dist int, tr string) Member {
		m := Member{SHA256: e.sha, Distance: dist, Transform: tr, Sightings: e.sight}
		if e.p != nil {
			m.Quality = e.p.Quality
		}
		return m
	}
	assigned := map[SHA256]bool{}
	var out []Cluster
	for _, e := range all {
		if assigned[e.sha] {
			continue
		}
		assigned[e.sha] = true
		cl := Cluster{Origin: e.sight[0], Members: []Member{member(e, 0, pdq.AsIs.String())}, Edges: []Edge{}}
		var group []*entry
		group = append(group, e)
		if ix != nil && e.p != nil {
			for _, m := range ix.near(&e.p.Dihedral, e.p.Quality, e.sha, mo) {
				other := bySHA[m.SHA256]
				if other == nil || assigned[m.SHA256] {
					continue
				}
				// m.Transform says how e relates to other; the member is described relative to the origin.
				t, _ := pdq.ParseTransform(m.Transform)
				assigned[m.SHA256] = true
				cl.Members = append(cl.Members, member(other, m.Distance, t.Inverse().String()))
				group = append(group, other)
			}
		}
		batches := map[BatchID]bool{}
		for _, g := range group {
			for _, s := range g.sight {
				batches[s.Batch] = true
			}
		}
		if len(group) < 2 && len(batches) < 2 {
			continue
		}
		for i := 0; i < len(group); i++ {
			for j := i + 1; j < len(group); j++ {
				a, b := group[i], group[j]
				if a.p == nil || b.p == nil {
					continue
				}
				if b.sight[0].Before(a.sight[0]) {
					a, b = b, a
				}
				t, d := pdq.Nearest(b.p.Hash, &a.p.Dihedral)
				if d <= mo.MaxDistance {
					cl.Edges = append(cl.Edges, Edge{A: a.sha, B: b.sha, Distance: d, Transform: t.String()})
				}
			}
		}
		if keepCluster(&cl, o) {
			out = append(out, cl)
		}
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
		if h.Near, err = c.nearWithSightings(&d.Image.PDQ.Dihedral, d.Image.PDQ.Quality, s, mo); err != nil {
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

// pdqValueOf is the pdq entry of image k when want (nil otherwise).
func pdqValueOf(tx *bolt.Tx, k []byte, want bool) []byte {
	if !want {
		return nil
	}
	return tx.Bucket(bucketPDQ).Get(k)
}

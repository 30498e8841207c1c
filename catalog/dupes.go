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
	Distance  int        `json:"distance"`  // to the origin image (0 for the origin itself): PairDistance
	Transform string     `json:"transform"` // how this image relates to the origin image
	Quality   int        `json:"quality,omitempty"`
	Sightings []Sighting `json:"sightings"`
	// Uncertain: this image's origin (the cluster's) ties with another release of its family.
	Uncertain bool `json:"uncertain,omitempty"`
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
// Clustering rule (no transitive chaining): every image belongs to the cluster of its origin image,
// the image holding the earliest sighting of its family (OriginOf over its own sightings and its
// near matches): the same origin history, lookup, show and the ingest summary name. So every member
// is a near-duplicate of the origin image itself, never merely of another member, and unrelated
// photos cannot chain into one "mega-cluster". The origin image comes first; when its own origin is
// an even earlier photo it is not near to every member of, it also appears, as a member, in that
// photo's cluster. Edges list every pair of members within the threshold.
type Cluster struct {
	Origin    Sighting `json:"origin"`
	Uncertain bool     `json:"uncertain,omitempty"` // the origin ties with another release of some member's family
	Members   []Member `json:"members"`
	Edges     []Edge   `json:"edges"`
}

// Dupes finds recycled photos: images sighted in more than one batch, and (unless Exact) groups of
// near-duplicates, each with its origin.
func (c *Catalog) Dupes(o DupesOptions) ([]Cluster, error) {
	mo, err := o.Match.norm()
	if err != nil {
		return nil, err
	}
	type entry struct {
		sha    SHA256
		sight  []Sighting
		p      *PDQInfo
		origin *Origin
		match  Match // to its origin image when that is another image
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
	// The family and origin of every image, with the same rule as Catalog.Family.
	for _, e := range all {
		var near []Match
		if ix != nil && e.p != nil && e.p.Quality >= mo.MinQuality {
			for _, cs := range ix.candidates(&e.p.Dihedral, e.sha, mo) {
				other := bySHA[cs]
				if other == nil {
					continue
				}
				if m, ok := matchPair(e.p, other.p, cs, mo); ok {
					m.Sightings = other.sight
					near = append(near, m)
				}
			}
		}
		e.origin = OriginOf(e.sight, near)
		for _, m := range near {
			if m.SHA256 == e.origin.Sighting.SHA256 {
				e.match = m
			}
		}
	}
	// Each member's uncertain flag is that of its own origin, which is the cluster's, except for an
	// origin image whose own origin is an earlier photo (it is a member of that photo's cluster too).
	member := func(e *entry, key SHA256, dist int, tr string) Member {
		m := Member{SHA256: e.sha, Distance: dist, Transform: tr, Sightings: e.sight}
		m.Uncertain = e.origin.Uncertain && e.origin.Sighting.SHA256 == key
		if e.p != nil {
			m.Quality = e.p.Quality
		}
		return m
	}
	// Group by origin image: the origin image first, then the others in first-seen order.
	groups := map[SHA256][]*entry{}
	var keys []SHA256
	for _, e := range all {
		k := e.origin.Sighting.SHA256
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
			groups[k] = []*entry{bySHA[k]}
		}
		if e.sha != k {
			groups[k] = append(groups[k], e)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return bySHA[keys[i]].sight[0].Before(bySHA[keys[j]].sight[0]) })
	var out []Cluster
	for _, k := range keys {
		group := groups[k]
		oe := group[0]
		cl := Cluster{Origin: oe.sight[0], Members: []Member{member(oe, k, 0, pdq.AsIs.String())}, Edges: []Edge{}}
		batches := map[BatchID]bool{}
		for _, s := range oe.sight {
			batches[s.Batch] = true
		}
		for _, e := range group[1:] {
			cl.Members = append(cl.Members, member(e, k, e.match.Distance, e.match.Transform))
			for _, s := range e.sight {
				batches[s.Batch] = true
			}
		}
		for _, m := range cl.Members {
			cl.Uncertain = cl.Uncertain || m.Uncertain
		}
		if len(group) < 2 && len(batches) < 2 {
			continue
		}
		for i := 0; i < len(group); i++ {
			for j := i + 1; j < len(group); j++ {
				a, b := group[i], group[j]
				if b.sight[0].Before(a.sight[0]) {
					a, b = b, a
				}
				if m, ok := matchPair(b.p, a.p, a.sha, mo); ok {
					cl.Edges = append(cl.Edges, Edge{A: a.sha, B: b.sha, Distance: m.Distance, Transform: m.Transform})
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

// History is the provenance of an image: its sightings and those of its near-duplicates (earliest
// release first), with the origin over all of them (OriginOf).
type History struct {
	Image     *Image     `json:"image"`
	Sightings []Sighting `json:"sightings"`
	Near      []Match    `json:"near"`
	Origin    *Sighting  `json:"origin,omitempty"`
	Uncertain bool       `json:"uncertain,omitempty"` // the origin ties with another release (see Origin.Uncertain)
	// OriginMatch is the full origin: whether it is a near-duplicate, at what distance and transform.
	OriginMatch *Origin `json:"origin_detail,omitempty"`
}

// History returns the provenance of an image.
func (c *Catalog) History(s SHA256, o MatchOptions) (*History, error) {
	d, err := c.Image(s)
	if err != nil {
		return nil, err
	}
	f, err := c.Family(s, d.Image.PDQ, o)
	if err != nil {
		return nil, err
	}
	h := &History{Image: d.Image, Sightings: f.Sightings, Near: f.Near, OriginMatch: f.Origin}
	if f.Origin != nil {
		first := f.Origin.Sighting
		h.Origin = &first
		h.Uncertain = f.Origin.Uncertain
	}
	return h, nil
}

// pdqValueOf is the pdq entry of image k when want (nil otherwise).
func pdqValueOf(tx *bolt.Tx, k []byte, want bool) []byte {
	if !want {
		return nil
	}
	return tx.Bucket(bucketPDQ).Get(k)
}

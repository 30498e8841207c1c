package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"

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
	Distance  int        `json:"distance"`  // to the origin image (0 for the origin itself): PairDistance
	Transform string     `json:"transform"` // how this image relates to the origin image
	Quality   int        `json:"quality,omitempty"`
	Sightings []Sighting `json:"sightings"`
	// Uncertain: this image's origin (the cluster's) ties with another release of its family.
	Uncertain bool `json:"uncertain,omitempty"`
	// Region: this image matched the origin image through region hashes (a crop, a band).
	Region *RegionMatch `json:"region,omitempty"`
}

// Edge is a near match between two members; A is the earlier one, Transform says how B relates to A.
type Edge struct {
	A         SHA256 `json:"a"`
	B         SHA256 `json:"b"`
	Distance  int    `json:"distance"`
	Transform string `json:"transform"`
	// Region: A and B matched through region hashes; described as how B relates to A.
	Region *RegionMatch `json:"region,omitempty"`
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
	// Read in the same pass (dupeCandidates), so that making the clusters reads nothing at random:
	sights  []Sighting   // every sighting, earliest first (as sightingsOf)
	edges   []storedEdge // its stored edges (stored thresholds)
	quality int          // its PDQ quality, when hasPDQ
	hasPDQ  bool
}

// originInfo is what a cluster needs to know of one image's origin (OriginOf over its family).
type originInfo struct {
	image     SHA256 // the image holding the origin sighting
	uncertain bool
	dist      int          // PairDistance to that image (when it is another)
	transform string       // how this image relates to it
	region    *RegionMatch // when matched through region hashes
}

// DupesEach streams the clusters of Dupes to fn, origins in first-seen order, each as soon as it is
// complete. With the default threshold or a stricter one it reads the stored edges (edges.go): one
// pass over the sightings and the edges (keys in the same order, read side by side) lists the
// images that can belong to a cluster, which are then taken in first-seen order; each image's
// origin is computed once, from its edges, and kept as a few numbers. Memory grows with the images
// that have a near-duplicate or a second sighting, not with the catalog; time with them and their
// edges. A threshold above EdgeMaxDistance or a quality floor below EdgeMinQuality searches the index
// for every image instead (slow at scale). o.Limit stops after that many clusters; a limit up to
// lazyDupesLimit without filters reads the images in first-seen order, one at a time, and stops
// there (dupesInOrder). ctx stops it with ErrInterrupted.
func (c *Catalog) DupesEach(ctx context.Context, o DupesOptions, fn func(Cluster) error) error {
	mo, err := o.Match.norm()
	if err != nil {
		return err
	}
	if o.Affiliate != "" {
		if o.Affiliate, err = c.ResolveAffiliate(o.Affiliate); err != nil {
			return err
		}
	}
	stored := edgesAnswer(mo)
	var ix *nearIndex
	var rix *regionIndex
	if !o.Exact && !stored {
		if ix, err = c.index(); err != nil {
			return err
		}
		if !mo.NoRegions {
			if rix, err = c.regionIndex(); err != nil {
				return err
			}
		}
	}
	return c.view(func(tx *bolt.Tx) error {
		// Resident memory stays bounded by what the answer holds, not by the pages read (mapped.go).
		watch := &mapWatch{tx: tx}
		cache := map[BatchID]*Batch{}
		// A small --limit without filters reads only what the first clusters need: the sightings
		// in first-seen order (batch records ordered, then each batch's images), each image's
		// candidacy read by key when first met. Otherwise one pass lists every candidate.
		lazy := o.ReadsByLimit(o.Limit)
		var all []dupeEntry
		pos := map[SHA256]int{}
		var cr *candReader
		notCand := map[SHA256]bool{}
		if lazy {
			cr = newCandReader(tx, cache, o.Exact, stored, mo, true)
		} else {
			if all, err = dupeCandidates(ctx, tx, watch, cache, o.Exact, stored, mo); err != nil {
				return err
			}
			slices.SortStableFunc(all, func(a, b dupeEntry) int {
				switch {
				case a.first.Before(b.first):
					return -1
				case b.first.Before(a.first):
					return 1
				}
				return 0
			})
			pos = make(map[SHA256]int, len(all))
			for i, e := range all {
				pos[e.sha] = i
			}
		}
		// candidate is image s's place in all, when it can belong to a cluster (read now, when lazy).
		candidate := func(s SHA256) (int, bool, error) {
			if i, ok := pos[s]; ok {
				return i, true, nil
			}
			if !lazy || notCand[s] {
				return 0, false, nil
			}
			e, ok, err := cr.lazyEntry(s)
			if err != nil || !ok {
				notCand[s] = err == nil
				return 0, false, err
			}
			dupesLazyReads.Add(1)
			all = append(all, e)
			pos[s] = len(all) - 1
			return len(all) - 1, true, nil
		}
		pdqs, edges := tx.Bucket(bucketPDQ), tx.Bucket(bucketEdges)
		getPDQ := func(s SHA256) (*PDQInfo, error) {
			if o.Exact {
				return nil, nil // byte-identical reuse needs no perceptual hash (nor the pdq bucket)
			}
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
		// neighbours lists the near matches of image i among the images that can be in a cluster
		// (Sightings not filled): its stored edges, or a search.
		neighbours := func(i int) ([]Match, *PDQInfo, error) {
			e := all[i]
			var p *PDQInfo
			var err error
			if stored || o.Exact {
				if e.hasPDQ {
					p = &PDQInfo{Quality: e.quality} // all that reading edges needs
				}
			} else if p, err = getPDQ(e.sha); err != nil {
				return nil, p, err
			}
			if p == nil || !e.near || o.Exact {
				return nil, p, nil
			}
			var ms []Match
			if stored {
				ms, err = matchesOfEdges(edges, e.sha, p.Quality, mo, e.edges)
				if err != nil {
					return nil, p, err
				}
			} else {
				q, err := storedHashSet(tx, e.sha)
				if err != nil {
					return nil, p, err
				}
				var cands []SHA256
				if p.Quality >= mo.MinQuality {
					cands = ix.candidates(&p.Dihedral, e.sha, mo)
				}
				if !mo.NoRegions {
					rc, err := c.regionCandidates(ix, rix, q, e.sha, 0, tx)
					if err != nil {
						return nil, p, err
					}
					cands = appendNew(cands, rc)
				}
				for _, cs := range cands {
					cp, err := storedHashSet(tx, cs)
					if err != nil {
						return nil, p, err
					}
					if cp == nil {
						continue
					}
					if m, ok := matchSets(e.sha, q, cs, cp, mo); ok {
						ms = append(ms, m)
					}
				}
			}
			out := ms[:0]
			for _, m := range ms {
				if _, ok, err := candidate(m.SHA256); err != nil {
					return nil, p, err
				} else if ok {
					out = append(out, m)
				}
			}
			return out, p, nil
		}
		origins := map[SHA256]originInfo{}
		// origin computes image i's origin with OriginOf, the one rule, over its family.
		origin := func(i int) (originInfo, error) {
			e := all[i]
			if oi, ok := origins[e.sha]; ok {
				return oi, nil
			}
			sight := e.sights
			near, _, err := neighbours(i)
			if err != nil {
				return originInfo{}, err
			}
			for j := range near {
				near[j].Sightings = all[pos[near[j].SHA256]].sights // neighbours keeps only candidates
			}
			og := OriginOf(sight, near)
			oi := originInfo{image: e.sha}
			if og != nil {
				oi.image, oi.uncertain = og.Sighting.SHA256, og.Uncertain
				for _, m := range near {
					if m.SHA256 == oi.image {
						oi.dist, oi.transform, oi.region = m.Distance, m.Transform, m.Region
					}
				}
			}
			origins[e.sha] = oi
			return oi, nil
		}
		emitted := 0
		// emit makes the cluster of image i when i is its own origin or the origin of others, and
		// passes it on; done: the limit is reached.
		emit := func(i int) (done bool, err error) {
			e := all[i]
			k := e.sha
			ok, err := origin(i)
			if err != nil {
				return false, err
			}
			// The cluster of origin image k: k, and every near match of k whose origin is k.
			near, kp, err := neighbours(i)
			if err != nil {
				return false, err
			}
			var group []int
			for _, m := range near {
				j := pos[m.SHA256]
				oj, err := origin(j)
				if err != nil {
					return false, err
				}
				if oj.image == k {
					group = append(group, j)
				}
			}
			if ok.image != k && len(group) == 0 {
				return false, nil // k is a member of an earlier image's cluster only
			}
			// First-seen order (the order of all when every candidate was listed first).
			slices.SortFunc(group, func(a, b int) int {
				switch ea, eb := &all[a], &all[b]; {
				case ea.first.Before(eb.first):
					return -1
				case eb.first.Before(ea.first):
					return 1
				default:
					return bytes.Compare(ea.sha[:], eb.sha[:])
				}
			})
			group = append([]int{i}, group...)
			cl := Cluster{Origin: e.first, Edges: []Edge{}}
			batches := map[BatchID]bool{}
			for gi, j := range group {
				s := all[j].sha
				sight := all[j].sights
				oj := origins[s]
				m := Member{SHA256: s, Transform: pdq.AsIs.String(), Sightings: sight, Uncertain: oj.uncertain && oj.image == k}
				if gi > 0 {
					m.Distance, m.Transform, m.Region = oj.dist, oj.transform, oj.region
				}
				if stored || o.Exact {
					if all[j].hasPDQ {
						m.Quality = all[j].quality
					}
				} else if gi == 0 && kp != nil {
					m.Quality = kp.Quality
				} else if p, err := getPDQ(s); err != nil {
					return false, err
				} else if p != nil {
					m.Quality = p.Quality
				}
				if gi == 0 && len(sight) > 0 {
					cl.Origin = sight[0]
				}
				cl.Members = append(cl.Members, m)
				cl.Uncertain = cl.Uncertain || m.Uncertain
				for _, sg := range sight {
					batches[sg.Batch] = true
				}
			}
			if len(group) < 2 && len(batches) < 2 {
				return false, nil
			}
			if len(group) > 1 {
				if cl.Edges, err = groupEdges(all, group, neighbours); err != nil {
					return false, err
				}
			}
			if !keepCluster(&cl, o) {
				return false, nil
			}
			if err := fn(cl); err != nil {
				return false, err
			}
			emitted++
			return o.Limit > 0 && emitted >= o.Limit, nil
		}
		if lazy {
			return dupesInOrder(ctx, tx, watch, candidate, emit)
		}
		for i := range all {
			if i%256 == 0 && ctx.Err() != nil {
				return ErrInterrupted
			}
			watch.stepN(16) // a candidate reads a few dozen records: look every 64 candidates
			if done, err := emit(i); done || err != nil {
				return err
			}
		}
		return nil
	})
}

// lazyDupesLimit is the largest --limit (without filters) that dupes answers by reading images in
// first-seen order, one at a time, instead of listing every candidate first. Measured on the
// compacted million-image catalog (126,429 clusters), --limit 2,000 / 5,000 / 10,000 / 20,000:
// 0.41 / 0.71 / 1.15 / 2.00 s of CPU and 26 / 40 / 63 / 106 MiB of heap read lazily, against 2.5 /
// 2.6 / 2.8 / 3.2 s and 251-307 MiB listing every candidate first (the same clusters, byte for
// byte): the web UI's /dupes pages up to the 100th read lazily.
const lazyDupesLimit = 20000

// ReadsByLimit says whether a Limit of n clusters makes Dupes read only what those clusters need
// (n up to 20,000 and no Since, Affiliate or AcrossAffiliates filter), rather than every candidate
// before the first cluster (a list cut into pages asks it for the first pages).
func (o DupesOptions) ReadsByLimit(n int) bool {
	return n > 0 && n <= lazyDupesLimit && o.Since.IsZero() && o.Affiliate == "" && !o.AcrossAffiliates
}

// dupesLazyReads counts the images whose candidacy a --limit read one at a time (tests).
var dupesLazyReads atomic.Int64

// dupesInOrder meets the images in first-seen order, their sightings in the order of Sighting.Before
// (batches by release, ingest time and id, each batch's images by position), and passes each image
// that can belong to a cluster to emit when first met: the order in which DupesEach takes them.
func dupesInOrder(ctx context.Context, tx *bolt.Tx, watch *mapWatch, candidate func(SHA256) (int, bool, error), emit func(int) (bool, error)) error {
	type batchAt struct {
		id  BatchID
		key batchKey
	}
	var order []batchAt
	err := tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
		watch.step()
		bk, err := batchKeyOf(v)
		if err != nil || len(k) != len(BatchID{}) {
			return nil // damage: its sightings are left out, as getBatch does
		}
		var id BatchID
		copy(id[:], k)
		order = append(order, batchAt{id, bk})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(order, func(a, b batchAt) int {
		sa := Sighting{Batch: a.id, Released: a.key.Released, Ingested: a.key.Ingested}
		sb := Sighting{Batch: b.id, Released: b.key.Released, Ingested: b.key.Ingested}
		switch {
		case sa.Before(sb):
			return -1
		case sb.Before(sa):
			return 1
		}
		return 0
	})
	met := map[SHA256]bool{}
	cur := tx.Bucket(bucketBatchImages).Cursor()
	n := 0
	for _, b := range order {
		for k, v := cur.Seek(b.id[:]); k != nil && bytes.HasPrefix(k, b.id[:]); k, v = cur.Next() {
			if n++; n%256 == 0 && ctx.Err() != nil {
				return ErrInterrupted
			}
			watch.step()
			var rec sightingRecord
			if json.Unmarshal(v, &rec) != nil || met[rec.SHA256] {
				continue
			}
			met[rec.SHA256] = true
			i, ok, err := candidate(rec.SHA256)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if done, err := emit(i); done || err != nil {
				return err
			}
		}
	}
	return nil
}

// groupEdges lists every pair of a cluster's members within the threshold, in member order, the
// earlier one as A and Transform saying how B relates to A (the match of B towards A). It keeps only
// the edges it returns (a cluster of m near-identical copies has m(m-1)/2 of them), reading each
// member's matches once.
func groupEdges(all []dupeEntry, group []int, neighbours func(int) ([]Match, *PDQInfo, error)) ([]Edge, error) {
	idx := make(map[SHA256]int, len(group))
	for gi, j := range group {
		idx[all[j].sha] = gi
	}
	type pair struct {
		lo, hi int // member positions
		e      Edge
	}
	var found []pair
	for gb, jb := range group {
		ms, _, err := neighbours(jb)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			ga, ok := idx[m.SHA256]
			if !ok || ga == gb {
				continue
			}
			// The pair's A is its earlier member (the first in member order on a tie); the edge is
			// B's match towards A, so it is taken from B's matches only.
			lo, hi := min(ga, gb), max(ga, gb)
			a, b := lo, hi
			if all[group[b]].first.Before(all[group[a]].first) {
				a, b = b, a
			}
			if b != gb {
				continue
			}
			found = append(found, pair{lo, hi, Edge{A: all[group[a]].sha, B: all[group[b]].sha, Distance: m.Distance, Transform: m.Transform, Region: m.Region}})
		}
	}
	slices.SortFunc(found, func(x, y pair) int {
		if x.lo != y.lo {
			return x.lo - y.lo
		}
		return x.hi - y.hi
	})
	out := make([]Edge, len(found))
	for i, p := range found {
		out[i] = p.e
	}
	return out, nil
}

// dupeCandidates lists, with their sightings, the images sighted in two batches or more and
// (unless exact) those with an edge within the threshold (stored) or with a usable hash (not
// stored: only a search can tell). The image_batches, edges and pdq buckets are all keyed by
// SHA-256 first, so one cursor over each, read side by side, answers every question in one pass,
// and each candidate keeps its sightings, stored edges and quality: making the clusters then reads
// nothing at random (a million images spread over gigabytes of catalog.db).
func dupeCandidates(ctx context.Context, tx *bolt.Tx, watch *mapWatch, cache map[BatchID]*Batch, exact, stored bool, mo MatchOptions) ([]dupeEntry, error) {
	var out []dupeEntry
	cr := newCandReader(tx, cache, exact, stored, mo, false)
	var cur SHA256
	var sights []Sighting
	flush := func() error {
		if len(sights) == 0 {
			return nil
		}
		e, ok, err := cr.entry(cur, sights)
		if ok {
			out = append(out, e)
		}
		return err
	}
	c := tx.Bucket(bucketImageBatches).Cursor()
	count := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		watch.step()
		if count%4096 == 0 && ctx.Err() != nil {
			return nil, ErrInterrupted
		}
		count++
		s, _, _, err := parseImageBatchKey(k)
		if err != nil {
			return nil, err
		}
		if s != cur || len(sights) == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			cur, sights = s, sights[:0]
		}
		if sights, err = cr.appendSighting(sights, k, v); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// candReader tells whether an image can belong to a cluster (dupeCandidates, or one image at a
// time for a --limit that needs only the first clusters), and reads what a cluster needs of it.
type candReader struct {
	tx            *bolt.Tx
	cache         map[BatchID]*Batch
	exact, stored bool
	mo            MatchOptions
	seek          bool // images come in any order: seek the edges cursor (else it moves along)
	pdqs, regions *bolt.Bucket
	ecur          *bolt.Cursor
	ek, ev        []byte
	edgeBuf       []storedEdge
}

func newCandReader(tx *bolt.Tx, cache map[BatchID]*Batch, exact, stored bool, mo MatchOptions, seek bool) *candReader {
	cr := &candReader{tx: tx, cache: cache, exact: exact, stored: stored, mo: mo, seek: seek, regions: tx.Bucket(bucketRegions)}
	cr.ecur = tx.Bucket(bucketEdges).Cursor()
	if !seek {
		cr.ek, cr.ev = cr.ecur.First()
	}
	// Byte-identical reuse needs no perceptual hash (nor the pdq bucket).
	if !exact {
		cr.pdqs = tx.Bucket(bucketPDQ)
	}
	return cr
}

// appendSighting appends the sighting of image_batches entry k, v (when its batch has a record).
func (cr *candReader) appendSighting(sights []Sighting, k, v []byte) ([]Sighting, error) {
	s, bid, pos, err := parseImageBatchKey(k)
	if err != nil {
		return sights, err
	}
	b := cr.cache[bid]
	if b == nil {
		if b, err = getBatch(cr.tx, bid); err != nil {
			// Damage: leave the sighting out and name it (as sightingsOf does).
			noteDamage(cr.tx, "%v: its sightings are left out of the answers", err)
			return sights, nil
		}
		cr.cache[bid] = b
	}
	return append(sights, Sighting{SHA256: s, Batch: bid, Affiliate: b.Affiliate, Released: b.Released, Name: textName(string(v)), Position: pos, Ingested: b.Ingested}), nil
}

// hasNear reports whether s has an edge (or a hash, when not stored) within the threshold; its
// stored edges are left in edgeBuf.
func (cr *candReader) hasNear(s SHA256, quality int, hasPDQ bool) (bool, error) {
	cr.edgeBuf = cr.edgeBuf[:0]
	mo := cr.mo
	if cr.exact {
		return false, nil
	}
	if !cr.stored {
		if hasPDQ && quality >= mo.MinQuality {
			return true, nil
		}
		// Region hashes can match where the whole image's hash is too flat.
		return hasPDQ && !mo.NoRegions && cr.regions != nil && cr.regions.Get(s[:]) != nil, nil
	}
	if cr.seek {
		cr.ek, cr.ev = cr.ecur.Seek(s[:])
	}
	for cr.ek != nil && bytes.Compare(cr.ek[:min(32, len(cr.ek))], s[:]) < 0 {
		cr.ek, cr.ev = cr.ecur.Next()
	}
	found, foundRegion := false, false
	for ; cr.ek != nil && bytes.HasPrefix(cr.ek, s[:]); cr.ek, cr.ev = cr.ecur.Next() {
		ek, ev := cr.ek, cr.ev
		if len(ek) < 33 || (ek[32] != edgeWhole && ek[32] != edgeRegion) {
			continue
		}
		e, err := parseEdge(ek, ev)
		if err != nil {
			return false, fmt.Errorf("image %s: %w (run `relcat reindex`)", s, err)
		}
		e.suffix = bytes.Clone(e.suffix)
		cr.edgeBuf = append(cr.edgeBuf, e)
		if e.dist <= mo.MaxDistance && e.qualityB >= mo.MinQuality {
			if e.kind == edgeWhole {
				found = true
			} else if !mo.NoRegions {
				foundRegion = true // each side's quality is checked by edgeMatches
			}
		}
	}
	if found && mo.MinQuality > EdgeMinQuality {
		found = hasPDQ && quality >= mo.MinQuality
	}
	return found || foundRegion, nil
}

// entry makes the dupeEntry of image s from its sightings (in image_batches key order; sorted
// here), and reports whether s can belong to a cluster.
func (cr *candReader) entry(s SHA256, sights []Sighting) (dupeEntry, bool, error) {
	// The quality of s's hash: read when the question needs it, or s is a candidate (a quarter of
	// the images: not a pass over the whole pdq bucket).
	quality, hasPDQ, read := 0, false, false
	readPDQ := func() {
		if !cr.exact && !read { // a missing pdq bucket is damage (the boundary says so)
			if v := cr.pdqs.Get(s[:]); len(v) > 0 {
				quality, hasPDQ = int(v[0]), true
			}
		}
		read = true
	}
	if !cr.stored || cr.mo.MinQuality > EdgeMinQuality {
		readPDQ()
	}
	near, err := cr.hasNear(s, quality, hasPDQ)
	if err != nil {
		return dupeEntry{}, false, err
	}
	batches := 0
	for i, sg := range sights {
		if i == 0 || sg.Batch != sights[i-1].Batch {
			batches++
		}
	}
	if !near && batches < 2 {
		return dupeEntry{}, false, nil
	}
	readPDQ()
	first := sights[0]
	for _, sg := range sights[1:] {
		if sg.Before(first) {
			first = sg
		}
	}
	sorted := slices.Clone(sights)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	return dupeEntry{sha: s, first: first, near: near, sights: sorted,
		edges: slices.Clone(cr.edgeBuf), quality: quality, hasPDQ: hasPDQ}, true, nil
}

// lazyEntry reads image s's entry at random (image_batches, edges, pdq by key).
func (cr *candReader) lazyEntry(s SHA256) (dupeEntry, bool, error) {
	var sights []Sighting
	c := cr.tx.Bucket(bucketImageBatches).Cursor()
	var err error
	for k, v := c.Seek(s[:]); k != nil && bytes.HasPrefix(k, s[:]); k, v = c.Next() {
		if sights, err = cr.appendSighting(sights, k, v); err != nil {
			return dupeEntry{}, false, err
		}
	}
	if len(sights) == 0 {
		return dupeEntry{}, false, nil
	}
	return cr.entry(s, sights)
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

package catalog

// The two rules every command relies on live in this file: the distance of a pair of photos
// (PairDistance) and who published a photo first (OriginOf, over the family Catalog.Family
// computes). Ingest summaries, lookup, show, history and dupes all call them; nothing else ranks
// sightings or compares two perceptual hashes.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// PairDistance is the distance of a pair of photos: the one number every command reports for it.
//
// The one-way distance from a to b is the smallest Hamming distance between one of a's 8 dihedral
// hashes (a as-is, turned, mirrored) and b's as-is hash. The pair distance is the larger of the two
// one-way distances: it is symmetric, and a pair is within a threshold only when each photo, turned
// or mirrored, lands within it of the other. Because it is never smaller than either one-way
// distance, the index of as-is hashes searched with a photo's 8 dihedral hashes finds every pair
// within the threshold exactly (see Catalog.Family).
//
// The transform says how a relates to b: a looks like b transformed by it. It comes from the side
// with the smaller one-way distance (on a tie, from the photo with the smaller as-is hash), so that
// PairDistance(b, a) reports the inverse transform.
func PairDistance(a, b *PDQInfo) (int, pdq.Transform) {
	// a's dihedral hash t close to b's as-is hash: t(a) looks like b, so a is b turned by t's inverse.
	tA, dA := pdq.Nearest(b.Hash, &a.Dihedral)
	// b's dihedral hash t close to a's as-is hash: t(b) looks like a.
	tB, dB := pdq.Nearest(a.Hash, &b.Dihedral)
	fromA := dA < dB || (dA == dB && bytes.Compare(a.Hash[:], b.Hash[:]) <= 0)
	tr := tB
	if fromA {
		tr = tA.Inverse()
	}
	return max(dA, dB), tr
}

// RegionDistance is the distance of a pair of hash records of two photos when one of them (or both)
// is a region's (issue 10; a whole image's record is its PDQ hash and its left-right mirror, see
// wholeRecord): the smaller of the as-is distance and the mirrored one, where the mirrored one is,
// as in PairDistance, the larger of the two one-way distances (a's mirror to b as-is, a as-is to b's
// mirror). It is symmetric, computed from stored hashes alone, and an index of as-is hashes
// searched with a record's as-is and mirrored hashes finds every pair within a threshold exactly,
// whichever photo arrived first. The transform is AsIs or FlipY (its own inverse). Region records
// carry no rotations: a rotated crop is not found (a rotated whole photo is, by PairDistance).
func RegionDistance(a, b RegionHash) (int, pdq.Transform) {
	dAs := pdq.Distance(a.AsIs, b.AsIs)
	dMir := max(pdq.Distance(a.Mirror, b.AsIs), pdq.Distance(a.AsIs, b.Mirror))
	if dMir < dAs {
		return dMir, pdq.FlipY
	}
	return dAs, pdq.AsIs
}

// regionPair is the best matching pair of hash records of two photos a and b (ra from a, rb from b).
type regionPair struct {
	ra, rb RegionHash
	dist   int
	tr     pdq.Transform
}

// regionPairMatch is the one rule deciding whether two photos match through their region hashes:
// some pair of their hash records (a region of one against the whole or a region of the other; never
// whole against whole, which is PairDistance's) that the region set compares (regionThreshold not
// negative), both of quality RegionMinQuality or more, within regionThreshold by RegionDistance. The
// pair reported is the closest; a tie goes to the smaller region codes, read from the photo with the
// smaller SHA-256 first, so that regionPairMatch(b, a) reports the same pair seen from b.
func regionPairMatch(as SHA256, a *hashSet, bs SHA256, b *hashSet) (regionPair, bool) {
	var best regionPair
	found := false
	ra, rb := a.records(), b.records()
	flip := bytes.Compare(as[:], bs[:]) > 0
	tieKey := func(p regionPair) [4]uint8 {
		x, y := p.ra, p.rb
		if flip {
			x, y = y, x
		}
		return [4]uint8{uint8(x.Region), x.Param, uint8(y.Region), y.Param}
	}
	for _, x := range ra {
		if x.Quality < RegionMinQuality {
			continue
		}
		for _, y := range rb {
			if y.Quality < RegionMinQuality || (x.Region == RegionWhole && y.Region == RegionWhole) {
				continue
			}
			thr := regionThreshold(x.Region, y.Region)
			if thr < 0 {
				continue
			}
			d, tr := RegionDistance(x, y)
			if d > thr {
				continue
			}
			p := regionPair{ra: x, rb: y, dist: d, tr: tr}
			if !found || d < best.dist || (d == best.dist && lessKey(tieKey(p), tieKey(best))) {
				best, found = p, true
			}
		}
	}
	return best, found
}

func lessKey(a, b [4]uint8) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// wholeEdge reports whether two photos are a whole-image pair as stored edges keep them (kind 0):
// both hashes of quality EdgeMinQuality or more, PairDistance within EdgeMaxDistance. Such a pair is
// never also a region match: its whole-image match says more.
func wholeEdge(a, b *PDQInfo) bool {
	if a == nil || b == nil || a.Quality < EdgeMinQuality || b.Quality < EdgeMinQuality {
		return false
	}
	d, _ := PairDistance(a, b)
	return d <= EdgeMaxDistance
}

// matchSets decides whether stored photo s (hashes sp) is a near match of the query q (hashes qp)
// under o, whole-image first (matchPair: unchanged by region hashes), then through region hashes
// when the pair is no whole-image edge, and describes it from the query's side.
func matchSets(qs SHA256, q *hashSet, s SHA256, sp *hashSet, o MatchOptions) (Match, bool) {
	if m, ok := matchPair(q.whole, sp.whole, s, o); ok {
		return m, true
	}
	if o.NoRegions || len(q.regions)+len(sp.regions) == 0 || wholeEdge(q.whole, sp.whole) {
		return Match{}, false
	}
	p, ok := regionPairMatch(qs, q, s, sp)
	if !ok || p.dist > o.MaxDistance || p.ra.Quality < o.MinQuality || p.rb.Quality < o.MinQuality {
		return Match{}, false
	}
	return Match{SHA256: s, Distance: p.dist, Transform: p.tr.String(), Quality: p.rb.Quality, Query: p.ra.Quality,
		Region: newRegionMatch(p.ra, p.rb, p.tr)}, true
}

// Origin answers "who published this photo first": the earliest sighting over the photo's family
// (its own sightings and those of its near-duplicates), ranked by Sighting.Before.
type Origin struct {
	// Sighting is the earliest sighting; its SHA256 names the image it belongs to (the photo itself,
	// or a near-duplicate of it).
	Sighting Sighting `json:"sighting"`
	// Uncertain: another batch's sighting in the family ties with it: released the same day where
	// either gives only a date (a bare date counts as the start of that day UTC), or at the same time.
	Uncertain bool `json:"uncertain"`
	// Near: the origin is a near-duplicate, not the photo's own bytes; Distance and Transform relate
	// the photo to it (PairDistance).
	Near      bool   `json:"near"`
	Distance  int    `json:"distance"`
	Transform string `json:"transform"`
	// Region: the near-duplicate was found through region hashes (a crop, a band): which regions
	// matched and what that means in words (Distance is then that pair's RegionDistance).
	Region *RegionMatch `json:"region,omitempty"`
}

// OriginOf is the one origin rule. own are the photo's own sightings (none for a file that is not in
// the catalog); near are its near matches with their sightings. It returns nil when there is no
// sighting at all.
func OriginOf(own []Sighting, near []Match) *Origin {
	var o *Origin
	consider := func(s Sighting, m *Match) {
		if o != nil && !s.Before(o.Sighting) {
			return
		}
		o = &Origin{Sighting: s, Transform: pdq.AsIs.String()}
		if m != nil {
			o.Near, o.Distance, o.Transform, o.Region = true, m.Distance, m.Transform, m.Region
		}
	}
	for _, s := range own {
		consider(s, nil)
	}
	for i := range near {
		for _, s := range near[i].Sightings {
			consider(s, &near[i])
		}
	}
	if o == nil {
		return nil
	}
	tie := func(s Sighting) bool {
		if s.Batch == o.Sighting.Batch {
			return false
		}
		if s.Released.Time.Equal(o.Sighting.Released.Time) {
			return true
		}
		return (s.Released.DateOnly || o.Sighting.Released.DateOnly) && sameDay(s.Released, o.Sighting.Released)
	}
	for _, s := range own {
		o.Uncertain = o.Uncertain || tie(s)
	}
	for _, m := range near {
		for _, s := range m.Sightings {
			o.Uncertain = o.Uncertain || tie(s)
		}
	}
	return o
}

func sameDay(a, b Released) bool {
	return a.Time.UTC().Format("2006-01-02") == b.Time.UTC().Format("2006-01-02")
}

// Family is everything relcat knows about the provenance of one photo: its own sightings (earliest
// first), its near matches (earliest release first, then distance) and the origin over all of them.
type Family struct {
	SHA256    SHA256     `json:"sha256"`
	Sightings []Sighting `json:"sightings"`
	Near      []Match    `json:"near"`
	Origin    *Origin    `json:"origin,omitempty"`
}

// Family returns the family of a photo given its SHA-256 and perceptual hash (p may be nil: a photo
// without pixels has only its exact sightings). The photo need not be in the catalog (lookup). Its
// region hashes (issue 10) are the stored ones when it is in the catalog.
func (c *Catalog) Family(s SHA256, p *PDQInfo, o MatchOptions) (*Family, error) {
	return c.family(s, p, nil, o)
}

// family is Family with the query's region hashes given (regions not nil: a file being looked up)
// or read from the catalog (nil).
func (c *Catalog) family(s SHA256, p *PDQInfo, regions *[]RegionHash, o MatchOptions) (*Family, error) {
	o, err := o.norm()
	if err != nil {
		return nil, err
	}
	f := &Family{SHA256: s, Sightings: []Sighting{}, Near: []Match{}}
	q := &hashSet{whole: p}
	if regions != nil {
		q.regions = *regions
	}
	// A stored image's near matches are its stored edges when they answer o (edges.go): no search.
	// Asked of a stored image (regions nil), the whole family comes from that one read.
	stored, done := false, false
	if p != nil || regions == nil {
		err = c.view(func(tx *bolt.Tx) error {
			if regions == nil {
				ef, ok, err := familyFromEdges(tx, s, p, o, nil)
				if err != nil || ok {
					f, done = ef, ok
					return err
				}
			}
			if p == nil {
				return nil
			}
			v := tx.Bucket(bucketPDQ).Get(s[:])
			if _, ok := pdqNearID(v); ok {
				sp, err := parsePDQValue(v)
				same := err == nil && sp.Hash == p.Hash && sp.Quality == p.Quality
				stored = same && edgesAnswer(o)
				if same && regions == nil {
					q.regions, _ = storedRegions(tx, s)
				}
			}
			return nil
		})
		if err != nil || done {
			return f, err
		}
	}
	var cands []SHA256
	if p != nil && !stored {
		ix, err := c.index()
		if err != nil {
			return nil, err
		}
		if p.Quality >= o.MinQuality {
			cands = ix.candidates(&p.Dihedral, s, o)
		}
		if !o.NoRegions {
			rix, err := c.regionIndex()
			if err != nil {
				return nil, err
			}
			rc, err := c.regionCandidates(ix, rix, q, s, 0, nil)
			if err != nil {
				return nil, err
			}
			cands = appendNew(cands, rc)
		}
	}
	err = c.view(func(tx *bolt.Tx) error {
		cache := map[BatchID]*Batch{}
		if tx.Bucket(bucketImages).Get(s[:]) != nil {
			if f.Sightings, err = sightingsOf(tx, s, cache); err != nil {
				return err
			}
		}
		if stored {
			return edgeNear(tx, f, p, o, cache)
		}
		for _, cs := range cands {
			cp, err := storedHashSet(tx, cs)
			if err != nil {
				return err
			}
			if cp == nil {
				continue
			}
			m, ok := matchSets(s, q, cs, cp, o)
			if !ok {
				continue
			}
			if m.Sightings, err = sightingsOf(tx, cs, cache); err != nil {
				return err
			}
			f.Near = append(f.Near, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortMatches(f.Near)
	f.Origin = OriginOf(f.Sightings, f.Near)
	return f, nil
}

// familyFromEdges is Family in tx for an image without a perceptual hash (p nil: its sightings) or a
// stored image whose stored edges answer o (ok false: neither; Family searches). cache holds the
// batch records read (nil: a fresh one), so that a caller reading many families in one transaction
// reads each batch once.
func familyFromEdges(tx *bolt.Tx, s SHA256, p *PDQInfo, o MatchOptions, cache map[BatchID]*Batch) (*Family, bool, error) {
	if p != nil {
		v := tx.Bucket(bucketPDQ).Get(s[:])
		if _, ok := pdqNearID(v); !ok || !edgesAnswer(o) {
			return nil, false, nil
		}
		if sp, err := parsePDQValue(v); err != nil || sp.Hash != p.Hash || sp.Quality != p.Quality {
			return nil, false, nil
		}
	}
	if cache == nil {
		cache = map[BatchID]*Batch{}
	}
	f := &Family{SHA256: s, Sightings: []Sighting{}, Near: []Match{}}
	if tx.Bucket(bucketImages).Get(s[:]) != nil {
		var err error
		if f.Sightings, err = sightingsOf(tx, s, cache); err != nil {
			return nil, false, err
		}
	}
	if p != nil {
		if err := edgeNear(tx, f, p, o, cache); err != nil {
			return nil, false, err
		}
	}
	sortMatches(f.Near)
	f.Origin = OriginOf(f.Sightings, f.Near)
	return f, true, nil
}

// edgeNear adds to f the near matches its stored edges give under o, with their sightings.
func edgeNear(tx *bolt.Tx, f *Family, p *PDQInfo, o MatchOptions, cache map[BatchID]*Batch) error {
	ms, err := edgeMatches(tx, f.SHA256, p.Quality, o)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Sightings, err = sightingsOf(tx, m.SHA256, cache); err != nil {
			return err
		}
		f.Near = append(f.Near, m)
	}
	return nil
}

// matchPair decides whether stored image s (hash sp) is a near match of the query q under o, and
// describes it: the pair distance and how the query relates to it.
func matchPair(q, sp *PDQInfo, s SHA256, o MatchOptions) (Match, bool) {
	if q == nil || sp == nil || q.Quality < o.MinQuality || sp.Quality < o.MinQuality {
		return Match{}, false
	}
	d, tr := PairDistance(q, sp)
	if d > o.MaxDistance {
		return Match{}, false
	}
	return Match{SHA256: s, Distance: d, Transform: tr.String(), Quality: sp.Quality, Query: q.Quality}, true
}

// sortMatches orders near matches earliest release first (by each match's earliest sighting), then
// by distance, then by hash. Matches without a sighting come last.
func sortMatches(ms []Match) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		switch {
		case len(a.Sightings) > 0 && len(b.Sightings) > 0:
			if a.Sightings[0].Before(b.Sightings[0]) {
				return true
			}
			if b.Sightings[0].Before(a.Sightings[0]) {
				return false
			}
		case len(a.Sightings) > 0:
			return true
		case len(b.Sightings) > 0:
			return false
		}
		if a.Distance != b.Distance {
			return a.Distance < b.Distance
		}
		return bytes.Compare(a.SHA256[:], b.SHA256[:]) < 0
	})
}

// LookupHash answers "have we seen this?" for a hash given without the file (a partner's hash list):
//
//   - "sha256:HEX", or 64 hex digits naming a stored image: that image, exactly as Lookup of its file;
//   - "md5:HEX" or 32 hex digits: every stored image with that MD5 (several on an MD5 collision);
//   - "pdq:HEX", or 64 hex digits that name no stored image: a PDQ hash. It carries no dihedral
//     hashes, so it is compared as given (no rotation or mirror), by plain Hamming distance to each
//     stored photo's as-is hash; its quality is unknown and not checked.
//
// Unknown hashes give a result with no sighting, not an error. A reference that is none of these is
// ErrBadArgument.
func (c *Catalog) LookupHash(ref string, o MatchOptions) ([]*LookupResult, error) {
	o, err := o.norm()
	if err != nil {
		return nil, err
	}
	r := strings.ToLower(strings.TrimSpace(ref))
	kind := ""
	for _, k := range []string{"sha256", "md5", "pdq"} {
		if rest, ok := strings.CutPrefix(r, k+":"); ok {
			kind, r = k, rest
		}
	}
	if _, err := hex.DecodeString(r); err != nil || (len(r) != 64 && len(r) != 32) {
		return nil, fmt.Errorf("%w: %q is neither a file nor a hash (a SHA-256 or PDQ is 64 hex digits, an MD5 32; prefixes sha256:, md5:, pdq:)", ErrBadArgument, ref)
	}
	switch {
	case kind == "" && len(r) == 32:
		kind = "md5"
	case (kind == "md5") != (len(r) == 32):
		return nil, fmt.Errorf("%w: %q: an MD5 is 32 hex digits, a SHA-256 or PDQ 64", ErrBadArgument, ref)
	}
	var shas []SHA256
	var hashes []*FileHashes
	err = c.view(func(tx *bolt.Tx) error {
		switch kind {
		case "md5":
			var m MD5
			_ = m.UnmarshalText([]byte(r))
			cur := tx.Bucket(bucketMD5).Cursor()
			for k, _ := cur.Seek(m[:]); k != nil && bytes.HasPrefix(k, m[:]); k, _ = cur.Next() {
				var s SHA256
				copy(s[:], k[16:])
				shas = append(shas, s)
			}
			if len(shas) == 0 {
				hashes = append(hashes, &FileHashes{MD5: m})
			}
		case "sha256", "":
			s, _ := ParseSHA256(r)
			if tx.Bucket(bucketImages).Get(s[:]) != nil {
				shas = append(shas, s)
			} else if kind == "sha256" {
				hashes = append(hashes, &FileHashes{SHA256: s})
			} else {
				kind = "pdq"
			}
		}
		for _, s := range shas {
			img, err := getImage(tx, s)
			if err != nil {
				return err
			}
			hashes = append(hashes, &FileHashes{SHA256: s, MD5: img.MD5, Size: img.Size, Format: img.Format,
				Width: img.Width, Height: img.Height, PDQ: img.PDQ})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if kind == "pdq" {
		q, err := pdq.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrBadArgument, ref, err)
		}
		f, err := c.familyOfBareHash(q, o)
		if err != nil {
			return nil, err
		}
		return []*LookupResult{{Path: ref, Hashes: &FileHashes{PDQ: &PDQInfo{Hash: q, Quality: -1}}, Exact: []Sighting{},
			Near: f.Near, Origin: f.Origin, Warnings: []string{"a bare PDQ hash: compared as given, without rotations or mirrors; its quality is unknown"}}}, nil
	}
	var out []*LookupResult
	for _, h := range hashes {
		res := &LookupResult{Path: ref, Hashes: h, Exact: []Sighting{}, Near: []Match{}}
		if h.SHA256 != (SHA256{}) {
			res.LowQual = h.PDQ != nil && h.PDQ.Quality < o.MinQuality
			f, err := c.Family(h.SHA256, h.PDQ, o)
			if err != nil {
				return nil, err
			}
			res.Exact, res.Near, res.Origin = f.Sightings, f.Near, f.Origin
		}
		out = append(out, res)
	}
	return out, nil
}

// familyOfBareHash is the family of a PDQ hash known only by itself: stored photos whose as-is hash
// is within o.MaxDistance of it (plain Hamming distance, both ways the same).
func (c *Catalog) familyOfBareHash(q pdq.Hash, o MatchOptions) (*Family, error) {
	ix, err := c.index()
	if err != nil {
		return nil, err
	}
	f := &Family{Sightings: []Sighting{}, Near: []Match{}}
	var one [8]pdq.Hash
	for i := range one {
		one[i] = q
	}
	cands := ix.candidates(&one, SHA256{}, o)
	err = c.view(func(tx *bolt.Tx) error {
		cache := map[BatchID]*Batch{}
		for _, cs := range cands {
			v := tx.Bucket(bucketPDQ).Get(cs[:])
			if v == nil {
				continue
			}
			cp, err := parsePDQValue(v)
			if err != nil {
				return fmt.Errorf("image %s pdq record: %w", cs, err)
			}
			d := pdq.Distance(q, cp.Hash)
			if d > o.MaxDistance || cp.Quality < o.MinQuality {
				continue
			}
			m := Match{SHA256: cs, Distance: d, Transform: pdq.AsIs.String(), Quality: cp.Quality, Query: -1}
			if m.Sightings, err = sightingsOf(tx, cs, cache); err != nil {
				return err
			}
			f.Near = append(f.Near, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortMatches(f.Near)
	f.Origin = OriginOf(nil, f.Near)
	return f, nil
}

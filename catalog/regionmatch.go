package catalog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/relcat/relcat/catalog/hindex"
	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// Crop-, band- and repost-tolerant matching (issue 10): the storage, index and edges of region hashes.
//
// Which regions of a photo get a hash, how, and when two regions match is regions.go's (the pure
// part). Here: every image decoded at ingest stores its region hashes (bucket regions, keys.go), and
// its region hashes of quality RegionMinQuality or more join the region index (an hindex of as-is
// hashes; image with near id n owns the slots n<<3 .. n<<3+7). An arriving photo's records (its whole
// hash and its regions, each as-is and mirrored) are searched in the whole-image index and the region
// index at the largest threshold the region set uses; each image found is judged by regionPairMatch
// (origin.go, the one rule) from the stored hashes of both, and a match is stored as a kind-1 edge
// when the pair is no whole-image edge. Reads (Family, dupes, history, show, the summary) take region
// edges as they take whole-image ones: a Match with Region set. Since RegionDistance is never below the
// one-way distance of the searched hash to the stored as-is hash, the searches find every pair the
// rule accepts, whichever photo arrived first (TestRegionIndexExact).

// RegionMatch says how a near match was found through region hashes: the region of the photo asked
// about (Query) and the region of the matched photo (Match) whose hashes matched ("whole" for a
// whole image), and what that means, in words, for the photo asked about.
type RegionMatch struct {
	Query       string `json:"query_region"`
	Match       string `json:"match_region"`
	Mirrored    bool   `json:"mirrored,omitempty"`
	Description string `json:"description"`

	q, m RegionHash // codes and params (hashes not kept)
}

func newRegionMatch(q, m RegionHash, tr pdq.Transform) *RegionMatch {
	q.AsIs, q.Mirror, m.AsIs, m.Mirror = pdq.Hash{}, pdq.Hash{}, pdq.Hash{}, pdq.Hash{}
	mir := tr == pdq.FlipY
	return &RegionMatch{Query: q.Region.String(), Match: m.Region.String(), Mirrored: mir,
		Description: describeRegionMatch(q.Region, q.Param, m.Region, m.Param, mir), q: q, m: m}
}

// Regions names the two matching regions: "whole ~ centre80" (the photo asked about first).
func (r *RegionMatch) Regions() string {
	if r == nil {
		return ""
	}
	return r.Query + " ~ " + r.Match
}

// relationText is how a photo relates to another in words: the region match's description, or the
// rotation/mirror of a whole-image match ("mirrored left-right"; "unchanged" for as-is).
func relationText(transform string, r *RegionMatch) string {
	if r != nil {
		return r.Description
	}
	return Match{Transform: transform}.TransformDescription()
}

// Relation says in words how the photo asked about relates to this match ("mirrored left-right",
// "cropped (about 80 %, centre)").
func (m Match) Relation() string { return relationText(m.Transform, m.Region) }

// Relation says in words how the photo relates to its origin, when that is a near-duplicate.
func (o Origin) Relation() string { return relationText(o.Transform, o.Region) }

// Relation says in words how this member relates to the cluster's origin image.
func (m Member) Relation() string { return relationText(m.Transform, m.Region) }

// Relation says in words how B relates to A.
func (e Edge) Relation() string { return relationText(e.Transform, e.Region) }

// hashSet is what matching compares of one photo: its whole-image PDQ and its region hashes.
type hashSet struct {
	whole   *PDQInfo
	regions []RegionHash
}

// wholeRecord is a whole image's PDQ as a region hash record (RegionDistance's terms).
func wholeRecord(p *PDQInfo) RegionHash {
	return RegionHash{Region: RegionWhole, Quality: p.Quality, AsIs: p.Hash, Mirror: p.Dihedral[pdq.FlipY]}
}

// records lists the whole image's record (when it has a hash) and the region records.
func (h *hashSet) records() []RegionHash {
	out := make([]RegionHash, 0, 1+len(h.regions))
	if h.whole != nil {
		out = append(out, wholeRecord(h.whole))
	}
	return append(out, h.regions...)
}

// storedRegions reads the region hashes of s (nil when it has none stored).
func storedRegions(tx *bolt.Tx, s SHA256) ([]RegionHash, error) {
	rb := tx.Bucket(bucketRegions)
	if rb == nil {
		return nil, nil
	}
	v := rb.Get(s[:])
	if v == nil {
		return nil, nil
	}
	_, rs, err := parseRegionsValue(v)
	if err != nil {
		return nil, fmt.Errorf("image %s regions record: %w", s, err)
	}
	return rs, nil
}

// storedHashSet reads the hashes of stored image s (nil when it has no perceptual hash).
func storedHashSet(tx *bolt.Tx, s SHA256) (*hashSet, error) {
	v := tx.Bucket(bucketPDQ).Get(s[:])
	if v == nil {
		return nil, nil
	}
	p, err := parsePDQValue(v)
	if err != nil {
		return nil, fmt.Errorf("image %s pdq record: %w", s, err)
	}
	rs, err := storedRegions(tx, s)
	if err != nil {
		return nil, err
	}
	return &hashSet{whole: p, regions: rs}, nil
}

// appendNew appends the elements of add that dst does not hold yet.
func appendNew(dst, add []SHA256) []SHA256 {
	if len(add) == 0 {
		return dst
	}
	seen := make(map[SHA256]bool, len(dst))
	for _, s := range dst {
		seen[s] = true
	}
	for _, s := range add {
		if !seen[s] {
			seen[s] = true
			dst = append(dst, s)
		}
	}
	return dst
}

// regionPlan is what the region set compares, read once from regionThreshold: the search radius
// (the largest threshold) and, per region code, whether it is compared with whole images and with
// regions.
type regionPlan struct {
	radius     int
	withWhole  [256]bool // code compared with a whole image
	withRegion [256]bool // code compared with some region
}

var regionPlanOnce = sync.OnceValue(func() *regionPlan {
	p := &regionPlan{radius: -1}
	for a := range 256 {
		for b := range 256 {
			if a == 0 && b == 0 {
				continue
			}
			t := regionThreshold(Region(a), Region(b))
			if t < 0 {
				continue
			}
			p.radius = max(p.radius, t)
			if b == 0 {
				p.withWhole[a] = true
			} else {
				p.withRegion[a] = true
			}
		}
	}
	return p
})

// regionSlotBits: an image's region hashes take slots id<<regionSlotBits + i of the region index.
const regionSlotBits = 3

// maxRegionNearID is the largest near id whose region hashes fit the index's 32-bit slots.
const maxRegionNearID = 1<<(32-regionSlotBits) - 1

// regionIndex is the in-memory index of every stored region hash of quality RegionMinQuality or
// more, by slot (near id << regionSlotBits | position in the image's record). It is built on first
// use from the regions bucket and kept up to date by the writer like nearIndex.
type regionIndex struct {
	mu  sync.RWMutex
	ix  *hindex.Index
	top uint64 // the largest near id whose region hashes it covers (regionfile.go)
}

func (r *regionIndex) add(id uint64, rs []RegionHash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addLocked(id, rs)
}

func (r *regionIndex) addLocked(id uint64, rs []RegionHash) {
	if id > maxRegionNearID {
		return
	}
	r.top = max(r.top, id)
	for i, h := range rs {
		if i < maxStoredRegions && h.Quality >= RegionMinQuality {
			r.ix.Add(regionSlot(id, i), h.AsIs)
		}
	}
}

// regionIndex returns the region index, building it from the regions bucket on first use.
func (c *Catalog) regionIndex() (*regionIndex, error) {
	c.idxMu.Lock()
	defer c.idxMu.Unlock()
	if c.ridx != nil {
		return c.ridx, nil
	}
	var r *regionIndex
	err := c.view(func(tx *bolt.Tx) error {
		if f, _ := c.openRegionFile(tx); f != nil {
			r = f
			return nil
		}
		var err error
		r, err = buildRegionIndex(tx, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.ridx = r
	return r, nil
}

// buildRegionIndex reads the regions bucket (and each image's near id from the pdq bucket, keyed
// the same way: two cursors side by side) into a new region index (of the near ids up to top when
// top is not 0).
func buildRegionIndex(tx *bolt.Tx, top uint64) (*regionIndex, error) {
	r := &regionIndex{ix: hindex.New(0), top: top}
	if k, _ := tx.Bucket(bucketNearIDs).Cursor().Last(); len(k) == 8 && top == 0 {
		r.top = binary.BigEndian.Uint64(k)
	}
	var ids []uint32
	var hashes [][32]byte
	err := forEachIndexedRegion(tx, top, func(slot uint32, h [32]byte) {
		ids = append(ids, slot)
		hashes = append(hashes, h)
	})
	if err != nil {
		return nil, err
	}
	r.ix.AddBatch(ids, hashes)
	return r, nil
}

// forEachIndexedRegion calls fn with the slot and hash of every region hash the region index holds
// for the images with a near id up to top (0: all), in the regions bucket's order.
func forEachIndexedRegion(tx *bolt.Tx, top uint64, fn func(slot uint32, h [32]byte)) error {
	rb := tx.Bucket(bucketRegions)
	if rb == nil {
		return nil
	}
	watch := mapWatch{tx: tx}
	pc := tx.Bucket(bucketPDQ).Cursor()
	pk, pv := pc.First()
	return rb.ForEach(func(k, v []byte) error {
		watch.step()
		// The pdq cursor moves along; a few steps behind, it seeks (a catalog whose older images
		// have no region hashes would otherwise be read whole through the pdq bucket).
		for steps := 0; pk != nil && bytes.Compare(pk, k) < 0; steps++ {
			if steps == 8 {
				pk, pv = pc.Seek(k)
				break
			}
			pk, pv = pc.Next()
		}
		if pk == nil || !bytes.Equal(pk, k) {
			return nil // regions of an image without a perceptual hash: verify reports it
		}
		id, ok := pdqNearID(pv)
		if !ok || id == 0 || id > maxRegionNearID || (top != 0 && id > top) {
			return nil
		}
		_, rs, err := parseRegionsValue(v)
		if err != nil {
			return fmt.Errorf("image %x regions record: %w (run `relcat verify`, then `relcat reindex`)", k, err)
		}
		for i, h := range rs {
			if h.Quality >= RegionMinQuality {
				fn(regionSlot(id, i), h.AsIs)
			}
		}
		return nil
	})
}

// regionCandidates lists the stored images (other than self; with a near id below `below` when it
// is not 0) that some record of q may match through region hashes: every image whose whole hash or
// a region hash is within the region set's largest threshold of a record of q, as-is or mirrored,
// for the pairs of regions the set compares. A superset of regionPairMatch's matches.
// Ids the whole-image index does not know are resolved in tx (nil: in a read transaction of its own).
func (c *Catalog) regionCandidates(ix *nearIndex, rix *regionIndex, q *hashSet, self SHA256, below uint64, tx *bolt.Tx) ([]SHA256, error) {
	ix.mu.RLock()
	ids := regionCandidateIDs(ix, rix, q)
	ix.mu.RUnlock()
	return c.candidateSHAs(ix, ids, self, below, tx)
}

// regionCandidateIDs is the search half of regionCandidates: the near ids of the candidates (self
// and any bound included). The caller holds ix.mu for reading; rix.mu is taken here (in that order).
func regionCandidateIDs(ix *nearIndex, rix *regionIndex, q *hashSet) map[uint64]bool {
	plan := regionPlanOnce()
	if plan.radius < 0 || q == nil {
		return nil
	}
	ids := map[uint64]bool{}
	var buf []hindex.Match
	for _, rec := range q.records() {
		if rec.Quality < RegionMinQuality {
			continue
		}
		for _, h := range []pdq.Hash{rec.AsIs, rec.Mirror} {
			if rec.Region != RegionWhole && plan.withWhole[rec.Region] {
				buf = ix.ix.Search(h, plan.radius, buf[:0])
				for _, m := range buf {
					if int(m.ID) < len(ix.qual) && int(ix.qual[m.ID]) >= RegionMinQuality {
						ids[uint64(m.ID)] = true
					}
				}
			}
			if plan.withRegion[rec.Region] {
				rix.mu.RLock()
				buf = rix.ix.Search(h, plan.radius, buf[:0])
				rix.mu.RUnlock()
				for _, m := range buf {
					ids[uint64(m.ID>>regionSlotBits)] = true
				}
			}
		}
	}
	return ids
}

// candidateSHAs is the lookup half of regionCandidates: the images of the near ids, other than self
// and below `below` when it is not 0, sorted. Ids the whole-image index does not know are resolved
// in tx (nil: in a read transaction of its own).
func (c *Catalog) candidateSHAs(ix *nearIndex, ids map[uint64]bool, self SHA256, below uint64, tx *bolt.Tx) ([]SHA256, error) {
	var out []SHA256
	var missing []uint64
	ix.mu.RLock()
	for id := range ids {
		if below != 0 && id >= below {
			continue
		}
		if int(id) < len(ix.shas) && ix.shas[id] != (SHA256{}) {
			if s := ix.shas[id]; s != self {
				out = append(out, s)
			}
		} else {
			missing = append(missing, id)
		}
	}
	ix.mu.RUnlock()
	if len(missing) > 0 {
		// Region hashes of images the whole-image index does not cover yet (loaded at another time).
		resolve := func(tx *bolt.Tx) error {
			nb := tx.Bucket(bucketNearIDs)
			for _, id := range missing {
				if v := nb.Get(seqKey(id)); len(v) == 32 {
					var s SHA256
					copy(s[:], v)
					if s != self {
						out = append(out, s)
					}
				}
			}
			return nil
		}
		var err error
		if tx != nil {
			err = resolve(tx)
		} else {
			err = c.view(resolve)
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b SHA256) int { return bytes.Compare(a[:], b[:]) })
	return out, nil
}

// regions stores the region hashes of newly put image s (near id id), and its region edges to the
// earlier images (those put before it in this transaction included).
func (w *nearTx) regions(s SHA256, p *PDQInfo, rs []RegionHash, id uint64, pre *preSearch) error {
	if len(rs) > maxStoredRegions {
		return fmt.Errorf("image %s: %d region hashes, at most %d", s, len(rs), maxStoredRegions)
	}
	rb := w.tx.Bucket(bucketRegions)
	if rb == nil {
		return fmt.Errorf("catalog: no regions bucket (run `relcat reindex`)")
	}
	if err := rb.Put(s[:], regionsValue(rs)); err != nil {
		return err
	}
	if w.rix == nil {
		rix, err := w.c.regionIndex()
		if err != nil {
			return err
		}
		w.rix = rix
	}
	q := &hashSet{whole: p, regions: rs}
	var cands []SHA256
	var err error
	if pre != nil && pre.rix == w.rix {
		// What the presearch found, and every image that arrived since (checked below).
		ids := pre.region
		if ids == nil {
			ids = map[uint64]bool{}
		}
		for a := pre.top + 1; a < id; a++ {
			ids[a] = true
		}
		cands, err = w.c.candidateSHAs(w.ix, ids, s, id, w.tx)
	} else {
		cands, err = w.c.regionCandidates(w.ix, w.rix, q, s, id, w.tx)
	}
	if err != nil {
		return err
	}
	eb := w.tx.Bucket(bucketEdges)
	for _, o := range cands {
		op, err := storedHashSet(w.tx, o)
		if err != nil {
			return err
		}
		if op == nil {
			continue // removed in this transaction
		}
		if err := storeRegionPair(eb, s, q, o, op); err != nil {
			return err
		}
	}
	return nil
}

// storeRegionPair stores the kind-1 edge between a and o when they match through region hashes and
// are no whole-image edge.
func storeRegionPair(eb *bolt.Bucket, a SHA256, pa *hashSet, o SHA256, po *hashSet) error {
	if a == o || wholeEdge(pa.whole, po.whole) {
		return nil
	}
	p, ok := regionPairMatch(a, pa, o, po)
	if !ok {
		return nil
	}
	return putRegionEdge(eb, a, o, p)
}

// putRegionEdge stores the region edge a-o (p seen from a) in both directions.
func putRegionEdge(eb *bolt.Bucket, a, o SHA256, p regionPair) error {
	suffix := regionEdgeSuffix(a, p.ra, o, p.rb)
	if err := eb.Put(edgeKey(a, edgeRegion, o, suffix), edgeValue(p.dist, p.tr, p.rb.Quality)); err != nil {
		return err
	}
	return eb.Put(edgeKey(o, edgeRegion, a, suffix), edgeValue(p.dist, p.tr.Inverse(), p.ra.Quality))
}

// regionEdgeMatch turns a stored kind-1 edge a -> b into the match of b for a query a (Query is the
// quality of a's record, read from the reverse entry).
func regionEdgeMatch(eb *bolt.Bucket, e storedEdge) (Match, error) {
	ra, pa, rb, pb, err := parseRegionEdgeSuffix(e.a, e.b, e.suffix)
	if err != nil {
		return Match{}, err
	}
	rev := eb.Get(edgeKey(e.b, edgeRegion, e.a, e.suffix))
	if len(rev) != 3 {
		return Match{}, fmt.Errorf("region edge %s-%s has no reverse entry", e.a, e.b)
	}
	if e.tr != pdq.AsIs && e.tr != pdq.FlipY {
		return Match{}, fmt.Errorf("region edge %s-%s: transform %s", e.a, e.b, e.tr)
	}
	qa := int(rev[2])
	return Match{SHA256: e.b, Distance: e.dist, Transform: e.tr.String(), Quality: e.qualityB, Query: qa,
		Region: newRegionMatch(RegionHash{Region: ra, Param: pa}, RegionHash{Region: rb, Param: pb}, e.tr)}, nil
}

// checkRegions holds the regions bucket and the region edges against the perceptual hashes: every
// regions record parses, belongs to an image with a perceptual hash and has this build's set version
// (an older one is upgraded by `relcat reindex`); every region edge joins two images with hashes,
// carries what regionPairMatch gives their stored hashes, joins no whole-image pair, and has its
// reverse entry. It returns the number of decoded images without region hashes (matched
// whole-image only).
func checkRegions(ctx context.Context, tx *bolt.Tx, add func(kind, subject, format string, args ...any)) (wholeOnly int, err error) {
	n := 0
	rb := tx.Bucket(bucketRegions)
	pb := tx.Bucket(bucketPDQ)
	watch := mapWatch{tx: tx} // (mapped.go)
	if rb == nil {
		// Counted with a cursor (Bucket.Stats would read every page at once).
		pcur := pb.Cursor()
		for k, _ := pcur.First(); k != nil; k, _ = pcur.Next() {
			watch.step()
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return 0, ErrInterrupted
			}
		}
		return n, nil
	}
	// Both buckets are keyed by the image's SHA-256: two cursors move along together (a lookup in
	// the other bucket per record would read its pages at random).
	rc, pc := rb.Cursor(), pb.Cursor()
	rk, rv := rc.First()
	pk, _ := pc.First()
	for rk != nil || pk != nil {
		watch.step()
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return 0, ErrInterrupted
		}
		c := -1 // which comes first: the regions record (-1), the hash (1), or both (0)
		switch {
		case rk == nil:
			c = 1
		case pk != nil:
			c = bytes.Compare(rk, pk)
		}
		if c > 0 {
			wholeOnly++ // a hash without regions
			pk, _ = pc.Next()
			continue
		}
		subject := fmt.Sprintf("%x", rk)
		ver, rs, err := parseRegionsValue(rv)
		switch {
		case err != nil:
			add("index", subject, "%v (run `relcat reindex`)", err)
		case len(rk) != 32 || c != 0:
			add("index", subject, "region hashes of an image without a perceptual hash (run `relcat reindex`)")
		case ver != RegionSetVersion:
			add("index", subject, "region set version %d, this relcat computes %d (run `relcat reindex`)", ver, RegionSetVersion)
		default:
			seen := map[Region]bool{}
			for _, r := range rs {
				if seen[r.Region] {
					add("index", subject, "region %s twice", r.Region)
				}
				seen[r.Region] = true
			}
		}
		rk, rv = rc.Next()
		if c == 0 {
			pk, _ = pc.Next()
		}
	}
	eb := tx.Bucket(bucketEdges)
	cur := eb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		watch.step() // every edge is read: let go of the pages passed (2 GB resident at 1M without)
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return 0, ErrInterrupted
		}
		if len(k) < 33 || k[32] != edgeRegion {
			continue
		}
		e, err := parseEdge(k, v)
		if err != nil {
			continue // reported by checkNear
		}
		subject := fmt.Sprintf("region edge %s-%s", e.a, e.b)
		ra, pa, rb2, pb2, err := parseRegionEdgeSuffix(e.a, e.b, e.suffix)
		if err != nil {
			add("index", subject, "%v (run `relcat reindex`)", err)
			continue
		}
		sa, errA := storedHashSet(tx, e.a)
		sb, errB := storedHashSet(tx, e.b)
		switch {
		case errA != nil || errB != nil:
			add("index", subject, "cannot read the hashes it joins: %v (run `relcat reindex`)", errors.Join(errA, errB))
			continue
		case sa == nil || sb == nil:
			add("index", subject, "joins an image without a perceptual hash (run `relcat reindex`)")
			continue
		}
		if wholeEdge(sa.whole, sb.whole) {
			add("index", subject, "the two images are a whole-image pair: no region edge expected (run `relcat reindex`)")
			continue
		}
		p, ok := regionPairMatch(e.a, sa, e.b, sb)
		switch {
		case !ok:
			add("index", subject, "their stored hashes do not match through regions (run `relcat reindex`)")
		case p.dist != e.dist || p.tr != e.tr || p.ra.Region != ra || p.ra.Param != pa || p.rb.Region != rb2 || p.rb.Param != pb2:
			add("index", subject, "stored %s~%s distance %d (%s), the hashes give %s~%s %d (%s) (run `relcat reindex`)",
				ra, rb2, e.dist, e.tr, p.ra.Region, p.rb.Region, p.dist, p.tr)
		case p.rb.Quality != e.qualityB:
			add("index", subject, "stored quality %d, the region hash has %d (run `relcat reindex`)", e.qualityB, p.rb.Quality)
		}
		rv := eb.Get(edgeKey(e.b, edgeRegion, e.a, e.suffix))
		if re, err := parseEdge(edgeKey(e.b, edgeRegion, e.a, e.suffix), rv); rv == nil || err != nil || re.dist != e.dist || re.tr != e.tr.Inverse() {
			add("index", subject, "its reverse entry is missing or differs (run `relcat reindex`)")
		}
	}
	return wholeOnly, nil
}

// regionSlot is the slot of the i-th region hash of the image with near id id.
func regionSlot(id uint64, i int) uint32 {
	return uint32(id)<<regionSlotBits | uint32(i)
}

package catalog

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"

	"github.com/relcat/relcat/catalog/hindex"
	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// Stored near-duplicate edges.
//
// Every pair of images whose whole-image PDQ hashes are within EdgeMaxDistance (by the one pair
// distance, PairDistance) and both reach EdgeMinQuality is stored once, when the later of the two
// arrives, as an edge in both directions (keys.go, bucket edges). dupes, history, show and the
// ingest summary read these edges instead of searching the index; a threshold above
// EdgeMaxDistance or a quality floor below EdgeMinQuality is answered by searching the index
// (nothing stored can answer it). `relcat reindex` recomputes them all.
//
// An edge is found the way a lookup finds a match: the arriving image's 8 rotations and mirrors
// are searched against the stored images' primary hashes at EdgeMaxDistance; each image found is
// then measured with PairDistance, and kept when that is within EdgeMaxDistance too. The pair
// distance (PairDistance) is never below a one-way distance, so this finds every pair, in whatever
// order the images arrive; reindex looks from the later image of each pair (by near id) as ingest
// did.

// EdgeMaxDistance is the largest distance of a stored edge. It is the default threshold: the
// index answers radius 31 with 17 probes per slot, radius 32-47 with 137 (measured at 1M hashes:
// 30-90 µs against 285-425 µs per search, BenchmarkSearch1M with HR=40), and every stored image
// pays 8 searches at ingest and at reindex.
const EdgeMaxDistance = DefaultMaxDistance

// EdgeMinQuality is the lowest PDQ quality of a hash with stored edges (the default floor). Flat
// and near-blank pictures have low-quality hashes that all sit close together: storing their
// pairs would grow with the square of their number.
const EdgeMinQuality = DefaultMinQuality

// edgeOf is the edge between a and b as seen from a: PairDistance, the one distance of a pair
// (its transform from the other side is the inverse, so both directions of an edge agree).
func edgeOf(_ SHA256, pa *PDQInfo, _ SHA256, pb *PDQInfo) (int, pdq.Transform) {
	return PairDistance(pa, pb)
}

// edgesAnswer reports whether stored edges answer o (normalised).
func edgesAnswer(o MatchOptions) bool {
	return !searchOnly && o.MaxDistance <= EdgeMaxDistance && o.MinQuality >= EdgeMinQuality
}

// searchOnly makes every question search the index instead of reading edges: tests compare both.
var searchOnly = false

// edgeMatches lists the near matches of image s (whose hash has quality qa) from its stored edges,
// within o (normalised, edgesAnswer(o) true), in key order (Sightings not filled): its whole-image
// edges, then (unless o.NoRegions) its region edges (kind 1), whose qualities are those of the two
// matching region records (the reverse entry holds s's).
func edgeMatches(tx *bolt.Tx, s SHA256, qa int, o MatchOptions) ([]Match, error) {
	out := []Match{}
	eb := tx.Bucket(bucketEdges)
	cur := eb.Cursor()
	if qa >= o.MinQuality {
		prefix := edgePrefix(s, edgeWhole)
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			e, err := parseEdge(k, v)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w (run `relcat reindex`)", s, err)
			}
			if e.dist > o.MaxDistance || e.qualityB < o.MinQuality {
				continue
			}
			out = append(out, Match{SHA256: e.b, Distance: e.dist, Transform: e.tr.String(), Quality: e.qualityB, Query: qa})
		}
	}
	if o.NoRegions {
		return out, nil
	}
	prefix := edgePrefix(s, edgeRegion)
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		e, err := parseEdge(k, v)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w (run `relcat reindex`)", s, err)
		}
		m, err := regionEdgeMatch(eb, e)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w (run `relcat reindex`)", s, err)
		}
		if e.dist > o.MaxDistance || m.Quality < o.MinQuality || m.Query < o.MinQuality {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// matchesOfEdges is edgeMatches over the stored edges es of image s, read already in key order
// (dupes reads them in its one pass): the whole-image matches, then the region matches, each kept
// by the same rules.
func matchesOfEdges(eb *bolt.Bucket, s SHA256, qa int, o MatchOptions, es []storedEdge) ([]Match, error) {
	out := []Match{}
	if qa >= o.MinQuality {
		for _, e := range es {
			if e.kind != edgeWhole || e.dist > o.MaxDistance || e.qualityB < o.MinQuality {
				continue
			}
			out = append(out, Match{SHA256: e.b, Distance: e.dist, Transform: e.tr.String(), Quality: e.qualityB, Query: qa})
		}
	}
	if o.NoRegions {
		return out, nil
	}
	for _, e := range es {
		if e.kind != edgeRegion {
			continue
		}
		m, err := regionEdgeMatch(eb, e)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w (run `relcat reindex`)", s, err)
		}
		if e.dist > o.MaxDistance || m.Quality < o.MinQuality || m.Query < o.MinQuality {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// hit is an image the index found for an arriving one.
type hit struct {
	id  uint64
	sha SHA256
}

// discover lists the images of the index, with a near id below `below`, that an image with hash p
// finds: within EdgeMaxDistance of one of its 8 rotations and mirrors, both qualities at least
// EdgeMinQuality. The caller holds n.mu for reading.
func (n *nearIndex) discover(p *PDQInfo, below uint64, buf []hindex.Match) ([]hit, []hindex.Match) {
	var out []hit
	if p.Quality < EdgeMinQuality {
		return nil, buf
	}
	for t := range p.Dihedral {
		buf = n.ix.Search(p.Dihedral[t], EdgeMaxDistance, buf[:0])
		for _, m := range buf {
			id := uint64(m.ID)
			if id >= below || int(id) >= len(n.shas) || n.shas[id] == (SHA256{}) || int(n.qual[id]) < EdgeMinQuality {
				continue
			}
			dup := false
			for _, h := range out {
				if h.id == id {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, hit{id, n.shas[id]})
			}
		}
	}
	return out, buf
}

// putEdge stores the edge a-b in both directions.
func putEdge(b *bolt.Bucket, a SHA256, qa int, o SHA256, qo int, dist int, t pdq.Transform) error {
	if err := b.Put(edgeKey(a, edgeWhole, o, nil), edgeValue(dist, t, qo)); err != nil {
		return err
	}
	return b.Put(edgeKey(o, edgeWhole, a, nil), edgeValue(dist, t.Inverse(), qa))
}

// nearTx stores and removes perceptual hashes inside one write transaction, keeping the near ids,
// the edges and (after the commit, through done) the in-memory index in step. Every change of the
// pdq bucket goes through it: ingest, and whatever else adds or removes images (batch removal,
// bundle import):
//
//	w := c.beginNear(tx)   // inside c.update
//	w.put(sha, pdq)        // an image gains its hash: near id, edges, into the in-memory index
//	w.remove(sha)          // an image leaves: hash, near id, edges; the persisted index goes stale
//	...                    // after the commit:
//	w.done()               // or, when the transaction failed, w.abort()
type nearTx struct {
	c       *Catalog
	tx      *bolt.Tx
	ix      *nearIndex   // nil until the first put
	rix     *regionIndex // nil until the first put with region hashes
	added   []newImage
	removed bool
	next    uint64
	buf     []hindex.Match
}

// beginNear starts storing hashes in tx.
func (c *Catalog) beginNear(tx *bolt.Tx) *nearTx {
	return &nearTx{c: c, tx: tx}
}

// put stores the hash of image s (an image without one so far) under the next near id and stores its
// edges to every earlier image, including those put earlier in this transaction.
func (w *nearTx) put(s SHA256, p *PDQInfo) error {
	return w.putWithRegions(s, p, nil, false, nil)
}

// putWithRegions is put with the image's region hashes (issue 10) when it has them (have: the
// image was hashed for regions, maybe with none): they are stored, their region edges found and
// stored, and they join the region index. pre, when not nil, is what a search of the indexes found
// for the image before the commit (presearch): only the images that arrived since are added to it.
func (w *nearTx) putWithRegions(s SHA256, p *PDQInfo, regions []RegionHash, have bool, pre *preSearch) error {
	pb := w.tx.Bucket(bucketPDQ)
	if pb.Get(s[:]) != nil {
		if err := w.remove(s); err != nil {
			return err
		}
	}
	if w.ix == nil {
		ix, err := w.c.index()
		if err != nil {
			return err
		}
		w.ix = ix
	}
	if w.next == 0 {
		w.next = 1
		if k, _ := w.tx.Bucket(bucketNearIDs).Cursor().Last(); len(k) == 8 {
			w.next = binary.BigEndian.Uint64(k) + 1
		}
		// An id the index already holds (a damaged near_ids bucket) is never handed out again.
		w.next = max(w.next, w.ix.top+1)
	}
	id := w.next
	if id > maxNearID {
		return fmt.Errorf("catalog: near ids exhausted (run `relcat reindex`)")
	}
	w.next++
	if err := pb.Put(s[:], pdqNearValue(p, id)); err != nil {
		return err
	}
	if err := w.tx.Bucket(bucketNearIDs).Put(seqKey(id), s[:]); err != nil {
		return err
	}
	if pre != nil && pre.ix != w.ix {
		pre = nil // searched in an index dropped since
	}
	if err := w.edges(newImage{s, p, id}, pre); err != nil {
		return err
	}
	if have {
		if err := w.regions(s, p, regions, id, pre); err != nil {
			return err
		}
	}
	// Into the indexes at once, so that the next image of this transaction finds it; abort drops
	// them if the transaction does not commit. Both under the whole-image index's lock, which a
	// presearch holds while it searches both: what it finds is all up to one near id (preSearch).
	w.ix.mu.Lock()
	w.ix.add(s, p, id)
	if have && w.rix != nil {
		w.rix.add(id, regions)
	}
	w.ix.mu.Unlock()
	w.added = append(w.added, newImage{s, p, id})
	return nil
}

// preSearch is what an arriving image finds in the near indexes before its commit. Ingest's
// workers search as each file is hashed, beside the other files' decodes, instead of the commit
// searching for every image of a chunk in turn, on one core, with the other one idle; the commit
// then only adds the images that arrived after the search (near ids above top), as candidates
// checked exactly like the hits. The edges stored are those a search at commit time finds (the
// checks decide, and the searches are supersets of what they accept).
type preSearch struct {
	ix     *nearIndex
	rix    *regionIndex    // nil: the region indexes were not searched
	top    uint64          // the largest near id the indexes held when searched
	whole  []hit           // discover's hits
	region map[uint64]bool // regionCandidateIDs' ids
}

// presearch searches the near indexes for an image that ingest is about to store (hash p, region
// hashes rs when have) as putWithRegions will need, or returns nil when they cannot be loaded now
// (the commit then searches, and reports why).
func (c *Catalog) presearch(p *PDQInfo, rs []RegionHash, have bool) (pre *preSearch) {
	// A panic or a fault in a mapped index file here is not the file's doing: it is left to the
	// commit, which searches again at the catalog boundary and reports the damage.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			pre = nil
		}
	}()
	ix, err := c.index()
	if err != nil {
		return nil
	}
	pre = &preSearch{ix: ix}
	if have {
		if pre.rix, err = c.regionIndex(); err != nil {
			return nil
		}
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	pre.top = ix.top
	pre.whole, _ = ix.discover(p, ix.top+1, nil)
	if pre.rix != nil {
		pre.region = regionCandidateIDs(ix, pre.rix, &hashSet{whole: p, regions: rs})
	}
	return pre
}

// arrived lists the images of the index with a near id above top and below `below` (those put
// after a presearch), of quality at least EdgeMinQuality, as hits. The caller holds n.mu for
// reading.
func (n *nearIndex) arrived(top, below uint64) []hit {
	var out []hit
	for id := top + 1; id < below && id < uint64(len(n.shas)); id++ {
		if n.shas[id] != (SHA256{}) && int(n.qual[id]) >= EdgeMinQuality {
			out = append(out, hit{id, n.shas[id]})
		}
	}
	return out
}

// edges stores the edges of a newly put image to the earlier images of the index (those put before
// it in this transaction included): those pre found and those that arrived since, or (pre nil)
// those a search finds now.
func (w *nearTx) edges(img newImage, pre *preSearch) error {
	var hits []hit
	w.ix.mu.RLock()
	if pre != nil {
		hits = append(slices.Clip(pre.whole), w.ix.arrived(pre.top, img.id)...)
	} else {
		hits, w.buf = w.ix.discover(img.pdq, img.id, w.buf)
	}
	w.ix.mu.RUnlock()
	if img.pdq.Quality < EdgeMinQuality {
		return nil
	}
	eb := w.tx.Bucket(bucketEdges)
	pb := w.tx.Bucket(bucketPDQ)
	for _, h := range hits {
		v := pb.Get(h.sha[:])
		if v == nil {
			continue // removed in this transaction
		}
		po, err := parsePDQValue(v)
		if err != nil {
			return fmt.Errorf("image %s pdq record: %w", h.sha, err)
		}
		if err := storePair(eb, img.sha, img.pdq, h.sha, po); err != nil {
			return err
		}
	}
	return nil
}

// storePair stores the edge between a and o when their pair distance is within EdgeMaxDistance.
func storePair(eb *bolt.Bucket, a SHA256, pa *PDQInfo, o SHA256, po *PDQInfo) error {
	if a == o {
		return nil
	}
	d, t := edgeOf(a, pa, o, po)
	if d > EdgeMaxDistance {
		return nil
	}
	return putEdge(eb, a, pa.Quality, o, po.Quality, d, t)
}

// remove deletes the hash of image s, its near id and its edges (both directions). The index
// cannot forget one image: done drops it, and the persisted index is stale from then on.
func (w *nearTx) remove(s SHA256) error {
	pb := w.tx.Bucket(bucketPDQ)
	v := pb.Get(s[:])
	if v == nil {
		return nil
	}
	if id, ok := pdqNearID(v); ok {
		if got := w.tx.Bucket(bucketNearIDs).Get(seqKey(id)); bytes.Equal(got, s[:]) {
			if err := w.tx.Bucket(bucketNearIDs).Delete(seqKey(id)); err != nil {
				return err
			}
		}
	}
	if err := pb.Delete(s[:]); err != nil {
		return err
	}
	if rb := w.tx.Bucket(bucketRegions); rb != nil && rb.Get(s[:]) != nil {
		if err := rb.Delete(s[:]); err != nil {
			return err
		}
	}
	if err := deleteEdges(w.tx.Bucket(bucketEdges), s); err != nil {
		return err
	}
	w.removed = true
	return bumpNearGen(w.tx)
}

// deleteEdges deletes every edge of s, of every kind, in both directions.
func deleteEdges(eb *bolt.Bucket, s SHA256) error {
	var keys [][]byte
	cur := eb.Cursor()
	for k, _ := cur.Seek(s[:]); k != nil && bytes.HasPrefix(k, s[:]); k, _ = cur.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if len(k) >= 65 {
			rev := make([]byte, 0, len(k))
			rev = append(append(append(append(rev, k[33:65]...), k[32]), k[:32]...), k[65:]...)
			if err := eb.Delete(rev); err != nil {
				return err
			}
		}
		if err := eb.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// bumpNearGen marks every persisted index built before as stale.
func bumpNearGen(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	n, _ := strconv.ParseUint(string(meta.Get(keyNearGen)), 10, 64)
	return meta.Put(keyNearGen, []byte(strconv.FormatUint(n+1, 10)))
}

// done is called after the transaction committed: an image that left cannot be taken out of the
// index, which is dropped (the next search loads it again).
func (w *nearTx) done() {
	if w.removed {
		w.c.dropIndex()
	}
	w.c.nearChanged(len(w.added) > 0 || w.removed)
}

// abort is called when the transaction did not commit: the index may hold its images, so it is
// dropped.
func (w *nearTx) abort() {
	if w.ix != nil || w.removed {
		w.c.dropIndex()
	}
}

// checkNear holds the near ids and the stored edges against the perceptual hashes: every hash has a
// near id that near_ids maps back to it; every edge joins two stored hashes, both at least
// EdgeMinQuality, and carries the distance and transform PairDistance gives them (at most
// EdgeMaxDistance), and its reverse entry exists with the inverse transform. Edges are read in key
// order, so each image's hash is decoded once per run of its edges.
func checkNear(ctx context.Context, tx *bolt.Tx, add func(kind, subject, format string, args ...any)) error {
	_, err := checkNearCounted(ctx, tx, add)
	return err
}

// checkNearCounted is checkNear, also naming the checks that looked records up one by one (their
// two sides differed).
func checkNearCounted(ctx context.Context, tx *bolt.Tx, add func(kind, subject, format string, args ...any)) (lookedUp []string, err error) {
	pb, nb, eb := tx.Bucket(bucketPDQ), tx.Bucket(bucketNearIDs), tx.Bucket(bucketEdges)
	if nb == nil || eb == nil {
		add("index", "catalog.db", "no near_ids or edges bucket (run `relcat reindex`)")
		return lookedUp, nil
	}
	n := 0
	watch := mapWatch{tx: tx}
	// step is taken once per record read: pages let go of, Ctrl-C seen within 4,096 records.
	step := func() error {
		watch.step()
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ErrInterrupted
		}
		return nil
	}
	// pdq -> near id and near_ids -> image, summed on both sides (verifysums.go): equal sums prove
	// the two map each other; otherwise each is looked up in the other.
	sums := newSetSums(4)
	byHash, byID := sums[0], sums[1]
	err = pb.ForEach(func(k, v []byte) error {
		if err := step(); err != nil {
			return err
		}
		if _, err := parsePDQValue(v); err != nil {
			return nil // reported with the images
		}
		id, ok := pdqNearID(v)
		if !ok || id == 0 {
			add("index", fmt.Sprintf("pdq %x", k), "hash without a near id (run `relcat reindex`)")
			return nil
		}
		byHash.add(seqKey(id), k)
		return nil
	})
	if err != nil {
		return lookedUp, err
	}
	err = nb.ForEach(func(k, v []byte) error {
		if err := step(); err != nil {
			return err
		}
		if len(k) != 8 || len(v) != 32 {
			add("index", fmt.Sprintf("near_ids %x", k), "malformed entry")
			return nil
		}
		byID.add(k, v)
		return nil
	})
	if err != nil {
		return lookedUp, err
	}
	if !byHash.same(byID) {
		lookedUp = append(lookedUp, "near ids")
		err = pb.ForEach(func(k, v []byte) error {
			if err := step(); err != nil {
				return err
			}
			if _, err := parsePDQValue(v); err != nil {
				return nil
			}
			if id, ok := pdqNearID(v); ok && id != 0 && !bytes.Equal(nb.Get(seqKey(id)), k) {
				add("index", fmt.Sprintf("pdq %x", k), "near id %d is not mapped back to this image (run `relcat reindex`)", id)
			}
			return nil
		})
		if err != nil {
			return lookedUp, err
		}
		err = nb.ForEach(func(k, v []byte) error {
			if err := step(); err != nil {
				return err
			}
			if len(k) != 8 || len(v) != 32 {
				return nil
			}
			pv := pb.Get(v)
			if _, err := parsePDQValue(pv); pv != nil && err != nil {
				return nil // reported with the images
			}
			if id, ok := pdqNearID(pv); !ok || !bytes.Equal(seqKey(id), k) {
				add("index", fmt.Sprintf("%x", v), "near id %d names this image, whose hash has another near id or none (run `relcat reindex`)", binary.BigEndian.Uint64(k))
			}
			return nil
		})
		if err != nil {
			return lookedUp, err
		}
	}
	// Each whole-image edge, and the reverse each asks for, summed: equal sums prove every edge's
	// reverse entry is stored with the inverse transform; otherwise each reverse is looked up.
	edgesSum, reverseSum := sums[2], sums[3]
	// The hash of each edge's A comes in key order; those of the B side are read a chunk of edges
	// at a time, in key order of B (a lookup per edge would read pages all over the pdq bucket).
	type pendingEdge struct {
		k   []byte
		e   storedEdge
		err error
		pa  *PDQInfo
		po  *PDQInfo
	}
	var pending []pendingEdge
	byB := make([]int, 0, nearEdgeChunk)
	pcur := pb.Cursor()
	check := func() {
		byB = byB[:0]
		for i := range pending {
			if pending[i].err == nil && pending[i].e.kind == edgeWhole {
				byB = append(byB, i)
			}
		}
		slices.SortFunc(byB, func(x, y int) int { return bytes.Compare(pending[x].e.b[:], pending[y].e.b[:]) })
		var lastB SHA256
		var po *PDQInfo
		for j, i := range byB {
			if b := pending[i].e.b; j == 0 || b != lastB {
				watch.step()
				lastB, po = b, nil
				if k, v := pcur.Seek(b[:]); k != nil && bytes.Equal(k, b[:]) {
					po, _ = parsePDQValue(v)
				}
			}
			pending[i].po = po
		}
		for _, pe := range pending {
			e, pa, po := pe.e, pe.pa, pe.po
			if pe.err != nil {
				add("index", fmt.Sprintf("edge %x", pe.k), "%v (run `relcat reindex`)", pe.err)
				continue
			}
			if e.kind != edgeWhole {
				continue // kinds this build does not compute are not checked
			}
			subject := fmt.Sprintf("edge %s-%s", e.a, e.b)
			if pa == nil || po == nil {
				add("index", subject, "joins an image without a perceptual hash (run `relcat reindex`)")
				continue
			}
			d, t := edgeOf(e.a, pa, e.b, po)
			switch {
			case d != e.dist || t != e.tr:
				add("index", subject, "stored distance %d (%s), the hashes give %d (%s) (run `relcat reindex`)", e.dist, e.tr, d, t)
			case d > EdgeMaxDistance || pa.Quality < EdgeMinQuality || po.Quality < EdgeMinQuality:
				add("index", subject, "distance %d, qualities %d and %d: outside what edges store (run `relcat reindex`)", d, pa.Quality, po.Quality)
			case e.qualityB != po.Quality:
				add("index", subject, "stored quality %d, the hash has %d (run `relcat reindex`)", e.qualityB, po.Quality)
			}
			edgesSum.add(e.a[:], e.b[:], []byte{e.kind, byte(e.dist), byte(e.tr)}, e.suffix)
			reverseSum.add(e.b[:], e.a[:], []byte{e.kind, byte(e.dist), byte(e.tr.Inverse())}, e.suffix)
		}
		pending = pending[:0]
	}
	var curA SHA256
	var pa *PDQInfo
	haveA := false
	cur := eb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if err := step(); err != nil {
			return lookedUp, err
		}
		e, err := parseEdge(k, v)
		if err == nil && e.kind == edgeWhole && (!haveA || e.a != curA) {
			curA, haveA, pa = e.a, true, nil
			if v := pb.Get(e.a[:]); v != nil {
				pa, _ = parsePDQValue(v)
			}
		}
		pending = append(pending, pendingEdge{k: k, e: e, err: err, pa: pa})
		if len(pending) == nearEdgeChunk {
			check()
		}
	}
	check()
	if edgesSum.same(reverseSum) {
		return lookedUp, nil
	}
	lookedUp = append(lookedUp, "reverse edges")
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if err := step(); err != nil {
			return lookedUp, err
		}
		e, err := parseEdge(k, v)
		if err != nil || e.kind != edgeWhole || !hasPDQ(pb, e.a) || !hasPDQ(pb, e.b) {
			continue // reported above
		}
		rv := eb.Get(edgeKey(e.b, e.kind, e.a, e.suffix))
		if re, err := parseEdge(edgeKey(e.b, e.kind, e.a, e.suffix), rv); rv == nil || err != nil || re.dist != e.dist || re.tr != e.tr.Inverse() {
			add("index", fmt.Sprintf("edge %s-%s", e.a, e.b), "its reverse entry is missing or differs (run `relcat reindex`)")
		}
	}
	return lookedUp, nil
}

// nearEdgeChunk is how many edges verify holds while it reads the hashes of their B side (tests
// lower it).
var nearEdgeChunk = 1 << 15

// hasPDQ reports whether the image has a readable perceptual hash.
func hasPDQ(pb *bolt.Bucket, s SHA256) bool {
	v := pb.Get(s[:])
	if v == nil {
		return false
	}
	_, err := parsePDQValue(v)
	return err == nil
}

package hindex

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
)

const (
	slots    = 16      // number of 16-bit slots in a 256-bit hash
	keySpace = 1 << 16 // distinct values of one slot
	// MaxRadius is the largest radius served through the slots; larger radii
	// are answered by a linear scan.
	MaxRadius = 63
)

// Match is one search result: an id and its Hamming distance to the query.
type Match struct {
	ID       uint32
	Distance int
}

// id states.
const (
	absent  uint8 = iota
	frozen        // present and stored in the bucket tables under its current hash
	pending       // present, added or replaced since the last freeze
)

// Index is a near-duplicate index over 256-bit hashes. The zero value is not
// usable; call New.
type Index struct {
	hashes [][4]uint64 // by id
	state  []uint8     // by id
	n      int         // ids present

	pend    []uint32 // ids whose state is pending, each once
	nFrozen int      // ids whose state is frozen
	stale   int      // bucket entries left under an old hash by a replacing Add

	// Frozen bucket tables, one per slot: ids[s][off[s][k]:off[s][k+1]] are the
	// frozen ids whose slot s holds key k. Empty until the first freeze.
	off [slots][]uint32
	ids [slots][]uint32
}

// probeMasks lists every 16-bit mask by increasing popcount; probeCount[w] is
// the number of masks with popcount <= w.
var (
	probeMasks []uint16
	probeCount [4]int
)

func init() {
	for w := 0; w <= 3; w++ {
		for m := 0; m < keySpace; m++ {
			if bits.OnesCount16(uint16(m)) == w {
				probeMasks = append(probeMasks, uint16(m))
			}
		}
		probeCount[w] = len(probeMasks)
	}
}

// New returns an empty index with room for ids below capacity.
func New(capacity int) *Index {
	capacity = max(capacity, 0)
	ix := &Index{
		hashes: make([][4]uint64, 0, capacity),
		state:  make([]uint8, 0, capacity),
	}
	return ix
}

func words(h [32]byte) [4]uint64 {
	return [4]uint64{
		binary.LittleEndian.Uint64(h[0:]),
		binary.LittleEndian.Uint64(h[8:]),
		binary.LittleEndian.Uint64(h[16:]),
		binary.LittleEndian.Uint64(h[24:]),
	}
}

func unwords(w *[4]uint64) [32]byte {
	var h [32]byte
	for i, x := range w {
		binary.LittleEndian.PutUint64(h[8*i:], x)
	}
	return h
}

// key returns slot s (bytes 2s and 2s+1) of a hash in word form.
func key(w *[4]uint64, s int) uint16 {
	return uint16(w[s>>2] >> (16 * uint(s&3)))
}

func dist(a, b *[4]uint64) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// Distance returns the Hamming distance between two 256-bit hashes.
func Distance(a, b [32]byte) int {
	wa, wb := words(a), words(b)
	return dist(&wa, &wb)
}

// Add stores h under id. Adding an id that is already present replaces its
// hash. Memory grows with the largest id, so ids should be dense. Add must not
// run concurrently with any other method.
func (ix *Index) Add(id uint32, h [32]byte) {
	ix.add(id, h)
	if len(ix.pend) > 4096+ix.n/32 {
		ix.Compact()
	}
}

func (ix *Index) add(id uint32, h [32]byte) {
	if int(id) >= len(ix.hashes) {
		need := int(id) + 1
		if need > cap(ix.hashes) {
			ix.hashes = slices.Grow(ix.hashes, need-len(ix.hashes))
		}
		ix.hashes = ix.hashes[:need]
		ix.state = slices.Grow(ix.state, need-len(ix.state))[:need]
	}
	ix.hashes[id] = words(h)
	switch ix.state[id] {
	case absent:
		ix.n++
		ix.state[id] = pending
		ix.pend = append(ix.pend, id)
	case frozen:
		// The id's bucket entries now carry stale keys; Search skips ids
		// that are not in the frozen state, and the pending scan finds it.
		ix.nFrozen--
		ix.stale++
		ix.state[id] = pending
		ix.pend = append(ix.pend, id)
	}
}

// AddBatch adds hashes[i] under ids[i] for every i, like that many Add
// calls, but freezes once at the end instead of along the way: use it to
// load a catalog. It panics if the slices differ in length. It must not run
// concurrently with any other method.
func (ix *Index) AddBatch(ids []uint32, hashes [][32]byte) {
	if len(ids) != len(hashes) {
		panic("hindex: AddBatch with different numbers of ids and hashes")
	}
	for i, id := range ids {
		ix.add(id, hashes[i])
	}
	ix.Compact()
}

// Len returns the number of ids present.
func (ix *Index) Len() int { return ix.n }

// Hash returns the hash stored under id and whether id is present.
func (ix *Index) Hash(id uint32) ([32]byte, bool) {
	if int(id) >= len(ix.state) || ix.state[id] == absent {
		return [32]byte{}, false
	}
	return unwords(&ix.hashes[id]), true
}

// Compact moves every pending id into the frozen bucket tables. Add calls it
// when the pending list grows past 4096 + Len/32 entries; call it after a bulk
// load so that the following searches skip the pending scan. A few new ids
// are merged into the existing tables (sort the newcomers, shift each bucket,
// linear memmove); many new ids, or ids whose hash was replaced, rebuild the
// tables by a counting sort. It must not run concurrently with any other
// method.
func (ix *Index) Compact() {
	if len(ix.pend) == 0 {
		return
	}
	if ix.off[0] == nil || ix.stale > 0 || len(ix.pend) > ix.nFrozen/4 {
		ix.rebuild()
	} else {
		ix.merge()
	}
	for _, id := range ix.pend {
		ix.state[id] = frozen
	}
	ix.nFrozen += len(ix.pend)
	ix.pend = ix.pend[:0]
}

// rebuild fills the bucket tables from scratch with every present id: one
// pass counts the keys of all 16 slots, a second places the ids.
func (ix *Index) rebuild() {
	n := ix.n
	for s := range slots {
		if ix.off[s] == nil {
			ix.off[s] = make([]uint32, keySpace+1)
		} else {
			clear(ix.off[s])
		}
		if cap(ix.ids[s]) < n {
			ix.ids[s] = make([]uint32, n, n+n/8)
		}
		ix.ids[s] = ix.ids[s][:n]
	}
	for id, st := range ix.state {
		if st == absent {
			continue
		}
		h := &ix.hashes[id]
		for s := range slots {
			ix.off[s][int(key(h, s))+1]++
		}
	}
	cur := make([]uint32, slots*keySpace) // next free position per slot and key
	for s := range slots {
		off := ix.off[s]
		for k := 1; k <= keySpace; k++ {
			off[k] += off[k-1]
		}
		copy(cur[s*keySpace:], off[:keySpace])
	}
	for id, st := range ix.state {
		if st == absent {
			continue
		}
		h := &ix.hashes[id]
		for s := range slots {
			c := &cur[s*keySpace+int(key(h, s))]
			ix.ids[s][*c] = uint32(id)
			*c++
		}
	}
	ix.stale = 0
}

// merge adds the pending ids, all new to the tables, to the frozen tables in
// place: per slot, sort the newcomers by key, then walk the keys downwards
// moving each old bucket up by the number of newcomers with smaller keys and
// appending the newcomers of that key.
func (ix *Index) merge() {
	p := len(ix.pend)
	sorted := make([]uint64, p)
	for s := range slots {
		for i, id := range ix.pend {
			sorted[i] = uint64(key(&ix.hashes[id], s))<<32 | uint64(id)
		}
		slices.Sort(sorted)
		off := ix.off[s]
		nOld := int(off[keySpace])
		ids := slices.Grow(ix.ids[s][:nOld], p)[:nOld+p]
		j := p // sorted[:j] are the newcomers not yet placed
		for k := keySpace - 1; k >= 0 && j > 0; k-- {
			// Newcomers with key k are sorted[lo:j].
			lo := j
			for lo > 0 && int(sorted[lo-1]>>32) == k {
				lo--
			}
			// Every newcomer below lo has a smaller key: that is the shift.
			oldStart, oldEnd := int(off[k]), int(off[k+1])
			newStart := oldStart + lo
			copy(ids[newStart:], ids[oldStart:oldEnd])
			pos := newStart + oldEnd - oldStart
			for _, e := range sorted[lo:j] {
				ids[pos] = uint32(e)
				pos++
			}
			off[k+1] = uint32(pos)
			j = lo
		}
		ix.ids[s] = ids
	}
}

// Search appends to dst every id whose hash is within Hamming distance r of q
// (exactly: no false negatives, no false positives), sorted by distance and
// then by id, and returns the extended slice. A negative r finds nothing; an r
// above 63 is answered by a linear scan. Search only reads the index: any
// number of Search calls may run concurrently, but not alongside Add.
func (ix *Index) Search(q [32]byte, r int, dst []Match) []Match {
	if r < 0 {
		return dst
	}
	start := len(dst)
	qw := words(q)
	if r > MaxRadius {
		for id, st := range ix.state {
			if st != absent {
				if d := dist(&ix.hashes[id], &qw); d <= r {
					dst = append(dst, Match{ID: uint32(id), Distance: d})
				}
			}
		}
		sortMatches(dst[start:])
		return dst
	}
	rs := r / slots
	masks := probeMasks[:probeCount[rs]]
	var qk [slots]uint16
	for s := range qk {
		qk[s] = key(&qw, s)
	}
	if ix.off[0] != nil {
		// Gather candidate ids in a small buffer, then check them in a tight
		// loop: the hash loads are independent and overlap in the memory
		// system, instead of waiting behind the bucket walk's branches.
		var buf [512]uint32
		n := 0
		check := func(s int) {
			for _, id := range buf[:n] {
				h := &ix.hashes[id]
				d := dist(h, &qw)
				if d > r || ix.state[id] != frozen {
					continue
				}
				// Report the id only from the first slot within rs bits of
				// the query's: every later such slot finds it again.
				first := true
				for t := 0; t < s; t++ {
					if bits.OnesCount16(key(h, t)^qk[t]) <= rs {
						first = false
						break
					}
				}
				if first {
					dst = append(dst, Match{ID: id, Distance: d})
				}
			}
			n = 0
		}
		for s := 0; s < slots; s++ {
			off, ids := ix.off[s], ix.ids[s]
			for _, m := range masks {
				k := int(qk[s] ^ m)
				for _, id := range ids[off[k]:off[k+1]] {
					if n == len(buf) {
						check(s)
					}
					buf[n] = id
					n++
				}
			}
			check(s)
		}
	}
	for _, id := range ix.pend {
		if d := dist(&ix.hashes[id], &qw); d <= r {
			dst = append(dst, Match{ID: id, Distance: d})
		}
	}
	sortMatches(dst[start:])
	return dst
}

func sortMatches(m []Match) {
	slices.SortFunc(m, func(a, b Match) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

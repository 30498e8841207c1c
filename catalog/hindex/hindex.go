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

	pend []uint32 // ids whose state is pending, each once

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
	return &Index{
		hashes: make([][4]uint64, 0, capacity),
		state:  make([]uint8, 0, capacity),
	}
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
	if int(id) >= len(ix.hashes) {
		need := int(id) + 1
		ix.hashes = slices.Grow(ix.hashes, need-len(ix.hashes))[:need]
		ix.state = slices.Grow(ix.state, need-len(ix.state))[:need]
	}
	ix.hashes[id] = words(h)
	switch ix.state[id] {
	case absent:
		ix.n++
		fallthrough
	case frozen:
		// A frozen id's bucket entries now carry stale keys; Search skips
		// ids that are not in the frozen state, and the pending scan finds it.
		ix.state[id] = pending
		ix.pend = append(ix.pend, id)
	}
	if len(ix.pend) > 4096+ix.n/64 {
		ix.Compact()
	}
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

// Compact moves every pending id into the frozen bucket tables (a counting
// sort per slot, linear in Len). Add calls it when needed; call it after a
// bulk load to make the following searches as fast as possible. It must not
// run concurrently with any other method.
func (ix *Index) Compact() {
	if len(ix.pend) == 0 {
		return
	}
	for _, id := range ix.pend {
		ix.state[id] = frozen
	}
	ix.pend = ix.pend[:0]
	var count [keySpace + 1]uint32
	for s := 0; s < slots; s++ {
		clear(count[:])
		for id, st := range ix.state {
			if st == frozen {
				count[int(key(&ix.hashes[id], s))+1]++
			}
		}
		off := ix.off[s]
		if off == nil {
			off = make([]uint32, keySpace+1)
		}
		for k := 1; k <= keySpace; k++ {
			count[k] += count[k-1]
		}
		copy(off, count[:])
		ids := ix.ids[s]
		if cap(ids) < ix.n {
			ids = make([]uint32, ix.n, ix.n+ix.n/8)
		}
		ids = ids[:ix.n]
		// count[k] is now the next free position of key k.
		for id, st := range ix.state {
			if st == frozen {
				k := key(&ix.hashes[id], s)
				ids[count[k]] = uint32(id)
				count[k]++
			}
		}
		ix.off[s], ix.ids[s] = off, ids
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
		for s := 0; s < slots; s++ {
			off, ids := ix.off[s], ix.ids[s]
			for _, m := range masks {
				k := int(qk[s] ^ m)
				for _, id := range ids[off[k]:off[k+1]] {
					h := &ix.hashes[id]
					d := dist(h, &qw)
					if d > r || ix.state[id] != frozen {
						continue
					}
					// Report the id only from the first slot that is within rs
					// bits of the query: every later slot would find it again.
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
			}
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

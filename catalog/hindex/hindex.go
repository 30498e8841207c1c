package hindex

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
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

	// Frozen bucket tables, one per slot: ents[s][off[s][k]:off[s][k+1]] are
	// the entries of the frozen ids whose slot s holds key k. Empty until the
	// first freeze.
	off  [slots][]uint32
	ents [slots][]entry
}

// entry is one id in one slot's bucket table, with 96 bits of its hash taken
// outside that slot (see frag). Search checks the fragment in place, reading
// the bucket sequentially, and loads the full hash only for the few entries
// whose fragment is close enough: those loads are random reads into a large
// array and would otherwise dominate a query.
type entry struct {
	lo uint64 // keys of slots s-1 (low 16 bits) to s-4, modulo 16
	hi uint32 // keys of slots s-5 and s-6, modulo 16
	id uint32
}

// fragSlots is the number of other slots whose keys an entry carries.
const fragSlots = 6

// frag returns the fragment stored with a hash in slot s's table: the keys
// of the 6 slots before s, cyclically. It holds none of the slot's own bits,
// so the slot's distance and the fragment's add up to a lower bound of the
// full distance. Taking the slots before s (rather than any other 96 bits)
// also lets Search skip, without loading the full hash, an entry that an
// earlier slot reports (see skip).
func frag(w *[4]uint64, s int) (lo uint64, hi uint32) {
	for j := 4; j >= 1; j-- {
		lo = lo<<16 | uint64(key(w, (s-j)&(slots-1)))
	}
	return lo, uint32(key(w, (s-6)&(slots-1)))<<16 | uint32(key(w, (s-5)&(slots-1)))
}

// fragKey returns the key of slot s-j (1 <= j <= 6) from an entry of slot s.
func fragKey(lo uint64, hi uint32, j int) uint16 {
	if j <= 4 {
		return uint16(lo >> (16 * uint(j-1)))
	}
	return uint16(hi >> (16 * uint(j-5)))
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
	if ix.pendingLong() {
		ix.Compact()
	}
}

// pendingLong says the pending list has outgrown 4096 + Len/32 entries: scanning it at every
// Search would cost more than freezing it into the tables (16 x 65,537 offsets, 4 MiB, however few
// the ids).
func (ix *Index) pendingLong() bool { return len(ix.pend) > 4096+ix.n/32 }

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
// calls, but freezes at most once, at the end, when Add would have (a small
// index stays a list that Search scans, and costs no tables): use it to load
// a catalog. It panics if the slices differ in length. It must not run
// concurrently with any other method.
func (ix *Index) AddBatch(ids []uint32, hashes [][32]byte) {
	if len(ids) != len(hashes) {
		panic("hindex: AddBatch with different numbers of ids and hashes")
	}
	for i, id := range ids {
		ix.add(id, hashes[i])
	}
	if ix.pendingLong() {
		ix.Compact()
	}
}

// Len returns the number of ids present.
func (ix *Index) Len() int { return ix.n }

// IDs returns the size of the id space: one more than the largest id the index has room for.
func (ix *Index) IDs() int { return len(ix.hashes) }

// Hash returns the hash stored under id and whether id is present.
func (ix *Index) Hash(id uint32) ([32]byte, bool) {
	if int(id) >= len(ix.state) || ix.state[id] == absent {
		return [32]byte{}, false
	}
	return unwords(&ix.hashes[id]), true
}

// Each calls fn with every present id and its hash, in increasing id order (a sequential read of
// the hashes, where as many Hash calls in another order would read them at random).
func (ix *Index) Each(fn func(id uint32, h [32]byte)) {
	for id, st := range ix.state {
		if st != absent {
			fn(uint32(id), unwords(&ix.hashes[id]))
		}
	}
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

// rebuild fills the bucket tables from scratch with every present id, one
// slot per task, the slots spread over GOMAXPROCS goroutines.
func (ix *Index) rebuild() {
	var next atomic.Int32
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), slots) {
		wg.Go(func() {
			cur := make([]uint32, keySpace)
			for {
				s := int(next.Add(1)) - 1
				if s >= slots {
					return
				}
				ix.rebuildSlot(s, cur)
			}
		})
	}
	wg.Wait()
	ix.stale = 0
}

// rebuildSlot fills slot s's table by a counting sort: one pass over the
// hashes counts the slot's keys, a second places the entries. cur is
// scratch space of keySpace entries.
func (ix *Index) rebuildSlot(s int, cur []uint32) {
	n := ix.n
	if ix.off[s] == nil {
		ix.off[s] = make([]uint32, keySpace+1)
	} else {
		clear(ix.off[s])
	}
	if cap(ix.ents[s]) < n {
		ix.ents[s] = nil // let the old table go before allocating the new one
		ix.ents[s] = make([]entry, n, n+n/16)
	}
	off, ents := ix.off[s], ix.ents[s][:n]
	for id, st := range ix.state {
		if st != absent {
			off[int(key(&ix.hashes[id], s))+1]++
		}
	}
	for k := 1; k <= keySpace; k++ {
		off[k] += off[k-1]
	}
	copy(cur, off[:keySpace])
	for id, st := range ix.state {
		if st == absent {
			continue
		}
		h := &ix.hashes[id]
		lo, hi := frag(h, s)
		c := &cur[key(h, s)]
		ents[*c] = entry{lo: lo, hi: hi, id: uint32(id)}
		*c++
	}
	ix.ents[s] = ents
}

// merge adds the pending ids, all new to the tables, to the frozen tables in
// place, one slot per task as rebuild does.
func (ix *Index) merge() {
	var next atomic.Int32
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), slots) {
		wg.Go(func() {
			sorted := make([]uint64, len(ix.pend))
			for {
				s := int(next.Add(1)) - 1
				if s >= slots {
					return
				}
				ix.mergeSlot(s, sorted)
			}
		})
	}
	wg.Wait()
}

// mergeSlot merges the pending ids into slot s's table: sort the newcomers
// by key, then walk the keys downwards moving each old bucket up by the
// number of newcomers with smaller keys and appending the newcomers of that
// key. sorted is scratch space of len(ix.pend) entries.
func (ix *Index) mergeSlot(s int, sorted []uint64) {
	p := len(ix.pend)
	for i, id := range ix.pend {
		sorted[i] = uint64(key(&ix.hashes[id], s))<<32 | uint64(id)
	}
	slices.Sort(sorted)
	off := ix.off[s]
	nOld := int(off[keySpace])
	ents := slices.Grow(ix.ents[s][:nOld], p)[:nOld+p]
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
		copy(ents[newStart:], ents[oldStart:oldEnd])
		pos := newStart + oldEnd - oldStart
		for _, e := range sorted[lo:j] {
			id := uint32(e)
			flo, fhi := frag(&ix.hashes[id], s)
			ents[pos] = entry{lo: flo, hi: fhi, id: id}
			pos++
		}
		off[k+1] = uint32(pos)
		j = lo
	}
	ix.ents[s] = ents
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
	if ix.off[0] != nil {
		dst = ix.searchFrozen(dst, &qw, r)
	}
	for _, id := range ix.pend {
		if d := dist(&ix.hashes[id], &qw); d <= r {
			dst = append(dst, Match{ID: id, Distance: d})
		}
	}
	sortMatches(dst[start:])
	return dst
}

// span is one bucket to scan: the entries ents[s][a:b], whose fragments may
// differ from the query's in at most lim bits.
type span struct {
	a, b   uint32
	s, lim uint8
}

// A query's buckets are scanned in batches of at most batchSpans buckets or
// batchEntries entries (a batch's entries stay within L2 cache; r <= 31 is
// one batch at 1M uniform hashes).
const (
	batchSpans   = 512
	batchEntries = 8192
)

// searchFrozen appends the frozen ids within r <= MaxRadius of the query.
// It lists the buckets to visit (every key within r/16 bits of the query's,
// in every slot), then scans them batch by batch.
func (ix *Index) searchFrozen(dst []Match, qw *[4]uint64, r int) []Match {
	q := query{w: qw, r: r, rs: r / slots}
	for s := range slots {
		q.k[s] = key(qw, s)
		q.lo[s], q.hi[s] = frag(qw, s)
	}
	var batch [batchSpans]span
	n, entries := 0, 0
	for s := range slots {
		off := ix.off[s]
		for _, m := range probeMasks[:probeCount[q.rs]] {
			k := int(q.k[s] ^ m)
			a, b := off[k], off[k+1]
			if a == b {
				continue
			}
			// The slot itself differs from the query's in popcount(m)
			// bits, which leaves the fragment r-popcount(m).
			batch[n] = span{a: a, b: b, s: uint8(s), lim: uint8(r - bits.OnesCount16(m))}
			n++
			entries += int(b - a)
			if n == len(batch) || entries >= batchEntries {
				dst = ix.scan(dst, batch[:n], &q)
				n, entries = 0, 0
			}
		}
	}
	return ix.scan(dst, batch[:n], &q)
}

// query is what scan needs to know about a search: the query hash in word
// form, its slot keys and fragments, the radius and the radius per slot.
type query struct {
	w     *[4]uint64
	k     [slots]uint16
	lo    [slots]uint64
	hi    [slots]uint32
	r, rs int
}

// scan checks every entry of the spans. It first loads one entry per cache
// line of every span, so that the cache misses of all the buckets (scattered
// over a table of 16 MB per slot at 1M ids, each a TLB miss too) overlap in
// the memory system; scanning bucket after bucket takes them one or two at a
// time and was 4-5x slower. Those loads also check that the ids are in
// range, which keeps the compiler from dropping them. Then it compares each
// entry's fragment with the query's, in cache, and verifies the entries that
// are close enough against their full hashes, in batches (see verify).
func (ix *Index) scan(dst []Match, spans []span, q *query) []Match {
	var top uint32
	for _, x := range spans {
		ents := ix.ents[x.s]
		for p := x.a &^ 3; p < x.b; p += 4 { // 4 entries of 16 bytes per line
			top = max(top, ents[p].id)
		}
	}
	// Entries read from a persisted index may be damaged: then ids are checked one by one.
	checkIDs := int(top) >= len(ix.state)
	var buf [verifyBatch]cand
	n := 0
	for _, x := range spans {
		lo, hi, lim := q.lo[x.s], q.hi[x.s], int(x.lim)
		for _, e := range ix.ents[x.s][x.a:x.b] {
			if bits.OnesCount64(e.lo^lo)+bits.OnesCount32(e.hi^hi) <= lim {
				if skip(e.lo, e.hi, int(x.s), q) || (checkIDs && int(e.id) >= len(ix.state)) {
					continue
				}
				if n == len(buf) {
					dst = ix.verify(dst, buf[:n], q)
					n = 0
				}
				buf[n] = cand{id: e.id, s: x.s}
				n++
			}
		}
	}
	return ix.verify(dst, buf[:n], q)
}

// skip reports whether one of the 6 slots before s (those in the fragment
// of an entry of slot s), if before s, holds a key within rs bits of the
// query's: then the entry's id, if it is a match, is found and reported
// from that earlier slot, since its fragment there passes too (the sum of
// slot and fragment distances never exceeds the full distance).
func skip(lo uint64, hi uint32, s int, q *query) bool {
	for j := 1; j <= min(s, fragSlots); j++ {
		if bits.OnesCount16(fragKey(lo, hi, j)^q.k[s-j]) <= q.rs {
			return true
		}
	}
	return false
}

// cand is an entry whose fragment passed, found in slot s; d is its full
// distance once computed.
type cand struct {
	id uint32
	s  uint8
	d  uint16
}

// verifyBatch is the number of candidates verified together.
const verifyBatch = 256

// verify appends the candidates that are matches: first the full distance of
// every candidate, in a loop without data-dependent branches so that their
// random loads of the hash array overlap (few at uniform hashes; hundreds
// per query at r=31 when hashes cluster), then, for the ones within r, that
// the id is frozen (a replaced id leaves stale entries until the next
// rebuild; the pending scan finds it) and that its slot is the first slot
// within rs bits of the query's (every later such slot finds it again; skip
// has checked the 6 slots just before).
func (ix *Index) verify(dst []Match, cs []cand, q *query) []Match {
	// One word first, in a loop of few instructions, so that many more loads
	// are in flight at once; the other words share its cache line.
	for i := range cs {
		cs[i].d = uint16(bits.OnesCount64(ix.hashes[cs[i].id][0] ^ q.w[0]))
	}
	for i := range cs {
		h := &ix.hashes[cs[i].id]
		cs[i].d += uint16(bits.OnesCount64(h[1]^q.w[1]) + bits.OnesCount64(h[2]^q.w[2]) + bits.OnesCount64(h[3]^q.w[3]))
	}
next:
	for _, c := range cs {
		if int(c.d) > q.r || ix.state[c.id] != frozen {
			continue
		}
		h := &ix.hashes[c.id]
		for t := range int(c.s) - fragSlots { // skip checked the others
			if bits.OnesCount16(key(h, t)^q.k[t]) <= q.rs {
				continue next
			}
		}
		dst = append(dst, Match{ID: c.id, Distance: int(c.d)})
	}
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

// The index's persisted form (AppendTo, Load): the frozen index as little-endian arrays, each
// starting on a multiple of 64 bytes, so that Load can use them in place (from a memory-mapped file)
// instead of copying or rebuilding:
//
//	header   "HINDEX01", ids (8: the length of the id space), n (8: ids present)
//	hashes   ids x 32 bytes (4 little-endian words)
//	state    ids x 1 byte (0 absent, 1 present)
//	offsets  16 slots x 65,537 x 4 bytes
//	entries  16 slots x n x 16 bytes (lo 8, hi 4, id 4)
const (
	fileMagic  = "HINDEX01"
	fileHeader = 64
)

func align64(n int) int { return (n + 63) &^ 63 }

// EncodedSize is the number of bytes WriteTo writes (after Compact).
func (ix *Index) EncodedSize() int { return ix.EncodedSizeWithRoom(0) }

// EncodedSizeWithRoom is the number of bytes WriteWithRoom(w, ids) writes (after Compact).
func (ix *Index) EncodedSizeWithRoom(ids int) int {
	ids = max(ids, len(ix.hashes))
	return fileHeader + align64(32*ids) + align64(ids) + align64(slots*(keySpace+1)*4) + slots*ix.n*16
}

// WriteTo writes the persisted form of the index, freezing pending ids first (which modifies the
// index: it must not run concurrently with any other method). The host must be little-endian.
func (ix *Index) WriteTo(w io.Writer) (int64, error) { return ix.WriteWithRoom(w, 0) }

// WriteWithRoom is WriteTo with room for ids below ids (absent, written as zeros without being
// allocated): an index loaded from it (Load, from a private writable mapping) adds those ids in
// place, touching only the pages it writes, instead of copying its arrays to grow them.
func (ix *Index) WriteWithRoom(w io.Writer, ids int) (int64, error) {
	if !littleEndian {
		return 0, errors.New("hindex: persisted form needs a little-endian host")
	}
	ix.Compact()
	if ix.off[0] == nil { // empty index: tables of zero offsets
		for s := range slots {
			ix.off[s] = make([]uint32, keySpace+1)
		}
	}
	have := len(ix.hashes)
	ids = max(ids, have)
	var written int64
	write := func(b []byte) error {
		n, err := w.Write(b)
		written += int64(n)
		return err
	}
	zeros := make([]byte, 64<<10)
	writeZeros := func(n int) error {
		for n > 0 {
			k := min(n, len(zeros))
			if err := write(zeros[:k]); err != nil {
				return err
			}
			n -= k
		}
		return nil
	}
	pad := func(n int) error {
		if p := align64(n) - n; p > 0 {
			return write(make([]byte, p))
		}
		return nil
	}
	hdr := make([]byte, fileHeader)
	copy(hdr, fileMagic)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(ids))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(ix.n))
	if err := write(hdr); err != nil {
		return written, err
	}
	if have > 0 {
		if err := write(unsafe.Slice((*byte)(unsafe.Pointer(&ix.hashes[0])), 32*have)); err != nil {
			return written, err
		}
	}
	if err := writeZeros(32 * (ids - have)); err != nil {
		return written, err
	}
	if err := pad(32 * ids); err != nil {
		return written, err
	}
	st := make([]byte, have)
	for i, x := range ix.state {
		if x != absent {
			st[i] = 1
		}
	}
	if err := write(st); err != nil {
		return written, err
	}
	if err := writeZeros(ids - have); err != nil {
		return written, err
	}
	if err := pad(ids); err != nil {
		return written, err
	}
	for s := range slots {
		if err := write(unsafe.Slice((*byte)(unsafe.Pointer(&ix.off[s][0])), 4*(keySpace+1))); err != nil {
			return written, err
		}
	}
	if err := pad(slots * (keySpace + 1) * 4); err != nil {
		return written, err
	}
	for s := range slots {
		if ix.n == 0 {
			break
		}
		if err := write(unsafe.Slice((*byte)(unsafe.Pointer(&ix.ents[s][0])), 16*ix.n)); err != nil {
			return written, err
		}
	}
	return written, nil
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// ErrFormat reports persisted data that is not a valid index.
var ErrFormat = errors.New("hindex: not a valid persisted index")

// Load returns the index persisted in data (by WriteTo) and the number of bytes it took. The index
// uses data in place when data is 8-byte aligned (a memory-mapped file is): data must then stay
// valid and unchanged, and writable if the index is modified later (map it private and writable).
// Load checks the structure (sizes, the offsets of every slot, the states) without reading the
// entries; an entry naming an id out of range is skipped by Search, so damaged entries can only
// lose or add candidates, never crash.
func Load(data []byte) (*Index, int, error) {
	if !littleEndian {
		return nil, 0, errors.New("hindex: persisted form needs a little-endian host")
	}
	if len(data) < fileHeader || string(data[:8]) != fileMagic {
		return nil, 0, fmt.Errorf("%w: bad header", ErrFormat)
	}
	ids64, n64 := binary.LittleEndian.Uint64(data[8:]), binary.LittleEndian.Uint64(data[16:])
	if ids64 > 1<<32 || n64 > ids64 {
		return nil, 0, fmt.Errorf("%w: %d ids, %d present", ErrFormat, ids64, n64)
	}
	ids, n := int(ids64), int(n64)
	size := fileHeader + align64(32*ids) + align64(ids) + align64(slots*(keySpace+1)*4) + slots*n*16
	if len(data) < size {
		return nil, 0, fmt.Errorf("%w: %d bytes, want %d", ErrFormat, len(data), size)
	}
	if uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
		data = append(make([]byte, 0, size+8), data[:size]...)
		if uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
			return nil, 0, errors.New("hindex: cannot align the persisted index")
		}
	}
	at := fileHeader
	ix := &Index{n: n, nFrozen: n}
	if ids > 0 {
		ix.hashes = unsafe.Slice((*[4]uint64)(unsafe.Pointer(&data[at])), ids)
	}
	at += align64(32 * ids)
	ix.state = data[at : at+ids : at+ids]
	// Counted a byte value at a time (vectorised): a loop over the bytes took most of a Load
	// (7 ms of 8.5 million id states at a million images' region hashes, now 1).
	present := bytes.Count(ix.state, []byte{1})
	if absent := bytes.Count(ix.state, []byte{0}); present+absent != len(ix.state) {
		for _, x := range ix.state {
			if x > 1 {
				return nil, 0, fmt.Errorf("%w: state %d", ErrFormat, x)
			}
		}
	}
	if present != n {
		return nil, 0, fmt.Errorf("%w: %d ids present, header says %d", ErrFormat, present, n)
	}
	// The file says 1 for present; in memory a present id is frozen.
	if frozen != 1 {
		return nil, 0, errors.New("hindex: state encoding changed")
	}
	at += align64(ids)
	for s := range slots {
		off := unsafe.Slice((*uint32)(unsafe.Pointer(&data[at])), keySpace+1)
		if off[0] != 0 || int(off[keySpace]) != n {
			return nil, 0, fmt.Errorf("%w: slot %d offsets", ErrFormat, s)
		}
		for k := 1; k <= keySpace; k++ {
			if off[k] < off[k-1] {
				return nil, 0, fmt.Errorf("%w: slot %d offsets decrease", ErrFormat, s)
			}
		}
		ix.off[s] = off
		at += 4 * (keySpace + 1)
	}
	at = fileHeader + align64(32*ids) + align64(ids) + align64(slots*(keySpace+1)*4)
	for s := range slots {
		if n > 0 {
			ix.ents[s] = unsafe.Slice((*entry)(unsafe.Pointer(&data[at])), n)
		}
		at += 16 * n
	}
	return ix, size, nil
}

// CheckTables reports whether the bucket tables agree with the stored hashes, as a freshly built
// index's would: in every slot each present id appears exactly once, in the bucket of its key and
// with its fragment, the ids of a bucket in increasing order. With the ids and hashes themselves
// checked by the caller (Hash, Len), it shows a loaded index answers every search as one built from
// those hashes. It freezes pending ids first.
//
// It reads everything in order, never an id's hash from a table entry: a random read per entry
// (16 per id) grew faster than the index (at 3M ids, mapped, the hashes no longer stay in memory
// between them). One pass over the hashes sums, per slot, a keyed 64-bit digest of the entry each
// present id should have (slot, key, id, fragment); one pass over each slot's table sums the same
// digest of the entries it has, and checks each bucket's ids increase. Equal sums and counts mean
// equal sets of entries, but for a chance of about 2^-64: the digest's keys are drawn afresh for
// each call, so no file can be made to collide with them. between, when not nil, is called after
// each of the 16 slots (a caller checking a mapped file lets go of its pages there).
func (ix *Index) CheckTables(between func()) error {
	ix.Compact()
	if ix.stale != 0 {
		return fmt.Errorf("%w: %d stale entries", ErrFormat, ix.stale)
	}
	if ix.n == 0 {
		return nil
	}
	d := newEntryDigest()
	var want [slots]uint64
	for id, st := range ix.state {
		if st == absent {
			continue
		}
		h := &ix.hashes[id]
		for s := range slots {
			lo, hi := frag(h, s)
			want[s] += d.sum(s, key(h, s), uint32(id), lo, hi)
		}
	}
	for s := range slots {
		off, ents := ix.off[s], ix.ents[s]
		if len(off) != keySpace+1 || len(ents) != ix.n || int(off[keySpace]) != ix.n {
			return fmt.Errorf("%w: slot %d holds %d entries for %d ids", ErrFormat, s, len(ents), ix.n)
		}
		var have uint64
		for k := range keySpace {
			if off[k] > off[k+1] {
				return fmt.Errorf("%w: slot %d offsets decrease", ErrFormat, s)
			}
			prev := -1
			for _, e := range ents[off[k]:off[k+1]] {
				if int(e.id) <= prev {
					return fmt.Errorf("%w: slot %d key %d: id %d out of order or twice", ErrFormat, s, k, e.id)
				}
				prev = int(e.id)
				have += d.sum(s, uint16(k), e.id, e.lo, e.hi)
			}
		}
		if have != want[s] {
			return fmt.Errorf("%w: slot %d: its entries are not those of the hashes (an id missing, extra, or filed under another key or fragment)", ErrFormat, s)
		}
		if between != nil {
			between()
		}
	}
	return nil
}

// entryDigest is a keyed 64-bit digest of a bucket entry, for CheckTables' sums: two rounds of a
// 64x64->128-bit multiply folded, over the fields xored with random keys.
type entryDigest struct{ k [4]uint64 }

func newEntryDigest() entryDigest {
	var d entryDigest
	for i := range d.k {
		d.k[i] = rand.Uint64()
	}
	return d
}

func (d *entryDigest) sum(s int, k uint16, id uint32, lo uint64, hi uint32) uint64 {
	h1, l1 := bits.Mul64(lo^d.k[0], (uint64(hi)<<32|uint64(id))^d.k[1])
	h2, l2 := bits.Mul64(h1^l1^d.k[2], (uint64(s)<<16|uint64(k))^d.k[3])
	return h2 ^ l2
}

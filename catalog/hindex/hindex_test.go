package hindex

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func randHash(rng *rand.Rand) [32]byte {
	var h [32]byte
	for i := range h {
		h[i] = byte(rng.Uint32())
	}
	return h
}

// flip returns h with exactly d distinct bits flipped.
func flip(rng *rand.Rand, h [32]byte, d int) [32]byte {
	for _, b := range rng.Perm(256)[:d] {
		h[b/8] ^= 1 << (b % 8)
	}
	return h
}

// refSet is the reference model: hashes by id, kept apart from the index.
type refSet struct {
	h  [][32]byte
	ok []bool
	n  int
}

func newRef() *refSet { return &refSet{} }

func (rs *refSet) set(id uint32, h [32]byte) {
	for int(id) >= len(rs.h) {
		rs.h = append(rs.h, [32]byte{})
		rs.ok = append(rs.ok, false)
	}
	if !rs.ok[id] {
		rs.n++
	}
	rs.h[id], rs.ok[id] = h, true
}

func (rs *refSet) get(id uint32) [32]byte { return rs.h[id] }

// linear is the reference answer: a plain scan over every present id.
func linear(rs *refSet, q [32]byte, r int) []Match {
	var out []Match
	for id, h := range rs.h {
		if !rs.ok[id] {
			continue
		}
		if d := Distance(h, q); d <= r {
			out = append(out, Match{ID: uint32(id), Distance: d})
		}
	}
	sortMatches(out)
	return out
}

func TestDistance(t *testing.T) {
	var a, b [32]byte
	if d := Distance(a, b); d != 0 {
		t.Fatalf("Distance(0,0) = %d", d)
	}
	for i := range b {
		b[i] = 0xff
	}
	if d := Distance(a, b); d != 256 {
		t.Fatalf("Distance(0,ones) = %d", d)
	}
	b = [32]byte{0: 0x01, 7: 0x80, 8: 0x03, 31: 0xf0}
	if d := Distance(a, b); d != 8 {
		t.Fatalf("Distance = %d, want 8", d)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for d := 0; d <= 256; d++ {
		h := randHash(rng)
		if got := Distance(h, flip(rng, h, d)); got != d {
			t.Fatalf("flip %d bits: Distance = %d", d, got)
		}
	}
}

func TestSearchMatchesLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 50000 / raceDiv
	ix := New(n)
	ref := newRef()
	add := func(id uint32, h [32]byte) {
		ix.Add(id, h)
		ref.set(id, h)
	}
	for id := uint32(0); id < n; id++ {
		add(id, randHash(rng))
	}
	// Queries with planted neighbours at every distance 0..63, some twice.
	var queries [][32]byte
	next := uint32(n)
	for range 12 {
		q := randHash(rng)
		queries = append(queries, q)
		for d := 0; d <= 63; d++ {
			add(next, flip(rng, q, d))
			next++
			if d%7 == 0 {
				add(next, flip(rng, q, d))
				next++
			}
		}
	}
	// A few random existing hashes as queries, and a replaced id.
	for range 4 {
		queries = append(queries, ref.get(uint32(rng.IntN(n))))
	}
	add(17, flip(rng, queries[0], 5))

	check := func(stage string) {
		t.Helper()
		if ix.Len() != ref.n {
			t.Fatalf("%s: Len = %d, want %d", stage, ix.Len(), ref.n)
		}
		total := 0
		for qi, q := range queries {
			all := linear(ref, q, 63) // sorted by distance, so a prefix answers smaller radii
			for _, r := range []int{0, 8, 15, 16, 31, 47, 63} {
				got := ix.Search(q, r, nil)
				want := all[:0:0]
				for _, m := range all {
					if m.Distance <= r {
						want = append(want, m)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s: query %d r=%d: got %d matches, want %d\ngot  %v\nwant %v",
						stage, qi, r, len(got), len(want), got, want)
				}
				total += len(got)
			}
		}
		if total < 12*64 {
			t.Fatalf("%s: only %d matches in all; planted neighbours missing", stage, total)
		}
	}
	if len(ix.pend) == 0 || ix.off[0] == nil {
		t.Fatalf("want both frozen and pending entries before Compact (pending %d)", len(ix.pend))
	}
	checkTables(t, ix)
	check("mixed")
	ix.Compact()
	if len(ix.pend) != 0 {
		t.Fatalf("pending after Compact: %d", len(ix.pend))
	}
	check("compacted")
	// Replace frozen ids with hashes near a query; stale buckets must not leak.
	for i := range 50 {
		add(uint32(i*97), flip(rng, queries[1], i%40))
	}
	check("replaced")
	ix.Compact()
	checkTables(t, ix)
	check("replaced+compacted")
}

func TestEmpty(t *testing.T) {
	ix := New(0)
	q := [32]byte{1, 2, 3}
	for _, r := range []int{-1, 0, 31, 63, 64, 256} {
		if got := ix.Search(q, r, nil); len(got) != 0 {
			t.Fatalf("r=%d: %v from an empty index", r, got)
		}
	}
	ix.Compact()
	if got := ix.Search(q, 63, nil); len(got) != 0 {
		t.Fatalf("%v from an empty compacted index", got)
	}
	if ix.Len() != 0 {
		t.Fatalf("Len = %d", ix.Len())
	}
	if _, ok := ix.Hash(0); ok {
		t.Fatal("Hash(0) present in empty index")
	}
	if got := New(-5).Search(q, 10, nil); len(got) != 0 {
		t.Fatal("New(-5) not empty")
	}
}

func TestRadiusEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ix := New(0)
	ref := newRef()
	q := randHash(rng)
	for id := uint32(0); id < 3000; id++ {
		var h [32]byte
		if id == 0 {
			h = q
		} else if id%3 == 0 {
			h = flip(rng, q, 1+int(id/3)%256)
		} else {
			h = randHash(rng)
		}
		ix.Add(id, h)
		ref.set(id, h)
	}
	ix.Compact()
	for _, r := range []int{-1, 0, 1, 64, 100, 128, 255, 256, 1000} {
		got := ix.Search(q, r, nil)
		want := linear(ref, q, r)
		if !slices.Equal(got, want) {
			t.Fatalf("r=%d: got %d matches, want %d", r, len(got), len(want))
		}
	}
	if got := ix.Search(q, 0, nil); len(got) != 1 || got[0] != (Match{ID: 0, Distance: 0}) {
		t.Fatalf("r=0: %v, want only id 0", got)
	}
	if got := ix.Search(q, 256, nil); len(got) != 3000 {
		t.Fatalf("r=256: %d matches, want all 3000", len(got))
	}
}

func TestDstAppend(t *testing.T) {
	ix := New(4)
	h := [32]byte{9}
	ix.Add(2, h)
	ix.Add(1, h)
	dst := []Match{{ID: 99, Distance: 200}}
	got := ix.Search(h, 0, dst)
	want := []Match{{99, 200}, {1, 0}, {2, 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestDegenerate: many identical hashes share every slot value; results must
// still be exact and each reported once.
func TestDegenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ix := New(0)
	ref := newRef()
	var zero, ones [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	id := uint32(0)
	for range 1000 {
		ix.Add(id, zero)
		ref.set(id, zero)
		id++
	}
	for range 500 {
		ix.Add(id, ones)
		ref.set(id, ones)
		id++
	}
	for d := 0; d <= 70; d++ {
		h := flip(rng, zero, d)
		ix.Add(id, h)
		ref.set(id, h)
		id++
	}
	for range 2000 {
		h := randHash(rng)
		ix.Add(id, h)
		ref.set(id, h)
		id++
	}
	for _, compact := range []bool{false, true} {
		if compact {
			ix.Compact()
		}
		for _, q := range [][32]byte{zero, ones, flip(rng, zero, 20), flip(rng, ones, 40)} {
			for _, r := range []int{0, 15, 16, 31, 47, 63} {
				got := ix.Search(q, r, nil)
				if want := linear(ref, q, r); !slices.Equal(got, want) {
					t.Fatalf("compact=%v r=%d: got %d matches, want %d", compact, r, len(got), len(want))
				}
			}
		}
	}
	if got := ix.Search(zero, 0, nil); len(got) != 1001 {
		t.Fatalf("zero hash r=0: %d matches, want 1001", len(got))
	}
}

func TestHashAndLen(t *testing.T) {
	ix := New(2)
	a, b := [32]byte{1}, [32]byte{31: 0x80}
	ix.Add(5, a)
	ix.Add(0, b)
	if ix.Len() != 2 {
		t.Fatalf("Len = %d", ix.Len())
	}
	if h, ok := ix.Hash(5); !ok || h != a {
		t.Fatalf("Hash(5) = %x %v", h, ok)
	}
	for _, id := range []uint32{1, 4, 6, 1 << 31} {
		if _, ok := ix.Hash(id); ok {
			t.Fatalf("Hash(%d) present", id)
		}
	}
	ix.Compact()
	ix.Add(5, b) // replace a frozen id
	if ix.Len() != 2 {
		t.Fatalf("Len after replace = %d", ix.Len())
	}
	if h, _ := ix.Hash(5); h != b {
		t.Fatalf("Hash(5) after replace = %x", h)
	}
	if got := ix.Search(a, 0, nil); len(got) != 0 {
		t.Fatalf("old hash still found: %v", got)
	}
	if got := ix.Search(b, 0, nil); !slices.Equal(got, []Match{{0, 0}, {5, 0}}) {
		t.Fatalf("Search(b) = %v", got)
	}
	ix.Add(5, a) // replace a pending id again
	ix.Compact()
	if got := ix.Search(a, 0, nil); !slices.Equal(got, []Match{{5, 0}}) {
		t.Fatalf("Search(a) = %v", got)
	}
}

// TestInterleaved adds and searches alternately, crossing several automatic
// freezes, and checks every answer.
func TestInterleaved(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ix := New(0)
	ref := newRef()
	var seeds [][32]byte
	for range 30 {
		seeds = append(seeds, randHash(rng))
	}
	for id := uint32(0); id < 12000; id++ {
		h := flip(rng, seeds[rng.IntN(len(seeds))], rng.IntN(60))
		ix.Add(id, h)
		ref.set(id, h)
		if id%997 == 0 {
			q := flip(rng, seeds[rng.IntN(len(seeds))], rng.IntN(10))
			for _, r := range []int{16, 31, 63} {
				if got, want := ix.Search(q, r, nil), linear(ref, q, r); !slices.Equal(got, want) {
					t.Fatalf("after id %d r=%d: got %d, want %d", id, r, len(got), len(want))
				}
			}
		}
	}
}

func TestConcurrentSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ix := New(0)
	ref := newRef()
	for id := uint32(0); id < 20000; id++ {
		h := randHash(rng)
		ix.Add(id, h)
		ref.set(id, h)
	}
	var qs [][32]byte
	for i := range 16 {
		qs = append(qs, flip(rng, ref.get(uint32(i*1000)), i))
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(qs))
	for _, q := range qs {
		wg.Go(func() {
			if got, want := ix.Search(q, 31, nil), linear(ref, q, 31); !slices.Equal(got, want) {
				errs <- "concurrent search differs from linear scan"
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// checkTables verifies the frozen bucket tables: every bucket holds exactly
// the ids whose slot has that key, each present id once per slot with the
// fragment of its hash (stale entries of replaced ids aside).
func checkTables(t *testing.T, ix *Index) {
	t.Helper()
	if ix.off[0] == nil {
		return
	}
	for s := range slots {
		off, ents := ix.off[s], ix.ents[s]
		if off[0] != 0 || int(off[keySpace]) != len(ents) {
			t.Fatalf("slot %d: off[0]=%d off[end]=%d len(ents)=%d", s, off[0], off[keySpace], len(ents))
		}
		seen := make([]bool, len(ix.state))
		for k := range keySpace {
			if off[k] > off[k+1] {
				t.Fatalf("slot %d: offsets decrease at key %d", s, k)
			}
			for _, e := range ents[off[k]:off[k+1]] {
				id := e.id
				if seen[id] {
					t.Fatalf("slot %d: id %d twice", s, id)
				}
				seen[id] = true
				if ix.state[id] != frozen {
					continue
				}
				h := &ix.hashes[id]
				if int(key(h, s)) != k {
					t.Fatalf("slot %d: id %d under key %d, its key is %d", s, id, k, key(h, s))
				}
				if lo, hi := frag(h, s); e.lo != lo || e.hi != hi {
					t.Fatalf("slot %d: id %d fragment %x/%x, want %x/%x", s, id, e.lo, e.hi, lo, hi)
				}
			}
		}
		frozenN := 0
		for id, st := range ix.state {
			if st == frozen {
				frozenN++
				if !seen[id] {
					t.Fatalf("slot %d: frozen id %d missing", s, id)
				}
			}
		}
		if frozenN != ix.nFrozen || len(ents) != ix.nFrozen+ix.stale {
			t.Fatalf("slot %d: %d frozen ids, nFrozen %d, stale %d, %d entries", s, frozenN, ix.nFrozen, ix.stale, len(ents))
		}
	}
}

// TestFragDisjoint: a slot's fragment must not contain the slot's own bits
// (Search adds their distance separately).
func TestFragDisjoint(t *testing.T) {
	for s := range slots {
		var w [4]uint64
		for i := range w {
			w[i] = ^uint64(0)
		}
		// Clear slot s: a hash whose only zero bits are the slot's.
		w[s>>2] &^= 0xffff << (16 * uint(s&3))
		lo, hi := frag(&w, s)
		if lo != ^uint64(0) || hi != ^uint32(0) {
			t.Fatalf("slot %d: fragment %x/%x holds bits of the slot", s, lo, hi)
		}
	}
}

// TestFragKey: fragKey reads back the keys of the 6 slots before s from an
// entry of slot s.
func TestFragKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for range 100 {
		w := words(randHash(rng))
		for s := range slots {
			lo, hi := frag(&w, s)
			for j := 1; j <= fragSlots; j++ {
				if got, want := fragKey(lo, hi, j), key(&w, (s-j+slots)%slots); got != want {
					t.Fatalf("slot %d j %d: key %04x, want %04x", s, j, got, want)
				}
			}
		}
	}
}

// TestMerge grows a frozen index by small steps so that Compact takes the
// merge path, including newcomers at the first and last keys.
func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	ix := New(0)
	ref := newRef()
	id := uint32(0)
	addN := func(k int) {
		for range k {
			h := randHash(rng)
			switch rng.IntN(10) {
			case 0:
				h = [32]byte{}
			case 1:
				for i := range h {
					h[i] = 0xff
				}
			}
			ix.Add(id, h)
			ref.set(id, h)
			id++
		}
	}
	addN(5000)
	ix.Compact()
	checkTables(t, ix)
	for step := range 12 {
		addN(1 + step*50)
		ix.Compact()
		checkTables(t, ix)
		q := ref.get(uint32(rng.IntN(int(id))))
		for _, r := range []int{0, 31, 63} {
			if got, want := ix.Search(q, r, nil), linear(ref, q, r); !slices.Equal(got, want) {
				t.Fatalf("step %d r=%d: got %d, want %d", step, r, len(got), len(want))
			}
		}
	}
	// Replacing an id leaves a stale entry until the next rebuild.
	ix.Add(3, [32]byte{7})
	ref.set(3, [32]byte{7})
	checkTables(t, ix)
	if got, want := ix.Search([32]byte{7}, 63, nil), linear(ref, [32]byte{7}, 63); !slices.Equal(got, want) {
		t.Fatalf("after replace: got %v, want %v", got, want)
	}
	ix.Compact()
	checkTables(t, ix)
}

func TestAddBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	ref := newRef()
	ix := New(0)
	for round := range 3 {
		var ids []uint32
		var hs [][32]byte
		for i := range 20000 {
			id := uint32(round*15000 + i) // overlaps the previous round: replacements
			h := randHash(rng)
			ids, hs = append(ids, id), append(hs, h)
			ref.set(id, h)
		}
		ix.AddBatch(ids, hs)
		if len(ix.pend) != 0 || ix.Len() != ref.n {
			t.Fatalf("round %d: pending %d, Len %d want %d", round, len(ix.pend), ix.Len(), ref.n)
		}
		checkTables(t, ix)
		for range 5 {
			q := flip(rng, ref.get(uint32(rng.IntN(len(ref.h)))), 10)
			if got, want := ix.Search(q, 31, nil), linear(ref, q, 31); !slices.Equal(got, want) {
				t.Fatalf("round %d: got %v, want %v", round, got, want)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("AddBatch with mismatched slices did not panic")
		}
	}()
	ix.AddBatch([]uint32{1}, nil)
}

// A small batch is not frozen: it stays a list that Search scans (no 4 MiB of tables for a small
// catalog), and answers the same.
func TestAddBatchSmallStaysPending(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	ref := newRef()
	ix := New(0)
	var ids []uint32
	var hs [][32]byte
	for i := range 3000 {
		h := randHash(rng)
		ids, hs = append(ids, uint32(i+1)), append(hs, h)
		ref.set(uint32(i+1), h)
	}
	ix.AddBatch(ids, hs)
	if ix.off[0] != nil || len(ix.pend) != 3000 {
		t.Fatalf("3,000 ids: tables built %v, %d pending", ix.off[0] != nil, len(ix.pend))
	}
	for range 20 {
		q := flip(rng, ref.get(uint32(1+rng.IntN(3000))), rng.IntN(40))
		if got, want := ix.Search(q, 31, nil), linear(ref, q, 31); !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	ix.Compact()
	checkTables(t, ix)
}

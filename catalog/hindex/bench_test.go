package hindex

import (
	"bytes"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"
)

const benchN = 1_000_000

// hash128 returns a random hash with exactly 128 bits set, like a PDQ hash
// (PDQ thresholds at the median, so about half its bits are one).
func hash128(rng *rand.Rand) [32]byte {
	h := randHash(rng)
	for {
		c := 0
		for _, b := range h {
			c += bits.OnesCount8(b)
		}
		if c == 128 {
			return h
		}
		i := rng.IntN(256)
		on := h[i/8]&(1<<(i%8)) != 0
		if (c > 128) == on {
			h[i/8] ^= 1 << (i % 8)
		}
	}
}

type benchData struct {
	hashes  [][32]byte
	queries [][32]byte
}

// benchQueries is the number of distinct queries a search benchmark cycles
// through: enough that their buckets (about 70 KB per query at r=31) cannot
// stay in cache between two uses, so every query pays its cache misses as a
// fresh query would. The first plantedQueries of them get planted
// neighbours, and the first checkedQueries are checked against a linear scan
// before timing.
const (
	benchQueries   = 4096
	plantedQueries = 256
	checkedQueries = 128
)

// plant puts 5 true neighbours of each of the first plantedQueries queries
// into the data set, at distinct positions.
func plant(rng *rand.Rand, d *benchData) {
	for qi, q := range d.queries[:plantedQueries] {
		for j, dist := range []int{0, 6, 13, 22, 31} {
			// 7919 is prime to len(d.hashes) = 10^6: distinct positions.
			d.hashes[(qi*5+j)*7919%len(d.hashes)] = flip(rng, q, dist)
		}
	}
}

// uniformData: 1M random 128-bit-set hashes; benchQueries random queries,
// the first plantedQueries with 5 planted neighbours each.
var uniformData = sync.OnceValue(func() *benchData {
	rng := rand.New(rand.NewPCG(21, 22))
	d := &benchData{hashes: make([][32]byte, benchN)}
	for i := range d.hashes {
		d.hashes[i] = hash128(rng)
	}
	for range benchQueries {
		d.queries = append(d.queries, hash128(rng))
	}
	plant(rng, d)
	return d
})

// skewedData: slot values cluster as in real PDQ sets: 1M hashes derived
// from 1000 seeds with 32 random bit flips each (about 2 per slot), so
// hashes of one seed sit about 56 bits apart and share many slot values.
// Queries are drawn from seeds too, planted as above.
var skewedData = sync.OnceValue(func() *benchData {
	rng := rand.New(rand.NewPCG(23, 24))
	seeds := make([][32]byte, 1000)
	for i := range seeds {
		seeds[i] = hash128(rng)
	}
	d := &benchData{hashes: make([][32]byte, benchN)}
	for i := range d.hashes {
		d.hashes[i] = flip(rng, seeds[rng.IntN(len(seeds))], 32)
	}
	for range benchQueries {
		d.queries = append(d.queries, flip(rng, seeds[rng.IntN(len(seeds))], 32))
	}
	plant(rng, d)
	return d
})

// build loads d by single Add calls, as an interleaved ingest would.
func build(d *benchData) *Index {
	ix := New(len(d.hashes))
	for i, h := range d.hashes {
		ix.Add(uint32(i), h)
	}
	ix.Compact()
	return ix
}

// load loads d in one AddBatch, as a catalog does when it opens.
func load(d *benchData) *Index {
	ids := make([]uint32, len(d.hashes))
	for i := range ids {
		ids[i] = uint32(i)
	}
	ix := New(len(d.hashes))
	ix.AddBatch(ids, d.hashes)
	return ix
}

// linearScan is the baseline: a plain scan over every hash, in the same
// word form the index uses (the fastest scan we have).
func linearScan(ws [][4]uint64, q [32]byte, r int, dst []Match) []Match {
	qw := words(q)
	for i := range ws {
		if d := dist(&ws[i], &qw); d <= r {
			dst = append(dst, Match{ID: uint32(i), Distance: d})
		}
	}
	sortMatches(dst)
	return dst
}

func benchSearch(b *testing.B, d *benchData) {
	ix := load(d)
	ws := make([][4]uint64, len(d.hashes))
	for i, h := range d.hashes {
		ws[i] = words(h)
	}
	const r = 31
	// Both answers must agree before timing anything.
	found := 0
	for _, q := range d.queries[:checkedQueries] {
		a, l := ix.Search(q, r, nil), linearScan(ws, q, r, nil)
		if !slices.Equal(a, l) {
			b.Fatalf("index found %d, linear %d:\n%v\n%v", len(a), len(l), a, l)
		}
		found += len(a)
	}
	if found < 5*checkedQueries {
		b.Fatalf("only %d matches; planted neighbours missing", found)
	}
	cands, passed, matches := 0, 0, 0
	for _, q := range d.queries {
		c, p := candidates(ix, q, r)
		cands, passed = cands+c, passed+p
		matches += len(ix.Search(q, r, nil))
	}
	var dst []Match
	b.Run("index", func(b *testing.B) {
		i := 0
		c0 := cpuTime()
		for b.Loop() {
			dst = ix.Search(d.queries[i%len(d.queries)], r, dst[:0])
			i++
		}
		b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(cands)/float64(len(d.queries)), "cands/op")
		b.ReportMetric(float64(passed)/float64(len(d.queries)), "loads/op")
		b.ReportMetric(float64(matches)/float64(len(d.queries)), "matches/op")
	})
	b.Run("linear", func(b *testing.B) {
		i := 0
		c0 := cpuTime()
		for b.Loop() {
			dst = linearScan(ws, d.queries[i%len(d.queries)], r, dst[:0])
			i++
		}
		b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
	})
}

// candidates counts the bucket entries a search compares (sequential reads
// within its buckets) and how many of them pass the fragment filter and are
// not left to an earlier slot (each costs a random load of the full hash): the machine-independent cost of a
// query.
func candidates(ix *Index, q [32]byte, r int) (entries, passed int) {
	qw := words(q)
	sq := query{w: &qw, r: r, rs: r / slots}
	for s := range slots {
		sq.k[s] = key(&qw, s)
	}
	for s := range slots {
		lo, hi := frag(&qw, s)
		for _, m := range probeMasks[:probeCount[sq.rs]] {
			k := int(sq.k[s] ^ m)
			for _, e := range ix.ents[s][ix.off[s][k]:ix.off[s][k+1]] {
				entries++
				if bits.OnesCount64(e.lo^lo)+bits.OnesCount32(e.hi^hi) <= r-bits.OnesCount16(m) &&
					!skip(e.lo, e.hi, s, &sq) {
					passed++
				}
			}
		}
	}
	return entries, passed
}

// BenchmarkSearch1M: one query at r=31 per op, single goroutine, over 1M
// uniform hashes (index vs linear scan).
func BenchmarkSearch1M(b *testing.B) { benchSearch(b, uniformData()) }

// BenchmarkSearch1MSkewed: the same over clustered hashes.
func BenchmarkSearch1MSkewed(b *testing.B) { benchSearch(b, skewedData()) }

// footprint is the memory the index's arrays hold, by capacity.
func footprint(ix *Index) int {
	n := cap(ix.hashes)*32 + cap(ix.state) + cap(ix.pend)*4
	for s := range slots {
		n += cap(ix.off[s])*4 + cap(ix.ents[s])*int(unsafe.Sizeof(entry{}))
	}
	return n
}

// BenchmarkBuild1M: load 1M hashes and freeze, by AddBatch ("batch", as a
// catalog loads) and by 1M Add calls then Compact ("add", which pays the
// automatic merges an interleaved ingest would). Reports the CPU time of the
// build alone, the heap it leaves held (MB) and the index's own arrays in
// bytes per id (B/id).
func BenchmarkBuild1M(b *testing.B) {
	d := uniformData()
	for _, mode := range []string{"batch", "add"} {
		b.Run(mode, func(b *testing.B) {
			var mb, perID float64
			var cpu time.Duration
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				c0 := cpuTime()
				var ix *Index
				if mode == "batch" {
					ix = load(d)
				} else {
					ix = build(d)
				}
				cpu += cpuTime() - c0
				runtime.GC()
				runtime.ReadMemStats(&after)
				mb = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
				perID = float64(footprint(ix)) / float64(ix.Len())
				runtime.KeepAlive(ix)
			}
			b.ReportMetric(mb, "MB")
			b.ReportMetric(perID, "B/id")
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkCompact1M: one full freeze of 1M ids.
func BenchmarkCompact1M(b *testing.B) {
	d := uniformData()
	ix := New(len(d.hashes))
	for i, h := range d.hashes {
		ix.Add(uint32(i), h)
	}
	for b.Loop() {
		ix.pend = ix.pend[:0]
		for id := range ix.state {
			ix.state[id] = pending
			ix.pend = append(ix.pend, uint32(id))
		}
		ix.Compact()
	}
}

// BenchmarkLoad1M: Load of a persisted index of 1M ids with room for 8M (as regions.idx keeps at a
// million images: 8 slots an image), from memory: the structure checks every process pays before its
// first search (go test -run x -bench Load1M ./catalog/hindex/).
func BenchmarkLoad1M(b *testing.B) {
	ix := load(uniformData())
	var buf bytes.Buffer
	if _, err := ix.WriteWithRoom(&buf, 8<<20); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for b.Loop() {
		if _, _, err := Load(data); err != nil {
			b.Fatal(err)
		}
	}
}

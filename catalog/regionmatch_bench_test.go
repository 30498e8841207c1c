package catalog

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/relcat/relcat/catalog/hindex"
	"github.com/relcat/relcat/catalog/pdq"
)

// benchRegionsPerImage is how many region hashes each image of BenchmarkLookup1M has: the most
// regionHashes gives (three centred windows and one band-trimmed content region).
const benchRegionsPerImage = 4

// BenchmarkLookup1M (issue 10 item 6): the index part of a lookup at a million images with region
// hashes: the whole-image search (the query's 8 rotations and mirrors, as before) plus the region
// searches (regionCandidates: the query's whole hash, as-is and mirrored, in the region index; each
// of its regions, as-is and mirrored, in the whole-image index and the region index), over 1M images
// of benchRegionsPerImage region hashes each (uniform random hashes, one planted near copy per
// query). Reports CPU per lookup and the heap both indexes hold (MiB-index), which is the index
// memory at 1M:
//
//	go test ./catalog -run '^$' -bench BenchmarkLookup1M -benchtime 2000x
func BenchmarkLookup1M(b *testing.B) {
	const n = 1_000_000
	plan := regionPlanOnce()
	var codes []Region
	for r := 1; r < 256 && len(codes) < benchRegionsPerImage; r++ {
		if plan.withWhole[r] || plan.withRegion[r] {
			codes = append(codes, Region(r))
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	randHash := func() (h pdq.Hash) {
		for i := 0; i < 32; i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				h[i+j] = byte(v >> (8 * j))
			}
		}
		return h
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	ix := &nearIndex{ix: hindex.New(n + 1), shas: make([]SHA256, n+1), qual: make([]uint8, n+1), top: n}
	rix := &regionIndex{ix: hindex.New(0)}
	ids := make([]uint32, 0, n)
	hashes := make([][32]byte, 0, n)
	rids := make([]uint32, 0, n*len(codes))
	rhashes := make([][32]byte, 0, n*len(codes))
	regionOf := make([]pdq.Hash, n+1) // one region hash per image, to plant near copies of
	for id := 1; id <= n; id++ {
		var s SHA256
		copy(s[:], func() []byte { h := randHash(); return h[:] }())
		ix.shas[id], ix.qual[id] = s, 80
		ids = append(ids, uint32(id))
		hashes = append(hashes, randHash())
		for i := range codes {
			h := randHash()
			rids = append(rids, regionSlot(uint64(id), i))
			rhashes = append(rhashes, h)
			if i == 0 {
				regionOf[id] = h
			}
		}
	}
	ix.ix.AddBatch(ids, hashes)
	rix.ix.AddBatch(rids, rhashes)
	ids, hashes, rids, rhashes = nil, nil, nil, nil
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	indexMiB := float64(after.HeapAlloc-before.HeapAlloc-uint64(len(regionOf))*32) / (1 << 20)

	// Queries: a photo with its own regions whose whole hash is a near copy (12 bits off) of some
	// stored image's first region (a crop of that image).
	const nq = 1024
	queries := make([]*hashSet, nq)
	for i := range queries {
		p := &PDQInfo{Quality: 80}
		for t := range p.Dihedral {
			p.Dihedral[t] = randHash()
		}
		target := regionOf[1+rng.IntN(n)]
		for range 12 {
			k := rng.IntN(256)
			target[k/8] ^= 1 << (k % 8)
		}
		p.Dihedral[0], p.Hash = target, target
		q := &hashSet{whole: p}
		for _, code := range codes {
			q.regions = append(q.regions, RegionHash{Region: code, Quality: 80, AsIs: randHash(), Mirror: randHash()})
		}
		queries[i] = q
	}
	c := &Catalog{}
	o, _ := MatchOptions{}.norm()
	found := 0
	cpu0 := cpuTime(b)
	i := 0
	for b.Loop() {
		q := queries[i%nq]
		i++
		whole := ix.candidates(&q.whole.Dihedral, SHA256{}, o)
		reg, err := c.regionCandidates(ix, rix, q, SHA256{}, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		found += len(whole) + len(reg)
	}
	if found < b.N {
		b.Fatalf("%d candidates over %d lookups: the planted crops were not found", found, b.N)
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(indexMiB, "MiB-index")
	b.ReportMetric(float64(benchRegionsPerImage), "regions/img")
}

package catalog

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkIndexLoad1M measures what a query pays on first use at a million images: reading the
// 1,000,000 records of the pdq bucket from a real bbolt file and building the near-duplicate
// index. It reports the heap the index keeps.
func BenchmarkIndexLoad1M(b *testing.B) {
	const n = 1_000_000
	dir := filepath.Join(b.TempDir(), "cat")
	c, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < n; start += 100_000 {
		err := c.update(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bucketPDQ)
			for i := start; i < start+100_000; i++ {
				var s SHA256
				for j := range s {
					s[j] = byte(rng.Uint32())
				}
				p := &PDQInfo{Quality: 100, Variant: "pdq-area1024"}
				for t := range p.Dihedral {
					for j := range p.Dihedral[t] {
						p.Dihedral[t][j] = byte(rng.Uint32())
					}
				}
				if err := bk.Put(s[:], pdqValue(p)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix, err := c.index()
		if err != nil || len(ix.shas) != n {
			b.Fatalf("index: %v (%d hashes)", err, len(ix.shas))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-heap")
		c.Close()
	}
}

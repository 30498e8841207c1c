package catalog

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog/exifmeta"

	bolt "go.etcd.io/bbolt"
)

// bulkCatalog writes n images straight into a catalog through the same record, sighting and search
// index writers as ingest (no pixels, no files): 20 affiliates, n/100 releases of 100 images each
// over 2015-2024, 40 makes x 10 models, 5,000 serials, 10% stripped, 30% with GPS, 5% low quality.
func bulkCatalog(b *testing.B, n int) *Catalog {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "cat")
	c, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	const perBatch = 100
	formats := []string{"jpeg", "jpeg", "jpeg", "jpeg", "png", "webp"}
	for first := 0; first < n; first += 10_000 {
		err := c.update(func(tx *bolt.Tx) error {
			for i := first; i < min(n, first+10_000); i++ {
				bi := i / perBatch
				aff := fmt.Sprintf("aff-%02d", bi%20)
				rel := Released{Time: start.AddDate(0, 0, bi*3650/(n/perBatch)), DateOnly: true}
				batch := Batch{ID: BatchIdentity(aff, rel, fmt.Sprintf("rel-%d", bi)), Affiliate: aff, Released: rel, Folder: fmt.Sprintf("rel-%d", bi), Ingested: start}
				if i%perBatch == 0 {
					batch.Files = perBatch
					if err := putJSON(tx.Bucket(bucketBatches), batch.ID[:], batch); err != nil {
						return err
					}
					if tx.Bucket(bucketAffiliates).Get([]byte(aff)) == nil {
						if err := putJSON(tx.Bucket(bucketAffiliates), []byte(aff), Affiliate{Slug: aff, Created: start}); err != nil {
							return err
						}
					}
				}
				var s SHA256
				for j := range s {
					s[j] = byte(rng.Uint32())
				}
				img := &Image{SHA256: s, Format: formats[rng.IntN(len(formats))], Width: 1024, Height: 768}
				if rng.IntN(10) != 0 {
					mk := rng.IntN(40)
					img.EXIF = exifmeta.Meta{Found: true, Make: fmt.Sprintf("Make%d", mk), Model: fmt.Sprintf("Make%d Model %d", mk, rng.IntN(10)),
						Software:         fmt.Sprintf("Firmware %d", rng.IntN(100)),
						DateTimeOriginal: start.Add(time.Duration(rng.Int64N(int64(10 * 365 * 24 * time.Hour)))).Format("2006-01-02T15:04:05")}
					if rng.IntN(2) == 0 {
						img.EXIF.Serial = fmt.Sprintf("%08d", 1+rng.IntN(5000))
					} else {
						img.EXIF.Lens = fmt.Sprintf("Lens %d", rng.IntN(50))
					}
					if rng.IntN(10) < 3 {
						img.EXIF.GPS = &exifmeta.GPS{Lat: rng.Float64()*140 - 70, Lon: rng.Float64()*360 - 180}
					}
				}
				if rng.IntN(20) == 0 {
					img.PDQ = &PDQInfo{Quality: 30}
				}
				if err := putJSON(tx.Bucket(bucketImages), s[:], img); err != nil {
					return err
				}
				if err := indexSearch(tx, img); err != nil {
					return err
				}
				pos := i % perBatch
				if err := putJSON(tx.Bucket(bucketBatchImages), batchImageKey(batch.ID, pos), sightingRecord{SHA256: s, Name: hex.EncodeToString(s[:4]) + ".jpg"}); err != nil {
					return err
				}
				if err := tx.Bucket(bucketImageBatches).Put(imageBatchKey(s, batch.ID, pos), []byte("x.jpg")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return c
}

// BenchmarkSearch100k measures `relcat search` at 100,000 images, one query per iteration, on a
// real bbolt file (warm page cache), with the default limit of 100 hits read in full.
func BenchmarkSearch100k(b *testing.B) {
	c := bulkCatalog(b, 100_000)
	defer c.Close()
	day := func(s string) Released { r, _ := ParseReleased(s); return r }
	for _, q := range []struct {
		name string
		q    SearchQuery
	}{
		{"serial", SearchQuery{Serial: "00001234"}},
		{"make", SearchQuery{Make: "make7"}},
		{"model-prefix", SearchQuery{Model: "make7*"}},
		{"taken-month", SearchQuery{TakenFrom: day("2019-11-01"), TakenTo: day("2019-11-30")}},
		{"gps-box", SearchQuery{Box: &GeoBox{South: 30, West: 30, North: 40, East: 50}}},
		{"gps-radius-300km", SearchQuery{Near: &GeoCircle{Lat: 33.3, Lon: 44.4, RadiusKm: 300}}},
		{"affiliate+released", SearchQuery{Affiliates: []string{"aff-03"}, ReleasedFrom: day("2019-01-01"), ReleasedTo: day("2019-12-31")}},
		{"make+affiliate+stripped-none", SearchQuery{Make: "make7", Affiliates: []string{"aff-03"}}},
		{"low-quality", SearchQuery{LowQuality: true}},
		{"stripped", SearchQuery{Stripped: true}},
		{"format-jpeg-67pct", SearchQuery{Format: "jpeg"}},
	} {
		b.Run(q.name, func(b *testing.B) {
			q.q.Limit = 100
			total := 0
			c0 := cpuTime(b)
			for i := 0; i < b.N; i++ {
				r, err := c.Search(q.q)
				if err != nil {
					b.Fatal(err)
				}
				total = r.Total
			}
			b.ReportMetric(float64(cpuTime(b)-c0)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(total), "hits")
		})
	}
}

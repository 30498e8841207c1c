package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/relcat/relcat/catalog"
)

// The benchmarks render a release of 1,000 photos: variants (crops of 80-95% of one side, at most
// 1024 px) of the 39 demo photos, so that thumbnails have the size of real ones.
//
//	go test -run '^$' -bench 'BatchPage|Report1000' -benchtime 5x ./web

var (
	bigOnce  sync.Once
	bigDir   string
	bigBatch catalog.BatchID
	bigErr   error
)

const bigN = 1000

func bigFixture(b *testing.B) (string, catalog.BatchID) {
	b.Helper()
	bigOnce.Do(func() { bigDir, bigBatch, bigErr = buildBig() })
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigDir, bigBatch
}

func buildBig() (string, catalog.BatchID, error) {
	var none catalog.BatchID
	// RELCAT_WEB_BENCH_DIR keeps the generated catalog between runs (made when absent).
	root := os.Getenv("RELCAT_WEB_BENCH_DIR")
	if root != "" {
		if c, err := catalog.Open(filepath.Join(root, "cat"), catalog.Options{ReadOnly: true}); err == nil {
			defer c.Close()
			bs, err := c.Batches("bench")
			if err == nil && len(bs) == 1 && bs[0].Files == bigN {
				return filepath.Join(root, "cat"), bs[0].ID, nil
			}
		}
	} else {
		var err error
		if root, err = os.MkdirTemp("", "relcat-web-bench-"); err != nil {
			return "", none, err
		}
	}
	files, err := filepath.Glob("../samples/releases/*/*.jpg")
	if err != nil || len(files) == 0 {
		return "", none, fmt.Errorf("no samples: %v", err)
	}
	var srcs []image.Image
	for _, f := range files {
		img, err := imaging.Open(f)
		if err != nil {
			return "", none, err
		}
		srcs = append(srcs, imaging.Fit(img, 1024, 1024, imaging.Box))
	}
	rel := filepath.Join(root, "2024-01-01-thousand")
	if err := os.MkdirAll(rel, 0o755); err != nil {
		return "", none, err
	}
	if err := os.WriteFile(filepath.Join(rel, "release.json"), []byte(`{"affiliate":"bench","released":"2024-01-01","title":"1,000 photos"}`), 0o644); err != nil {
		return "", none, err
	}
	for i := 0; i < bigN; i++ {
		src := srcs[i%len(srcs)]
		b := src.Bounds()
		cut := 80 + (i/len(srcs))%16 // percent kept of the width
		w := b.Dx() * cut / 100
		img := imaging.Crop(src, image.Rect(b.Dx()-w, 0, b.Dx(), b.Dy()))
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			return "", none, err
		}
		if err := os.WriteFile(filepath.Join(rel, fmt.Sprintf("%04d.jpg", i)), buf.Bytes(), 0o644); err != nil {
			return "", none, err
		}
	}
	dir := filepath.Join(root, "cat")
	c, err := catalog.Open(dir, catalog.Options{})
	if err != nil {
		return "", none, err
	}
	defer c.Close()
	sums, err := c.Ingest(context.Background(), []string{rel}, catalog.IngestOptions{})
	if err != nil {
		return "", none, err
	}
	if n := len(sums[0].Files); n != bigN {
		return "", none, fmt.Errorf("ingested %d files, want %d", n, bigN)
	}
	return dir, sums[0].Batch.ID, nil
}

// BenchmarkBatchPage1000 is the server's answer for a batch of 1,000 photos: open the catalog,
// read the batch (with its "seen before" lookups), render. The page shows PageSize photos;
// "all" renders every photo on one page (thumbnails are separate requests on a server).
func BenchmarkBatchPage1000(b *testing.B) {
	dir, id := bigFixture(b)
	h := Handler(ServerOptions{Dir: dir})
	for _, tc := range []struct{ name, query string }{{"page-of-200", ""}, {"page-5", "?page=5"}} {
		b.Run(tc.name, func(b *testing.B) {
			var size int
			cpu := cpuTime()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/batch/"+id.String()+tc.query, nil))
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
				size = rec.Body.Len()
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
	b.Run("all-1000", func(b *testing.B) {
		c, err := catalog.Open(dir, catalog.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var size int
		cpu := cpuTime()
		for b.Loop() {
			title, v, err := viewBatch(c, id, 0, serverThumbs, serverLinks{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			p, err := newPage(c, title, false, time.Now(), v)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := render(&buf, "batch", p); err != nil {
				b.Fatal(err)
			}
			size = buf.Len()
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(size), "bytes/page")
	})
}

// BenchmarkReport1000 writes the self-contained report of a 1,000-photo batch: every thumbnail read
// from the catalog, checked and embedded.
func BenchmarkReport1000(b *testing.B) {
	dir, id := bigFixture(b)
	c, err := catalog.Open(dir, catalog.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var size int
	cpu := cpuTime()
	for b.Loop() {
		var buf bytes.Buffer
		if err := Report(c, ReportOptions{Batch: &id}, &buf); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(float64(size)/bigN, "bytes/image")
}

// reportCPU reports the process CPU time per operation since start (ms): on a machine shared with
// other work, wall time also counts the waiting.
func reportCPU(b *testing.B, start time.Duration) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

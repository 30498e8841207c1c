package catalog

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/disintegration/imaging"
)

// BenchmarkBundleImport compares importing a bundle of 1,000 photos (1024x768 JPEG) into a new
// catalog with ingesting the same folder into a new catalog. Import verifies every checksum twice
// and writes originals, thumbnails and records, but decodes nothing:
//
//	go test ./catalog/ -run '^$' -bench BenchmarkBundleImport -benchtime 2x
func BenchmarkBundleImport(b *testing.B) {
	const files = 1000
	sources := benchSources(b)
	root := b.TempDir()
	folder := filepath.Join(root, "2020-01-02-bench")
	makeManyPhotos(b, folder, sources, 1024, 768, files)
	paths, total := benchFolder(b, folder)
	bundle := filepath.Join(root, "bench.relcat")
	{
		dir := filepath.Join(root, "src")
		benchIngestOnce(b, dir, folder, len(paths), StatusNew)
		c, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(bundle)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.ExportBundle(context.Background(), f, Selection{}, BundleExportOptions{}); err != nil {
			b.Fatal(err)
		}
		f.Close()
		c.Close()
	}
	fi, _ := os.Stat(bundle)
	report := func(b *testing.B, cpu0 time.Duration, bytes int64) {
		b.SetBytes(bytes)
		imgs := float64(files * b.N)
		b.ReportMetric(imgs/b.Elapsed().Seconds(), "img/s")
		b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/imgs, "cpu-ms/img")
	}
	b.Run("ingest", func(b *testing.B) {
		cpu0 := cpuTime(b)
		n := 0
		for b.Loop() {
			n++
			dir := filepath.Join(b.TempDir(), fmt.Sprintf("cat%d", n))
			benchIngestOnce(b, dir, folder, files, StatusNew)
		}
		report(b, cpu0, total)
	})
	b.Run("import", func(b *testing.B) {
		cpu0 := cpuTime(b)
		n := 0
		for b.Loop() {
			n++
			c, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("cat%d", n)), Options{Version: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			st, err := c.ImportBundle(context.Background(), bundle, BundleImportOptions{})
			if err != nil || st.NewImages != files {
				b.Fatalf("import: %+v %v", st, err)
			}
			c.Close()
		}
		report(b, cpu0, fi.Size())
	})
	b.Run("export", func(b *testing.B) {
		c, err := Open(filepath.Join(root, "src"), Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cpu0 := cpuTime(b)
		for b.Loop() {
			if _, err := c.ExportBundle(context.Background(), discard{}, Selection{}, BundleExportOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, cpu0, fi.Size())
	})
	b.Run("export-csv", func(b *testing.B) {
		c, err := Open(filepath.Join(root, "src"), Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cpu0 := cpuTime(b)
		for b.Loop() {
			ew, err := NewExportWriter(discard{}, ExportWriterOptions{Format: FormatCSV})
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Export(context.Background(), Selection{}, ew.Write); err != nil {
				b.Fatal(err)
			}
			if err := ew.Close(); err != nil || ew.Stats.Images != files {
				b.Fatal(err, ew.Stats)
			}
		}
		report(b, cpu0, 0)
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// makeManyPhotos writes n distinct photos (makeBenchPhotos's crops run out after ten rounds over the
// sources): a crop of a source, an inset of another, and noise of its own.
func makeManyPhotos(b *testing.B, dir string, sources []image.Image, w, h, n int) {
	b.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 0x5eed))
	for i := range n {
		base := sources[i%len(sources)]
		inset := sources[(i*7+3)%len(sources)]
		bb := base.Bounds()
		round := (i / len(sources)) % 6
		cw, ch := bb.Dx()-bb.Dx()*round/10, bb.Dy()-bb.Dy()*round/10
		img := imaging.Fill(imaging.Crop(base, image.Rect(bb.Dx()-cw, 0, bb.Dx(), ch)), w, h, imaging.Center, imaging.Box)
		img = imaging.Paste(img, imaging.Fill(inset, w/3, h/3, imaging.Center, imaging.Box), image.Pt(w/3*(i%3), h/3*(i/3%3)))
		for j := 0; j < len(img.Pix); j += 4 {
			d := int(rng.IntN(9)) - 4
			for k := range 3 {
				img.Pix[j+k] = uint8(max(0, min(255, int(img.Pix[j+k])+d)))
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 88}); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d.jpg", i)), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

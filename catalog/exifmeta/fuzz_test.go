package exifmeta

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/relcat/relcat/internal/hostile"
)

// FuzzRead feeds arbitrary bytes to Read: it must never panic (a recovered
// panic shows up as a warning and fails the target), and the Meta must
// always marshal to JSON with a sane GPS and orientation.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range files {
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() || filepath.Ext(p) == ".md" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 16<<10 { // large seeds make minimisation crawl
			b = b[:16<<10]
		}
		f.Add(b)
	}
	for _, bo := range []order{le, be} {
		tiff := normal(bo)
		f.Add(tiff)
		f.Add(wrapJPEG(tiff))
		f.Add(wrapPNG(tiff))
		f.Add(wrapPNGRawProfile(tiff))
		f.Add(wrapWebP(tiff, true))
		f.Add(wrapHEIF(tiff))
	}
	b := newTIFF(le)
	f.Add(block(le, []ent{{tag: 0x010f, typ: tASCII, count: 1<<31 - 1, rawOff: off32(8)}}, nil,
		gpsEnts(le, "N", []uint32{0, 0, 1, 0}, "E", []uint32{200, 1})))
	f.Add(block(le, []ent{b.ascii(0x010f, "<script>\x1b[31m\a")}, []ent{b.ascii(0x9003, "0000:00:00 00:00:00")}, nil))
	// Issue 12: blocks and containers that cost far more than their size (small versions).
	f.Add(hostile.EXIFCrossCheckBomb(16, 2000))
	f.Add(hostile.PNGWithEXIF(hostile.EXIFCrossCheckBomb(16, 2000)))
	f.Add(hostile.HEIFIlocLoop(50, 65535))
	f.Add(hostile.EXIFRawBloat(300, 300, 0))
	f.Add(hostile.TIFFInflateBomb(400, 400, 8*400*400))
	f.Add(hostile.ProgressiveScans(64, 64, 300))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := Read(data, "")
		mustMarshal(t, m)
	})
}

func BenchmarkRead(b *testing.B) {
	data := readTestdata(b, "HTC Desire.webp")
	jpeg := readTestdata(b, "Kodak_CX7530.jpg")
	b.Run("jpeg", func(b *testing.B) {
		b.SetBytes(int64(len(jpeg)))
		b.ReportAllocs()
		for b.Loop() {
			Read(jpeg, "jpeg")
		}
	})
	b.Run("webp", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			Read(data, "webp")
		}
	})
}

package media

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/relcat/relcat/internal/hostile"
)

// FuzzDecode: Sniff, DecodeConfig and Decode (4 MP limit) never panic, and
// every error wraps one of the package's sentinels.
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, name := range names {
		if filepath.Ext(name) == ".md" {
			continue
		}
		if b, err := os.ReadFile(name); err == nil && len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	for _, b := range bombs() {
		f.Add(b)
	}
	f.Add(ftyp("heic", "mif1"))
	// Issue 12: files that cost far more than their size (small versions).
	f.Add(hostile.TIFFInflateBomb(400, 400, 8*400*400))
	f.Add(hostile.PNGZeros(100000, 1, true, false))
	f.Add(hostile.PNGZeros(64, 64, false, true))
	f.Add(hostile.ProgressiveScans(64, 64, 300))
	f.Add(hostile.HEIFIlocLoop(50, 65535))
	f.Add(hostile.EXIFCrossCheckBomb(16, 2000))
	f.Fuzz(func(t *testing.T, data []byte) {
		format := Sniff(data)
		cfg, err := DecodeConfig(data, format)
		if err == nil && cfg.Format != format {
			t.Fatalf("config format %q, sniffed %q", cfg.Format, format)
		}
		img, _, err := Decode(data, format, 4_000_000)
		if err != nil {
			if img != nil {
				t.Fatal("image returned with an error")
			}
			for _, s := range []error{ErrUnknownFormat, ErrTooManyPixels, ErrTooMuchWork, ErrNoDecoder, ErrDecode} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > 4_000_000 {
			t.Fatalf("decoded %v over the limit", b)
		}
		Shrink(img, 64)
	})
}

package jpeg

import (
	"bytes"
	"context"
	"errors"
	"image"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzDecode compares this decoder's verdict with image/jpeg's on mutated JPEGs: never a
// panic (a recovered one is reported as "internal error" and fails here), never a decode
// over the memory limit, never slow, and the same error/no-error verdict as image/jpeg
// (except that image/jpeg refuses files this decoder may decode: see verdictOK). When both
// decode, scale 1 agrees within one level per sample.
//
//	go test ./catalog/media/jpeg -run '^$' -fuzz FuzzDecode -fuzztime 20m
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 64 << 20
		if os.Getenv("FUZZ_TRACE") != "" {
			os.WriteFile(os.Getenv("FUZZ_TRACE"), data, 0o644)
		}
		start := time.Now()
		ours, d, err := decode(context.Background(), data, Options{MaxMemory: limit})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("panic: %v", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("decode took %v for %d bytes", el, len(data))
		}
		if errors.Is(err, ErrMemory) {
			return // image/jpeg has no limit to compare with
		}
		cfg, cerr := DecodeConfig(data)
		if err == nil && cerr == nil && cfg.Memory(1) > limit {
			t.Fatalf("decoded %dx%d needing %d bytes over the %d limit", cfg.Width, cfg.Height, cfg.Memory(1), limit)
		}
		if c, err := stdjpeg.DecodeConfig(bytes.NewReader(data)); err == nil && c.Width*c.Height > 4<<20 {
			return // image/jpeg would allocate without bound
		}
		std, serr := stdjpeg.Decode(bytes.NewReader(data))
		if !verdictOK(data, err, serr) {
			t.Fatalf("verdicts differ: ours %v, image/jpeg %v", err, serr)
		}
		if err == nil && serr == nil && !d.wild && !d.unscannedProgressive() {
			// (Coefficients beyond what valid data can hold are clamped here and overflow
			// differently in image/jpeg: there the samples are garbage either way.)
			if _, ok := ours.(*image.CMYK); ok {
				return // YCCK conversion amplifies a one-level difference
			}
			if d, derr := maxDiff(ours, std); derr != nil || d > 1 {
				t.Fatalf("both decode but differ: %d %v", d, derr)
			}
		}
		for _, s := range []int{2, 4, 8} {
			fresh, err := Decode(context.Background(), data, Options{Scale: s, MaxMemory: limit})
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("1/%d panic: %v", s, err)
			}
			// Buffers left by earlier inputs (of other sizes, scales and layouts) give the
			// same verdict and the same samples as fresh ones.
			reused, rerr := Decode(context.Background(), data, Options{Scale: s, MaxMemory: limit, Buffers: &fuzzBuffers})
			if (err == nil) != (rerr == nil) {
				t.Fatalf("1/%d: fresh buffers %v, reused %v", s, err, rerr)
			}
			if err == nil {
				want, got := planes(fresh), planes(reused)
				for p := range want {
					if !bytes.Equal(got[p], want[p]) {
						t.Fatalf("1/%d: plane %d differs with reused buffers", s, p)
					}
				}
			}
		}
	})
}

// fuzzBuffers are lent to every reduced decode of FuzzDecode, dirty from the inputs before.
var fuzzBuffers Buffers

// verdictOK says whether two verdicts on data agree. image/jpeg counts restart intervals of
// a progressive non-interleaved scan in groups of H x V luma blocks instead of single
// blocks, so it rejects valid progressive files with restart markers and subsampled luma
// (testdata/prog-2_1-restart.jpg, which libjpeg-turbo decodes): there this decoder may
// succeed where image/jpeg fails.
func verdictOK(data []byte, ours, std error) bool {
	if (ours == nil) == (std == nil) {
		return true
	}
	return ours == nil && goRestartBug(data)
}

func goRestartBug(data []byte) bool {
	d := &decoder{data: data}
	if d.run(true) != nil || !d.progressive || d.ncomp == 1 || (d.comp[0].h == 1 && d.comp[0].v == 1) {
		return false
	}
	return bytes.Contains(data, []byte{0xff, mDRI})
}

// unscannedProgressive says whether a progressive frame has a component that no scan covered:
// image/jpeg leaves that plane at 0, where libjpeg and this decoder decode its coefficients, all
// zero, to mid-grey (128). testdata/fuzz/FuzzDecode/8ff80775229ab993 is such a file.
func (d *decoder) unscannedProgressive() bool {
	if !d.progressive {
		return false
	}
	for i := 0; i < d.ncomp; i++ {
		if !d.comp[i].scanned {
			return true
		}
	}
	return false
}

package exifmeta

import (
	"runtime"
	"strings"
	"testing"

	"github.com/relcat/relcat/internal/hostile"
)

// Issue 12, items 3, 4 and 7: EXIF blocks and containers that cost a parser far more than their
// size, generated here in small versions.

func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestCrossCheckBomb: 64 BYTE entries of 200,000 values sharing one offset (200 KB) are read in
// bounded memory, in a TIFF file and in a PNG eXIf chunk: goexif, which expands every value to an
// int64 (100 MB here), only sees a block rebuilt from the validated Make, Model and GPS entries.
func TestCrossCheckBomb(t *testing.T) {
	block := hostile.EXIFCrossCheckBomb(64, 200_000)
	for name, data := range map[string][]byte{"tiff": block, "png": hostile.PNGWithEXIF(block)} {
		var m Meta
		n := allocated(func() { m = Read(data, name) })
		mustMarshal(t, m)
		if !m.Found || n > 8<<20 {
			t.Errorf("%s: found %v, %d bytes allocated for a %d-byte file", name, m.Found, n, len(data))
		}
		t.Logf("%s: %d bytes allocated for a %d-byte file", name, n, len(data))
	}
}

// TestCrossCheckStillRuns: the rebuilt block carries the file's own bytes, so goexif still
// reads what the file says (here the same as the walker: no warning), in both byte orders.
func TestCrossCheckStillRuns(t *testing.T) {
	for _, bo := range []order{le, be} {
		m := Read(normal(bo), "")
		if !m.Found || m.Make == "" || m.GPS == nil {
			t.Fatalf("normal block: %+v", m)
		}
		for _, w := range m.Warnings {
			if strings.Contains(w, "goexif") {
				t.Errorf("goexif disagrees on a normal block: %s", w)
			}
		}
		r := &reader{m: &m}
		w, _ := walkTIFF(normal(bo), r.warn)
		r.w = w
		if b := r.crossCheckBlock(); len(b) == 0 || len(b) > 3*MaxRawValue {
			t.Errorf("rebuilt block of %d bytes", len(b))
		}
	}
}

// TestHEIFIlocLoop: an iloc box of 5,000 items with 65,535 zero-byte extents each (40 KB) is
// refused at the first such item instead of walking 327 million extents.
func TestHEIFIlocLoop(t *testing.T) {
	var m Meta
	n := allocated(func() { m = Read(hostile.HEIFIlocLoop(5000, 65535), "heic") })
	if !hasWarning(m, "extents of zero bytes") || n > 1<<20 {
		t.Errorf("warnings %q, %d bytes allocated", m.Warnings, n)
	}
	// Extents that do not fit the box are a lie too.
	data := hostile.HEIFIlocLoop(1, 10)
	i := strings.Index(string(data), "iloc") + 4
	data[i+4] = 0x44 // offset and length fields of 4 bytes: 10 extents need 80 bytes, the box has none
	if m := Read(data, "heic"); !hasWarning(m, "more than the box holds") {
		t.Errorf("warnings %q", m.Warnings)
	}
}

// TestRawEXIFCap: 4,096 ASCII entries sharing one 4 KB value (a 4 MB file with padding) keep at most
// MaxRaw bytes of raw EXIF: the first rendering of the value, references for its aliases, and a
// warning counting what was left out.
func TestRawEXIFCap(t *testing.T) {
	m := Read(hostile.EXIFRawBloat(4096, 4096, 4<<20), "tiff")
	total := 0
	for k, v := range m.Raw {
		total += len(k) + len(v)
	}
	if total > MaxRaw || !hasWarning(m, "raw EXIF kept per image is capped") {
		t.Errorf("raw EXIF of %d bytes in %d keys (cap %d), warnings %q", total, len(m.Raw), MaxRaw, m.Warnings)
	}
	if v := m.Raw["IFD0.0x4001"]; v != "(same value as IFD0.0x4000)" {
		t.Errorf("alias kept as %.60q", v)
	}
	t.Logf("%d keys, %d bytes", len(m.Raw), total)
}

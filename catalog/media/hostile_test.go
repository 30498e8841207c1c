package media

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relcat/relcat/internal/hostile"
)

// Issue 12, items 1, 2, 5 and 8: files that cost a decoder far more than their size, generated here
// in small versions (the full-size ones are measured in the README).

// TestTIFFInflateBomb: a single-strip TIFF whose deflate strip inflates to 8 bytes a pixel (the most
// x/image/tiff buffers) is refused before decoding, without allocating the strip; an honest
// single-strip TIFF decodes, within DecodeMemory's estimate.
func TestTIFFInflateBomb(t *testing.T) {
	bomb := hostile.TIFFInflateBomb(1200, 1200, 8*1200*1200)
	var err error
	allocated := allocatedBy(func() { _, _, err = Decode(bomb, TIFF, 0) })
	if !errors.Is(err, ErrTooMuchWork) {
		t.Fatalf("bomb of %d bytes: err %v, want ErrTooMuchWork", len(bomb), err)
	}
	if allocated > 2<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", allocated)
	}
	t.Logf("%d-byte bomb refused: %v (%d bytes allocated)", len(bomb), err, allocated)

	honest := hostile.TIFFInflateBomb(1200, 1200, 1200*1200)
	est := DecodeMemory(honest, TIFF)
	allocated = allocatedBy(func() {
		if _, _, err := Decode(honest, TIFF, 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("honest single strip: estimate %d bytes, allocated %d bytes", est, allocated)
	// Allocated counts every buffer the decode made (growth included), so it is above the peak.
	if !raceEnabled && est < allocated {
		t.Errorf("estimate %d is well under the %d bytes the decode allocated", est, allocated)
	}
}

// TestExtremeAspectRatio: a 100000x1 image is refused from its header (the downscale's tables grow
// with the long side); 1024x1 still decodes.
func TestExtremeAspectRatio(t *testing.T) {
	wide := hostile.PNGZeros(100000, 1, true, false)
	var err error
	allocated := allocatedBy(func() { _, _, err = Decode(wide, PNG, 0) })
	if !errors.Is(err, ErrTooMuchWork) || allocated > 1<<20 {
		t.Errorf("100000x1: err %v, %d bytes allocated; want ErrTooMuchWork, nothing decoded", err, allocated)
	}
	for _, d := range [][2]uint32{{1024, 1}, {1, 1024}} {
		img, _, err := Decode(hostile.PNGZeros(d[0], d[1], true, false), PNG, 0)
		if err != nil {
			t.Fatalf("%dx%d: %v", d[0], d[1], err)
		}
		Shrink(img, 256)
	}
}

// TestProgressiveScanWork: a progressive JPEG of thousands of tiny scans is refused before decoding;
// one with a few dozen decodes, and so do the real progressive files of the jpeg package's testdata.
func TestProgressiveScanWork(t *testing.T) {
	_, _, err := Decode(hostile.ProgressiveScans(256, 256, 3000), JPEG, 0)
	if !errors.Is(err, ErrTooMuchWork) {
		t.Fatalf("3000 scans: err %v, want ErrTooMuchWork", err)
	}
	t.Log(err)
	if _, _, err := Decode(hostile.ProgressiveScans(256, 256, 12), JPEG, 0); err != nil {
		t.Errorf("12 scans: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join("jpeg", "testdata", "*.jpg"))
	if len(files) == 0 {
		t.Fatal("no JPEG testdata")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := DecodeConfig(data, JPEG)
		if err != nil {
			continue // arithmetic coding: not for Go's decoder
		}
		units, err := scanWork(data, cfg.Width, cfg.Height)
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if units > 0 {
			t.Logf("%s: %d units per block", filepath.Base(p), units)
		}
	}
}

// TestDecodeInterrupted: every decoder reads through the context; a cancelled context stops a long
// decode part-way, with an error wrapping context.Canceled.
func TestDecodeInterrupted(t *testing.T) {
	honestTIFF := hostile.TIFFInflateBomb(600, 600, 600*600)
	for name, data := range map[string][]byte{
		"jpeg": hostile.JPEG(640, 480, 1), "png": hostile.PNG(640, 480, 2), "tiff": honestTIFF,
		"progressive": hostile.ProgressiveJPEG(640, 480),
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := DecodeContext(ctx, data, Sniff(data), 0); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled context: err %v", name, err)
		}
	}
	// A decode that takes a while (12 scans over 2048x2048): cancelled 10 ms in, it must stop well
	// before it would have finished.
	data := hostile.ProgressiveScans(2048, 2048, 12)
	start := time.Now()
	if _, _, err := Decode(data, JPEG, 0); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	start = time.Now()
	_, _, err := DecodeContext(ctx, data, JPEG, 0)
	stopped := time.Since(start)
	t.Logf("full decode %v, cancelled after 10ms: stopped after %v (%v)", full, stopped, err)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if full > 100*time.Millisecond && stopped > full/2 {
		t.Errorf("cancelled decode ran %v of the full %v", stopped, full)
	}
}

// TestDecodeMemoryInterlacedPNG: an interlaced PNG is decoded pass by pass into images of its own;
// the estimate counts them.
func TestDecodeMemoryInterlacedPNG(t *testing.T) {
	data := hostile.PNGZeros(1000, 1000, false, true)
	est := DecodeMemory(data, PNG)
	allocated := allocatedBy(func() {
		if _, _, err := Decode(data, PNG, 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("interlaced 1000x1000 RGBA: estimate %d bytes, allocated %d bytes", est, allocated)
	if !raceEnabled && est < allocated*9/10 {
		t.Errorf("estimate %d is well under the %d bytes the decode allocated", est, allocated)
	}
}

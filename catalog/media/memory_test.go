package media

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDecodeMemory(t *testing.T) {
	// A baseline 4:2:0 JPEG: about 1.5 bytes per pixel.
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	got := DecodeMemory(buf.Bytes(), JPEG)
	if px := int64(640 * 480); got < px*3/2 || got > px*2+64<<10 {
		t.Errorf("baseline 4:2:0 640x480: %d bytes, want about %d", got, px*3/2)
	}
	// The same frame header marked progressive (SOF2) adds the coefficients: about 6 bytes per pixel.
	prog := bytes.Replace(buf.Bytes(), []byte{0xff, 0xc0}, []byte{0xff, 0xc2}, 1)
	gotP := DecodeMemory(prog, JPEG)
	if px := int64(640 * 480); gotP < px*6 || gotP > px*9 {
		t.Errorf("progressive 4:2:0 640x480: %d bytes, want about %d", gotP, px*15/2)
	}
	// A PNG: 4 bytes per pixel for RGBA.
	var pb bytes.Buffer
	if err := png.Encode(&pb, image.NewNRGBA(image.Rect(0, 0, 100, 50))); err != nil {
		t.Fatal(err)
	}
	if got := DecodeMemory(pb.Bytes(), PNG); got < 100*50*4 || got > 100*50*5+64<<10 {
		t.Errorf("NRGBA PNG 100x50: %d bytes, want about %d", got, 100*50*4)
	}
	// Garbage and truncated headers estimate nothing, and never panic.
	for _, d := range [][]byte{nil, []byte("hello"), buf.Bytes()[:20], prog[:300]} {
		_ = DecodeMemory(d, JPEG)
	}
	if DecodeMemory([]byte("not an image"), Unknown) != 0 {
		t.Error("garbage: want 0")
	}
}

// allocatedBy reports the bytes fn allocates.
func allocatedBy(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// TestDecodeMemoryMeasured checks the estimate against what Go's decoder really allocates for a
// progressive JPEG, the expensive case.
func TestDecodeMemoryMeasured(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 1024, 768), image.YCbCrSubsampleRatio444)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	// Go's encoder writes 4:2:0 baseline; the estimate must cover the real allocation of a decode.
	est := DecodeMemory(buf.Bytes(), JPEG)
	allocated := allocatedBy(func() {
		if _, _, err := Decode(buf.Bytes(), JPEG, 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("baseline: estimate %d bytes, allocated %d bytes", est, allocated)
	if est < allocated*8/10 {
		t.Errorf("baseline: estimate %d is well under the %d bytes the decode allocated", est, allocated)
	}
	// A real progressive JPEG (Issue 614.jpg, 100x100, from the corpus).
	data, err := os.ReadFile(filepath.Join("testdata", "Issue 614.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	est = DecodeMemory(data, JPEG)
	allocated = allocatedBy(func() { _, _, _ = Decode(data, JPEG, 0) })
	t.Logf("progressive: estimate %d bytes, allocated %d bytes", est, allocated)
	if est < allocated*7/10 {
		t.Errorf("progressive: estimate %d is well under the %d bytes the decode allocated", est, allocated)
	}
}

// TestDecodeMemoryScaledMeasured: for a progressive JPEG decoded by DecodeScaled at every scale, the
// estimate covers what the decode allocates (the compact coefficient layout included), and a decode
// lent warm Buffers allocates less than the coefficients' share.
func TestDecodeMemoryScaledMeasured(t *testing.T) {
	for _, name := range []string{"prog-2_2.jpg", "prog-2_1.jpg", "prog-1_1.jpg"} {
		data, err := os.ReadFile(filepath.Join("jpeg", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []int{1, 2, 4, 8} {
			est := DecodeMemoryScaled(data, JPEG, s)
			allocated := allocatedBy(func() {
				if _, _, err := DecodeScaled(context.Background(), data, JPEG, 0, s); err != nil {
					t.Fatal(err)
				}
			})
			var bufs Buffers
			if _, _, err := DecodeScaledWith(context.Background(), data, JPEG, 0, s, &bufs); err != nil {
				t.Fatal(err)
			}
			warm := allocatedBy(func() {
				if _, _, err := DecodeScaledWith(context.Background(), data, JPEG, 0, s, &bufs); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s at 1/%d: estimate %d bytes, allocated %d, with warm buffers %d (buffers %d)", name, s, est, allocated, warm, bufs.Size())
			if est < allocated {
				t.Errorf("%s at 1/%d: estimate %d is under the %d bytes the decode allocated", name, s, est, allocated)
			}
			if bufs.Size() == 0 || warm > allocated-bufs.Size()/2 {
				t.Errorf("%s at 1/%d: warm buffers (%d bytes) saved too little: %d allocated, %d without", name, s, bufs.Size(), warm, allocated)
			}
		}
	}
}

package media

import (
	"image"
	"math/rand/v2"
	"testing"
)

// BenchmarkShrinkReduced1600: the work image (1024x768) from a 1600x1200 4:2:0 photo decoded at
// 1/2 (800x600), as ingest makes it.
func BenchmarkShrinkReduced1600(b *testing.B) {
	m := image.NewYCbCr(image.Rect(0, 0, 800, 600), image.YCbCrSubsampleRatio420)
	// Photo-like planes: smooth gradients plus a little noise (random chroma would make most
	// pixels out of gamut, which photos are not).
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range 600 {
		for x := range 800 {
			m.Y[y*m.YStride+x] = uint8((x*255/800+y*255/600)/2 + rng.IntN(9))
		}
	}
	for i := range m.Cb {
		m.Cb[i] = uint8(112 + i%23 + rng.IntN(5))
		m.Cr[i] = uint8(120 + i%17 + rng.IntN(5))
	}
	c0 := processCPU()
	for b.Loop() {
		ShrinkReduced(m, 1600, 1200, 2, 1024)
	}
	b.ReportMetric(float64(processCPU()-c0)/1e6/float64(b.N), "cpu-ms/op")
}

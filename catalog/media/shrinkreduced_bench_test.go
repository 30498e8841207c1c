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
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	for b.Loop() {
		ShrinkReduced(m, 1600, 1200, 2, 1024)
	}
}

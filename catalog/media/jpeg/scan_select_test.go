package jpeg

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestSelectBit compares selectBit with clearing the lowest set bits one at a time.
func TestSelectBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := []uint64{1, 1 << 63, ^uint64(0), 0x8000000000000001, 0xff00}
	for range 20000 {
		xs = append(xs, rng.Uint64()&rng.Uint64()|1<<rng.IntN(64))
	}
	for _, x := range xs {
		z := x
		for n := range uint(bits.OnesCount64(x)) {
			if got, want := selectBit(x, n), bits.TrailingZeros64(z); got != want {
				t.Fatalf("selectBit(%#x, %d) = %d, want %d", x, n, got, want)
			}
			z &= z - 1
		}
	}
}

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

// TestCorrectManyBits: correct applies a run of correction bits longer than one refill of the bit
// buffer holds (63 non-zero coefficients, with 0 to 40 bits buffered), as reading the stream one
// bit at a time would.
func TestCorrectManyBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 64)
	for i := range data {
		data[i] = byte(rng.IntN(255)) // no 0xFF: no stuffing, no marker
	}
	bit := func(i int) bool { return data[i/8]>>(7-i%8)&1 == 1 }
	slot := &acLayouts[8].slot
	for _, skip := range []int{0, 7, 16, 23, 40} {
		var b, want [64]int16
		for k := 1; k < 64; k++ {
			v := int16(1 + rng.IntN(100))
			if rng.IntN(2) == 0 {
				v = -v
			}
			b[slot[k]] = v
			want[slot[k]] = v
			if bit(skip + k - 1) {
				if v > 0 {
					want[slot[k]] += 4
				} else {
					want[slot[k]] -= 4
				}
			}
		}
		r := &bitReader{data: data}
		r.reset(0)
		r.fill()
		acc, nbits := r.acc<<skip, r.nbits-uint(skip) // skip bits consumed
		m := ^uint64(0) &^ 1
		acc, nbits = r.correct(&b, slot, m, 4, acc, nbits)
		if b != want {
			t.Fatalf("skip %d: corrected %v, want %v", skip, b, want)
		}
		// The next bit is the one after the 63 used.
		if nbits == 0 {
			r.acc, r.nbits = acc, nbits
			r.fill()
			acc = r.acc
		}
		if got := int64(acc) < 0; got != bit(skip+63) {
			t.Fatalf("skip %d: next bit %v, want %v", skip, got, bit(skip+63))
		}
	}
}

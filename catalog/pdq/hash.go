package pdq

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// Hash is a 256-bit PDQ hash. Its text form is the lowercase hex of the 32 bytes in order: byte 0
// holds row 15 of the 16x16 DCT block, columns 15..8; byte 31 holds row 0, columns 7..0. Seen as a
// big-endian 256-bit number, bit 16*i+j is set when DCT coefficient [i][j] lies above the median.
type Hash [32]byte

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("pdq: hash must be exactly 64 lowercase hex digits")

// ErrTooSmall is returned for images with fewer than 5 pixels on a side, which PDQ cannot hash
// (the reference would give an all-zero hash with quality 0).
var ErrTooSmall = errors.New("pdq: image smaller than 5 px on a side")

// VariantFull names hashes computed at the stored pixel resolution, the reference behaviour.
const VariantFull = "pdq-full"

// VariantName names the way a hash was computed: "pdq-full" when maxSide is 0 (or negative),
// otherwise "pdq-area<maxSide>" for hashes of an image area-averaged so that its longest side is at
// most maxSide pixels. Store it with every hash: hashes of different variants differ by a few bits.
func VariantName(maxSide int) string {
	if maxSide <= 0 {
		return VariantFull
	}
	return fmt.Sprintf("pdq-area%d", maxSide)
}

// Parse reads the text form of a hash: exactly 64 lowercase hex digits, nothing else.
func Parse(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("%w: got %d characters", ErrSyntax, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return h, fmt.Errorf("%w: invalid character %q at offset %d", ErrSyntax, c, i)
		}
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return h, nil
}

// String returns the 64-character lowercase hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler with the String form.
func (h Hash) MarshalText() ([]byte, error) {
	b := make([]byte, 64)
	hex.Encode(b, h[:])
	return b, nil
}

// UnmarshalText implements encoding.TextUnmarshaler with the rules of Parse.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Distance is the Hamming distance between two hashes, 0..256. PDQ's published match threshold is
// a distance of at most 31 between hashes of quality 50 or more.
func Distance(a, b Hash) int {
	n := 0
	for i := 0; i < 32; i += 8 {
		x := uint64(a[i])<<56 | uint64(a[i+1])<<48 | uint64(a[i+2])<<40 | uint64(a[i+3])<<32 |
			uint64(a[i+4])<<24 | uint64(a[i+5])<<16 | uint64(a[i+6])<<8 | uint64(a[i+7])
		y := uint64(b[i])<<56 | uint64(b[i+1])<<48 | uint64(b[i+2])<<40 | uint64(b[i+3])<<32 |
			uint64(b[i+4])<<24 | uint64(b[i+5])<<16 | uint64(b[i+6])<<8 | uint64(b[i+7])
		n += bits.OnesCount64(x ^ y)
	}
	return n
}

// bit reports bit k (k = 16*row + column of the DCT block).
func (h *Hash) bit(k int) bool { return h[31-k/8]>>(k%8)&1 == 1 }

// setBit sets bit k (k = 16*row + column of the DCT block).
func (h *Hash) setBit(k int) { h[31-k/8] |= 1 << (k % 8) }

package jpeg

import "math"

// The inverse DCT at output size n x n (n = 8, 4, 2 or 1) from one 8x8 block of dequantized
// coefficients. For n < 8 every output sample is the exact mean of the s x s full-resolution
// samples it replaces (s = 8/n), before rounding: averaging is linear, so the mean of the
// inverse-DCT outputs over a window is the coefficients times the averaged cosine basis. The
// 1-D matrices below hold those averaged basis functions,
//
//	a[n][m][k] = 1/s * sum_{j<s} 1/2 * C(k) * cos((2*(s*m+j)+1)*k*pi/16),  C(0) = 1/sqrt(2),
//
// and the 2-D transform is a[n] * F * a[n]^T, computed separably (columns, then rows) in fixed
// point, exploiting the symmetry a[n][n-1-m][k] = (-1)^k a[n][m][k] and skipping rows and
// columns of the block that hold only zeros.

const (
	constBits = 13
	pass1Bits = 2
)

// basis[n] holds a[n][m][k] for m < n/2 (n >= 2), scaled by 2^constBits.
var basis = map[int][][8]int32{}

// zzRow and zzCol are the largest row and column index among the first k+1 coefficients in
// zig-zag order: a block whose last non-zero coefficient is at zig-zag index k has only zeros
// past them.
var zzRow, zzCol [64]uint8

func init() {
	for _, n := range []int{8, 4, 2} {
		s := 8 / n
		rows := make([][8]int32, n/2)
		for m := range n / 2 {
			for k := range 8 {
				c := 1.0
				if k == 0 {
					c = 1 / math.Sqrt2
				}
				sum := 0.0
				for j := range s {
					sum += 0.5 * c * math.Cos(float64(2*(s*m+j)+1)*float64(k)*math.Pi/16)
				}
				rows[m][k] = int32(math.Round(sum / float64(s) * (1 << constBits)))
			}
		}
		basis[n] = rows
	}
	var r, c uint8
	for k := range 64 {
		r = max(r, unzig[k]/8)
		c = max(c, unzig[k]%8)
		zzRow[k], zzCol[k] = r, c
	}
}

// unzig maps a zig-zag index to the natural (row-major) index of the 8x8 block.
var unzig = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

func clamp8(v int32) uint8 {
	if uint32(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// idct writes the n x n output of block (natural order, dequantized) to dst with the given
// stride. last is the zig-zag index of the last coefficient that may be non-zero.
func idct(blk *[64]int32, last int, n int, dst []uint8, stride int) {
	if last <= 0 || n == 1 {
		// Only the DC term: every output (and every mean of outputs) is DC/8.
		v := clamp8((blk[0]+4)>>3 + 128)
		for y := range n {
			row := dst[y*stride : y*stride+n]
			for x := range row {
				row[x] = v
			}
		}
		return
	}
	a := basis[n]
	maxV, maxU := int(zzRow[last]), int(zzCol[last])
	h := n / 2
	// Pass 1: columns u <= maxU, 8 coefficients -> n values, kept with pass1Bits extra bits.
	var t [8 * 8]int32 // t[m*8+u]
	const r1 = 1 << (constBits - pass1Bits - 1)
	for u := 0; u <= maxU; u++ {
		for m := range h {
			am := &a[m]
			var even, odd int32
			for v := 0; v <= maxV; v += 2 {
				even += am[v] * blk[v*8+u]
			}
			for v := 1; v <= maxV; v += 2 {
				odd += am[v] * blk[v*8+u]
			}
			t[m*8+u] = (even + odd + r1) >> (constBits - pass1Bits)
			t[(n-1-m)*8+u] = (even - odd + r1) >> (constBits - pass1Bits)
		}
	}
	// Pass 2: rows, n values each -> n samples.
	const sh = constBits + pass1Bits
	const r2 = 1<<(sh-1) + 128<<sh // rounding and the +128 level shift
	for m := range n {
		tr := t[m*8 : m*8+8]
		row := dst[m*stride : m*stride+n]
		for x := range h {
			ax := &a[x]
			var even, odd int32
			for u := 0; u <= maxU; u += 2 {
				even += ax[u] * tr[u]
			}
			for u := 1; u <= maxU; u += 2 {
				odd += ax[u] * tr[u]
			}
			row[x] = clamp8((even + odd + r2) >> sh)
			row[n-1-x] = clamp8((even - odd + r2) >> sh)
		}
	}
}

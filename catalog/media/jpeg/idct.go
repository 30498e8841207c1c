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

// basis[n] holds a[n][m][k] for m < n/2 (n = 2, 4, 8), scaled by 2^constBits.
var basis [9][4][8]int32

// zzRow and zzCol are the largest row and column index among the first k+1 coefficients in
// zig-zag order: a block whose last non-zero coefficient is at zig-zag index k has only zeros
// past them.
var zzRow, zzCol [64]uint8

func init() {
	for _, n := range []int{8, 4, 2} {
		s := 8 / n
		rows := &basis[n]
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
	}
	for k := 1; k < 64; k++ {
		row, col := int(unzig[k]/8), int(unzig[k]%8)
		if row != 0 && row&1 == 0 || col != 0 && col&1 == 0 {
			continue // averages to zero over a 4-sample window: not read at 1/4
		}
		sparseWeight[k] = basis[2][0][row]
		sparseSum[k] = uint8(col)
		if row != 0 {
			sparseSum[k] += 8
		}
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
	switch n {
	case 8:
		idct8(blk, int(zzCol[last]), dst, stride)
	case 4:
		idct4(blk, int(zzCol[last]), dst, stride)
	case 2:
		idct2(blk, dst, stride)
	}
}

const (
	r1 = 1 << (constBits - pass1Bits - 1) // rounding of pass 1
	s1 = constBits - pass1Bits
	s2 = constBits + pass1Bits
	r2 = 1<<(s2-1) + 128<<s2 // rounding and the +128 level shift of pass 2
)

// idct8 is the full-size transform: per column and then per row, the even coefficients
// give e[m] and the odd ones o[m], and outputs m and 7-m are e[m]+o[m] and e[m]-o[m].
// Columns past maxU are all zero; a column (or row) with only its first term is constant.
func idct8(blk *[64]int32, maxU int, dst []uint8, stride int) {
	a := basis[8]
	a0, a1, a2, a3 := &a[0], &a[1], &a[2], &a[3]
	var t [64]int32
	for u := 0; u <= maxU; u++ {
		c := blk[u : u+57 : u+57]
		f0, f1, f2, f3, f4, f5, f6, f7 := c[0], c[8], c[16], c[24], c[32], c[40], c[48], c[56]
		if f1|f2|f3|f4|f5|f6|f7 == 0 {
			v := (a0[0]*f0 + r1) >> s1
			for m := range 8 {
				t[m*8+u] = v
			}
			continue
		}
		e0 := a0[0]*f0 + a0[2]*f2 + a0[4]*f4 + a0[6]*f6
		e1 := a1[0]*f0 + a1[2]*f2 + a1[4]*f4 + a1[6]*f6
		e2 := a2[0]*f0 + a2[2]*f2 + a2[4]*f4 + a2[6]*f6
		e3 := a3[0]*f0 + a3[2]*f2 + a3[4]*f4 + a3[6]*f6
		o0 := a0[1]*f1 + a0[3]*f3 + a0[5]*f5 + a0[7]*f7
		o1 := a1[1]*f1 + a1[3]*f3 + a1[5]*f5 + a1[7]*f7
		o2 := a2[1]*f1 + a2[3]*f3 + a2[5]*f5 + a2[7]*f7
		o3 := a3[1]*f1 + a3[3]*f3 + a3[5]*f5 + a3[7]*f7
		t[0*8+u] = (e0 + o0 + r1) >> s1
		t[7*8+u] = (e0 - o0 + r1) >> s1
		t[1*8+u] = (e1 + o1 + r1) >> s1
		t[6*8+u] = (e1 - o1 + r1) >> s1
		t[2*8+u] = (e2 + o2 + r1) >> s1
		t[5*8+u] = (e2 - o2 + r1) >> s1
		t[3*8+u] = (e3 + o3 + r1) >> s1
		t[4*8+u] = (e3 - o3 + r1) >> s1
	}
	for m := range 8 {
		r := t[m*8 : m*8+8 : m*8+8]
		row := dst[m*stride : m*stride+8 : m*stride+8]
		f0, f1, f2, f3, f4, f5, f6, f7 := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
		if f1|f2|f3|f4|f5|f6|f7 == 0 {
			v := clamp8((a0[0]*f0 + r2) >> s2)
			row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] = v, v, v, v, v, v, v, v
			continue
		}
		e0 := a0[0]*f0 + a0[2]*f2 + a0[4]*f4 + a0[6]*f6 + r2
		e1 := a1[0]*f0 + a1[2]*f2 + a1[4]*f4 + a1[6]*f6 + r2
		e2 := a2[0]*f0 + a2[2]*f2 + a2[4]*f4 + a2[6]*f6 + r2
		e3 := a3[0]*f0 + a3[2]*f2 + a3[4]*f4 + a3[6]*f6 + r2
		o0 := a0[1]*f1 + a0[3]*f3 + a0[5]*f5 + a0[7]*f7
		o1 := a1[1]*f1 + a1[3]*f3 + a1[5]*f5 + a1[7]*f7
		o2 := a2[1]*f1 + a2[3]*f3 + a2[5]*f5 + a2[7]*f7
		o3 := a3[1]*f1 + a3[3]*f3 + a3[5]*f5 + a3[7]*f7
		row[0] = clamp8((e0 + o0) >> s2)
		row[7] = clamp8((e0 - o0) >> s2)
		row[1] = clamp8((e1 + o1) >> s2)
		row[6] = clamp8((e1 - o1) >> s2)
		row[2] = clamp8((e2 + o2) >> s2)
		row[5] = clamp8((e2 - o2) >> s2)
		row[3] = clamp8((e3 + o3) >> s2)
		row[4] = clamp8((e3 - o3) >> s2)
	}
}

// idct4 gives the 2x2 window means (scale 1/2). Coefficient 4 averages to zero over every
// window of two samples, so it is left out.
func idct4(blk *[64]int32, maxU int, dst []uint8, stride int) {
	a := basis[4]
	a0, a1 := &a[0], &a[1]
	var t [32]int32
	for u := 0; u <= maxU; u++ {
		c := blk[u : u+57 : u+57]
		f0, f1, f2, f3, f5, f6, f7 := c[0], c[8], c[16], c[24], c[40], c[48], c[56]
		if f1|f2|f3|f5|f6|f7 == 0 {
			v := (a0[0]*f0 + r1) >> s1
			t[u], t[8+u], t[16+u], t[24+u] = v, v, v, v
			continue
		}
		e0 := a0[0]*f0 + a0[2]*f2 + a0[6]*f6
		e1 := a1[0]*f0 + a1[2]*f2 + a1[6]*f6
		o0 := a0[1]*f1 + a0[3]*f3 + a0[5]*f5 + a0[7]*f7
		o1 := a1[1]*f1 + a1[3]*f3 + a1[5]*f5 + a1[7]*f7
		t[u] = (e0 + o0 + r1) >> s1
		t[24+u] = (e0 - o0 + r1) >> s1
		t[8+u] = (e1 + o1 + r1) >> s1
		t[16+u] = (e1 - o1 + r1) >> s1
	}
	for m := range 4 {
		r := t[m*8 : m*8+8 : m*8+8]
		row := dst[m*stride : m*stride+4 : m*stride+4]
		f0, f1, f2, f3, f5, f6, f7 := r[0], r[1], r[2], r[3], r[5], r[6], r[7]
		e0 := a0[0]*f0 + a0[2]*f2 + a0[6]*f6 + r2
		e1 := a1[0]*f0 + a1[2]*f2 + a1[6]*f6 + r2
		o0 := a0[1]*f1 + a0[3]*f3 + a0[5]*f5 + a0[7]*f7
		o1 := a1[1]*f1 + a1[3]*f3 + a1[5]*f5 + a1[7]*f7
		row[0] = clamp8((e0 + o0) >> s2)
		row[3] = clamp8((e0 - o0) >> s2)
		row[1] = clamp8((e1 + o1) >> s2)
		row[2] = clamp8((e1 - o1) >> s2)
	}
}

// idct2 gives the 4x4 window means (scale 1/4). Over a window of four samples the even
// coefficients other than 0 average to zero, so only 0, 1, 3, 5 and 7 count, per axis.
func idct2(blk *[64]int32, dst []uint8, stride int) {
	a := &basis[2][0]
	k0, k1, k3, k5, k7 := a[0], a[1], a[3], a[5], a[7]
	var t [2][8]int32
	for _, u := range [5]int{0, 1, 3, 5, 7} {
		c := blk[u : u+57 : u+57]
		e := k0 * c[0]
		o := k1*c[8] + k3*c[24] + k5*c[40] + k7*c[56]
		t[0][u] = (e + o + r1) >> s1
		t[1][u] = (e - o + r1) >> s1
	}
	for m := range 2 {
		r := &t[m]
		e := k0*r[0] + r2
		o := k1*r[1] + k3*r[3] + k5*r[5] + k7*r[7]
		dst[m*stride] = clamp8((e + o) >> s2)
		dst[m*stride+1] = clamp8((e - o) >> s2)
	}
}

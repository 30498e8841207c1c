package pdq

import "sync"

// The reference's blur and decimation, computed row by row.
//
// The reference blurs two full-size float buffers with two iterations of (horizontal box pass,
// vertical box pass) and then point-samples 64x64 of the result. For the same bits, every value
// the sampled cells depend on must go through the same float32 operations in the same order: the
// running sums of every pass see every pixel. But none of it needs a full-size buffer:
//
//   - luma rows are made on demand (a batch of four at a time) from the image;
//   - the first horizontal pass (H1) runs over a batch of four rows at once (four independent
//     running sums, so the additions of one row do not wait for each other);
//   - the first vertical pass (V1) keeps one running sum per column and the last wV rows of H1
//     output in a ring (the rows leaving the window): each arriving H1 row updates the sums and
//     yields one V1 output row;
//   - the second horizontal pass (H2) runs its running sums over each V1 output row but divides
//     only at the 64 sampled columns, into a rows x 64 buffer;
//   - the second vertical pass (V2) runs over those 64 columns, and 64 of its rows are kept.
//
// Memory is (wV + 12) rows of the image width plus rows x 64 x 2 float32, about 2 MB for a 12 MP
// photo instead of the 96 MB of two full-size buffers.
//
// The full-size passes (H1 and V1) divide each running sum by the window size. They multiply by
// its reciprocal in float64 and round to float32 instead: for an integer divisor c and a float32
// x, float32(float64(x) * (1/float64(c))) is exactly the float32 quotient x/c. The float64 product
// is within 2^-52 (relative) of x/c, and x/c is never closer than 2^-26/c (relative) to a float32
// rounding boundary (a midpoint between two float32 values): x/c = m exactly would need the odd
// part of x's 24-bit significand to be a multiple of m's odd 25-bit significand, and otherwise
// |x - c*m| is at least one unit of the coarser of the two grids. So for c below 2^20 both round
// to the same float32 when x is zero or normal, which every sum of luminance values is
// (TestReciprocalDivision checks it over random values and every divisor up to 2048). A float32
// division costs several times a multiplication.

// batch is the number of rows run together through the horizontal passes.
const batch = 4

// blurStream holds the state of one streamed blur.
type blurStream struct {
	rows, cols int
	wH, wV, hV int
	colIdx     []int // the columns the second horizontal pass outputs (ascending, repeats allowed)
	n          int   // len(colIdx)
	own        [gridSize]int

	lum  [batch][]float32 // luma rows of the current batch
	h1   [batch][]float32 // H1 output of the current batch (swapped into the ring by V1)
	ring [][]float32      // H1 output row r is ring[r%wV] until row r+wV arrives
	vsum []float32        // V1 running sums, one per column
	in   int              // H1 rows received by V1
	pend [batch][]float32 // V1 output rows waiting for H2
	npen int
	out  int       // V1 output rows passed through H2
	c, d []float32 // H2 output at the sampled columns (rows x n), and V2's output
}

var streamPool sync.Pool

// StreamMemory is about the bytes a full-resolution hash of a w x h image allocates (the reference
// path keeps no full-size buffer; see the package documentation).
func StreamMemory(w, h int) int64 {
	if w <= 0 || h <= 0 {
		return 0
	}
	return int64(windowSize(h)+4*batch+2)*int64(w)*4 + int64(h)*gridSize*4*2 + 64<<10
}

// newStream prepares the blur of a rows x cols image whose second horizontal pass outputs the
// columns colIdx (ascending; nil: PDQ's 64 sampled columns).
func newStream(rows, cols int, colIdx []int) *blurStream {
	s, _ := streamPool.Get().(*blurStream)
	if s == nil {
		s = new(blurStream)
	}
	s.rows, s.cols = rows, cols
	s.wH, s.wV = windowSize(cols), windowSize(rows)
	s.hV = (s.wV + 2) / 2
	if colIdx == nil {
		for i := range gridSize {
			s.own[i] = sampleIndex(i, cols)
		}
		colIdx = s.own[:]
	}
	s.colIdx, s.n = colIdx, len(colIdx)
	row := func(b []float32) []float32 {
		if cap(b) < cols {
			return make([]float32, cols)
		}
		return b[:cols]
	}
	for k := range batch {
		s.lum[k], s.h1[k], s.pend[k] = row(s.lum[k]), row(s.h1[k]), row(s.pend[k])
	}
	if cap(s.ring) < s.wV {
		s.ring = append(s.ring[:cap(s.ring)], make([][]float32, s.wV-cap(s.ring))...)
	}
	s.ring = s.ring[:s.wV]
	for i := range s.ring {
		s.ring[i] = row(s.ring[i])
	}
	s.vsum = row(s.vsum)
	clear(s.vsum)
	if n := rows * s.n; cap(s.c) < n {
		s.c, s.d = make([]float32, n), make([]float32, n)
	}
	s.c, s.d = s.c[:rows*s.n], s.d[:rows*s.n]
	s.in, s.npen, s.out = 0, 0, 0
	return s
}

// release returns s to the pool unless it is very large (a 100 MP image's state is a few MB; only
// those of images up to about 40 MP are kept).
func (s *blurStream) release() {
	if s.cols <= 8192 && s.rows <= 8192 {
		streamPool.Put(s)
	}
}

// run feeds every luma row through the passes (fill writes row y, cols values, into dst); the
// blurred image at the columns colIdx is then s.d, rows x n.
func (s *blurStream) run(fill func(y int, dst []float32)) {
	for y := 0; y < s.rows; y += batch {
		n := min(batch, s.rows-y)
		for k := range n {
			fill(y+k, s.lum[k])
		}
		if n == batch {
			boxRows4(&s.lum, &s.h1, s.wH)
		} else {
			for k := range n {
				boxRow(s.lum[k], s.h1[k], s.wH)
			}
		}
		for k := range n {
			s.v1(k)
		}
	}
	s.v1Finish()
	for k := range s.npen {
		boxRowSampled(s.pend[k], s.c[s.out*s.n:(s.out+1)*s.n], s.wH, s.colIdx)
		s.out++
	}
	s.npen = 0
	boxColumns(s.c, s.d, s.rows, s.n, s.wV)
}

// v1 takes H1 output row s.h1[k] (row s.in) into the vertical pass, in the reference's phases
// (see boxColumns): add the first hV-1 rows, then add and output, then add, subtract the row
// leaving the window and output.
func (s *blurStream) v1(k int) {
	ri := s.in
	x := s.h1[k]
	slot := ri % s.wV
	sum := s.vsum[:len(x)]
	switch {
	case ri < s.hV-1:
		for c, v := range x {
			sum[c] += v
		}
	case ri < s.wV:
		fc := float32(ri + 1)
		o := s.pending()[:len(x)]
		for c, v := range x {
			t := sum[c] + v
			sum[c] = t
			o[c] = t / fc
		}
		s.pushed()
	default:
		v1Step(sum, x, s.ring[slot], s.pending(), 1/float64(s.wV))
		s.pushed()
	}
	// Row ri replaces row ri-wV in the ring; the old slot's buffer becomes the spare H1 row.
	s.ring[slot], s.h1[k] = x, s.ring[slot]
	s.in++
}

// v1Step is the vertical pass's steady state: sum += x; sum -= y; o = sum / wV (see the division
// note above).
func v1Step(sum, x, y, o []float32, inv float64) {
	x = x[:len(sum)]
	y = y[:len(sum)]
	o = o[:len(sum)]
	for c, t := range sum {
		t += x[c]
		t -= y[c]
		sum[c] = t
		o[c] = float32(float64(t) * inv)
	}
}

// v1Finish outputs the last hV-1 rows of the vertical pass, subtracting the rows leaving the window.
func (s *blurStream) v1Finish() {
	for k := range s.hV - 1 {
		y := s.ring[(s.rows-s.wV+k)%s.wV]
		fc := float32(s.wV - 1 - k)
		sum := s.vsum[:len(y)]
		o := s.pending()[:len(y)]
		for c, v := range y {
			t := sum[c] - v
			sum[c] = t
			o[c] = t / fc
		}
		s.pushed()
	}
}

// pending is the buffer of the next V1 output row.
func (s *blurStream) pending() []float32 { return s.pend[s.npen] }

// pushed counts the V1 output row just written and, with a batch of them, runs H2 over it.
func (s *blurStream) pushed() {
	s.npen++
	if s.npen < batch {
		return
	}
	boxRowsSampled4(&s.pend, s.c[s.out*s.n:(s.out+batch)*s.n], s.wH, s.colIdx)
	s.out += batch
	s.npen = 0
}

// boxRows4 is boxRow over four rows at once (four independent running sums, each in the
// reference's order), dividing by the window size through its reciprocal in the steady state.
func boxRows4(in, out *[batch][]float32, w int) {
	a0 := in[0]
	n := len(a0)
	a1, a2, a3 := in[1][:n], in[2][:n], in[3][:n]
	o0, o1, o2, o3 := out[0][:n], out[1][:n], out[2][:n], out[3][:n]
	h := (w + 2) / 2
	var s0, s1, s2, s3 float32
	for i := range h - 1 {
		s0 += a0[i]
		s1 += a1[i]
		s2 += a2[i]
		s3 += a3[i]
	}
	for oi := 0; oi <= w-h; oi++ {
		ri := oi + h - 1
		s0 += a0[ri]
		s1 += a1[ri]
		s2 += a2[ri]
		s3 += a3[ri]
		fc := float32(ri + 1)
		o0[oi], o1[oi], o2[oi], o3[oi] = s0/fc, s1/fc, s2/fc, s3/fc
	}
	// Steady state: outputs w-h+1 .. n-h add a[w..n-1] and subtract a[0..n-w-1].
	m := n - w
	inv := 1 / float64(w)
	e0, e1, e2, e3 := a0[w:n], a1[w:n], a2[w:n], a3[w:n]
	l0, l1, l2, l3 := a0[:m], a1[:m], a2[:m], a3[:m]
	q0, q1, q2, q3 := o0[w-h+1:][:m], o1[w-h+1:][:m], o2[w-h+1:][:m], o3[w-h+1:][:m]
	for k := range e0 {
		s0 += e0[k]
		s0 -= l0[k]
		s1 += e1[k]
		s1 -= l1[k]
		s2 += e2[k]
		s2 -= l2[k]
		s3 += e3[k]
		s3 -= l3[k]
		q0[k] = float32(float64(s0) * inv)
		q1[k] = float32(float64(s1) * inv)
		q2[k] = float32(float64(s2) * inv)
		q3[k] = float32(float64(s3) * inv)
	}
	for k := range h - 1 {
		li := n - w + k
		s0 -= a0[li]
		s1 -= a1[li]
		s2 -= a2[li]
		s3 -= a3[li]
		fc := float32(w - 1 - k)
		oi := n - h + 1 + k
		o0[oi], o1[oi], o2[oi], o3[oi] = s0/fc, s1/fc, s2/fc, s3/fc
	}
}

// boxRowsSampled4 is boxRowSampled over four rows at once; out holds the four rows' len(idx)
// outputs one after the other. Between two sampled columns the running sums only add and subtract.
func boxRowsSampled4(in *[batch][]float32, out []float32, w int, idx []int) {
	a0 := in[0]
	n := len(a0)
	a1, a2, a3 := in[1][:n], in[2][:n], in[3][:n]
	ni := len(idx)
	out = out[:batch*ni]
	o0, o1, o2, o3 := out[:ni], out[ni:2*ni], out[2*ni:3*ni], out[3*ni:]
	h := (w + 2) / 2
	var s0, s1, s2, s3 float32
	k := 0
	for i := range h - 1 {
		s0 += a0[i]
		s1 += a1[i]
		s2 += a2[i]
		s3 += a3[i]
	}
	for oi := 0; oi <= w-h; oi++ {
		ri := oi + h - 1
		s0 += a0[ri]
		s1 += a1[ri]
		s2 += a2[ri]
		s3 += a3[ri]
		for k < ni && idx[k] == oi {
			fc := float32(ri + 1)
			o0[k], o1[k], o2[k], o3[k] = s0/fc, s1/fc, s2/fc, s3/fc
			k++
		}
	}
	inv := 1 / float64(w) // x/w exactly, see the division note above
	for oi := w - h + 1; oi <= n-h; {
		stop := n - h
		if k < ni && idx[k] < stop {
			stop = idx[k]
		}
		cnt := stop - oi + 1
		ri, li := oi+h-1, oi-(w-h+1)
		e0, e1, e2, e3 := a0[ri:][:cnt], a1[ri:][:cnt], a2[ri:][:cnt], a3[ri:][:cnt]
		l0, l1, l2, l3 := a0[li:][:cnt], a1[li:][:cnt], a2[li:][:cnt], a3[li:][:cnt]
		for t := range e0 {
			s0 += e0[t]
			s0 -= l0[t]
			s1 += e1[t]
			s1 -= l1[t]
			s2 += e2[t]
			s2 -= l2[t]
			s3 += e3[t]
			s3 -= l3[t]
		}
		for k < ni && idx[k] == stop {
			o0[k], o1[k] = float32(float64(s0)*inv), float32(float64(s1)*inv)
			o2[k], o3[k] = float32(float64(s2)*inv), float32(float64(s3)*inv)
			k++
		}
		oi = stop + 1
	}
	for t := range h - 1 {
		li := n - w + t
		s0 -= a0[li]
		s1 -= a1[li]
		s2 -= a2[li]
		s3 -= a3[li]
		oi := n - h + 1 + t
		for k < ni && idx[k] == oi {
			fc := float32(w - 1 - t)
			o0[k], o1[k], o2[k], o3[k] = s0/fc, s1/fc, s2/fc, s3/fc
			k++
		}
	}
}

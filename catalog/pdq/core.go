package pdq

import (
	"fmt"
	"math"
	"slices"
)

// Result is the PDQ hash of one image with its quality and its eight dihedral variants.
type Result struct {
	Hash     Hash    // the hash of the image as stored; equals Dihedral[AsIs]
	Quality  int     // 0..100; hashes below 50 are too unreliable to match on
	Dihedral [8]Hash // indexed by Transform: the hash the image would have after that transform
}

const (
	minDim   = 5  // smaller images are unhashable
	gridSize = 64 // side of the decimated buffer
	dctSize  = 16 // side of the kept DCT block
)

// dctMatrix holds rows 1..16 of the 64-point DCT-II basis, scaled, as float32.
var dctMatrix = func() (d [dctSize][gridSize]float32) {
	s := float64(float32(math.Sqrt(2.0 / 64.0)))
	for i := range dctSize {
		for j := range gridSize {
			d[i][j] = float32(s * math.Cos((math.Pi/2/64.0)*float64(i+1)*float64(2*j+1)))
		}
	}
	return d
}()

// checkDims validates a luma array's dimensions.
func checkDims(n, rows, cols int) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("pdq: negative dimensions %dx%d", cols, rows)
	}
	if cols > 0 && rows > math.MaxInt32/cols {
		return fmt.Errorf("pdq: image of %dx%d pixels is too large", cols, rows)
	}
	if n != rows*cols {
		return fmt.Errorf("pdq: luma has %d values, want rows*cols = %d", n, rows*cols)
	}
	if rows < minDim || cols < minDim {
		return ErrTooSmall
	}
	return nil
}

// FromLuma hashes a row-major rows x cols array of luminance values (normally 0..255). It is the
// exact reference algorithm: float32 arithmetic in the reference's order of operations. luma is not
// modified.
func FromLuma(luma []float32, rows, cols int) (Result, error) {
	if err := checkDims(len(luma), rows, cols); err != nil {
		return Result{}, err
	}
	var grid [gridSize][gridSize]float32
	blurGrid(rows, cols, func(y int, dst []float32) { copy(dst, luma[y*cols:(y+1)*cols]) }, &grid)
	return hashGrid(&grid), nil
}

// blurGrid runs the reference's blur over the rows x cols luma that fill writes row by row (in
// order) and point-samples it to the 64x64 grid (see stream.go).
func blurGrid(rows, cols int, fill func(y int, dst []float32), grid *[gridSize][gridSize]float32) {
	s := newStream(rows, cols, nil)
	defer s.release()
	s.run(fill)
	for i := range gridSize {
		r := sampleIndex(i, rows)
		copy(grid[i][:], s.d[r*gridSize:(r+1)*gridSize])
	}
}

// windowSize is the box-filter window for a dimension: ceil(n / 128).
func windowSize(n int) int { return (n + 2*gridSize - 1) / (2 * gridSize) }

// sampleIndex is the source index of output cell i (of 64) along a dimension of n pixels.
func sampleIndex(i, n int) int { return int(((float64(i) + 0.5) * float64(n)) / gridSize) }

// boxRow is one 1-D box pass over a contiguous vector: the reference's four-phase running sum.
func boxRow(in, out []float32, w int) {
	n := len(in)
	h := (w + 2) / 2
	var sum float32
	cnt := 0
	ri, li, oi := 0, 0, 0
	for range h - 1 {
		sum += in[ri]
		cnt++
		ri++
	}
	for range w - h + 1 {
		sum += in[ri]
		cnt++
		out[oi] = sum / float32(cnt)
		ri++
		oi++
	}
	fc := float32(cnt)
	for range n - w {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / fc
		ri++
		li++
		oi++
	}
	for range h - 1 {
		sum -= in[li]
		cnt--
		out[oi] = sum / float32(cnt)
		li++
		oi++
	}
}

// boxRowSampled is boxRow computing only the outputs at the sampled indexes idx (ascending, with
// repeats), written to out[k] for idx[k].
func boxRowSampled(in, out []float32, w int, idx []int) {
	n := len(in)
	h := (w + 2) / 2
	var sum float32
	cnt := 0
	ri, li, oi := 0, 0, 0
	k := 0
	emit := func() {
		for k < len(idx) && idx[k] == oi {
			out[k] = sum / float32(cnt)
			k++
		}
	}
	for range h - 1 {
		sum += in[ri]
		cnt++
		ri++
	}
	for range w - h + 1 {
		sum += in[ri]
		cnt++
		emit()
		ri++
		oi++
	}
	for range n - w {
		sum += in[ri]
		sum -= in[li]
		if k < len(idx) && idx[k] == oi {
			emit()
		}
		ri++
		li++
		oi++
	}
	for range h - 1 {
		sum -= in[li]
		cnt--
		emit()
		li++
		oi++
	}
}

// boxColumns is the vertical 1-D box pass over every column of a rows x cols buffer, processed a
// whole row at a time: each column sees exactly the operations of boxRow in the same order.
func boxColumns(in, out []float32, rows, cols, w int) {
	h := (w + 2) / 2
	sum := make([]float32, cols)
	cnt := 0
	ri, li, oi := 0, 0, 0
	row := func(i int) []float32 { return in[i*cols : (i+1)*cols] }
	for range h - 1 {
		x := row(ri)
		for c := range sum {
			sum[c] += x[c]
		}
		cnt++
		ri++
	}
	for range w - h + 1 {
		x := row(ri)
		cnt++
		fc := float32(cnt)
		o := out[oi*cols : (oi+1)*cols]
		for c := range sum {
			s := sum[c] + x[c]
			sum[c] = s
			o[c] = s / fc
		}
		ri++
		oi++
	}
	inv := 1 / float64(cnt) // v/cnt exactly (see the division note in stream.go)
	for range rows - w {
		x, y := row(ri), row(li)
		o := out[oi*cols : (oi+1)*cols]
		y = y[:len(x)]
		o = o[:len(x)]
		s := sum[:len(x)]
		for c := range s {
			v := s[c] + x[c]
			v -= y[c]
			s[c] = v
			o[c] = float32(float64(v) * inv)
		}
		ri++
		li++
		oi++
	}
	for range h - 1 {
		y := row(li)
		cnt--
		fc := float32(cnt)
		o := out[oi*cols : (oi+1)*cols]
		for c := range sum {
			s := sum[c] - y[c]
			sum[c] = s
			o[c] = s / fc
		}
		li++
		oi++
	}
}

// quality is the reference's gradient-sum quality metric, 0..100.
func quality(g *[gridSize][gridSize]float32) int {
	sum := 0
	for i := range gridSize - 1 {
		for j := range gridSize {
			sum += absInt(gradStep(g[i][j], g[i+1][j]))
		}
	}
	for i := range gridSize {
		for j := range gridSize - 1 {
			sum += absInt(gradStep(g[i][j], g[i][j+1]))
		}
	}
	q := sum / 90
	if q > 100 {
		q = 100
	}
	return q
}

// gradStep is trunc(((u - v) * 100) / 255) in float32.
func gradStep(u, v float32) int {
	d := u - v
	d = float32(d * 100)
	return int(d / 255)
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dct computes B = D * A * D^T, first T = D * A, then B = T * D^T, with float32 sums in ascending k.
// Products are wrapped in float32(...) so that no platform fuses them into FMA instructions.
func dct(a *[gridSize][gridSize]float32, b *[dctSize][dctSize]float32) {
	var t [dctSize][gridSize]float32
	for i := range dctSize {
		d := &dctMatrix[i]
		for j := range gridSize {
			var s float32
			for k := range gridSize {
				s += float32(d[k] * a[k][j])
			}
			t[i][j] = s
		}
	}
	for i := range dctSize {
		ti := &t[i]
		for j := range dctSize {
			d := &dctMatrix[j]
			var s float32
			for k := range gridSize {
				s += float32(ti[k] * d[k])
			}
			b[i][j] = s
		}
	}
}

// threshold sets bit 16*i+j iff b[i][j] is strictly above the lower median (the 128th smallest).
func threshold(b *[dctSize][dctSize]float32) Hash {
	var v [dctSize * dctSize]float32
	for i := range dctSize {
		copy(v[i*dctSize:], b[i][:])
	}
	slices.Sort(v[:])
	m := v[len(v)/2-1]
	var h Hash
	for i := range dctSize {
		for j := range dctSize {
			if b[i][j] > m {
				h.setBit(dctSize*i + j)
			}
		}
	}
	return h
}

// dihedral derives the hashes of the eight rotations/mirrors from one DCT block: mirroring negates
// the coefficients of odd frequencies (even indexes, as index 0 is frequency 1) along the mirrored
// axis, and transposing the image transposes the block.
func dihedral(b *[dctSize][dctSize]float32) (out [8]Hash) {
	for t := range Transform(8) {
		var x [dctSize][dctSize]float32
		for i := range dctSize {
			for j := range dctSize {
				v := b[i][j]
				si, sj := i%2 == 0, j%2 == 0 // true: sign flips under a mirror along that axis
				switch t {
				case AsIs:
					x[i][j] = v
				case Rot90:
					x[j][i] = neg(v, sj)
				case Rot180:
					x[i][j] = neg(v, si != sj)
				case Rot270:
					x[j][i] = neg(v, si)
				case FlipX:
					x[i][j] = neg(v, si)
				case FlipY:
					x[i][j] = neg(v, sj)
				case FlipPlus1:
					x[j][i] = v
				case FlipMinus1:
					x[j][i] = neg(v, si != sj)
				}
			}
		}
		out[t] = threshold(&x)
	}
	return out
}

func neg(v float32, flip bool) float32 {
	if flip {
		return -v
	}
	return v
}

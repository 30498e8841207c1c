package pdq

import (
	"fmt"
	"image"
	"slices"
)

// Windows hashes sub-windows of img cheaply, for crop-tolerant matching: the luminance and PDQ's
// blur (both iterations, with the window sizes of the whole image) are computed once, and each
// window's 64x64 grid is point-sampled from that blurred image at the positions PDQ samples a
// picture of the window's size; quality, DCT and the dihedral hashes follow as in FromImage.
//
// A window is therefore hashed almost as the same window cut out and hashed on its own would be:
// only its blur is the whole image's (slightly wider, relative to the window, than its own would
// be). A window covering the whole image gives exactly FromImage's result.
//
// Windows are in img's coordinates and are clipped to its bounds; a window (after clipping) under
// 5 px on a side is an error wrapping ErrTooSmall, as is an image under 5 px. A panic while reading
// pixels (a broken image.Image implementation) is returned as an error.
func Windows(img image.Image, rects []image.Rectangle) (res []Result, err error) {
	if img == nil {
		return nil, fmt.Errorf("pdq: nil image")
	}
	b := img.Bounds()
	rows, cols := b.Dy(), b.Dx()
	if err := checkDims(rows*cols, rows, cols); err != nil {
		return nil, err
	}
	win := make([]image.Rectangle, len(rects))
	for i, r := range rects {
		r = r.Intersect(b).Sub(b.Min)
		if r.Dx() < minDim || r.Dy() < minDim {
			return nil, fmt.Errorf("pdq: window %v of a %dx%d image: %w", rects[i], cols, rows, ErrTooSmall)
		}
		win[i] = r
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("pdq: reading pixels: %v", p)
		}
	}()
	a := make([]float32, rows*cols)
	tmp := make([]float32, rows*cols)
	windowLuma(img, a)

	// The columns any window samples, ascending and distinct, and each one's place among them.
	var need []int
	for _, r := range win {
		for j := range gridSize {
			need = append(need, r.Min.X+sampleIndex(j, r.Dx()))
		}
	}
	slices.Sort(need)
	need = slices.Compact(need)
	at := make(map[int]int, len(need))
	for i, c := range need {
		at[c] = i
	}
	n := len(need)

	// Iteration 1 over every pixel, iteration 2 only over the sampled columns (as blurAndDecimate
	// does for the whole image's 64): the values computed are those of a full second iteration.
	wH, wV := windowSize(cols), windowSize(rows)
	for r := range rows {
		boxRow(a[r*cols:(r+1)*cols], tmp[r*cols:(r+1)*cols], wH)
	}
	boxColumns(tmp, a, rows, cols, wV)
	c := tmp[:rows*n] // tmp is free again: rows x n values, n <= cols
	d := make([]float32, rows*n)
	for r := range rows {
		boxRowAt(a[r*cols:(r+1)*cols], c[r*n:(r+1)*n], wH, need)
	}
	boxColumns(c, d, rows, n, wV)

	res = make([]Result, len(win))
	for k, r := range win {
		var grid [gridSize][gridSize]float32
		var colAt [gridSize]int
		for j := range gridSize {
			colAt[j] = at[r.Min.X+sampleIndex(j, r.Dx())]
		}
		for i := range gridSize {
			row := d[(r.Min.Y+sampleIndex(i, r.Dy()))*n:][:n]
			for j := range gridSize {
				grid[i][j] = row[colAt[j]]
			}
		}
		res[k] = hashGrid(&grid)
	}
	return res, nil
}

// windowLuma fills dst with img's luminance exactly as FromImage reads it.
func windowLuma(img image.Image, dst []float32) { toLuma(img, dst) }

// hashGrid is the rest of the hash once the 64x64 grid is sampled: quality, DCT, dihedral hashes.
func hashGrid(grid *[gridSize][gridSize]float32) Result {
	var r Result
	r.Quality = quality(grid)
	var b [dctSize][dctSize]float32
	dct(grid, &b)
	r.Dihedral = dihedral(&b)
	r.Hash = r.Dihedral[AsIs]
	return r
}

// boxRowAt is boxRow computing only the outputs at the indexes idx (strictly ascending), written
// to out[k] for idx[k]: the same float32 operations in the same order as boxRow.
func boxRowAt(in, out []float32, w int, idx []int) {
	n := len(in)
	h := (w + 2) / 2
	var sum float32
	cnt := 0
	ri, li, oi := 0, 0, 0
	k := 0
	for range h - 1 {
		sum += in[ri]
		cnt++
		ri++
	}
	for range w - h + 1 {
		sum += in[ri]
		cnt++
		if k < len(idx) && idx[k] == oi {
			out[k] = sum / float32(cnt)
			k++
		}
		ri++
		oi++
	}
	fc := float32(cnt)
	for range n - w {
		sum += in[ri]
		sum -= in[li]
		if k < len(idx) && idx[k] == oi {
			out[k] = sum / fc
			k++
		}
		ri++
		li++
		oi++
	}
	for range h - 1 {
		sum -= in[li]
		cnt--
		if k < len(idx) && idx[k] == oi {
			out[k] = sum / float32(cnt)
			k++
		}
		li++
		oi++
	}
}

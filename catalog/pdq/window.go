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

	// The reference's blur, streamed row by row (see stream.go) with the second horizontal pass
	// output at every sampled column: the values are those of a full second iteration.
	src := newLumaSource(img)
	s := newStream(rows, cols, need)
	s.run(src.row)
	if src.diff == 0 && !src.grey {
		// Every pixel was grey: the grey path, as FromImage.
		src.grey = true
		s.release()
		s = newStream(rows, cols, need)
		s.run(src.row)
	}
	defer s.release()
	d := s.d

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

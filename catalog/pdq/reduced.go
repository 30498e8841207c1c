package pdq

import (
	"fmt"
	"image"
)

// FromReduced approximates FromImage of a fullW x fullH image from img, a copy of it reduced by
// scale (1, 2, 4 or 8) in each direction by block averaging: img is ceil(fullW/scale) x
// ceil(fullH/scale) pixels and each pixel is the mean of the scale x scale pixels it replaces (what
// a JPEG decoder's reduced inverse DCT gives). It is not bit-exact: it is for callers that have no
// full-size pixels and accept a hash a few bits from the reference (see the package documentation
// for measured distances).
//
// In exact arithmetic the reference's blur and decimation is linear and separable: every grid cell
// is the sum over the image of one weight per row times one weight per column times the pixel's
// luminance, the weights being the two box passes composed (with the reference's shrinking windows
// at the edges), evaluated at the sampled row and column. FromReduced computes those full-size
// weights exactly, sums them over each block of scale pixels and applies them to the reduced
// image in float64. What it cannot see is the variation inside each block: the weights change
// little across a block (a tent about 2*ceil(side/128) pixels wide) and the error is of second
// order, plus the reduced decode's own rounding and the luminance of averaged colours.
func FromReduced(img image.Image, fullW, fullH, scale int) (res Result, err error) {
	if img == nil {
		return Result{}, fmt.Errorf("pdq: nil image")
	}
	switch scale {
	case 1, 2, 4, 8:
	default:
		return Result{}, fmt.Errorf("pdq: reduction %d is not 1, 2, 4 or 8", scale)
	}
	if err := checkDims(fullW*fullH, fullH, fullW); err != nil {
		return Result{}, err
	}
	b := img.Bounds()
	cols, rows := (fullW+scale-1)/scale, (fullH+scale-1)/scale
	if b.Dx() != cols || b.Dy() != rows {
		return Result{}, fmt.Errorf("pdq: a %dx%d image reduced by %d is %dx%d, not %dx%d", fullW, fullH, scale, cols, rows, b.Dx(), b.Dy())
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = Result{}, fmt.Errorf("pdq: reading pixels: %v", p)
		}
	}()
	kx, ky := reducedKernels(fullW, scale), reducedKernels(fullH, scale)
	src := newLumaSource(img)
	grid := kernelGrid(src, &kx, &ky, rows, cols)
	if src.diff == 0 && !src.grey {
		src.grey = true
		grid = kernelGrid(src, &kx, &ky, rows, cols)
	}
	return hashGrid(&grid), nil
}

// kernel is one sampled position's weights over the reduced samples first .. first+len(w)-1.
type kernel struct {
	first int
	w     []float64
}

// reducedKernels returns, for each of the 64 sampled positions along an axis of n full-size
// pixels, the weights of the reference's two box passes over the full-size pixels, summed per
// block of scale pixels.
func reducedKernels(n, scale int) (ks [gridSize]kernel) {
	w := windowSize(n)
	h := (w + 2) / 2
	lo := func(p int) int { return max(p-(w-h), 0) }
	hi := func(p int) int { return min(p+h-1, n-1) }
	var full []float64
	for j := range gridSize {
		p := sampleIndex(j, n)
		a, b := lo(lo(p)), hi(hi(p))
		full = append(full[:0], make([]float64, b-a+1)...)
		cp := float64(hi(p) - lo(p) + 1)
		for q := lo(p); q <= hi(p); q++ {
			wq := 1 / (cp * float64(hi(q)-lo(q)+1))
			for x := lo(q); x <= hi(q); x++ {
				full[x-a] += wq
			}
		}
		k := kernel{first: a / scale, w: make([]float64, b/scale-a/scale+1)}
		for x := a; x <= b; x++ {
			k.w[x/scale-k.first] += full[x-a]
		}
		ks[j] = k
	}
	return ks
}

// kernelGrid applies the row kernels ky and column kernels kx to the rows x cols luminance of src.
func kernelGrid(src *lumaSource, kx, ky *[gridSize]kernel, rows, cols int) (g [gridSize][gridSize]float32) {
	var acc [gridSize][gridSize]float64
	var t [gridSize]float64
	lum := make([]float32, cols)
	i0 := 0 // the first grid row whose kernel has not ended
	for y := range rows {
		for i0 < gridSize && ky[i0].first+len(ky[i0].w) <= y {
			i0++
		}
		if i0 == gridSize {
			break
		}
		if ky[i0].first > y {
			continue // no kernel covers this row (supports are ordered)
		}
		src.row(y, lum)
		for j := range kx {
			k := &kx[j]
			seg := lum[k.first:][:len(k.w)]
			s := 0.0
			for x, wt := range k.w {
				s += wt * float64(seg[x])
			}
			t[j] = s
		}
		for i := i0; i < gridSize && ky[i].first <= y; i++ {
			k := &ky[i]
			if y >= k.first+len(k.w) {
				continue
			}
			wt := k.w[y-k.first]
			a := &acc[i]
			for j, v := range t {
				a[j] += wt * v
			}
		}
	}
	for i := range acc {
		for j, v := range acc[i] {
			g[i][j] = float32(v)
		}
	}
	return g
}

// ReducedMemory is about the bytes FromReduced allocates for a w x h reduced image.
func ReducedMemory(w, h int) int64 {
	if w <= 0 || h <= 0 {
		return 0
	}
	return int64(w)*4 + int64(w+h)*8 + 64<<10
}

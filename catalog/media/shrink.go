package media

import (
	"encoding/binary"
	"image"
	"image/color"
	"math/bits"
)

// Shrink returns img scaled down by one area-average (box) filter so that
// its longest side is at most maxSide, keeping the aspect ratio (each side
// rounded, never below 1). It never upscales: an image that already fits
// (or maxSide <= 0) comes back as a converted copy.
//
// Weights are exact areas: every output pixel is the mean of the source
// area it covers, source pixels cut by its border counting with their
// fractional coverage (integer arithmetic, rounded to nearest), so
// non-integer ratios such as 4000 -> 1024 are handled exactly.
//
// The result is a new image with its origin at (0, 0). An *image.Gray stays
// *image.Gray; every other input becomes *image.NRGBA with straight alpha.
// Colour channels are averaged as stored (straight RGB) and alpha on its
// own, so fully transparent pixels keep their colour, the way the PDQ
// reference drops alpha. *image.YCbCr (all subsample ratios) is averaged
// plane by plane at each plane's own resolution and converted to RGB only
// at the output size (the planes' sample areas are mapped exactly, odd
// sizes and odd origins included). This equals converting every pixel and
// averaging RGB to within 2 levels, except next to out-of-gamut YCbCr
// pixels, where per-pixel conversion would clamp. *image.NYCbCrA (lossy
// WebP with alpha) takes the same path plus its alpha plane. *image.Gray,
// *image.NRGBA, *image.RGBA, *image.CMYK, *image.Paletted, *image.RGBA64
// and *image.NRGBA64 read their pixel buffers row by row; anything else
// goes through At.
func Shrink(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	dw, dh := fitSize(b.Dx(), b.Dy(), maxSide)
	return shrinkTo(img, dw, dh, reduction{})
}

// ShrinkReduced is [Shrink] for img, a decode of a fullW x fullH image at 1/scale of its size (a
// reduced JPEG decode by [DecodeScaled], each pixel the mean of the scale x scale pixels it
// replaces): the result is the image Shrink makes of the full-size image (longest side at most
// maxSide, the size computed from the full size), each output pixel the mean of the full-size area
// it covers, reading every reduced pixel as constant over the pixels it replaces. So it can be
// larger than img (a 1600x1200 photo decoded at 1/2, 800x600, makes a 1024x768 result), and it
// differs from Shrink of the full decode only by the detail inside each scale x scale block at the
// edges of output pixels. With scale 1, or sizes that match no reduction of fullW x fullH, it is
// Shrink(img, maxSide).
func ShrinkReduced(img image.Image, fullW, fullH, scale, maxSide int) image.Image {
	return ShrinkReducedInto(nil, img, fullW, fullH, scale, maxSide)
}

// ShrinkReducedInto is [ShrinkReduced] writing the pixels of an *image.NRGBA result made from an
// *image.YCbCr (every lossy JPEG) into buf when its capacity suffices, instead of a new buffer
// (every byte is overwritten): a caller that makes one such image after another can reuse the
// memory. Other results ignore buf.
func ShrinkReducedInto(buf []uint8, img image.Image, fullW, fullH, scale, maxSide int) image.Image {
	b := img.Bounds()
	red := reduction{scale: scale, w: fullW, h: fullH, buf: buf}
	dw, dh := fitSize(fullW, fullH, maxSide)
	if scale <= 1 || fullW <= 0 || fullH <= 0 || b.Dx() != (fullW+scale-1)/scale || b.Dy() != (fullH+scale-1)/scale {
		dw, dh = fitSize(b.Dx(), b.Dy(), maxSide)
		red = reduction{buf: buf}
	}
	return shrinkTo(img, dw, dh, red)
}

// reduction says what a source image stands for: each of its pixels covers scale x scale pixels of
// a w x h image (the last row and column fewer). The zero value: one pixel each. buf, when not nil,
// is memory the YCbCr path may write its result into (ShrinkReducedInto).
type reduction struct {
	scale, w, h int
	buf         []uint8
}

// edges maps the sample edges of a plane (in source pixels; nil: one pixel each, n samples) to
// pixels of the full image, or returns them unchanged without a reduction.
func (r reduction) edges(e []int, n, full int) []int {
	if r.scale <= 1 {
		return e
	}
	if e == nil {
		e = unitEdges(n)
	}
	out := make([]int, len(e))
	for i, v := range e {
		out[i] = min(v*r.scale, full)
	}
	return out
}

// with sets the rows' edges for the reduction.
func (r reduction) with(src rows) rows {
	src.xEdges = r.edges(src.xEdges, src.w, r.w)
	src.yEdges = r.edges(src.yEdges, src.h, r.h)
	return src
}

// shrinkTo is Shrink to dw x dh, the source's pixels standing for red.
func shrinkTo(img image.Image, dw, dh int, red reduction) image.Image {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 {
		if _, ok := img.(*image.Gray); ok {
			return image.NewGray(image.Rect(0, 0, 0, 0))
		}
		return image.NewNRGBA(image.Rect(0, 0, 0, 0))
	}
	switch m := img.(type) {
	case *image.Gray:
		out := image.NewGray(image.Rect(0, 0, dw, dh))
		resample(red.with(grayRows(m)), dw, dh, out.Pix)
		return out
	case *image.YCbCr:
		if out := shrinkYCbCr(m, dw, dh, red); out != nil {
			return out
		}
	case *image.NYCbCrA: // lossy WebP with alpha; colour is not premultiplied
		if out := shrinkYCbCr(&m.YCbCr, dw, dh, red); out != nil && len(m.A) >= (sh-1)*m.AStride+sw {
			a := make([]uint8, dw*dh)
			resample(red.with(grayRows(&image.Gray{Pix: m.A, Stride: m.AStride, Rect: image.Rect(0, 0, sw, sh)})), dw, dh, a)
			for i, v := range a {
				out.Pix[4*i+3] = v
			}
			return out
		}
	case *image.NRGBA64:
		out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
		resample(red.with(rows16(m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), sw, sh, false)), dw, dh, out.Pix)
		return out
	case *image.RGBA64:
		out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
		resample(red.with(rows16(m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), sw, sh, true)), dw, dh, out.Pix)
		return out
	case *image.NRGBA:
		out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
		resample(red.with(nrgbaRows(m)), dw, dh, out.Pix)
		return out
	case *image.RGBA:
		out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
		resample(red.with(rgbaRows(m)), dw, dh, out.Pix)
		return out
	case *image.CMYK:
		rgb := make([]uint8, dw*dh*3)
		resample(red.with(cmykRows(m)), dw, dh, rgb)
		return rgbToNRGBA(rgb, dw, dh)
	case *image.Paletted:
		out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
		resample(red.with(palettedRows(m)), dw, dh, out.Pix)
		return out
	}
	out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	resample(red.with(genericRows(img)), dw, dh, out.Pix)
	return out
}

// fitSize is the output size for Shrink.
func fitSize(w, h, maxSide int) (int, int) {
	if maxSide <= 0 || (w <= maxSide && h <= maxSide) {
		return w, h
	}
	scale := func(short, long int) int {
		n := int((2*int64(short)*int64(maxSide) + int64(long)) / (2 * int64(long)))
		return max(n, 1)
	}
	if w >= h {
		return maxSide, scale(h, w)
	}
	return scale(w, h), maxSide
}

// rows is a source plane: w x h samples of ch 8-bit channels, handed out
// one row at a time. With ch 1, 3 or 4 the channels are interleaved and row
// returns them; ch 2 is two separate planes of one channel each (Cb and Cr)
// and row2 returns both rows. stable says a returned row stays valid (it
// points into the image); otherwise row may reuse its buffer between calls.
// xEdges/yEdges give each sample's extent in image pixels; nil means one
// pixel per sample.
type rows struct {
	w, h, ch       int
	row            func(j int) []uint8
	row2           func(j int) ([]uint8, []uint8)
	stable         bool
	xEdges, yEdges []int
}

// axis holds the exact area weights of one dimension. A plane of n samples
// spans the image length L (in image pixels), sample i covering
// [edge[i], edge[i+1]); luma samples are one pixel each, subsampled chroma
// samples cover 2 or 4 pixels (fewer at the image border). In units where an
// image pixel is dst long, output k covers [k*L, (k+1)*L) and takes each
// sample with weight equal to the overlap length, so the weights of every
// output sum to L. All weights are then divided by their common factor
// gcd(L, dst) (every overlap is a multiple of it), which keeps the sums
// small and does not change any rounded mean.
//
// Every output has the same number of taps, zero weights padding the
// shorter ones, so the filter loops have no per-output length: output k
// takes samples first[k] .. first[k]+taps-1 (the last ones may lie past the
// plane; their weight is zero and the caller pads its rows with zeros).
type axis struct {
	taps  int
	sum   uint64   // the weights of every output sum to this
	first []int    // first sample index per output index
	w     []uint64 // taps weights per output
}

// unitEdges are the edges of a plane of n one-pixel samples.
func unitEdges(n int) []int {
	e := make([]int, n+1)
	for i := range e {
		e[i] = i
	}
	return e
}

func newAxis(edges []int, dst int) axis {
	n := len(edges) - 1
	length := int64(edges[n])
	d := int64(dst)
	g := gcd(length, d)
	first := make([]int, dst)
	offs := make([]int, dst+1)
	var ws []uint64
	i := 0
	for k := int64(0); k < d; k++ {
		lo, hi := k*length, (k+1)*length
		for i < n-1 && int64(edges[i+1])*d <= lo {
			i++
		}
		first[k] = i
		for j := i; j < n; j++ {
			start, end := max(lo, int64(edges[j])*d), min(hi, int64(edges[j+1])*d)
			if start >= hi {
				break
			}
			ws = append(ws, uint64(max(end-start, 0)/g))
		}
		offs[k+1] = len(ws)
	}
	taps := 0
	for k := range dst {
		taps = max(taps, offs[k+1]-offs[k])
	}
	a := axis{taps: taps, sum: uint64(length / g), first: first, w: make([]uint64, dst*taps)}
	for k := range dst {
		copy(a.w[k*taps:], ws[offs[k]:offs[k+1]])
	}
	return a
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// divider rounds v/den to nearest (halves up), v <= 255*den.
type divider struct {
	den, half, m uint64
	inv          float64
}

func newDivider(den uint64) divider {
	d := divider{den: den, half: den / 2, inv: 1 / float64(den)}
	if den >= 2 && den < 1<<28 {
		// m = ceil(2^64/den) overshoots by e = m*den - 2^64 <= den; with
		// x < 256*den the error x*e/(den*2^64) stays below 1/den, so
		// floor(x*m / 2^64) is exactly floor(x/den).
		d.m = (1<<64-1)/den + 1
	}
	return d
}

func (d *divider) round(v uint64) uint8 {
	x := v + d.half
	if d.m != 0 {
		q, _ := bits.Mul64(x, d.m)
		return uint8(q)
	}
	// Large denominators: the float estimate is within one of the
	// quotient, then made exact.
	q := uint64(float64(x) * d.inv)
	if q*d.den > x {
		q--
	} else if x-q*d.den >= d.den {
		q++
	}
	return uint8(q)
}

// resample box-filters src to dw x dh into dst (dw*dh*src.ch bytes,
// tightly packed, channels interleaved; for ch 2 each output row is the
// row of plane a followed by the row of plane b).
func resample(src rows, dw, dh int, dst []uint8) {
	r := newResampler(src, dw, dh)
	n := dw * src.ch
	for k := 0; k < dh; k++ {
		r.row(k, dst[k*n:k*n+n])
	}
}

// resampler makes the output rows of one box filter. For each output row
// the source rows it covers are summed with their vertical weights into one
// row of source width (a sequential pass over memory), and that row is
// filtered horizontally once. Sums are exact integers, so the result does
// not depend on the order of the passes.
type resampler struct {
	src    rows
	xa, ya axis
	div    divider
	width  int      // summed values per plane
	va, vb []uint64 // summed rows (vb: second plane of ch 2), zero padded
	cache  []uint8  // a copy of row cached, when rows are not stable
	cached int
	// packed (ch 2 only): every sum fits 32 bits, so both planes are
	// summed in one uint64, plane a in the low half and b in the high half.
	packed bool
}

// packLimit bounds the sums of two planes packed in one uint64 (a variable
// so tests can turn packing off).
var packLimit uint64 = 1 << 32

func newResampler(src rows, dw, dh int) *resampler {
	xe, ye := src.xEdges, src.yEdges
	if xe == nil {
		xe = unitEdges(src.w)
	}
	if ye == nil {
		ye = unitEdges(src.h)
	}
	r := &resampler{src: src, xa: newAxis(xe, dw), ya: newAxis(ye, dh), cached: -1}
	r.div = newDivider(r.xa.sum * r.ya.sum)
	ch := src.ch
	r.width = src.w * ch
	if ch == 2 {
		r.width = src.w
	}
	// Padding for the zero-weight taps past the end of the row.
	pad := r.xa.taps * ch
	r.va = make([]uint64, r.width+pad)
	if ch == 2 {
		den := r.xa.sum * r.ya.sum
		r.packed = den < packLimit/255 && den*255 < packLimit
		if !r.packed {
			r.vb = make([]uint64, r.width+pad)
		}
	}
	return r
}

// row writes output row k (dw*ch bytes) to out (for ch 2: dw bytes of
// plane a, then dw of plane b).
func (r *resampler) row(k int, out []uint8) {
	src := &r.src
	ty := r.ya.taps
	ws := r.ya.w[k*ty : k*ty+ty]
	j0 := r.ya.first[k]
	va, vb := r.va[:r.width], r.vb
	set := true
	for t := 0; t < len(ws); t++ {
		w := ws[t]
		if w == 0 {
			continue
		}
		j := j0 + t
		switch {
		case r.packed:
			a, b := src.row2(j)
			if t+1 < len(ws) && ws[t+1] != 0 {
				a2, b2 := src.row2(j + 1)
				accumPacked2(va, a, b, a2, b2, w, ws[t+1], set)
				t++
			} else {
				accumPacked(va, a, b, w, set)
			}
		case src.ch == 2:
			vb := vb[:r.width]
			a, b := src.row2(j)
			if t+1 < len(ws) && ws[t+1] != 0 {
				a2, b2 := src.row2(j + 1)
				accum2(va, a, a2, w, ws[t+1], set)
				accum2(vb, b, b2, w, ws[t+1], set)
				t++
			} else {
				accum(va, a, w, set)
				accum(vb, b, w, set)
			}
		case src.stable:
			// Up to four rows per pass over va: fewer loads and stores of the sums.
			m := 1
			for m < 4 && t+m < len(ws) && ws[t+m] != 0 {
				m++
			}
			switch m {
			case 4:
				accum4(va, src.row(j), src.row(j+1), src.row(j+2), src.row(j+3), ws[t:t+4:t+4], set)
			case 3:
				accum3(va, src.row(j), src.row(j+1), src.row(j+2), ws[t:t+3:t+3], set)
			case 2:
				accum2(va, src.row(j), src.row(j+1), w, ws[t+1], set)
			default:
				accum(va, src.row(j), w, set)
			}
			t += m - 1
		default:
			var row []uint8
			if j == r.cached {
				row = r.cache
			} else {
				row = src.row(j)
			}
			accum(va, row, w, set)
			if j != r.cached && (t+1 == len(ws) || ws[t+1] == 0) {
				// The last row of this output is usually the first of the next.
				r.cache = append(r.cache[:0], row...)
				r.cached = j
			}
		}
		set = false
	}
	if set { // no weight at all (cannot happen: every sample has an area)
		clear(r.va)
		clear(r.vb)
	}
	switch src.ch {
	case 1:
		horizontal1(out, r.va, &r.xa, &r.div)
	case 2:
		if r.packed {
			horizontalPacked(out[:len(out)/2], out[len(out)/2:], r.va, &r.xa, &r.div)
		} else {
			horizontal2(out[:len(out)/2], out[len(out)/2:], r.va, r.vb, &r.xa, &r.div)
		}
	case 3:
		horizontal3(out, r.va, &r.xa, &r.div)
	case 4:
		horizontal4(out, r.va, &r.xa, &r.div)
	default:
		panic("media: unsupported channel count")
	}
}

// accum sets (or adds to) v the row r times w.
func accum(v []uint64, r []uint8, w uint64, set bool) {
	r = r[:len(v)]
	if set {
		for i, p := range r {
			v[i] = uint64(p) * w
		}
		return
	}
	for i, p := range r {
		v[i] += uint64(p) * w
	}
}

// accum2 sets (or adds to) v the rows r times w plus s times u.
func accum2(v []uint64, r, s []uint8, w, u uint64, set bool) {
	r = r[:len(v)]
	s = s[:len(v)]
	if set {
		for i, p := range r {
			v[i] = uint64(p)*w + uint64(s[i])*u
		}
		return
	}
	for i, p := range r {
		v[i] += uint64(p)*w + uint64(s[i])*u
	}
}

// accum3 sets (or adds to) v the rows r0..r2 times w[0..2].
func accum3(v []uint64, r0, r1, r2 []uint8, w []uint64, set bool) {
	r0, r1, r2 = r0[:len(v)], r1[:len(v)], r2[:len(v)]
	w0, w1, w2 := w[0], w[1], w[2]
	if set {
		for i, p := range r0 {
			v[i] = uint64(p)*w0 + uint64(r1[i])*w1 + uint64(r2[i])*w2
		}
		return
	}
	for i, p := range r0 {
		v[i] += uint64(p)*w0 + uint64(r1[i])*w1 + uint64(r2[i])*w2
	}
}

// accum4 sets (or adds to) v the rows r0..r3 times w[0..3].
func accum4(v []uint64, r0, r1, r2, r3 []uint8, w []uint64, set bool) {
	r0, r1, r2, r3 = r0[:len(v)], r1[:len(v)], r2[:len(v)], r3[:len(v)]
	w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
	if set {
		for i, p := range r0 {
			v[i] = uint64(p)*w0 + uint64(r1[i])*w1 + uint64(r2[i])*w2 + uint64(r3[i])*w3
		}
		return
	}
	for i, p := range r0 {
		v[i] += uint64(p)*w0 + uint64(r1[i])*w1 + uint64(r2[i])*w2 + uint64(r3[i])*w3
	}
}

// accumPacked sets (or adds to) v the rows a and b, packed, times w.
func accumPacked(v []uint64, a, b []uint8, w uint64, set bool) {
	a = a[:len(v)]
	b = b[:len(v)]
	if set {
		for i, p := range a {
			v[i] = (uint64(p) | uint64(b[i])<<32) * w
		}
		return
	}
	for i, p := range a {
		v[i] += (uint64(p) | uint64(b[i])<<32) * w
	}
}

// accumPacked2 sets (or adds to) v the rows a and b, packed, times w plus
// the rows a2 and b2, packed, times u.
func accumPacked2(v []uint64, a, b, a2, b2 []uint8, w, u uint64, set bool) {
	a = a[:len(v)]
	b = b[:len(v)]
	a2 = a2[:len(v)]
	b2 = b2[:len(v)]
	if set {
		for i, p := range a {
			v[i] = (uint64(p)|uint64(b[i])<<32)*w + (uint64(a2[i])|uint64(b2[i])<<32)*u
		}
		return
	}
	for i, p := range a {
		v[i] += (uint64(p)|uint64(b[i])<<32)*w + (uint64(a2[i])|uint64(b2[i])<<32)*u
	}
}

// horizontalPacked filters the summed row v of two packed planes into oa
// (the low halves) and ob (the high halves).
func horizontalPacked(oa, ob []uint8, v []uint64, xa *axis, div *divider) {
	first := xa.first
	oa = oa[:len(first)]
	ob = ob[:len(first)]
	switch xa.taps {
	case 2:
		ws := xa.w[:2*len(first)]
		for x, f := range first {
			w := ws[2*x : 2*x+2 : 2*x+2]
			p := v[f : f+2 : f+2]
			s := p[0]*w[0] + p[1]*w[1]
			oa[x], ob[x] = div.round(s&0xffffffff), div.round(s>>32)
		}
	case 3:
		ws := xa.w[:3*len(first)]
		for x, f := range first {
			w := ws[3*x : 3*x+3 : 3*x+3]
			p := v[f : f+3 : f+3]
			s := p[0]*w[0] + p[1]*w[1] + p[2]*w[2]
			oa[x], ob[x] = div.round(s&0xffffffff), div.round(s>>32)
		}
	default:
		t := xa.taps
		for x, f := range first {
			w := xa.w[x*t : x*t+t]
			p := v[f : f+t]
			p = p[:len(w)]
			var s uint64
			for i, c := range w {
				s += p[i] * c
			}
			oa[x], ob[x] = div.round(s&0xffffffff), div.round(s>>32)
		}
	}
}

// horizontal1 filters the summed row v of one channel into out. The common
// tap counts have their own loops without an inner loop.
func horizontal1(out []uint8, v []uint64, xa *axis, div *divider) {
	first := xa.first
	out = out[:len(first)]
	switch xa.taps {
	case 2:
		ws := xa.w[:2*len(first)]
		for x, f := range first {
			w := ws[2*x : 2*x+2 : 2*x+2]
			p := v[f : f+2 : f+2]
			out[x] = div.round(p[0]*w[0] + p[1]*w[1])
		}
	case 3:
		ws := xa.w[:3*len(first)]
		for x, f := range first {
			w := ws[3*x : 3*x+3 : 3*x+3]
			p := v[f : f+3 : f+3]
			out[x] = div.round(p[0]*w[0] + p[1]*w[1] + p[2]*w[2])
		}
	case 4:
		ws := xa.w[:4*len(first)]
		for x, f := range first {
			w := ws[4*x : 4*x+4 : 4*x+4]
			p := v[f : f+4 : f+4]
			out[x] = div.round(p[0]*w[0] + p[1]*w[1] + p[2]*w[2] + p[3]*w[3])
		}
	case 5:
		ws := xa.w[:5*len(first)]
		for x, f := range first {
			w := ws[5*x : 5*x+5 : 5*x+5]
			p := v[f : f+5 : f+5]
			out[x] = div.round(p[0]*w[0] + p[1]*w[1] + p[2]*w[2] + p[3]*w[3] + p[4]*w[4])
		}
	default:
		t := xa.taps
		for x, f := range first {
			w := xa.w[x*t : x*t+t]
			p := v[f : f+t]
			p = p[:len(w)]
			var s uint64
			for i, c := range w {
				s += p[i] * c
			}
			out[x] = div.round(s)
		}
	}
}

// horizontal2 filters the summed rows a and b of two planes into oa and ob.
func horizontal2(oa, ob []uint8, a, b []uint64, xa *axis, div *divider) {
	first := xa.first
	oa = oa[:len(first)]
	ob = ob[:len(first)]
	t := xa.taps
	for x, f := range first {
		w := xa.w[x*t : x*t+t]
		p := a[f : f+t]
		p = p[:len(w)]
		q := b[f : f+t]
		q = q[:len(w)]
		var s0, s1 uint64
		for i, c := range w {
			s0 += p[i] * c
			s1 += q[i] * c
		}
		oa[x], ob[x] = div.round(s0), div.round(s1)
	}
}

// horizontal3 filters the summed row v of three interleaved channels into out.
func horizontal3(out []uint8, v []uint64, xa *axis, div *divider) {
	t := xa.taps
	ws := xa.w
	out = out[:3*len(xa.first)]
	for x, f := range xa.first {
		w := ws[x*t : x*t+t]
		p := v[3*f : 3*f+3*t]
		p = p[:3*len(w)]
		var s0, s1, s2 uint64
		for i, c := range w {
			q := p[3*i : 3*i+3 : 3*i+3]
			s0 += q[0] * c
			s1 += q[1] * c
			s2 += q[2] * c
		}
		o := out[3*x : 3*x+3 : 3*x+3]
		o[0], o[1], o[2] = div.round(s0), div.round(s1), div.round(s2)
	}
}

// horizontal4 filters the summed row v of four interleaved channels into out.
func horizontal4(out []uint8, v []uint64, xa *axis, div *divider) {
	t := xa.taps
	ws := xa.w
	out = out[:4*len(xa.first)]
	for x, f := range xa.first {
		w := ws[x*t : x*t+t]
		p := v[4*f : 4*f+4*t]
		p = p[:4*len(w)]
		var s0, s1, s2, s3 uint64
		for i, c := range w {
			q := p[4*i : 4*i+4 : 4*i+4]
			s0 += q[0] * c
			s1 += q[1] * c
			s2 += q[2] * c
			s3 += q[3] * c
		}
		o := out[4*x : 4*x+4 : 4*x+4]
		o[0], o[1], o[2], o[3] = div.round(s0), div.round(s1), div.round(s2), div.round(s3)
	}
}

func grayRows(m *image.Gray) rows {
	b := m.Rect
	w := b.Dx()
	return rows{w: w, h: b.Dy(), ch: 1, stable: true, row: func(j int) []uint8 {
		i := m.PixOffset(b.Min.X, b.Min.Y+j)
		return m.Pix[i : i+w]
	}}
}

func nrgbaRows(m *image.NRGBA) rows {
	b := m.Rect
	w := b.Dx()
	return rows{w: w, h: b.Dy(), ch: 4, stable: true, row: func(j int) []uint8 {
		i := m.PixOffset(b.Min.X, b.Min.Y+j)
		return m.Pix[i : i+4*w]
	}}
}

// rgbaRows un-premultiplies each row to straight alpha.
func rgbaRows(m *image.RGBA) rows {
	b := m.Rect
	w := b.Dx()
	buf := make([]uint8, 4*w)
	return rows{w: w, h: b.Dy(), ch: 4, row: func(j int) []uint8 {
		i := m.PixOffset(b.Min.X, b.Min.Y+j)
		src := m.Pix[i : i+4*w]
		for x := 0; x < 4*w; x += 4 {
			r, g, bl, a := src[x], src[x+1], src[x+2], src[x+3]
			switch a {
			case 255:
			case 0:
				r, g, bl = 0, 0, 0
			default:
				r, g, bl = unpremul(r, a), unpremul(g, a), unpremul(bl, a)
			}
			buf[x], buf[x+1], buf[x+2], buf[x+3] = r, g, bl, a
		}
		return buf
	}}
}

func unpremul(c, a uint8) uint8 {
	v := (uint32(c)*255 + uint32(a)/2) / uint32(a)
	return uint8(min(v, 255))
}

// rows16 reads 16-bit RGBA rows (big-endian, as in image.RGBA64 and
// image.NRGBA64) as 8-bit straight RGBA.
func rows16(pix []uint8, stride, off, w, h int, premultiplied bool) rows {
	buf := make([]uint8, 4*w)
	return rows{w: w, h: h, ch: 4, row: func(j int) []uint8 {
		i := off + j*stride
		src := pix[i : i+8*w]
		for x := 0; x < w; x++ {
			p := src[8*x : 8*x+8 : 8*x+8]
			r := uint32(p[0])<<8 | uint32(p[1])
			g := uint32(p[2])<<8 | uint32(p[3])
			bl := uint32(p[4])<<8 | uint32(p[5])
			a := uint32(p[6])<<8 | uint32(p[7])
			if premultiplied && a != 0xffff {
				if a == 0 {
					r, g, bl = 0, 0, 0
				} else {
					r, g, bl = r*0xffff/a, g*0xffff/a, bl*0xffff/a
				}
			}
			buf[4*x], buf[4*x+1], buf[4*x+2], buf[4*x+3] = uint8(r>>8), uint8(g>>8), uint8(bl>>8), uint8(a>>8)
		}
		return buf
	}}
}

func cmykRows(m *image.CMYK) rows {
	b := m.Rect
	w := b.Dx()
	buf := make([]uint8, 3*w)
	return rows{w: w, h: b.Dy(), ch: 3, row: func(j int) []uint8 {
		i := m.PixOffset(b.Min.X, b.Min.Y+j)
		src := m.Pix[i : i+4*w]
		for x := 0; x < w; x++ {
			buf[3*x], buf[3*x+1], buf[3*x+2] = color.CMYKToRGB(src[4*x], src[4*x+1], src[4*x+2], src[4*x+3])
		}
		return buf
	}}
}

func palettedRows(m *image.Paletted) rows {
	var table [256][4]uint8
	for i := range table {
		table[i] = [4]uint8{0, 0, 0, 255}
		if i < len(m.Palette) && m.Palette[i] != nil {
			c := color.NRGBAModel.Convert(m.Palette[i]).(color.NRGBA)
			table[i] = [4]uint8{c.R, c.G, c.B, c.A}
		}
	}
	b := m.Rect
	w := b.Dx()
	buf := make([]uint8, 4*w)
	return rows{w: w, h: b.Dy(), ch: 4, row: func(j int) []uint8 {
		i := m.PixOffset(b.Min.X, b.Min.Y+j)
		for x, p := range m.Pix[i : i+w] {
			copy(buf[4*x:4*x+4], table[p][:])
		}
		return buf
	}}
}

func genericRows(img image.Image) rows {
	b := img.Bounds()
	w := b.Dx()
	buf := make([]uint8, 4*w)
	return rows{w: w, h: b.Dy(), ch: 4, row: func(j int) []uint8 {
		y := b.Min.Y + j
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, y)).(color.NRGBA)
			buf[4*x], buf[4*x+1], buf[4*x+2], buf[4*x+3] = c.R, c.G, c.B, c.A
		}
		return buf
	}}
}

func rgbToNRGBA(rgb []uint8, w, h int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i, o := 0, 0; i < len(rgb); i, o = i+3, o+4 {
		out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = rgb[i], rgb[i+1], rgb[i+2], 255
	}
	return out
}

// shrinkYCbCr averages the Y, Cb and Cr planes separately, each at its own
// resolution, then converts to RGB at the output size. It returns nil when
// the image's buffers do not match its geometry (hand-made images), so the
// caller falls back to At.
func shrinkYCbCr(m *image.YCbCr, dw, dh int, red reduction) *image.NRGBA {
	var hs, vs int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio422:
		hs, vs = 2, 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		hs, vs = 1, 2
	case image.YCbCrSubsampleRatio411:
		hs, vs = 4, 1
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	default:
		return nil
	}
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	// Chroma samples used by the rectangle; index 0 of Cb/Cr is chroma
	// column Min.X/hs of row Min.Y/vs (see image.YCbCr.COffset).
	cw := (b.Max.X-1)/hs - b.Min.X/hs + 1
	chh := (b.Max.Y-1)/vs - b.Min.Y/vs + 1
	yo := m.YOffset(b.Min.X, b.Min.Y)
	if yo < 0 || m.YStride < w || m.CStride < cw ||
		len(m.Y) < yo+(h-1)*m.YStride+w ||
		len(m.Cb) < (chh-1)*m.CStride+cw || len(m.Cr) < (chh-1)*m.CStride+cw {
		return nil
	}
	yr := newResampler(red.with(rows{w: w, h: h, ch: 1, stable: true, row: func(j int) []uint8 {
		i := yo + j*m.YStride
		return m.Y[i : i+w]
	}}), dw, dh)
	// Cb and Cr share their geometry and weights: one pass filters both.
	cr := newResampler(red.with(rows{w: cw, h: chh, ch: 2, stable: true,
		row2: func(j int) ([]uint8, []uint8) {
			i := j * m.CStride
			return m.Cb[i : i+cw], m.Cr[i : i+cw]
		},
		xEdges: chromaEdges(b.Min.X, b.Max.X, hs, cw),
		yEdges: chromaEdges(b.Min.Y, b.Max.Y, vs, chh),
	}), dw, dh)
	// Row by row, so the planes' output rows stay in cache until converted.
	ys, cbcr := make([]uint8, dw), make([]uint8, 2*dw)
	var out *image.NRGBA
	if n := 4 * dw * dh; cap(red.buf) >= n {
		// Every byte is written below.
		out = &image.NRGBA{Pix: red.buf[:n], Stride: 4 * dw, Rect: image.Rect(0, 0, dw, dh)}
	} else {
		out = image.NewNRGBA(image.Rect(0, 0, dw, dh))
	}
	for k := 0; k < dh; k++ {
		yr.row(k, ys)
		cr.row(k, cbcr)
		ycbcrToNRGBA(out.Pix[k*out.Stride:k*out.Stride+4*dw], ys, cbcr[:dw], cbcr[dw:], 0xff<<24)
	}
	return out
}

// ycbcrToNRGBA converts a row of Y, Cb and Cr to NRGBA with alpha
// (0xff<<24 for opaque), exactly as color.YCbCrToRGB does
// (TestYCbCrConversionExhaustive checks all 2^24 inputs), but inline: the
// call per pixel cost as much as the arithmetic. JFIF full-range BT.601 in
// 16.16 fixed point: luma scaled by 0x10101 (255 maps to 0xffffff), chroma
// terms of 1.402, 0.34414, 0.71414 and 1.772 per level from 128; results
// clamp to [0, 255]. alpha is a parameter, not a constant, so the compiler
// keeps the pixel one 32-bit store (with a constant top byte it splits it).
func ycbcrToNRGBA(o, ys, cbs, crs []uint8, alpha uint32) {
	o = o[:4*len(ys)]
	cbs = cbs[:len(ys)]
	crs = crs[:len(ys)]
	for x, yv := range ys {
		y := int32(yv) * 0x10101
		cb, cr := int32(cbs[x])-128, int32(crs[x])-128
		r := clamp16(y + 91881*cr)
		g := clamp16(y - 22554*cb - 46802*cr)
		b := clamp16(y + 116130*cb)
		binary.LittleEndian.PutUint32(o[4*x:4*x+4:4*x+4], r|g<<8|b<<16|alpha)
	}
}

// clamp16 is the integer part of the 16.16 fixed-point v clamped to [0, 255].
func clamp16(v int32) uint32 {
	if uint32(v) <= 0xffffff {
		return uint32(v) >> 16
	}
	if v < 0 {
		return 0
	}
	return 255
}

// chromaEdges are the edges, in image pixels from lo, of the n chroma
// samples subsampled by s that cover [lo, hi): sample c is chroma
// coordinate lo/s + c and covers image pixels [q*s, (q+1)*s), clipped to
// the rectangle.
func chromaEdges(lo, hi, s, n int) []int {
	e := make([]int, n+1)
	for c := range e {
		e[c] = min(max((lo/s+c)*s, lo), hi) - lo
	}
	e[0] = 0
	return e
}

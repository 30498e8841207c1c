package media

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// hidden hides the concrete type so Shrink takes the generic At path.
type hidden struct{ image.Image }

func TestShrinkExactAverage4x4(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 4, 4))
	copy(g.Pix, []uint8{
		0, 10, 100, 100,
		20, 30, 100, 104,
		255, 255, 1, 2,
		255, 251, 3, 4,
	})
	out, ok := Shrink(g, 2).(*image.Gray)
	if !ok {
		t.Fatalf("gray became %T", Shrink(g, 2))
	}
	want := []uint8{15, 101, 254, 3} // 60/4, 404/4, 1016/4, 10/4=2.5 -> 3 (round half up)
	if out.Rect != image.Rect(0, 0, 2, 2) || string(out.Pix) != string(want) {
		t.Errorf("got %v %v, want %v", out.Rect, out.Pix, want)
	}
	// The same through NRGBA, RGBA, generic: every channel averaged alike.
	n := image.NewNRGBA(g.Rect)
	for i, v := range g.Pix {
		n.Pix[4*i], n.Pix[4*i+1], n.Pix[4*i+2], n.Pix[4*i+3] = v, 255-v, v/2, 255
	}
	for _, in := range []image.Image{n, hidden{n}} {
		o := Shrink(in, 2).(*image.NRGBA)
		for i, v := range want {
			got := o.Pix[4*i : 4*i+4]
			if got[0] != v || got[3] != 255 {
				t.Errorf("%T: pixel %d = %v, want R %d", in, i, got, v)
			}
		}
	}
}

func TestShrinkFractionalWeights(t *testing.T) {
	// 3 -> 2: output 0 covers source 0 and half of 1, output 1 the other half and 2.
	g := image.NewGray(image.Rect(0, 0, 3, 1))
	copy(g.Pix, []uint8{0, 90, 180})
	out := Shrink(g, 2).(*image.Gray)
	if out.Rect.Dx() != 2 || out.Rect.Dy() != 1 || out.Pix[0] != 30 || out.Pix[1] != 150 {
		t.Errorf("3->2: %v %v, want [30 150]", out.Rect, out.Pix)
	}
	// 5x5 -> 2x2 in both directions at once: corner weights 2.5*2.5.
	g = image.NewGray(image.Rect(0, 0, 5, 5))
	g.Pix[0] = 250 // only the top-left source pixel is lit
	out = Shrink(g, 2).(*image.Gray)
	// 250 * 1 / 6.25 = 40
	if out.Pix[0] != 40 || out.Pix[1] != 0 || out.Pix[2] != 0 || out.Pix[3] != 0 {
		t.Errorf("5->2: %v", out.Pix)
	}
	g.Pix[12] = 250 // the centre pixel is shared by all four outputs, a quarter each
	out = Shrink(g, 2).(*image.Gray)
	if out.Pix[0] != 50 || out.Pix[3] != 10 { // (250+62.5)/6.25 = 50, 62.5/6.25 = 10
		t.Errorf("5->2 centre: %v", out.Pix)
	}
}

func TestShrinkSizes(t *testing.T) {
	tests := []struct{ w, h, max, dw, dh int }{
		{4000, 3000, 1024, 1024, 768},
		{3000, 4000, 1024, 768, 1024},
		{1000, 1000, 1024, 1000, 1000}, // no upscale
		{1025, 10, 1024, 1024, 10},
		{1, 5000, 1024, 1, 1024},
		{5000, 1, 1024, 1024, 1},
		{5000, 2, 1024, 1024, 1}, // 0.41 rounds to 0, kept at 1
		{7, 3, 0, 7, 3},          // maxSide <= 0: copy
		{1, 1, 1, 1, 1},
		{333, 100, 100, 100, 30},
	}
	for _, tt := range tests {
		g := image.NewGray(image.Rect(10, 20, 10+tt.w, 20+tt.h))
		for i := range g.Pix {
			g.Pix[i] = 77
		}
		out := Shrink(g, tt.max).(*image.Gray)
		if out.Rect != image.Rect(0, 0, tt.dw, tt.dh) {
			t.Errorf("%dx%d max %d: got %v, want %dx%d", tt.w, tt.h, tt.max, out.Rect, tt.dw, tt.dh)
			continue
		}
		for _, v := range out.Pix {
			if v != 77 {
				t.Fatalf("%dx%d: flat image changed to %d", tt.w, tt.h, v)
			}
		}
	}
}

func TestShrinkCopyIsIndependent(t *testing.T) {
	n := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range n.Pix {
		n.Pix[i] = uint8(i * 9)
	}
	out := Shrink(n, 10).(*image.NRGBA)
	if string(out.Pix) != string(n.Pix) {
		t.Fatalf("copy differs: %v vs %v", out.Pix, n.Pix)
	}
	out.Pix[0]++
	if n.Pix[0] != 0 {
		t.Error("Shrink returned the source buffer")
	}
}

func TestShrinkOneByN(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 1, 3000), image.Rect(0, 0, 3000, 1), image.Rect(0, 0, 1, 1)} {
		y := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		for i := range y.Y {
			y.Y[i] = uint8(40 + i%150) // in gamut with the chroma below
		}
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = 100, 150
		}
		out := Shrink(y, 100)
		gen := Shrink(hidden{y}, 100)
		if out.Bounds() != gen.Bounds() || out.Bounds().Dx() > 100 || out.Bounds().Dy() > 100 {
			t.Fatalf("%v: bounds %v / %v", r, out.Bounds(), gen.Bounds())
		}
		if d := maxDiff(out, gen); d > 2 {
			t.Errorf("%v: fast path differs from At path by %d", r, d)
		}
	}
	if got := Shrink(image.NewNRGBA(image.Rect(0, 0, 0, 5)), 10).Bounds(); !got.Empty() {
		t.Errorf("empty image: %v", got)
	}
}

func TestShrinkEmpty(t *testing.T) {
	if _, ok := Shrink(image.NewGray(image.Rect(0, 0, 0, 0)), 8).(*image.Gray); !ok {
		t.Error("empty gray is not gray")
	}
	if _, ok := Shrink(image.NewRGBA(image.Rect(0, 0, 9, 0)), 8).(*image.NRGBA); !ok {
		t.Error("empty RGBA is not NRGBA")
	}
}

// maxDiff is the largest per-channel difference (8-bit straight RGBA).
func maxDiff(a, b image.Image) int {
	d := 0
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			p := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y)).(color.NRGBA)
			q := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
			for _, v := range []int{int(p.R) - int(q.R), int(p.G) - int(q.G), int(p.B) - int(q.B), int(p.A) - int(q.A)} {
				d = max(d, v, -v)
			}
		}
	}
	return d
}

func TestShrinkYCbCrRealPhotoMatchesGeneric(t *testing.T) {
	img, _, err := Decode(readTestdata(t, "Canon_PowerShot_S40.jpg"), JPEG, 0)
	if err != nil {
		t.Fatal(err)
	}
	y, ok := img.(*image.YCbCr)
	if !ok {
		t.Fatalf("decoded %T", img)
	}
	t.Logf("subsampling %v", y.SubsampleRatio)
	// Averaging Y, Cb, Cr and converting once differs from converting
	// every pixel only where RGB conversion clamps (out-of-gamut YCbCr,
	// common at saturated highlights): a mean of clamped values is not the
	// clamp of a mean. Measured on this photo: at most 0.1% of channel
	// values beyond 2 levels. In gamut the two agree within 2 levels
	// (TestShrinkYCbCrAllRatios).
	for _, side := range []int{480, 200, 97, 64, 10} {
		fast := Shrink(y, side).(*image.NRGBA)
		gen := Shrink(hidden{y}, side).(*image.NRGBA)
		if fast.Bounds() != gen.Bounds() {
			t.Fatalf("bounds %v vs %v", fast.Bounds(), gen.Bounds())
		}
		far, sum := 0, 0
		for i := range fast.Pix {
			d := int(fast.Pix[i]) - int(gen.Pix[i])
			d = max(d, -d)
			sum += d
			if d > 2 {
				far++
			}
		}
		frac := float64(far) / float64(len(fast.Pix))
		mean := float64(sum) / float64(len(fast.Pix))
		if frac > 0.005 || mean > 0.5 {
			t.Errorf("side %d: %.3f%% of channels beyond 2 levels, mean diff %.3f", side, 100*frac, mean)
		}
		if side == 480 && maxDiff(fast, gen) > 2 { // no averaging: only conversion rounding
			t.Errorf("side 480 (copy): differs by %d", maxDiff(fast, gen))
		}
	}
}

func TestShrinkYCbCrAllRatios(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411,
		image.YCbCrSubsampleRatio410}
	for _, ratio := range ratios {
		for _, r := range []image.Rectangle{image.Rect(0, 0, 64, 48), image.Rect(0, 0, 67, 45), image.Rect(0, 0, 8, 160)} {
			m := image.NewYCbCr(r, ratio)
			// smooth content (like a photo) so chroma is locally constant-ish
			for yy := 0; yy < r.Dy(); yy++ {
				for xx := 0; xx < r.Dx(); xx++ {
					m.Y[m.YOffset(xx, yy)] = uint8(60 + xx + yy + rng.IntN(3))
				}
			}
			for i := range m.Cb {
				m.Cb[i], m.Cr[i] = uint8(110+i%20), uint8(140-i%15)
			}
			for _, side := range []int{32, 21, 7} {
				fast := Shrink(m, side)
				gen := Shrink(hidden{m}, side)
				if d := maxDiff(fast, gen); d > 2 {
					t.Errorf("%v %v side %d: fast vs At differ by %d", ratio, r, side, d)
				}
			}
			// A sub-image with odd origin goes through the same path.
			sub := m.SubImage(image.Rect(3, 5, r.Dx()-1, r.Dy()-2))
			if d := maxDiff(Shrink(sub, 16), Shrink(hidden{sub}, 16)); d > 3 {
				t.Errorf("%v %v sub-image: differ by %d", ratio, r, d)
			}
		}
	}
}

func TestShrinkRGBACMYKPalettedMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := image.Rect(5, 7, 5+91, 7+53)
	rgba := image.NewRGBA(r)
	cmyk := image.NewCMYK(r)
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{200, 100, 50, 128}, color.Transparent, color.White})
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := uint8(rng.IntN(256))
		if i%3 == 0 {
			a = 255
		}
		rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3] = uint8(rng.IntN(int(a)+1)), uint8(rng.IntN(int(a)+1)), uint8(rng.IntN(int(a)+1)), a
	}
	for i := range cmyk.Pix {
		cmyk.Pix[i] = uint8(rng.IntN(256))
	}
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rng.IntN(4))
	}
	for _, m := range []image.Image{rgba, cmyk, pal} {
		for _, side := range []int{91, 40, 13} {
			fast := Shrink(m, side)
			if _, ok := fast.(*image.NRGBA); !ok {
				t.Fatalf("%T -> %T", m, fast)
			}
			// The At path reads straight colour through color.NRGBAModel,
			// which rounds differently from the RGBA fast path by a level.
			if d := maxDiff(fast, Shrink(hidden{m}, side)); d > 1 {
				t.Errorf("%T side %d: differs from At path by %d", m, side, d)
			}
		}
	}
}

func TestShrinkAlphaStraight(t *testing.T) {
	// Alpha is averaged on its own; colour is averaged as stored.
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(n.Pix, []uint8{200, 0, 0, 0, 100, 0, 0, 255})
	out := Shrink(n, 1).(*image.NRGBA)
	if got := out.Pix[:4]; got[0] != 150 || got[3] != 128 {
		t.Errorf("got %v, want R 150 A 128", got)
	}
}

func TestShrink16BitAndNYCbCrAMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	r := image.Rect(2, 3, 2+77, 3+41)
	n64 := image.NewNRGBA64(r)
	r64 := image.NewRGBA64(r)
	for i := 0; i < len(n64.Pix); i += 8 {
		for c := 0; c < 8; c++ {
			n64.Pix[i+c] = uint8(rng.IntN(256))
		}
		n64.Pix[i+6] |= 0xc0 // the At path loses straight colour at low alpha
		a := uint16(rng.IntN(0x10000))
		if i%24 == 0 {
			a = 0xffff
		}
		r64.Pix[i+6], r64.Pix[i+7] = uint8(a>>8), uint8(a)
		for c := 0; c < 6; c += 2 {
			v := uint16(rng.IntN(int(a) + 1))
			r64.Pix[i+c], r64.Pix[i+c+1] = uint8(v>>8), uint8(v)
		}
	}
	ya := image.NewNYCbCrA(r, image.YCbCrSubsampleRatio420)
	for i := range ya.Y {
		ya.Y[i] = uint8(60 + i%100)
	}
	for i := range ya.Cb {
		ya.Cb[i], ya.Cr[i] = uint8(120+i%10), uint8(130-i%10)
	}
	for i := range ya.A {
		ya.A[i] = uint8(rng.IntN(256))
	}
	// Straight colour through At (premultiplied) loses precision at low
	// alpha, so NYCbCrA is checked as colour (its opaque YCbCr) and alpha
	// (its A plane as grey) separately.
	for _, side := range []int{77, 30, 9} {
		fast := Shrink(ya, side).(*image.NRGBA)
		colour := Shrink(hidden{&ya.YCbCr}, side).(*image.NRGBA)
		alpha := Shrink(&image.Gray{Pix: ya.A, Stride: ya.AStride, Rect: ya.Rect}, side).(*image.Gray)
		for i := range alpha.Pix {
			for c := 0; c < 3; c++ {
				if d := int(fast.Pix[4*i+c]) - int(colour.Pix[4*i+c]); d > 2 || d < -2 {
					t.Fatalf("NYCbCrA side %d: colour differs by %d", side, d)
				}
			}
			if fast.Pix[4*i+3] != alpha.Pix[i] {
				t.Fatalf("NYCbCrA side %d: alpha %d, want %d", side, fast.Pix[4*i+3], alpha.Pix[i])
			}
		}
	}
	for _, m := range []image.Image{n64, r64} {
		for _, side := range []int{77, 30, 9} {
			fast := Shrink(m, side)
			if _, ok := fast.(*image.NRGBA); !ok {
				t.Fatalf("%T -> %T", m, fast)
			}
			if d := maxDiff(fast, Shrink(hidden{m}, side)); d > 2 {
				t.Errorf("%T side %d: differs from At path by %d", m, side, d)
			}
		}
	}
}

// The reference below is the first implementation of resample: variable tap
// counts, horizontal pass per source row first, a full 64-bit division per
// sample, Cb and Cr filtered apart. The optimised resample must give the
// same bytes: its sums are the same exact integers, only ordered and scaled
// differently.

type refAxis struct {
	first []int
	offs  []int
	w     []uint64
}

func refNewAxis(edges []int, dst int) refAxis {
	n := len(edges) - 1
	length := int64(edges[n])
	a := refAxis{first: make([]int, dst), offs: make([]int, dst+1)}
	d := int64(dst)
	i := 0
	for k := int64(0); k < d; k++ {
		lo, hi := k*length, (k+1)*length
		for i < n-1 && int64(edges[i+1])*d <= lo {
			i++
		}
		a.first[k] = i
		for j := i; j < n; j++ {
			start, end := max(lo, int64(edges[j])*d), min(hi, int64(edges[j+1])*d)
			if start >= hi {
				break
			}
			a.w = append(a.w, uint64(max(end-start, 0)))
		}
		a.offs[k+1] = len(a.w)
	}
	return a
}

// refResample filters interleaved rows (ch 1, 3 or 4).
func refResample(src rows, dw, dh int, dst []uint8) {
	xe, ye := src.xEdges, src.yEdges
	if xe == nil {
		xe = unitEdges(src.w)
	}
	if ye == nil {
		ye = unitEdges(src.h)
	}
	xa, ya := refNewAxis(xe, dw), refNewAxis(ye, dh)
	ch := src.ch
	n := dw * ch
	den := uint64(xe[src.w]) * uint64(ye[src.h])
	hrow := make([]uint64, n)
	acc := make([]uint64, n)
	for k := 0; k < dh; k++ {
		clear(acc)
		for t, wy := range ya.w[ya.offs[k]:ya.offs[k+1]] {
			row := src.row(ya.first[k] + t)
			for x := 0; x < dw; x++ {
				for c := 0; c < ch; c++ {
					var s uint64
					for i, w := range xa.w[xa.offs[x]:xa.offs[x+1]] {
						s += uint64(row[(xa.first[x]+i)*ch+c]) * w
					}
					hrow[x*ch+c] = s
				}
			}
			for i, v := range hrow {
				acc[i] += v * wy
			}
		}
		for i, v := range acc {
			dst[k*n+i] = uint8((v + den/2) / den)
		}
	}
}

// refShrinkYCbCr is the first shrinkYCbCr on refResample.
func refShrinkYCbCr(m *image.YCbCr, maxSide int) *image.NRGBA {
	hs, vs := map[image.YCbCrSubsampleRatio][2]int{
		image.YCbCrSubsampleRatio444: {1, 1}, image.YCbCrSubsampleRatio422: {2, 1},
		image.YCbCrSubsampleRatio420: {2, 2}, image.YCbCrSubsampleRatio440: {1, 2},
		image.YCbCrSubsampleRatio411: {4, 1}, image.YCbCrSubsampleRatio410: {4, 2},
	}[m.SubsampleRatio][0], 0
	vs = map[image.YCbCrSubsampleRatio]int{
		image.YCbCrSubsampleRatio444: 1, image.YCbCrSubsampleRatio422: 1, image.YCbCrSubsampleRatio420: 2,
		image.YCbCrSubsampleRatio440: 2, image.YCbCrSubsampleRatio411: 1, image.YCbCrSubsampleRatio410: 2,
	}[m.SubsampleRatio]
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	dw, dh := fitSize(w, h, maxSide)
	cw := (b.Max.X-1)/hs - b.Min.X/hs + 1
	chh := (b.Max.Y-1)/vs - b.Min.Y/vs + 1
	yo := m.YOffset(b.Min.X, b.Min.Y)
	plane := func(p []uint8, stride, off, pw, ph int) rows {
		return rows{w: pw, h: ph, ch: 1, row: func(j int) []uint8 {
			i := off + j*stride
			return p[i : i+pw]
		}}
	}
	n := dw * dh
	ys, cbs, crs := make([]uint8, n), make([]uint8, n), make([]uint8, n)
	refResample(plane(m.Y, m.YStride, yo, w, h), dw, dh, ys)
	cp := plane(m.Cb, m.CStride, 0, cw, chh)
	cp.xEdges = chromaEdges(b.Min.X, b.Max.X, hs, cw)
	cp.yEdges = chromaEdges(b.Min.Y, b.Max.Y, vs, chh)
	refResample(cp, dw, dh, cbs)
	cp.row = plane(m.Cr, m.CStride, 0, cw, chh).row
	refResample(cp, dw, dh, crs)
	out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for i := 0; i < n; i++ {
		r, g, bl := color.YCbCrToRGB(ys[i], cbs[i], crs[i])
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = r, g, bl, 255
	}
	return out
}

// TestResampleMatchesReference checks resample byte for byte against the
// straightforward reference, for every channel layout, unit and chroma-like
// sample edges, and sizes with awkward ratios (including the upsampling of
// chroma planes that happens when the output is finer than the chroma).
func TestResampleMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	randEdges := func(n int) []int {
		if rng.IntN(2) == 0 {
			return nil
		}
		s := []int{2, 4}[rng.IntN(2)]
		lo := rng.IntN(9)
		hi := (lo/s+n-1)*s + 1 + rng.IntN(s) // last sample cut anywhere
		return chromaEdges(lo, hi, s, n)
	}
	for iter := 0; iter < 300; iter++ {
		w, h := 1+rng.IntN(90), 1+rng.IntN(90)
		if iter%10 == 0 {
			w, h = 1+rng.IntN(400), 1+rng.IntN(30)
		}
		ch := []int{1, 2, 3, 4}[rng.IntN(4)]
		xe, ye := randEdges(w), randEdges(h)
		lx, ly := w, h
		if xe != nil {
			lx = xe[w]
		}
		if ye != nil {
			ly = ye[h]
		}
		dw, dh := 1+rng.IntN(lx), 1+rng.IntN(ly)
		planes := make([][]uint8, 1+ch/2*(2-ch/2)) // 2 planes for ch 2, else 1
		for p := range planes {
			pc := ch
			if ch == 2 {
				pc = 1
			}
			planes[p] = make([]uint8, w*h*pc)
			for i := range planes[p] {
				planes[p][i] = uint8(rng.IntN(256))
				if iter%3 == 0 {
					planes[p][i] = 255 // the largest sums
				}
			}
		}
		plane := func(p []uint8, pc int, stable bool) rows {
			buf := make([]uint8, w*pc)
			return rows{w: w, h: h, ch: pc, stable: stable, xEdges: xe, yEdges: ye, row: func(j int) []uint8 {
				if stable {
					return p[j*w*pc : (j+1)*w*pc]
				}
				copy(buf, p[j*w*pc:])
				return buf
			}}
		}
		var want []uint8
		got := make([]uint8, dw*dh*ch)
		if ch == 2 {
			a, b := make([]uint8, dw*dh), make([]uint8, dw*dh)
			refResample(plane(planes[0], 1, true), dw, dh, a)
			refResample(plane(planes[1], 1, true), dw, dh, b)
			for k := 0; k < dh; k++ { // row k: plane a's row, then plane b's
				want = append(want, a[k*dw:(k+1)*dw]...)
				want = append(want, b[k*dw:(k+1)*dw]...)
			}
			if iter%2 == 1 { // the path for sums too large to pack two planes in 64 bits
				packLimit = 0
			}
			resample(rows{w: w, h: h, ch: 2, stable: true, xEdges: xe, yEdges: ye, row2: func(j int) ([]uint8, []uint8) {
				return planes[0][j*w : (j+1)*w], planes[1][j*w : (j+1)*w]
			}}, dw, dh, got)
			packLimit = 1 << 32
		} else {
			want = make([]uint8, dw*dh*ch)
			refResample(plane(planes[0], ch, true), dw, dh, want)
			resample(plane(planes[0], ch, iter%2 == 0), dw, dh, got)
		}
		if string(got) != string(want) {
			t.Fatalf("%dx%d ch %d edges %v %v -> %dx%d: differs from the reference\ngot  %v\nwant %v",
				w, h, ch, xe, ye, dw, dh, got, want)
		}
	}
}

// TestShrinkYCbCrMatchesReference: the YCbCr fast path gives exactly the
// reference's bytes (all subsample ratios, odd sizes and origins, and the
// benchmark's 1600 px photo at the ingest size).
func TestShrinkYCbCrMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411,
		image.YCbCrSubsampleRatio410}
	check := func(m *image.YCbCr, side int) {
		t.Helper()
		got := Shrink(m, side).(*image.NRGBA)
		want := refShrinkYCbCr(m, side)
		if got.Rect != want.Rect || string(got.Pix) != string(want.Pix) {
			t.Fatalf("%v %v side %d: differs from the reference", m.SubsampleRatio, m.Rect, side)
		}
	}
	for _, ratio := range ratios {
		for _, r := range []image.Rectangle{image.Rect(0, 0, 64, 48), image.Rect(0, 0, 67, 45), image.Rect(0, 0, 9, 161)} {
			m := image.NewYCbCr(r, ratio)
			for i := range m.Y {
				m.Y[i] = uint8(rng.IntN(256))
			}
			for i := range m.Cb {
				m.Cb[i], m.Cr[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
			}
			for _, side := range []int{200, 47, 32, 21, 7, 1} {
				check(m, side)
			}
			check(m.SubImage(image.Rect(3, 5, r.Dx()-1, r.Dy()-2)).(*image.YCbCr), 16)
		}
	}
	check(photo1600(), 1024)
	check(photo1600().SubImage(image.Rect(1, 1, 1599, 1199)).(*image.YCbCr), 1024)
}

// TestYCbCrConversionExhaustive: the inline conversion equals
// color.YCbCrToRGB for every Y, Cb, Cr.
func TestYCbCrConversionExhaustive(t *testing.T) {
	ys := make([]uint8, 256)
	for i := range ys {
		ys[i] = uint8(i)
	}
	cbs, crs := make([]uint8, 256), make([]uint8, 256)
	o := make([]uint8, 1024)
	for cb := 0; cb < 256; cb++ {
		for cr := 0; cr < 256; cr++ {
			for i := range ys {
				cbs[i], crs[i] = uint8(cb), uint8(cr)
			}
			ycbcrToNRGBA(o, ys, cbs, crs, 0xff<<24)
			for y := range 256 {
				r, g, b := color.YCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				if p := o[4*y : 4*y+4]; p[0] != r || p[1] != g || p[2] != b || p[3] != 255 {
					t.Fatalf("Y %d Cb %d Cr %d: got %v, want %d %d %d 255", y, cb, cr, p, r, g, b)
				}
			}
		}
	}
}

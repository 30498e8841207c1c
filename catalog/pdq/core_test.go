package pdq

import (
	"errors"
	"image"
	"image/color"
	"math"
	"testing"
)

// refBox1D is the reference's one-dimensional box pass over a strided vector, written out the way
// the reference walks memory (one column at a time for the vertical pass). It is the oracle for the
// production passes, which reorder the walk but must give identical bits.
func refBox1D(in, out []float32, start, n, stride, w int) {
	h := (w + 2) / 2
	var sum float32
	cur := 0
	ri, li, oi := start, start, start
	for i := 0; i < h-1; i++ {
		sum += in[ri]
		cur++
		ri += stride
	}
	for i := 0; i < w-h+1; i++ {
		sum += in[ri]
		cur++
		out[oi] = sum / float32(cur)
		ri += stride
		oi += stride
	}
	for i := 0; i < n-w; i++ {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(cur)
		li += stride
		ri += stride
		oi += stride
	}
	for i := 0; i < h-1; i++ {
		sum -= in[li]
		cur--
		out[oi] = sum / float32(cur)
		li += stride
		oi += stride
	}
}

// refGrid blurs (two full iterations over full buffers) and decimates like the reference.
func refGrid(luma []float32, rows, cols int) (g [gridSize][gridSize]float32) {
	a := append([]float32(nil), luma...)
	b := make([]float32, len(a))
	wH, wV := windowSize(cols), windowSize(rows)
	for range 2 {
		for r := range rows {
			refBox1D(a, b, r*cols, cols, 1, wH)
		}
		for c := range cols {
			refBox1D(b, a, c, rows, cols, wV)
		}
	}
	for i := range gridSize {
		ii := int((float64(i) + 0.5) * float64(rows) / 64)
		for j := range gridSize {
			jj := int((float64(j) + 0.5) * float64(cols) / 64)
			g[i][j] = a[ii*cols+jj]
		}
	}
	return g
}

// testLuma makes a deterministic pseudo-random image with structure (smooth waves) and noise.
func testLuma(rows, cols int, seed uint32) []float32 {
	l := make([]float32, rows*cols)
	x := seed
	for r := range rows {
		for c := range cols {
			x = x*1664525 + 1013904223
			v := 128 + 60*math.Sin(float64(r)/17+float64(seed)) + 50*math.Cos(float64(c)/23) + float64(x>>27)
			l[r*cols+c] = float32(math.Round(v))
		}
	}
	return l
}

func TestBlurMatchesReferenceWalk(t *testing.T) {
	// Row counts around the batch of 4 and window sizes 1 to 9, even and odd, columns with
	// repeated sample indexes (fewer than 64) and windows reaching past the samples.
	sizes := [][2]int{{5, 5}, {5, 9}, {6, 7}, {7, 6}, {8, 11}, {64, 64}, {7, 300}, {129, 129}, {128, 257}, {300, 7},
		{255, 1000}, {1003, 641}, {1030, 130}, {257, 385}, {1153, 33}, {389, 1151}}
	for i, s := range sizes {
		rows, cols := s[0], s[1]
		luma := testLuma(rows, cols, uint32(i+1))
		want := refGrid(luma, rows, cols)
		var got [gridSize][gridSize]float32
		blurGrid(rows, cols, func(y int, dst []float32) { copy(dst, luma[y*cols:(y+1)*cols]) }, &got)
		if got != want {
			t.Errorf("%dx%d: blurred grid differs from the reference walk", cols, rows)
		}
		res, err := FromLuma(luma, rows, cols)
		if err != nil {
			t.Fatal(err)
		}
		var b [dctSize][dctSize]float32
		dct(&want, &b)
		if res.Hash != threshold(&b) || res.Quality != quality(&want) {
			t.Errorf("%dx%d: FromLuma differs from the reference walk", cols, rows)
		}
	}
}

func TestFromLumaInputUntouchedAndDeterministic(t *testing.T) {
	luma := testLuma(200, 150, 7)
	keep := append([]float32(nil), luma...)
	r1, err := FromLuma(luma, 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	for i := range luma {
		if luma[i] != keep[i] {
			t.Fatal("FromLuma modified its input")
		}
	}
	r2, _ := FromLuma(luma, 200, 150)
	if r1 != r2 {
		t.Fatal("not deterministic")
	}
	if r1.Quality < 50 {
		t.Errorf("quality %d for a structured image", r1.Quality)
	}
}

func TestTooSmallAndBadDims(t *testing.T) {
	for _, s := range [][2]int{{4, 4}, {4, 100}, {100, 4}, {0, 0}} {
		if _, err := FromLuma(make([]float32, s[0]*s[1]), s[0], s[1]); !errors.Is(err, ErrTooSmall) {
			t.Errorf("%dx%d: %v, want ErrTooSmall", s[0], s[1], err)
		}
		if _, err := FromImage(image.NewGray(image.Rect(0, 0, s[1], s[0]))); !errors.Is(err, ErrTooSmall) {
			t.Errorf("image %dx%d: %v, want ErrTooSmall", s[0], s[1], err)
		}
	}
	if _, err := FromLuma(make([]float32, 25), 5, 5); err != nil {
		t.Errorf("5x5: %v", err)
	}
	if _, err := FromLuma(make([]float32, 24), 5, 5); err == nil || errors.Is(err, ErrTooSmall) {
		t.Errorf("wrong length: %v", err)
	}
	if _, err := FromLuma(nil, -5, -5); err == nil {
		t.Error("negative dims accepted")
	}
	if _, err := FromImage(nil); err == nil {
		t.Error("nil image accepted")
	}
}

// TestQualityByHand checks the quality metric on 64x64 images (no blur, identity sampling), whose
// gradients can be counted by hand: each step of 255 between neighbours adds trunc(255*100/255) = 100.
func TestQualityByHand(t *testing.T) {
	img := func(f func(r, c int) float32) []float32 {
		l := make([]float32, 64*64)
		for r := range 64 {
			for c := range 64 {
				l[r*64+c] = f(r, c)
			}
		}
		return l
	}
	cases := []struct {
		name string
		luma []float32
		want int
	}{
		{"flat", img(func(r, c int) float32 { return 77 }), 0},
		// One horizontal edge: 64 vertical pairs differ by 255: 6400 / 90 = 71.
		{"step", img(func(r, c int) float32 { return float32(255 * (r / 32)) }), 71},
		// Edge of height 100: trunc(100*100/255) = 39 per pair, 64*39 = 2496 / 90 = 27.
		{"step100", img(func(r, c int) float32 { return float32(100 * (c / 32)) }), 27},
		// Checkerboard: every pair differs by 255, far above the cap.
		{"checker", img(func(r, c int) float32 { return float32(255 * ((r + c) % 2)) }), 100},
	}
	for _, c := range cases {
		res, err := FromLuma(c.luma, 64, 64)
		if err != nil {
			t.Fatal(err)
		}
		if res.Quality != c.want {
			t.Errorf("%s: quality %d, want %d", c.name, res.Quality, c.want)
		}
	}
}

// TestTinyImageByHand: a 5x5 image is point-sampled up to 64x64 without blur, so the hash of a
// picture that is dark on the left and bright on the right equals that of the same 64x64 image
// built by repeating each pixel as the sampling grid does.
func TestTinyImageByHand(t *testing.T) {
	small := make([]float32, 25)
	for r := range 5 {
		for c := range 5 {
			small[r*5+c] = float32(40*c + 10*r)
		}
	}
	big := make([]float32, 64*64)
	for r := range 64 {
		for c := range 64 {
			// floor((i+0.5)*5/64): cells 0..12 -> 0, 13..25 -> 1, 26..38 -> 2, 39..50 -> 3, 51..63 -> 4
			big[r*64+c] = small[(r*10+5)/128*5+(c*10+5)/128]
		}
	}
	a, err := FromLuma(small, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FromLuma(big, 64, 64)
	if a != b {
		t.Errorf("5x5 %s q%d != 64x64 %s q%d", a.Hash, a.Quality, b.Hash, b.Quality)
	}
	// Brightness grows to the right: mirroring left-right changes the sign of the strongest
	// (lowest horizontal frequency) coefficient, so the image is far from its own mirror.
	if d := Distance(a.Hash, a.Dihedral[FlipY]); d < 32 {
		t.Errorf("distance to mirror %d", d)
	}
}

// rgbOf wraps an image and reports colours through the generic path (At + NRGBA), converting
// YCbCr with the same 8-bit function as the fast path.
type rgbOf struct{ image.Image }

func (m rgbOf) At(x, y int) color.Color {
	c := m.Image.At(x, y)
	if yc, ok := c.(color.YCbCr); ok {
		r, g, b := color.YCbCrToRGB(yc.Y, yc.Cb, yc.Cr)
		return color.NRGBA{r, g, b, 255}
	}
	return c
}

func TestFastPathsMatchGenericPath(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, ratio := range ratios {
		m := image.NewYCbCr(image.Rect(-3, -2, 197, 151), ratio)
		x := uint32(ratio) + 1
		for i := range m.Y {
			x = x*1664525 + 1013904223
			m.Y[i] = byte(i%200) + byte(x>>29)
		}
		for i := range m.Cb {
			x = x*1664525 + 1013904223
			m.Cb[i], m.Cr[i] = byte(x>>24), byte(x>>16)
		}
		for _, r := range []image.Rectangle{m.Rect, image.Rect(1, 3, 150, 140), image.Rect(-2, -1, 120, 100)} {
			sub := m.SubImage(r)
			fast, err := FromImage(sub)
			if err != nil {
				t.Fatal(err)
			}
			slow, err := FromImage(rgbOf{sub})
			if err != nil {
				t.Fatal(err)
			}
			if fast != slow {
				t.Errorf("YCbCr %v %v: fast path differs from generic path", ratio, r)
			}
		}
	}
	// NRGBA fast path vs generic path via a wrapper; alpha ignored.
	n := image.NewNRGBA(image.Rect(0, 0, 90, 70))
	for i := range n.Pix {
		n.Pix[i] = byte(i * 7 % 251)
	}
	a, _ := FromImage(n)
	b, _ := FromImage(rgbOf{n})
	if a != b {
		t.Error("NRGBA fast path differs from generic path")
	}
	opaque := image.NewNRGBA(n.Rect)
	copy(opaque.Pix, n.Pix)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	if c, _ := FromImage(opaque); c != a {
		t.Error("alpha changed the NRGBA hash")
	}
	// Opaque RGBA equals the same NRGBA.
	rgba := image.NewRGBA(opaque.Rect)
	copy(rgba.Pix, opaque.Pix)
	if c, _ := FromImage(rgba); c != a {
		t.Error("opaque RGBA differs from NRGBA")
	}
	// Paletted: same as NRGBA built from the palette.
	pal := image.NewPaletted(image.Rect(0, 0, 80, 60), color.Palette{color.Black, color.White, color.RGBA{200, 30, 40, 255}, color.Gray{100}})
	for i := range pal.Pix {
		pal.Pix[i] = byte(i * 13 % 5 % 4)
	}
	pa, _ := FromImage(pal)
	pb, _ := FromImage(rgbOf{pal})
	if pa != pb {
		t.Error("Paletted fast path differs from generic path")
	}
}

func TestGreyContentTakesGreyPath(t *testing.T) {
	luma := testLuma(120, 170, 3)
	g := image.NewGray(image.Rect(0, 0, 170, 120))
	for i, v := range luma {
		g.Pix[i] = byte(min(max(v, 0), 255))
	}
	want, err := FromImage(g)
	if err != nil {
		t.Fatal(err)
	}
	// The grey path is the value itself.
	grey := make([]float32, len(g.Pix))
	for i, v := range g.Pix {
		grey[i] = float32(v)
	}
	if r, _ := FromLuma(grey, 120, 170); r != want {
		t.Error("Gray image differs from FromLuma on its values")
	}
	n := image.NewNRGBA(g.Rect)
	y := image.NewYCbCr(g.Rect, image.YCbCrSubsampleRatio420)
	g16 := image.NewGray16(g.Rect)
	for i, v := range g.Pix {
		copy(n.Pix[4*i:], []byte{v, v, v, 255})
		y.Y[i] = v
		g16.Pix[2*i], g16.Pix[2*i+1] = v, 0x5a
	}
	for i := range y.Cb {
		y.Cb[i], y.Cr[i] = 128, 128
	}
	for name, img := range map[string]image.Image{"NRGBA": n, "YCbCr": y, "Gray16": g16} {
		if r, _ := FromImage(img); r != want {
			t.Errorf("grey %s hashes differently from Gray", name)
		}
	}
	// One coloured pixel switches to the weighted sum (different low bits, same picture).
	n.Pix[0] = 0
	n.Pix[2] = 255
	if r, _ := FromImage(n); Distance(r.Hash, want.Hash) > 8 {
		t.Errorf("one coloured pixel moved the hash by %d", Distance(r.Hash, want.Hash))
	}
}

type panicky struct{ image.Rectangle }

func (p panicky) ColorModel() color.Model { return color.RGBAModel }
func (p panicky) Bounds() image.Rectangle { return p.Rectangle }
func (p panicky) At(x, y int) color.Color { panic("broken image") }

func TestFromImageRecoversPanics(t *testing.T) {
	if _, err := FromImage(panicky{image.Rect(0, 0, 10, 10)}); err == nil {
		t.Error("panic not turned into an error")
	}
}

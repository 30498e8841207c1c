package pdq

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// The streamed passes divide by the window size through its reciprocal in float64: the result
// must be the float32 quotient, bit for bit, for every window size a 65535-pixel side can have and
// values over the whole range running sums take (sums of up to 512 values of 0..255, with the
// residues float32 additions and subtractions leave) and any normal float32. (Subnormal sums, which
// the proof excludes, cannot arise from luminance values: every sum is a multiple of 2^-57.)
func TestReciprocalDivision(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	for c := 1; c <= 2048; c++ {
		inv := 1 / float64(c)
		fc := float32(c)
		check := func(x float32) {
			if got, want := float32(float64(x)*inv), x/fc; got != want {
				t.Fatalf("x=%v (%#x) c=%d: reciprocal gives %v, division %v", x, math.Float32bits(x), c, got, want)
			}
		}
		for range 400 {
			check(float32(rng.Float64() * 255 * float64(min(c, 512))))
			if e := rng.Uint32() >> 23 & 0xff; e != 0 && e != 0xff { // any normal float32
				check(math.Float32frombits(rng.Uint32()&^(0xff<<23) | e<<23))
			}
			check(float32(rng.IntN(255*c+1)) + float32(rng.NormFloat64())) // near-integer sums
			check(-float32(rng.Float64() * 1e-3))                          // small negative residues
		}
		for x := 0; x < 600; x++ {
			check(float32(x))
			check(float32(x) * 0.299)
		}
	}
}

// lumaAt is the luminance of one pixel through the generic colour model (the oracle).
func lumaAt(img image.Image, x, y int, grey bool) float32 {
	c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	if grey {
		return float32(c.R)
	}
	return rgbLuma(c.R, c.G, c.B)
}

// The inline YCbCr conversion gives color.YCbCrToRGB's luminance for every subsampling, odd sizes
// and odd origins (sub-images).
func TestYCbCrRowMatchesColorModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, r := range ratios {
		m := image.NewYCbCr(image.Rect(0, 0, 37, 23), r)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(rng.IntN(256))
			}
		}
		for _, sub := range []image.Rectangle{m.Rect, image.Rect(1, 2, 36, 21), image.Rect(2, 1, 33, 22), image.Rect(3, 3, 4, 9)} {
			img := m.SubImage(sub).(*image.YCbCr)
			s := newLumaSource(img)
			d := make([]float32, sub.Dx())
			for j := range sub.Dy() {
				s.row(j, d)
				for x := range d {
					if want := lumaAt(img, sub.Min.X+x, sub.Min.Y+j, false); d[x] != want {
						t.Fatalf("%v %v: pixel (%d,%d) luma %v, want %v", r, sub, x, j, d[x], want)
					}
				}
			}
		}
	}
}

// blockMean reduces img by s (each output the mean of an s x s block, rounded; blocks past the
// edge average what is inside) as a *image.NRGBA.
func blockMean(img *image.NRGBA, s int) *image.NRGBA {
	b := img.Bounds()
	w, h := (b.Dx()+s-1)/s, (b.Dy()+s-1)/s
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var sum [3]int
			n := 0
			for yy := y * s; yy < min(y*s+s, b.Dy()); yy++ {
				for xx := x * s; xx < min(x*s+s, b.Dx()); xx++ {
					p := img.Pix[img.PixOffset(xx, yy):]
					for k := range sum {
						sum[k] += int(p[k])
					}
					n++
				}
			}
			o := out.Pix[out.PixOffset(x, y):]
			for k := range sum {
				o[k] = uint8((sum[k] + n/2) / n)
			}
			o[3] = 255
		}
	}
	return out
}

// testPhoto makes a w x h colour image with smooth structure at several scales and a little noise
// (photo-like: the pixel-to-pixel variation is small next to the structure).
func testPhoto(w, h int, seed uint32) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := seed
	for r := range h {
		for c := range w {
			x = x*1664525 + 1013904223
			v := 128 + 50*math.Sin(float64(r)/37+float64(seed)) + 40*math.Cos(float64(c)/53) +
				20*math.Sin(float64(r+c)/11) + float64(x>>29)
			p := img.Pix[img.PixOffset(c, r):]
			p[0], p[1], p[2], p[3] = uint8(v), uint8(0.8*v+20), uint8(255-v), 255
		}
	}
	return img
}

// FromReduced: at scale 1 its float64 kernels give the streamed reference grid to float32
// rounding; from block means at 1/2 to 1/8 of a photo (the bridge
// photo upscaled to 2400x1506, so that the reduced copies are what ingest would decode), the hash
// stays close to the exact one. Real decodes of the corpus photos are measured in catalog's
// TestReducedReferencePDQ. (Synthetic images made of a few sinusoids are a poor judge: most of their
// DCT coefficients sit next to the median, and 0.1 level of error flips bits.)
func TestFromReduced(t *testing.T) {
	src, err := DecodeFile(filepath.Join("testdata", "pdq-ref", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	photo := imaging.Resize(src, 2400, 1506, imaging.Linear)
	for _, img := range []*image.NRGBA{testPhoto(700, 1100, 7)} {
		b := img.Bounds()
		var want [gridSize][gridSize]float32
		blurGrid(b.Dy(), b.Dx(), newLumaSource(img).row, &want)
		kx, ky := reducedKernels(b.Dx(), 1), reducedKernels(b.Dy(), 1)
		got := kernelGrid(newLumaSource(img), &kx, &ky, b.Dy(), b.Dx())
		worst := 0.0
		for i := range got {
			for j := range got[i] {
				worst = max(worst, math.Abs(float64(got[i][j]-want[i][j])))
			}
		}
		if worst > 0.01 {
			t.Errorf("%v: kernel grid up to %v from the streamed reference grid", b, worst)
		}
	}
	exact, err := FromImage(photo)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{2, 4, 8} {
		r, err := FromReduced(blockMean(photo, s), 2400, 1506, s)
		if err != nil {
			t.Fatal(err)
		}
		d := Distance(r.Hash, exact.Hash)
		t.Logf("2400x1506 at 1/%d: %d bits from the exact hash, quality %d vs %d", s, d, r.Quality, exact.Quality)
		if bound := []int{0, 2, 6, 0, 10, 0, 0, 0, 16}[s]; d > bound {
			t.Errorf("2400x1506 at 1/%d: %d bits from the exact hash, want <= %d", s, d, bound)
		}
	}
	if _, err := FromReduced(image.NewGray(image.Rect(0, 0, 10, 10)), 40, 40, 2); err == nil {
		t.Error("a 10x10 image accepted as 40x40 reduced by 2")
	}
	if _, err := FromReduced(image.NewGray(image.Rect(0, 0, 10, 10)), 40, 40, 3); err == nil {
		t.Error("reduction 3 accepted")
	}
}

package catalog

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"slices"
	"strings"
	"testing"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
)

// Transform suite (issue 3 item 10): everyday edits of corpus photos, each encoded to bytes and
// hashed through the catalog's own path (hashBytes), compared with the original's hash through the
// 8 dihedral hashes. Recall = share of edited copies within DefaultMaxDistance of their original
// with quality >= DefaultMinQuality (originals are chosen with quality >= 50).

// evalEdit is one named transform of a decoded photo, and the JPEG quality its result is saved at.
type evalEdit struct {
	name    string
	quality int
	apply   func(src *image.RGBA) *image.RGBA
	// want is the transform PairDistance(hash(copy), hash(original)) should report, or -1.
	want pdq.Transform
	// minRecall is asserted (0: only reported, as for crops and the combination with a crop).
	minRecall float64
	// maxDist, when not 0, bounds every copy's distance (asserted).
	maxDist int
}

// editJPEGQuality is the quality edits other than "jpeg60" and the combinations are saved at.
const editJPEGQuality = 90

// Mirrors and rotations are not exact through the dihedral hashes: a lossless (PNG) mirror or rot90
// of goexif/exif/sample1.jpg (500x375) or metadata-extractor-images/png/sampleWithExifData.png
// (256x256) is 32 bits from the original's flipy/rot90 hash, one over the threshold (measured; the
// same copies saved as JPEG q90 are 32 too). The dihedral hashes come from one DCT of the original's
// 64x64 grid, but PDQ samples that grid at asymmetric positions (sampleIndex), so the grid of the
// mirrored picture is not the mirrored grid. Hence a looser recall bound for these two, and a bound
// on the distance that catches a real regression.
const (
	recallEdits    = 0.95
	recallDihedral = 0.85
	maxDihedral    = 40
)

func evalEdits() []evalEdit {
	crop := func(pct int) func(*image.RGBA) *image.RGBA {
		return func(s *image.RGBA) *image.RGBA { return cropRight(s, pct) }
	}
	combined := func(withCrop bool) func(*image.RGBA) *image.RGBA {
		return func(s *image.RGBA) *image.RGBA {
			m := resizeHalf(s)
			if withCrop {
				m = cropRight(m, 10)
			}
			return rotate90(mirrorLR(brighten(watermark(m), 1.10)))
		}
	}
	return []evalEdit{
		{name: "resize50", minRecall: recallEdits, quality: editJPEGQuality, apply: resizeHalf, want: pdq.AsIs},
		{name: "jpeg60", minRecall: recallEdits, quality: 60, apply: func(s *image.RGBA) *image.RGBA { return s }, want: pdq.AsIs},
		{name: "crop2", quality: editJPEGQuality, apply: crop(2), want: pdq.AsIs},
		{name: "crop5", quality: editJPEGQuality, apply: crop(5), want: pdq.AsIs},
		{name: "crop10", quality: editJPEGQuality, apply: crop(10), want: pdq.AsIs},
		{name: "watermark", minRecall: recallEdits, quality: editJPEGQuality, apply: watermark, want: pdq.AsIs},
		{name: "bright10", minRecall: recallEdits, quality: editJPEGQuality, apply: func(s *image.RGBA) *image.RGBA { return brighten(s, 1.10) }, want: pdq.AsIs},
		{name: "mirror", quality: editJPEGQuality, apply: mirrorLR, want: pdq.FlipY, minRecall: recallDihedral, maxDist: maxDihedral},
		{name: "rot90", quality: editJPEGQuality, apply: rotate90, want: pdq.Rot90, minRecall: recallDihedral, maxDist: maxDihedral},
		// resize 50% + crop 10% (right) + watermark + brightness +10% + mirror + rot90, saved at q60.
		// Mirror left-right then turn 90° counter-clockwise is the transpose (flipplus1).
		{name: "combined", quality: 60, apply: combined(true), want: pdq.FlipPlus1},
		{name: "combined-nocrop", quality: 60, apply: combined(false), want: pdq.FlipPlus1},
	}
}

// toRGBA copies any image into a new RGBA with its origin at 0,0.
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	xdraw.Draw(dst, dst.Bounds(), m, b.Min, xdraw.Src)
	return dst
}

func resizeHalf(s *image.RGBA) *image.RGBA {
	b := s.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, max(1, b.Dx()/2), max(1, b.Dy()/2)))
	xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), s, b, xdraw.Src, nil)
	return dst
}

// cropRight removes pct% of the width from the right side.
func cropRight(s *image.RGBA, pct int) *image.RGBA {
	b := s.Bounds()
	w := b.Dx() - b.Dx()*pct/100
	return toRGBA(s.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Min.X+w, b.Max.Y)))
}

// watermark draws, in the bottom-right corner, a half-transparent black box 15% of the width wide
// with white text in it, as channels stamp their logo.
func watermark(s *image.RGBA) *image.RGBA {
	dst := toRGBA(s)
	b := dst.Bounds()
	bw := max(8, b.Dx()*15/100)
	bh := max(4, bw/4)
	margin := b.Dx() / 50
	box := image.Rect(b.Max.X-margin-bw, b.Max.Y-margin-bh, b.Max.X-margin, b.Max.Y-margin)
	xdraw.Draw(dst, box, image.NewUniform(color.NRGBA{0, 0, 0, 140}), image.Point{}, xdraw.Over)
	// Render the text at the font's size, then scale it into the box.
	const text = "@wilayat-media"
	face := basicfont.Face7x13
	tw := font.MeasureString(face, text).Ceil()
	txt := image.NewRGBA(image.Rect(0, 0, tw+4, 17))
	d := font.Drawer{Dst: txt, Src: image.NewUniform(color.NRGBA{255, 255, 255, 230}), Face: face, Dot: fixed.P(2, 13)}
	d.DrawString(text)
	inner := image.Rect(box.Min.X+bw/20, box.Min.Y+bh/8, box.Max.X-bw/20, box.Max.Y-bh/8)
	xdraw.ApproxBiLinear.Scale(dst, inner, txt, txt.Bounds(), xdraw.Over, nil)
	return dst
}

// brighten multiplies every channel by f (clamped).
func brighten(s *image.RGBA, f float64) *image.RGBA {
	dst := toRGBA(s)
	var lut [256]uint8
	for i := range lut {
		lut[i] = uint8(min(255, float64(i)*f+0.5))
	}
	for i := 0; i < len(dst.Pix); i += 4 {
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = lut[dst.Pix[i]], lut[dst.Pix[i+1]], lut[dst.Pix[i+2]]
	}
	return dst
}

// mirrorLR flips left-right.
func mirrorLR(s *image.RGBA) *image.RGBA {
	src := toRGBA(s)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			copy(dst.Pix[y*dst.Stride+4*x:][:4], src.Pix[y*src.Stride+4*(w-1-x):][:4])
		}
	}
	return dst
}

// rotate90 turns the picture 90° counter-clockwise.
func rotate90(s *image.RGBA) *image.RGBA {
	src := toRGBA(s)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dst := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := range w {
		for x := range h {
			// dst(x, y) = src(w-1-y, x): the top-right corner comes to the top-left.
			copy(dst.Pix[y*dst.Stride+4*x:][:4], src.Pix[x*src.Stride+4*(w-1-y):][:4])
		}
	}
	return dst
}

func encodeJPEG(m image.Image, q int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q})
	return b.Bytes(), err
}

// editResult is the outcome of one edit of one photo.
type editResult struct {
	photo, edit string
	dist        int
	tr          pdq.Transform
	quality     int
	match       bool
	work        image.Image // the copy's work image, kept only for the crop prototype
}

// transformSources picks the photos the suite edits: Go-decodable, both sides >= 256 px, quality
// >= 50, one per picture (a photo related to an earlier source is skipped). small keeps every other
// third one of those of at most 1 MP (the always-on subset).
func transformSources(t *testing.T, photos []*corpusPhoto, small bool) []*corpusPhoto {
	related := relatedPairs(photos)
	var out []*corpusPhoto
	for _, p := range photos {
		if p.w < 256 || p.h < 256 || p.pdq.Quality < DefaultMinQuality || (small && p.w*p.h > 1_000_000) {
			continue
		}
		dup := slices.ContainsFunc(out, func(q *corpusPhoto) bool {
			a, b := q.name, p.name
			if a > b {
				a, b = b, a
			}
			_, ok := related[[2]string{a, b}]
			return ok
		})
		if !dup {
			out = append(out, p)
		}
	}
	if small {
		// Every third one keeps the always-on run short under -race (about 8 photos x 11 edits).
		var half []*corpusPhoto
		for i := 0; i < len(out); i += 3 {
			half = append(half, out[i])
		}
		out = half
	}
	if len(out) < 6 {
		t.Fatalf("only %d source photos for the transform suite", len(out))
	}
	return out
}

// runEdits decodes each source once and hashes every edit of it through hashBytes.
func runEdits(t *testing.T, sources []*corpusPhoto, eds []evalEdit, keepWork bool) [][]editResult {
	t.Helper()
	res := make([][]editResult, len(sources))
	errs := make([]error, len(sources))
	parallelEach(len(sources), func(i int) {
		p := sources[i]
		img, _, err := media.Decode(p.data, media.Sniff(p.data), DefaultMaxPixels)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", p.name, err)
			return
		}
		src := toRGBA(img)
		img = nil
		for _, e := range eds {
			data, err := encodeJPEG(e.apply(src), e.quality)
			if err != nil {
				errs[i] = fmt.Errorf("%s %s: %w", p.name, e.name, err)
				return
			}
			h, err := catalogHash(p.name+"#"+e.name, data)
			if err != nil || h.PDQ == nil {
				errs[i] = fmt.Errorf("%s %s: no hash: %v %v", p.name, e.name, err, h)
				return
			}
			d, tr := PairDistance(h.PDQ, p.pdq)
			r := editResult{photo: p.name, edit: e.name, dist: d, tr: tr, quality: h.PDQ.Quality,
				match: d <= DefaultMaxDistance && h.PDQ.Quality >= DefaultMinQuality}
			if keepWork {
				r.work, _, _ = workImage(t.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
			}
			res[i] = append(res[i], r)
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// editStats summarises one edit over all sources.
type editStats struct {
	n, matched, rightTr int
	dists               []int
	misses              []string
}

func summarise(t *testing.T, eds []evalEdit, res [][]editResult) map[string]*editStats {
	stats := map[string]*editStats{}
	for _, e := range eds {
		stats[e.name] = &editStats{}
	}
	wantTr := map[string]pdq.Transform{}
	for _, e := range eds {
		wantTr[e.name] = e.want
	}
	for _, rs := range res {
		for _, r := range rs {
			s := stats[r.edit]
			s.n++
			s.dists = append(s.dists, r.dist)
			if r.match {
				s.matched++
				if r.tr == wantTr[r.edit] {
					s.rightTr++
				}
			} else {
				s.misses = append(s.misses, fmt.Sprintf("%s (%d bits, q %d)", r.photo, r.dist, r.quality))
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %4s %7s %9s %4s %6s %4s %4s\n", "transform", "n", "recall", "right-tr", "min", "median", "p90", "max")
	for _, e := range eds {
		s := stats[e.name]
		lo, med, p90, hi := quantiles(s.dists)
		fmt.Fprintf(&b, "%-16s %4d %7.3f %9d %4d %6d %4d %4d\n", e.name, s.n, float64(s.matched)/float64(max(1, s.n)), s.rightTr, lo, med, p90, hi)
	}
	t.Logf("transform suite at distance <= %d, qualities >= %d (recall = matched / n; right-tr = matches reporting the expected transform):\n%s",
		DefaultMaxDistance, DefaultMinQuality, b.String())
	for _, e := range eds {
		if s := stats[e.name]; len(s.misses) > 0 && len(s.misses) <= 12 {
			t.Logf("%s misses: %s", e.name, strings.Join(s.misses, "; "))
		}
	}
	return stats
}

// TestTransformSuite edits corpus photos (resize, re-encode, crops, watermark, brightness, mirror,
// rot90, all combined) and measures recall at the defaults. Without RELCAT_EVAL=1 it runs on the
// subset (transformSources) and asserts recall >= 0.95 for resize, re-encode, watermark and
// brightness, >= 0.85 and distance <= 40 for mirror and rot90 (see recallDihedral); crops and the
// combinations are reported only. With RELCAT_EVAL=1 it runs on every eligible photo (minutes).
func TestTransformSuite(t *testing.T) {
	photos := corpusPhotos(t)
	full := os.Getenv("RELCAT_EVAL") == "1"
	sources := transformSources(t, photos, !full)
	eds := evalEdits()
	res := runEdits(t, sources, eds, false)
	t.Logf("%d source photos (full sweep: %v)", len(sources), full)
	stats := summarise(t, eds, res)
	for _, e := range eds {
		s := stats[e.name]
		if s.n != len(sources) {
			t.Errorf("%s: %d results for %d sources", e.name, s.n, len(sources))
		}
		if e.minRecall == 0 {
			continue
		}
		if r := float64(s.matched) / float64(s.n); r < e.minRecall {
			t.Errorf("%s: recall %.3f < %.2f; misses: %s", e.name, r, e.minRecall, strings.Join(s.misses, "; "))
		}
		if _, _, _, hi := quantiles(s.dists); e.maxDist > 0 && hi > e.maxDist {
			t.Errorf("%s: a copy is %d bits from its original, want <= %d; misses: %s", e.name, hi, e.maxDist, strings.Join(s.misses, "; "))
		}
		if s.rightTr != s.matched {
			t.Errorf("%s: %d of %d matches report another transform than %s", e.name, s.matched-s.rightTr, s.matched, e.want)
		}
	}
}

package catalog

import (
	"fmt"
	"image"
	"os"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
)

// Crop-tolerance prototype (issue 3 item 4; evaluation only, production code unchanged). Plain PDQ
// loses a picture once a few percent of one side are cut off. The idea measured here: besides the
// hash of the whole work image, hash sub-windows of it (the central 90% and 80%, and the 90% and
// 80% windows flush with each side) and call two images a match when some pair of their hashes
// is within the threshold (through the 8 dihedral hashes, both hashes of quality >= 50).
// Two rules:
//   - "stored": each image's whole hash against the other's windows, in either direction (what an
//     index holding 11 hashes per image, queried with the whole hash, would find in dupes);
//   - "all": every window against every window (121 pairs of hashes per pair of images).
// Runs only with RELCAT_EVAL=1 (it decodes every corpus photo again); RELCAT_EVAL_DENSE=1 swaps in
// a dense set of windows (every 2% from 98% to 80%).

// cropWindow is a sub-window of an image, as fractions kept and where it is anchored.
type cropWindow struct {
	name   string
	keep   int    // percent of each cut dimension kept
	anchor string // "c" centre (both dimensions), "l" "r" "t" "b": flush with that side (one dimension cut)
}

// windowSet is the whole image, then for each kept share: the centred window and the four windows
// flush with a side.
func windowSet(keeps ...int) []cropWindow {
	w := []cropWindow{{name: "whole", keep: 100, anchor: "c"}}
	for _, k := range keeps {
		for _, a := range []string{"c", "l", "r", "t", "b"} {
			w = append(w, cropWindow{name: fmt.Sprintf("%s%d", a, k), keep: k, anchor: a})
		}
	}
	return w
}

// The coarse set (11 hashes per image) and, with RELCAT_EVAL_DENSE=1, a dense one (51 hashes: kept
// shares 98, 96, ..., 80).
var (
	coarseWindows = windowSet(90, 80)
	denseWindows  = windowSet(98, 96, 94, 92, 90, 88, 86, 84, 82, 80)
)

func (c cropWindow) rect(b image.Rectangle) image.Rectangle {
	w, h := b.Dx(), b.Dy()
	kw, kh := w*c.keep/100, h*c.keep/100
	switch c.anchor {
	case "c":
		x0, y0 := b.Min.X+(w-kw)/2, b.Min.Y+(h-kh)/2
		return image.Rect(x0, y0, x0+kw, y0+kh)
	case "l":
		return image.Rect(b.Min.X, b.Min.Y, b.Min.X+kw, b.Max.Y)
	case "r":
		return image.Rect(b.Max.X-kw, b.Min.Y, b.Max.X, b.Max.Y)
	case "t":
		return image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+kh)
	default: // "b"
		return image.Rect(b.Min.X, b.Max.Y-kh, b.Max.X, b.Max.Y)
	}
}

// windowHashes hashes every crop window of a work image; [0] is the whole image.
func windowHashes(work image.Image, cropWindows []cropWindow) ([]pdq.Result, error) {
	rgba := toRGBA(work)
	out := make([]pdq.Result, len(cropWindows))
	for i, c := range cropWindows {
		r, err := pdq.FromImage(rgba.SubImage(c.rect(rgba.Bounds())))
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// bestPair is the smallest dihedral distance between a hash of as and a hash of bs, both of
// quality >= DefaultMinQuality, over the index pairs allowed by use; 257 when none qualifies.
func bestPair(as, bs []pdq.Result, use func(i, j int) bool) int {
	best := 257
	for i := range as {
		if as[i].Quality < DefaultMinQuality {
			continue
		}
		for j := range bs {
			if bs[j].Quality < DefaultMinQuality || !use(i, j) {
				continue
			}
			if _, d := pdq.Nearest(as[i].Hash, &bs[j].Dihedral); d < best {
				best = d
			}
		}
	}
	return best
}

func ruleStored(i, j int) bool { return i == 0 || j == 0 }
func ruleAll(i, j int) bool    { return true }
func rulePlain(i, j int) bool  { return i == 0 && j == 0 }

// TestCropPrototype measures recall on crops and false matches over unrelated corpus pairs for the
// window rules above. RELCAT_EVAL=1 only; reports, asserts only that the whole-image rule equals
// the catalog's hash.
func TestCropPrototype(t *testing.T) {
	if os.Getenv("RELCAT_EVAL") != "1" {
		t.Skip("RELCAT_EVAL=1 runs the crop prototype (decodes every corpus photo again)")
	}
	photos := corpusPhotos(t)
	cropWindows := coarseWindows
	if os.Getenv("RELCAT_EVAL_DENSE") == "1" {
		cropWindows = denseWindows
	}
	rules := []struct {
		name string
		use  func(i, j int) bool
	}{{"plain", rulePlain}, {"stored", ruleStored}, {"all", ruleAll}}

	// Windows of every corpus photo, for the false-match count.
	wins := make([][]pdq.Result, len(photos))
	errs := make([]error, len(photos))
	parallelEach(len(photos), func(i int) {
		p := photos[i]
		work, _, err := workImage(t.Context(), p.data, media.Sniff(p.data), DefaultMaxPixels, 0, nil)
		if err == nil {
			wins[i], err = windowHashes(work, cropWindows)
		}
		if err == nil && wins[i][0].Hash != p.pdq.Hash {
			err = fmt.Errorf("whole window hash %s differs from the catalog's %s", wins[i][0].Hash, p.pdq.Hash)
		}
		errs[i] = err
	})
	for i, err := range errs {
		if err != nil {
			// Images too small for a window (under 5 px) are left out of the prototype.
			t.Logf("%s: %v (left out)", photos[i].name, err)
			wins[i] = nil
		}
	}
	related := relatedPairs(photos)
	for _, r := range rules {
		var hist [257]int
		n, falses := 0, 0
		minD, minPair := 257, ""
		for i := range photos {
			for j := i + 1; j < len(photos); j++ {
				if wins[i] == nil || wins[j] == nil {
					continue
				}
				a, b := photos[i].name, photos[j].name
				if a > b {
					a, b = b, a
				}
				if _, ok := related[[2]string{a, b}]; ok {
					continue
				}
				if photos[i].pdq.Quality < DefaultMinQuality || photos[j].pdq.Quality < DefaultMinQuality {
					continue
				}
				d := min(bestPair(wins[i], wins[j], r.use), bestPair(wins[j], wins[i], r.use))
				n++
				hist[d]++
				if d <= DefaultMaxDistance {
					falses++
				}
				if d < minD {
					minD, minPair = d, a+" | "+b
				}
			}
		}
		t.Logf("rule %-6s: %d unrelated pairs, %d false matches (<= %d), minimum %d (%s)\n%s", r.name, n, falses, DefaultMaxDistance, minD, minPair, distHistogram(hist[:], 8))
	}

	// Recall on crops of the transform-suite sources.
	type cropEdit struct {
		name string
		rect func(b image.Rectangle) image.Rectangle
	}
	cut := func(right, bottom, left, top int) func(image.Rectangle) image.Rectangle {
		return func(b image.Rectangle) image.Rectangle {
			w, h := b.Dx(), b.Dy()
			return image.Rect(b.Min.X+w*left/100, b.Min.Y+h*top/100, b.Max.X-w*right/100, b.Max.Y-h*bottom/100)
		}
	}
	ceds := []cropEdit{
		{"right2", cut(2, 0, 0, 0)}, {"right5", cut(5, 0, 0, 0)}, {"right7", cut(7, 0, 0, 0)},
		{"right10", cut(10, 0, 0, 0)}, {"right15", cut(15, 0, 0, 0)}, {"top10", cut(0, 0, 0, 10)},
		{"left5+right5", cut(5, 0, 5, 0)}, {"right10+bottom10", cut(10, 10, 0, 0)},
		{"all-sides-5", cut(5, 5, 5, 5)},
	}
	sources := transformSources(t, photos, false)
	winOf := map[string][]pdq.Result{}
	for i, p := range photos {
		winOf[p.name] = wins[i]
	}
	dists := make([][][]int, len(sources)) // source, edit, rule
	parallelEach(len(sources), func(i int) {
		p := sources[i]
		img, _, err := media.Decode(p.data, media.Sniff(p.data), DefaultMaxPixels)
		if err != nil {
			t.Error(err)
			return
		}
		src := toRGBA(img)
		for _, ce := range ceds {
			data, err := encodeJPEG(src.SubImage(ce.rect(src.Bounds())), editJPEGQuality)
			if err != nil {
				t.Error(err)
				return
			}
			work, _, err := workImage(t.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
			if err != nil {
				t.Error(err)
				return
			}
			cw, err := windowHashes(work, cropWindows)
			if err != nil {
				t.Error(err)
				return
			}
			var ds []int
			for _, r := range rules {
				ds = append(ds, min(bestPair(cw, winOf[p.name], r.use), bestPair(winOf[p.name], cw, r.use)))
			}
			dists[i] = append(dists[i], ds)
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %4s", "crop", "n")
	for _, r := range rules {
		fmt.Fprintf(&b, " | %-6s recall med  p90  max", r.name)
	}
	b.WriteString("\n")
	for e, ce := range ceds {
		fmt.Fprintf(&b, "%-18s %4d", ce.name, len(sources))
		for ri := range rules {
			var xs []int
			hit := 0
			for i := range sources {
				if len(dists[i]) <= e {
					continue
				}
				d := dists[i][e][ri]
				xs = append(xs, d)
				if d <= DefaultMaxDistance {
					hit++
				}
			}
			_, med, p90, hi := quantiles(xs)
			fmt.Fprintf(&b, " | %-6s %6.3f %3d %4d %4d", "", float64(hit)/float64(max(1, len(xs))), med, p90, hi)
		}
		b.WriteString("\n")
	}
	t.Logf("crop recall (distance <= %d, qualities >= %d), %d windows per image:\n%s", DefaultMaxDistance, DefaultMinQuality, len(cropWindows), b.String())
}

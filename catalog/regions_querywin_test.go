package catalog

import (
	"fmt"
	"image"

	"github.com/relcat/relcat/catalog/pdq"
)

// protoCore is the prototype's core window code (test-only, never stored): the centred 60 %.
const protoCore Region = 200

// protoCoreHash hashes the centred 60 % of a work image (nil when too small).
func protoCoreHash(work image.Image) (*RegionHash, error) {
	b := work.Bounds()
	r := image.Rect(b.Min.X+b.Dx()*20/100, b.Min.Y+b.Dy()*20/100, b.Min.X+b.Dx()*80/100, b.Min.Y+b.Dy()*80/100)
	if r.Dx() < regionMinSide || r.Dy() < regionMinSide {
		return nil, nil
	}
	res, err := pdq.Windows(work, []image.Rectangle{r})
	if err != nil {
		return nil, err
	}
	return &RegionHash{Region: protoCore, Quality: res[0].Quality, AsIs: res[0].Hash, Mirror: res[0].Dihedral[pdq.FlipY]}, nil
}

// Query windows: a measured prototype (test-only; RELCAT_EVAL=1), not part of the rule. Never stored. A crop C of a photo A that keeps 80 % or more of each side contains
// A's core (its centred 60 %, protoCore: would have to be stored and indexed). The photo that arrives (or is looked
// up) computes windows where the other photo's core would be if one were a crop of the other:
//
//   - as the crop: where its original's core lies in it, for a corner kept (4 corners) or one side
//     cut (4 sides), keeping k of the cut sides;
//   - as the original: where a crop's core lies in it, for the same crops.
//
// k takes protoKeeps, spaced so that PDQ's tolerance (a few percent of a window) covers 80-100 %.
// Each window is compared with the other photo's core within DefaultMaxDistance. The windows would be
// computed from pixels and not stored: a pair is found when the later of the two photos arrives.
//
// Measured (README, "Crops, caption bands and reposts"): corner and one-side crops are found when the
// crop arrives after its original, but only with k every 1 % (320 windows: about 70 ms of CPU to hash
// and 640 index searches per arriving photo), over the ingest and lookup cost targets; with k every 5 %
// almost nothing is found (PDQ's tolerance is narrower than a 2 % change of k).
var protoKeeps = [...]int{99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88, 87, 86, 85, 84, 83, 82, 81, 80}

// Query window codes: protoWindowBase + ((half*8 + family) * len(protoKeeps) + keep index).
const protoWindowBase = 64

// protoFamilies are the crops the windows look for: a corner kept (tl, tr, bl, br) or one side cut.
var protoFamilies = [8]string{"top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom", "left", "right"}

// protoWindow is the geometry behind a query window code.
type protoWindow struct {
	asCrop bool // the arriving photo is the crop (else the original)
	family int  // index in protoFamilies
	keep   int  // percent of the cut sides kept
}

func protoWindowOf(r Region) (protoWindow, bool) {
	i := int(r) - protoWindowBase
	n := len(protoKeeps)
	if i < 0 || i >= 2*8*n {
		return protoWindow{}, false
	}
	return protoWindow{asCrop: i/(8*n) == 0, family: i / n % 8, keep: protoKeeps[i%n]}, true
}

func (w protoWindow) code() Region {
	half := 1
	if w.asCrop {
		half = 0
	}
	ki := 0
	for i, k := range protoKeeps {
		if k == w.keep {
			ki = i
		}
	}
	return Region(protoWindowBase + (half*8+w.family)*len(protoKeeps) + ki)
}

// where says which part of the picture a crop of this family keeps.
func (w protoWindow) where() string {
	if w.family < 4 {
		return protoFamilies[w.family] + " corner kept"
	}
	return protoFamilies[w.family] + " side cut"
}

// words says how the photo whose window this is relates to the other one (own: the window is the
// asking photo's; else the other photo's, matched against the asking photo's core).
func (w protoWindow) words(own, mirrored bool) string {
	if w.asCrop == own {
		return fmt.Sprintf("cropped%s (about %d %%, %s)", andMirrored(mirrored), w.keep, w.where())
	}
	return fmt.Sprintf("uncropped%s: the other photo is a crop of this one (about %d %%, %s)", andMirrored(mirrored), w.keep, w.where())
}

// crop is the crop of this family in the original's unit square: x0, y0, x1, y1.
func (w protoWindow) crop() [4]float64 {
	k := float64(w.keep) / 100
	switch w.family {
	case 0:
		return [4]float64{0, 0, k, k}
	case 1:
		return [4]float64{1 - k, 0, 1, k}
	case 2:
		return [4]float64{0, 1 - k, k, 1}
	case 3:
		return [4]float64{1 - k, 1 - k, 1, 1}
	case 4: // top cut
		return [4]float64{0, 1 - k, 1, 1}
	case 5: // bottom cut
		return [4]float64{0, 0, 1, k}
	case 6: // left cut
		return [4]float64{1 - k, 0, 1, 1}
	}
	return [4]float64{0, 0, k, 1} // right cut
}

// rect is the window in the arriving photo's unit square.
func (w protoWindow) rect() [4]float64 {
	c := w.crop()
	cw, ch := c[2]-c[0], c[3]-c[1]
	const lo, hi = 0.2, 0.8 // the core
	if w.asCrop {
		// The original's core, in the crop's coordinates.
		return [4]float64{(lo - c[0]) / cw, (lo - c[1]) / ch, (hi - c[0]) / cw, (hi - c[1]) / ch}
	}
	// The crop's core, in the original's coordinates.
	return [4]float64{c[0] + lo*cw, c[1] + lo*ch, c[0] + hi*cw, c[1] + hi*ch}
}

// protoWindows computes the query windows of a work image: hashes with codes disjoint from the
// stored ones, never stored, compared only with the other photo's core. None for a work image too
// small for regionMinSide-pixel windows.
func protoWindows(work image.Image) ([]RegionHash, error) {
	b := work.Bounds()
	var codes []Region
	var rects []image.Rectangle
	for half := range 2 {
		for f := range protoFamilies {
			for _, k := range protoKeeps {
				w := protoWindow{asCrop: half == 0, family: f, keep: k}
				u := w.rect()
				r := image.Rect(b.Min.X+int(u[0]*float64(b.Dx())+0.5), b.Min.Y+int(u[1]*float64(b.Dy())+0.5),
					b.Min.X+int(u[2]*float64(b.Dx())+0.5), b.Min.Y+int(u[3]*float64(b.Dy())+0.5))
				if r.Dx() < regionMinSide || r.Dy() < regionMinSide {
					continue
				}
				codes, rects = append(codes, w.code()), append(rects, r)
			}
		}
	}
	if len(rects) == 0 {
		return nil, nil
	}
	res, err := pdq.Windows(work, rects)
	if err != nil {
		return nil, err
	}
	out := make([]RegionHash, len(res))
	for i, r := range res {
		out[i] = RegionHash{Region: codes[i], Quality: r.Quality, AsIs: r.Hash, Mirror: r.Dihedral[pdq.FlipY]}
	}
	return out, nil
}

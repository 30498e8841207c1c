package catalog

// Region-matching evaluation (issue 10): crops, caption bands, letterboxes and reposts generated
// from corpus photos with a fixed seed, each hashed through the catalog's pipeline (work image ->
// whole PDQ + region hashes) and matched against its original with the catalog's rule (a whole-image
// match by PairDistance, else the best pair of region records allowed by regionThreshold); hard
// negatives and every pair of unrelated corpus photos must not match.
//
// With RELCAT_CORPUS set, a fast subset runs in `go test ./...` (a few sources, asserted bounds);
// RELCAT_EVAL=1 runs every eligible corpus photo and prints the tables the README quotes.

import (
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
)

// evalSeed seeds every random choice of the suite (which corner, how much, which colour).
const evalSeed = 20261130

// hashedImage is what the rule sees of one image: the whole-image PDQ and the region hashes, and a
// stand-in SHA-256 (the rule breaks ties between equal distances by it).
type hashedImage struct {
	sha     SHA256
	pdq     *PDQInfo
	regions []RegionHash
	// The query-window prototype (regions_querywin_test.go, RELCAT_EVAL=1 only): this photo's
	// windows, used when it arrives after the other, and its core, which the other's windows meet.
	windows []RegionHash
	core    *RegionHash
}

// evalQueryWindows turns the query-window prototype on (it costs about 70 ms of CPU a photo).
var evalQueryWindows = os.Getenv("RELCAT_EVAL") == "1"

// hashForRegions hashes image bytes as ingest does: one work image, its PDQ and its region hashes
// (workHashes; corpusRegionHashes checks that the PDQ is the catalog's on every corpus photo).
func hashForRegions(t testing.TB, name string, data []byte) (*hashedImage, error) {
	work, _, err := workImage(t.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p, rs, err := workHashes(work)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	h := &hashedImage{sha: sha256.Sum256(data), pdq: p, regions: rs}
	if evalQueryWindows {
		if h.windows, err = protoWindows(work); err == nil {
			h.core, err = protoCoreHash(work)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: query windows: %w", name, err)
		}
	}
	return h, nil
}

// records lists an image's hash records: the whole image first, then its regions.
func (h *hashedImage) records() []RegionHash {
	return append([]RegionHash{wholeRecord(h.pdq)}, h.regions...)
}

// verdict is the rule's answer for one pair of images.
type verdict struct {
	match    bool
	whole    bool // matched as whole images (PairDistance)
	dist     int  // the distance shown: the whole pair's, or the matching region pair's
	ra, rb   string
	mirrored bool
	words    string
}

// evalArrive is evalMatch with the query-window prototype, for a photo a arriving after b: when the
// rule finds nothing, a's query windows are compared with b's core (within DefaultMaxDistance, both
// of quality RegionMinQuality or more).
func evalArrive(a, b *hashedImage) verdict {
	v := evalMatch(a, b)
	if v.match || b.core == nil || b.core.Quality < RegionMinQuality {
		return v
	}
	best := verdict{dist: v.dist}
	for _, w := range a.windows {
		if w.Quality < RegionMinQuality {
			continue
		}
		d, tr := RegionDistance(w, *b.core)
		if d > DefaultMaxDistance {
			best.dist = min(best.dist, d)
			continue
		}
		if !best.match || d < best.dist {
			qw, _ := protoWindowOf(w.Region)
			best = verdict{match: true, dist: d, ra: fmt.Sprintf("window%d", w.Region), rb: "core60", mirrored: tr == pdq.FlipY,
				words: qw.words(true, tr == pdq.FlipY)}
		}
	}
	return best
}

// evalMatch asks the catalog's rule (matchSets: a whole-image match by PairDistance, else the best
// pair of records by regionPairMatch) whether a (the query) matches b, at the defaults. A miss
// reports the closest distance of any pair of records the rule compares.
func evalMatch(a, b *hashedImage) verdict {
	o, _ := MatchOptions{}.norm()
	m, ok := matchSets(a.sha, &hashSet{whole: a.pdq, regions: a.regions}, b.sha, &hashSet{whole: b.pdq, regions: b.regions}, o)
	if ok {
		v := verdict{match: true, whole: m.Region == nil, dist: m.Distance}
		if m.Region != nil {
			v.ra, v.rb, v.mirrored, v.words = m.Region.Query, m.Region.Match, m.Region.Mirrored, m.Region.Description
		}
		return v
	}
	closest, _ := PairDistance(a.pdq, b.pdq)
	for _, x := range a.records() {
		for _, y := range b.records() {
			if x.Quality < RegionMinQuality || y.Quality < RegionMinQuality || regionThreshold(x.Region, y.Region) < 0 ||
				(x.Region == RegionWhole && y.Region == RegionWhole) {
				continue
			}
			d, _ := RegionDistance(x, y)
			closest = min(closest, d)
		}
	}
	return verdict{dist: closest}
}

// closestPerKind records, for each kind of record pair ("whole-whole", "whole-centre95", ...), the
// smallest distance seen and where.
type closestPerKind struct {
	mu sync.Mutex
	d  map[string]int
	at map[string]string
}

func (c *closestPerKind) add(a, b *hashedImage, where string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d == nil {
		c.d, c.at = map[string]int{}, map[string]string{}
	}
	floor := max(RegionMinQuality, DefaultMinQuality)
	for _, x := range a.records() {
		for _, y := range b.records() {
			if x.Quality < floor || y.Quality < floor {
				continue
			}
			var d int
			if x.Region == RegionWhole && y.Region == RegionWhole {
				d, _ = PairDistance(a.pdq, b.pdq)
			} else if regionThreshold(x.Region, y.Region) < 0 {
				continue
			} else {
				d, _ = RegionDistance(x, y)
			}
			k := kindName(x.Region, y.Region)
			if old, ok := c.d[k]; !ok || d < old {
				c.d[k], c.at[k] = d, where
			}
		}
	}
}

func (c *closestPerKind) String() string {
	var ks []string
	for k := range c.d {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "  %-28s %3d  %s\n", k, c.d[k], c.at[k])
	}
	return b.String()
}

// kindName names a pair of record kinds, in a fixed order; content regions by "content".
func kindName(a, b Region) string {
	n := func(r Region) string {
		if _, ok := isContent(r); ok {
			return "content"
		}
		return r.String()
	}
	x, y := n(a), n(b)
	if x > y {
		x, y = y, x
	}
	return x + "~" + y
}

// ---- generated variants ----

// variant is one generated copy of a source photo.
type variant struct {
	name  string
	group string // the target it counts for
	make  func(src *image.RGBA, rng *rand.Rand) (*image.RGBA, int)
	// minFast, minFull: recall asserted in the fast subset / the full run (0: reported only).
	minFast, minFull float64
}

// cropRect keeps the rectangle of s given in percent of its width and height.
func cropPct(s *image.RGBA, x0, y0, x1, y1 float64) *image.RGBA {
	b := s.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	r := image.Rect(b.Min.X+int(w*x0/100+0.5), b.Min.Y+int(h*y0/100+0.5), b.Min.X+int(w*x1/100+0.5), b.Min.Y+int(h*y1/100+0.5))
	return toRGBA(s.SubImage(r))
}

func cropCentre(s *image.RGBA, keep float64) *image.RGBA {
	m := (100 - keep) / 2
	return cropPct(s, m, m, 100-m, 100-m)
}

// cropCorner keeps keep% of each dimension from corner c (0 top-left, 1 top-right, 2 bottom-left,
// 3 bottom-right).
func cropCorner(s *image.RGBA, keep float64, c int) *image.RGBA {
	x0, y0 := 0.0, 0.0
	if c%2 == 1 {
		x0 = 100 - keep
	}
	if c >= 2 {
		y0 = 100 - keep
	}
	return cropPct(s, x0, y0, x0+keep, y0+keep)
}

// cropSide cuts cut% off side c (0 top, 1 bottom, 2 left, 3 right).
func cropSide(s *image.RGBA, cut float64, c int) *image.RGBA {
	switch c {
	case 0:
		return cropPct(s, 0, cut, 100, 100)
	case 1:
		return cropPct(s, 0, 0, 100, 100-cut)
	case 2:
		return cropPct(s, cut, 0, 100, 100)
	}
	return cropPct(s, 0, 0, 100-cut, 100)
}

// drawText renders text in colour fg, scaled to fit box (keeping the font's aspect), centred.
func drawText(dst *image.RGBA, box image.Rectangle, text string, fg color.Color) {
	face := basicfont.Face7x13
	tw := font.MeasureString(face, text).Ceil()
	txt := image.NewRGBA(image.Rect(0, 0, tw+2, 15))
	d := font.Drawer{Dst: txt, Src: image.NewUniform(fg), Face: face, Dot: fixed.P(1, 12)}
	d.DrawString(text)
	tb := txt.Bounds()
	scale := min(float64(box.Dx())/float64(tb.Dx()), float64(box.Dy())/float64(tb.Dy()))
	w, h := int(float64(tb.Dx())*scale), int(float64(tb.Dy())*scale)
	at := image.Pt(box.Min.X+(box.Dx()-w)/2, box.Min.Y+(box.Dy()-h)/2)
	xdraw.ApproxBiLinear.Scale(dst, image.Rectangle{at, at.Add(image.Pt(w, h))}, txt, tb, xdraw.Over, nil)
}

var captions = []string{"BREAKING: soldiers of the caliphate", "Wilayat media office - photo report", "The raid on the checkpoint, part 2", "exclusive images from the front"}

// bandColours are caption-band colours: black, white, a dark red, a dark blue.
var bandColours = []color.RGBA{{0, 0, 0, 255}, {255, 255, 255, 255}, {150, 20, 20, 255}, {15, 35, 90, 255}}

// addBand adds a band of pct% of the original height on top (top) or at the bottom, of colour bg,
// with text when text is set.
func addBand(s *image.RGBA, pct float64, top bool, bg color.RGBA, text string) *image.RGBA {
	b := s.Bounds()
	bh := max(1, int(float64(b.Dy())*pct/100+0.5))
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+bh))
	band := image.Rect(0, b.Dy(), b.Dx(), b.Dy()+bh)
	pic := image.Rect(0, 0, b.Dx(), b.Dy())
	if top {
		band, pic = image.Rect(0, 0, b.Dx(), bh), image.Rect(0, bh, b.Dx(), bh+b.Dy())
	}
	xdraw.Draw(dst, band, image.NewUniform(bg), image.Point{}, xdraw.Src)
	xdraw.Draw(dst, pic, s, b.Min, xdraw.Src)
	if text != "" {
		fg := color.RGBA{255, 255, 255, 255}
		if int(bg.R)+int(bg.G)+int(bg.B) > 3*128 {
			fg = color.RGBA{0, 0, 0, 255}
		}
		inner := image.Rect(band.Min.X+band.Dx()/20, band.Min.Y+band.Dy()/5, band.Max.X-band.Dx()/20, band.Max.Y-band.Dy()/5)
		drawText(dst, inner, text, fg)
	}
	return dst
}

// letterbox adds black bars of pct% of the height on top and at the bottom.
func letterbox(s *image.RGBA, pct float64) *image.RGBA {
	black := color.RGBA{0, 0, 0, 255}
	top := addBand(s, pct, true, black, "")
	return addBand(top, pct*float64(s.Bounds().Dy())/float64(top.Bounds().Dy()), false, black, "")
}

// resizePct scales s to pct% of its size.
func resizePct(s *image.RGBA, pct float64) *image.RGBA {
	b := s.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, max(1, int(float64(b.Dx())*pct/100)), max(1, int(float64(b.Dy())*pct/100))))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), s, b, xdraw.Src, nil)
	return dst
}

// channelName burns a channel name into corner c: white text with a dark outline, 5% of the
// height tall.
func channelName(s *image.RGBA, c int, name string) *image.RGBA {
	dst := toRGBA(s)
	b := dst.Bounds()
	th := max(8, b.Dy()/20)
	tw := min(b.Dx()/3, th*len(name)*7/13)
	m := b.Dx() / 40
	x0, y0 := b.Min.X+m, b.Min.Y+m
	if c%2 == 1 {
		x0 = b.Max.X - m - tw
	}
	if c >= 2 {
		y0 = b.Max.Y - m - th
	}
	box := image.Rect(x0, y0, x0+tw, y0+th)
	for _, o := range []image.Point{{-2, 0}, {2, 0}, {0, -2}, {0, 2}} {
		drawText(dst, box.Add(o), name, color.RGBA{0, 0, 0, 255})
	}
	drawText(dst, box, name, color.RGBA{255, 255, 255, 255})
	return dst
}

// regionVariants is the generated suite. Each make returns the copy and its JPEG quality.
func regionVariants() []variant {
	q := func(m *image.RGBA) (*image.RGBA, int) { return m, editJPEGQuality }
	uni := func(rng *rand.Rand, lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }
	vs := []variant{
		{name: "crop-centre-95", group: "centred crop 95/90/80 %", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, _ *rand.Rand) (*image.RGBA, int) { return q(cropCentre(s, 95)) }},
		{name: "crop-centre-90", group: "centred crop 95/90/80 %", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, _ *rand.Rand) (*image.RGBA, int) { return q(cropCentre(s, 90)) }},
		{name: "crop-centre-80", group: "centred crop 95/90/80 %", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, _ *rand.Rand) (*image.RGBA, int) { return q(cropCentre(s, 80)) }},
		{name: "crop-corner-90", group: "corner kept", make: func(s *image.RGBA, r *rand.Rand) (*image.RGBA, int) { return q(cropCorner(s, 90, r.IntN(4))) }},
		{name: "crop-corner-80", group: "corner kept", make: func(s *image.RGBA, r *rand.Rand) (*image.RGBA, int) { return q(cropCorner(s, 80, r.IntN(4))) }},
		{name: "crop-side-2-20", group: "one side cut <= 20 %", make: func(s *image.RGBA, r *rand.Rand) (*image.RGBA, int) {
			return q(cropSide(s, uni(r, 2, 20), r.IntN(4)))
		}},
		{name: "band-plain", group: "band/letterbox 5-15 %", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, r *rand.Rand) (*image.RGBA, int) {
			return q(addBand(s, uni(r, 5, 15), r.IntN(2) == 0, bandColours[r.IntN(len(bandColours))], ""))
		}},
		{name: "band-text", group: "band/letterbox 5-15 %", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, r *rand.Rand) (*image.RGBA, int) {
			return q(addBand(s, uni(r, 5, 15), r.IntN(2) == 0, bandColours[r.IntN(len(bandColours))], captions[r.IntN(len(captions))]))
		}},
		{name: "letterbox", group: "band/letterbox 5-15 %", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, r *rand.Rand) (*image.RGBA, int) {
			return q(letterbox(s, uni(r, 5, 15)))
		}},
		{name: "repost", group: "repost", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, r *rand.Rand) (*image.RGBA, int) {
			return channelName(resizePct(cropCentre(s, 94), 60), r.IntN(4), "@amaq_agency"), 70
		}},
		{name: "crop-centre-90+mirror", group: "cropped and mirrored", minFast: 0.85, minFull: 0.9, make: func(s *image.RGBA, _ *rand.Rand) (*image.RGBA, int) {
			return q(mirrorLR(cropCentre(s, 90)))
		}},
	}
	for _, e := range evalEdits() {
		if strings.HasPrefix(e.name, "crop") || strings.HasPrefix(e.name, "combined") {
			continue
		}
		// Benign edits keep at least the whole-image suite's bounds (TestTransformSuite).
		vs = append(vs, variant{name: e.name, group: groupBenign, minFast: e.minRecall, minFull: e.minRecall, make: func(s *image.RGBA, _ *rand.Rand) (*image.RGBA, int) {
			return e.apply(s), e.quality
		}})
	}
	return vs
}

// groupBenign is the target group of today's benign edits.
const groupBenign = "benign (today's)"

// evalSourceSide is the longest side sources are brought down to before editing (published photos
// and reposts are rarely larger; editing 16 MP photos would only make the suite slow).
const evalSourceSide = 1600

// prepared is a source photo: its catalog hashes and its (reduced) pixels.
type prepared struct {
	p   *corpusPhoto
	h   *hashedImage
	src *image.RGBA
}

var preparedCache struct {
	sync.Mutex
	m map[string][]*prepared
}

// prepareSources decodes and hashes the sources (once per test binary for a given set and side).
func prepareSources(t *testing.T, sources []*corpusPhoto, side int) []*prepared {
	key := fmt.Sprint(side)
	for _, p := range sources {
		key += "|" + p.name
	}
	preparedCache.Lock()
	defer preparedCache.Unlock()
	if ps, ok := preparedCache.m[key]; ok {
		return ps
	}
	ps := prepareSourcesNow(t, sources, side)
	if preparedCache.m == nil {
		preparedCache.m = map[string][]*prepared{}
	}
	preparedCache.m[key] = ps
	return ps
}

func prepareSourcesNow(t *testing.T, sources []*corpusPhoto, side int) []*prepared {
	out := make([]*prepared, len(sources))
	errs := make([]error, len(sources))
	parallelEach(len(sources), func(i int) {
		p := sources[i]
		h, err := hashForRegions(t, p.name, p.data)
		if err != nil {
			errs[i] = err
			return
		}
		img, _, err := media.Decode(p.data, media.Sniff(p.data), DefaultMaxPixels)
		if err != nil {
			errs[i] = err
			return
		}
		out[i] = &prepared{p: p, h: h, src: toRGBA(media.Shrink(img, side))}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// variantResult is one copy's verdict against its source.
type variantResult struct {
	source, variant string
	v               verdict
	wholeOnly       bool    // matched by the whole-image rule alone
	later, earlier  verdict // with query windows: the copy arriving after its original / before it
	data            []byte  // the copy's bytes (runVariants with keep)
}

// runVariants makes every variant of every source, hashes it and matches it against the source.
func runVariants(t *testing.T, srcs []*prepared, vs []variant, keep bool) [][]variantResult {
	res := make([][]variantResult, len(srcs))
	errs := make([]error, len(srcs))
	parallelEach(len(srcs), func(i int) {
		s := srcs[i]
		rng := rand.New(rand.NewPCG(evalSeed, uint64(i)))
		for _, v := range vs {
			m, quality := v.make(s.src, rng)
			data, err := encodeJPEG(m, quality)
			if err != nil {
				errs[i] = err
				return
			}
			h, err := hashForRegions(t, s.p.name+"#"+v.name, data)
			if err != nil {
				errs[i] = err
				return
			}
			vd := evalMatch(h, s.h)
			r := variantResult{source: s.p.name, variant: v.name, v: vd, wholeOnly: vd.whole,
				later: evalArrive(h, s.h), earlier: evalArrive(s.h, h)}
			if keep {
				r.data = data
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

// TestRegionSuite measures recall on the generated copies (fast subset by default, every
// eligible corpus photo with RELCAT_EVAL=1) and asserts the bounds each variant declares.
func TestRegionSuite(t *testing.T) {
	evaluation(t)
	photos := corpusPhotos(t)
	full := os.Getenv("RELCAT_EVAL") == "1"
	sources := transformSources(t, photos, !full)
	side := evalSourceSide
	if !full {
		side = 640
	}
	srcs := prepareSources(t, sources, side)
	vs := regionVariants()
	if !full {
		// The fast subset keeps the variants it asserts: the benign edits are whole-image matches
		// (TestTransformSuite measures them on every run), corner and side crops are reported only.
		vs = slices.DeleteFunc(vs, func(v variant) bool { return v.minFast == 0 || v.group == groupBenign })
	}
	res := runVariants(t, srcs, vs, true)
	checkCatalogPath(t, srcs, res)

	type stat struct {
		n, hit, whole int
		later, earlr  int // with query windows, copy arriving later / earlier
		dists         []int
		misses        []string
		words         map[string]int
	}
	stats := map[string]*stat{}
	for _, v := range vs {
		stats[v.name] = &stat{words: map[string]int{}}
	}
	for _, rs := range res {
		for _, r := range rs {
			s := stats[r.variant]
			s.n++
			s.dists = append(s.dists, r.v.dist)
			if r.later.match {
				s.later++
			}
			if r.earlier.match {
				s.earlr++
			}
			if r.v.match {
				s.hit++
				if r.v.whole {
					s.whole++
				} else {
					s.words[r.v.words]++
				}
			} else {
				s.misses = append(s.misses, fmt.Sprintf("%s (%d)", r.source, r.v.dist))
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %-26s %4s %7s %7s %4s %4s", "variant", "target", "n", "recall", "whole", "med", "max")
	if evalQueryWindows {
		// The query-window prototype: recall when the copy arrives after / before its original.
		fmt.Fprintf(&b, " %7s %7s", "+qw-aft", "+qw-bef")
	}
	b.WriteString("\n")
	groups := map[string][2]int{}
	for _, v := range vs {
		s := stats[v.name]
		_, med, _, hi := quantiles(s.dists)
		fmt.Fprintf(&b, "%-24s %-26s %4d %7.3f %7.3f %4d %4d", v.name, v.group, s.n, frac(s.hit, s.n), frac(s.whole, s.n), med, hi)
		if evalQueryWindows {
			fmt.Fprintf(&b, " %7.3f %7.3f", frac(s.later, s.n), frac(s.earlr, s.n))
		}
		b.WriteString("\n")
		g := groups[v.group]
		groups[v.group] = [2]int{g[0] + s.hit, g[1] + s.n}
	}
	t.Logf("%d sources (full: %v, edited at <= %d px), region suite at the defaults (recall = matched by the rule; whole = by whole-image PDQ alone; med/max = distance shown):\n%s", len(srcs), full, side, b.String())
	var gs []string
	for g, x := range groups {
		gs = append(gs, fmt.Sprintf("  %-26s %4d/%-4d %.3f", g, x[0], x[1], frac(x[0], x[1])))
	}
	sort.Strings(gs)
	t.Logf("by target:\n%s", strings.Join(gs, "\n"))
	for _, v := range vs {
		s := stats[v.name]
		if len(s.misses) > 0 && len(s.misses) <= 12 {
			t.Logf("%s misses: %s", v.name, strings.Join(s.misses, "; "))
		}
		var ws []string
		for w, n := range s.words {
			ws = append(ws, fmt.Sprintf("%q x%d", w, n))
		}
		sort.Strings(ws)
		if len(ws) > 0 {
			t.Logf("%s words: %s", v.name, strings.Join(ws[:min(6, len(ws))], ", "))
		}
		minR := v.minFast
		if full {
			minR = v.minFull
		}
		if r := frac(s.hit, s.n); r < minR {
			t.Errorf("%s: recall %.3f < %.2f; misses: %s", v.name, r, minR, strings.Join(s.misses, "; "))
		}
	}
}

// checkCatalogPath runs the suite's copies through the catalog itself: the sources are ingested as
// one release, the copies as a later one (--no-copy), and every copy is looked up (Lookup) and found
// in the dupes edges (Dupes). Each answer must be the pure rule's (evalMatch): found or not, and the
// same distance (the catalog's whole-image hash of a copy comes from ingest's own decode: a distance
// may differ by a few bits from the pure path's, which decodes JPEGs reduced; a verdict may then
// differ only when the distance is within that of the threshold).
func checkCatalogPath(t *testing.T, srcs []*prepared, res [][]variantResult) {
	root := t.TempDir()
	dirA, dirB := filepath.Join(root, "originals"), filepath.Join(root, "copies")
	for _, d := range []string{dirA, dirB} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	orig := map[string]SHA256{}
	for i, s := range srcs {
		if err := os.WriteFile(filepath.Join(dirA, fmt.Sprintf("%03d%s", i, filepath.Ext(s.p.name))), s.p.data, 0o644); err != nil {
			t.Fatal(err)
		}
		orig[s.p.name] = sha256.Sum256(s.p.data)
	}
	type copyFile struct {
		path string
		sha  SHA256
		r    variantResult
	}
	var copies []copyFile
	for i, rs := range res {
		for _, r := range rs {
			path := filepath.Join(dirB, fmt.Sprintf("%03d-%s.jpg", i, r.variant))
			if err := os.WriteFile(path, r.data, 0o644); err != nil {
				t.Fatal(err)
			}
			copies = append(copies, copyFile{path, sha256.Sum256(r.data), r})
		}
	}
	c := openTest(t)
	ctx := t.Context()
	for _, r := range []struct{ dir, date string }{{dirA, "2020-01-01"}, {dirB, "2020-02-01"}} {
		if _, err := c.Ingest(ctx, []string{r.dir}, IngestOptions{NoCopy: true, Release: ReleaseInfo{Affiliate: "eval", Released: r.date}}); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edges := map[[2]SHA256]Edge{}
	for _, k := range cl {
		for _, e := range k.Edges {
			edges[[2]SHA256{e.A, e.B}], edges[[2]SHA256{e.B, e.A}] = e, e
		}
	}
	const slack = 4 // bits a distance may differ between the two decodes
	found, agree, region := 0, 0, 0
	for _, cf := range copies {
		lr, err := c.Lookup(ctx, cf.path, MatchOptions{}, HashOptions{})
		if err != nil {
			t.Fatal(err)
		}
		o := orig[cf.r.source]
		var m *Match
		for i := range lr.Near {
			if lr.Near[i].SHA256 == o {
				m = &lr.Near[i]
			}
		}
		e, inDupes := edges[[2]SHA256{o, cf.sha}]
		pure := cf.r.v
		switch {
		case m == nil && !pure.match:
			agree++
		case m != nil && pure.match && absInt(m.Distance-pure.dist) <= slack:
			agree++
		case m == nil && pure.match && pure.dist > DefaultMaxDistance-slack,
			m != nil && !pure.match && m.Distance > DefaultMaxDistance-slack:
			agree++ // at the threshold: the two decodes may fall either side
		default:
			t.Errorf("%s %s: catalog lookup %v, pure rule %+v", cf.r.source, cf.r.variant, m, pure)
		}
		if m == nil {
			if inDupes {
				t.Errorf("%s %s: not found by lookup, but a dupes edge %+v", cf.r.source, cf.r.variant, e)
			}
			continue
		}
		found++
		if m.Region != nil {
			region++
		}
		if !inDupes || e.Distance != m.Distance || (e.Region == nil) != (m.Region == nil) {
			t.Errorf("%s %s: lookup finds %d (region %v), dupes edge %v %+v", cf.r.source, cf.r.variant, m.Distance, m.Region, inDupes, e)
		}
	}
	t.Logf("catalog path: %d copies ingested after their %d originals; lookup finds %d (%d through regions), dupes has the same edges; %d of %d answers agree with the pure rule",
		len(copies), len(srcs), found, region, agree, len(copies))
}

func frac(a, b int) float64 { return float64(a) / float64(max(1, b)) }

// corpusRegionHashes returns every corpus photo's hashes as the rule sees them: the catalog's own
// (corpusPhotos hashes each photo once, region hashes included).
// Their query windows need the work image again (computed once per test binary).
func corpusRegionHashes(t *testing.T, photos []*corpusPhoto) []*hashedImage {
	corpusWindows.Lock()
	defer corpusWindows.Unlock()
	if corpusWindows.ws == nil && evalQueryWindows {
		ws := make([][]RegionHash, len(photos))
		cores := make([]*RegionHash, len(photos))
		errs := make([]error, len(photos))
		parallelEach(len(photos), func(i int) {
			work, _, err := workImage(t.Context(), photos[i].data, media.Sniff(photos[i].data), DefaultMaxPixels, 0, nil)
			if err == nil {
				ws[i], err = protoWindows(work)
			}
			if err == nil {
				cores[i], err = protoCoreHash(work)
			}
			errs[i] = err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", photos[i].name, err)
			}
		}
		corpusWindows.ws, corpusWindows.cores = ws, cores
	}
	hs := make([]*hashedImage, len(photos))
	for i, p := range photos {
		hs[i] = &hashedImage{sha: sha256.Sum256(p.data), pdq: p.pdq, regions: p.regions}
		if corpusWindows.ws != nil {
			hs[i].windows, hs[i].core = corpusWindows.ws[i], corpusWindows.cores[i]
		}
	}
	return hs
}

var corpusWindows struct {
	sync.Mutex
	ws    [][]RegionHash
	cores []*RegionHash
}

// TestRegionNoFalseMatches: over every pair of unrelated corpus photos the rule finds no match;
// it prints the closest unrelated distance for every kind of record pair.
func TestRegionNoFalseMatches(t *testing.T) {
	photos := corpusPhotos(t)
	hs := corpusRegionHashes(t, photos)
	related := relatedPairs(photos)
	var closest closestPerKind
	pairs, falses := 0, 0
	withRegions := 0
	qwFalses, qwClosest := 0, 257
	for i := range photos {
		if len(hs[i].regions) > 0 {
			withRegions++
		}
		for j := i + 1; j < len(photos); j++ {
			a, b := photos[i].name, photos[j].name
			k := [2]string{min(a, b), max(a, b)}
			if _, ok := related[k]; ok {
				continue
			}
			pairs++
			closest.add(hs[i], hs[j], a+" | "+b)
			if v := evalMatch(hs[i], hs[j]); v.match {
				falses++
				t.Errorf("false match: %s and %s: %s~%s at %d (whole: %v)", a, b, v.ra, v.rb, v.dist, v.whole)
			}
			for _, x := range [][2]int{{i, j}, {j, i}} {
				v := evalArrive(hs[x[0]], hs[x[1]])
				qwClosest = min(qwClosest, v.dist)
				if v.match && !evalMatch(hs[x[0]], hs[x[1]]).match {
					qwFalses++
					t.Errorf("false match through the query-window prototype: %s arriving after %s: %s~%s at %d", photos[x[0]].name, photos[x[1]].name, v.ra, v.rb, v.dist)
				}
			}
		}
	}
	t.Logf("%d photos (%d with region hashes), %d unrelated pairs, %d false matches; closest unrelated distance per kind of record pair (qualities >= %d):\n%s",
		len(photos), withRegions, pairs, falses, max(RegionMinQuality, DefaultMinQuality), closest.String())
	if evalQueryWindows {
		t.Logf("query-window prototype (either photo arriving later): %d false matches, closest window~core distance %d", qwFalses, qwClosest)
	}
	if pairs < 4000 {
		t.Errorf("only %d unrelated pairs compared, want the whole corpus (about 4,100)", pairs)
	}
}

// hardNegatives are edits applied identically to two different photos, which must then still not
// match: a large uniform sky, a black band, a white caption bar with the same text, the same logo.
func hardNegatives() []struct {
	name  string
	apply func(s *image.RGBA) *image.RGBA
} {
	return []struct {
		name  string
		apply func(s *image.RGBA) *image.RGBA
	}{
		{"sky-45%", func(s *image.RGBA) *image.RGBA {
			d := toRGBA(s)
			b := d.Bounds()
			sky := b.Dy() * 45 / 100
			for y := range sky {
				c := color.RGBA{uint8(90 + 100*y/sky), uint8(140 + 80*y/sky), 235, 255}
				for x := range b.Dx() {
					d.SetRGBA(b.Min.X+x, b.Min.Y+y, c)
				}
			}
			return d
		}},
		{"black-band-15%", func(s *image.RGBA) *image.RGBA { return addBand(s, 15, false, color.RGBA{0, 0, 0, 255}, "") }},
		{"white-caption-15%", func(s *image.RGBA) *image.RGBA {
			return addBand(s, 15, false, color.RGBA{255, 255, 255, 255}, "Wilayat media office - photo report")
		}},
		{"letterbox-15%", func(s *image.RGBA) *image.RGBA { return letterbox(s, 15) }},
		{"same-logo", func(s *image.RGBA) *image.RGBA {
			d := toRGBA(s)
			b := d.Bounds()
			box := image.Rect(b.Max.X-b.Dx()*30/100, b.Min.Y, b.Max.X, b.Min.Y+b.Dy()*20/100)
			xdraw.Draw(d, box, image.NewUniform(color.RGBA{20, 20, 20, 255}), image.Point{}, xdraw.Src)
			drawText(d, box.Inset(box.Dy()/6), "AMAQ", color.RGBA{240, 200, 0, 255})
			return d
		}},
	}
}

// TestRegionHardNegatives applies each hard negative to pairs of different source photos and
// checks that the two edited photos do not match.
func TestRegionHardNegatives(t *testing.T) {
	photos := corpusPhotos(t)
	full := os.Getenv("RELCAT_EVAL") == "1"
	sources := transformSources(t, photos, !full)
	side := evalSourceSide
	if !full {
		side = 640
	}
	srcs := prepareSources(t, sources, side)
	negs := hardNegatives()
	out := make([][]*hashedImage, len(srcs))
	errs := make([]error, len(srcs))
	parallelEach(len(srcs), func(i int) {
		for _, n := range negs {
			data, err := encodeJPEG(n.apply(srcs[i].src), editJPEGQuality)
			if err == nil {
				var h *hashedImage
				h, err = hashForRegions(t, srcs[i].p.name+"#"+n.name, data)
				out[i] = append(out[i], h)
			}
			if err != nil {
				errs[i] = err
				return
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var closest closestPerKind
	pairs := 0
	for k, n := range negs {
		for i := range srcs {
			for j := i + 1; j < len(srcs); j++ {
				pairs++
				closest.add(out[i][k], out[j][k], n.name+": "+srcs[i].p.name+" | "+srcs[j].p.name)
				for _, x := range [][2]*hashedImage{{out[i][k], out[j][k]}, {out[j][k], out[i][k]}} {
					if v := evalArrive(x[0], x[1]); v.match && !evalMatch(x[0], x[1]).match {
						t.Errorf("hard negative %s through the query-window prototype: %s~%s at %d", n.name, v.ra, v.rb, v.dist)
					}
				}
				if v := evalMatch(out[i][k], out[j][k]); v.match {
					t.Errorf("hard negative %s: %s and %s match: %s~%s at %d (whole: %v)", n.name, srcs[i].p.name, srcs[j].p.name, v.ra, v.rb, v.dist, v.whole)
				}
			}
		}
	}
	t.Logf("%d hard-negative pairs (%d kinds x pairs of %d different photos); closest distance per kind of record pair:\n%s", pairs, len(negs), len(srcs), closest.String())
	// The same scene moments apart (corpus: canon_hdr_YES / _NO, 26 s apart): reported, see README.
	for i, p := range photos {
		if !strings.HasSuffix(p.name, "canon_hdr_YES.jpg") {
			continue
		}
		for j, q := range photos {
			if strings.HasSuffix(q.name, "canon_hdr_NO.jpg") {
				hs := corpusRegionHashes(t, photos)
				v := evalMatch(hs[i], hs[j])
				t.Logf("same scene 26 s apart (%s | %s): match %v, distance %d", p.name, q.name, v.match, v.dist)
			}
		}
	}
}

// TestRegionSweep (RELCAT_EVAL=1) reports recall against the share kept, for centred crops and
// for one side cut, every 2 %: the curve between the windows.
func TestRegionSweep(t *testing.T) {
	if os.Getenv("RELCAT_EVAL") != "1" {
		t.Skip("RELCAT_EVAL=1 runs the crop sweep")
	}
	photos := corpusPhotos(t)
	srcs := prepareSources(t, transformSources(t, photos, false), evalSourceSide)
	var vs []variant
	for k := 100; k >= 70; k -= 2 {
		vs = append(vs, variant{name: fmt.Sprintf("centre-%d", k), make: func(s *image.RGBA, _ *rand.Rand) (*image.RGBA, int) {
			return cropCentre(s, float64(k)), editJPEGQuality
		}})
	}
	for cut := 2; cut <= 20; cut += 2 {
		for side := range 4 {
			vs = append(vs, variant{name: fmt.Sprintf("side%d-cut-%d", side, cut), make: func(s *image.RGBA, _ *rand.Rand) (*image.RGBA, int) {
				return cropSide(s, float64(cut), side), editJPEGQuality
			}})
		}
	}
	res := runVariants(t, srcs, vs, false)
	hit := map[string]int{}
	for _, rs := range res {
		for _, r := range rs {
			if r.v.match {
				hit[r.variant]++
			}
		}
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "  %-18s %.2f\n", v.name, frac(hit[v.name], len(srcs)))
	}
	t.Logf("recall by share kept (%d sources):\n%s", len(srcs), b.String())
}

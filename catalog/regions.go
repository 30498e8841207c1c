package catalog

// Region hashes: crop-, band- and repost-tolerant matching (issue 10).
//
// Plain PDQ loses a picture once a few percent of it are cut off or a caption band is added: the
// hash describes the whole frame. Besides the whole-image hash (PDQInfo, unchanged), every image
// gets up to MaxRegionHashes PDQ hashes of regions of its work image (the one WorkSide downscale
// hashWork hashes: stored pixels, no orientation applied). This file is the pure part: which
// regions, how they are hashed, which pairs of regions may match and how a match is said in words.
// The engine (storage, index, edges, the pair distance in origin.go) calls it.
//
// # Which regions
//
//   - Centred windows keeping 95, 88 and 80 % of the width and of the height (regionCentre*).
//     Nested centred windows compose: if C is A cropped to a centred share k, C's window s is A's
//     window k*s, so A's window t and C's window s show the same when t/s = k. With the whole image
//     as the window 100, the pairs give k = 1, .95, .93, .92, .88, .84 and .80, and PDQ's own
//     tolerance (a few percent) fills the gaps: centred crops from about 78 to 100 %.
//   - The picture left after trimming bands at the edges (regionContent + the trimmed sides): a
//     caption band (one colour, with or without text), a letterbox or pillarbox bar. Present only
//     when such a band is found (findBands); Param is its size in percent of the picture.
//
// Windows are hashed cheaply (pdq.Windows): one luminance and one blur of the work image, each
// window's 64x64 grid point-sampled from it, then PDQ's quality, DCT and dihedral hashes. Windows
// under regionMinSide pixels a side are not hashed (tiny images get no regions).
//
// # The API the engine uses
//
//   - regionHashes(work) []RegionHash: 0..MaxRegionHashes records (Region code, Param, Quality,
//     AsIs hash, Mirror = the FlipY hash of the same DCT), in code order; RegionSetVersion names the
//     set (records of another version are recomputed by reindex).
//   - The whole image is the record RegionWhole: {PDQ.Hash, PDQ.Dihedral[pdq.FlipY], PDQ.Quality}.
//   - regionThreshold(a, b): the largest distance at which record a of one image and record b of the
//     other match (-1: never compared; never asked for (whole, whole), which is PairDistance's).
//     The distance of two records is the engine's RegionDistance: the smaller, over as-is and
//     mirrored, of the larger of the two one-way distances (so it is symmetric and the index of
//     as-is hashes, searched with as-is and mirror hashes, finds every pair exactly).
//   - RegionMinQuality: both records of a pair must reach it (and the caller's floor).
//   - describeRegionMatch(qa, qp, mb, mp, mirrored): how the query relates to the other photo when
//     its record qa matched the other's mb: "cropped (about 80 %, centre)", "caption band added
//     (bottom, 12 %)", "letterbox removed (top and bottom, 10 % each)", "cropped and mirrored (about
//     91 %, centre)", "uncropped: the other photo is a crop of this one (about 80 %, centre)".
//   - Region.String: stable short names for --json ("whole", "centre88", "content-bottom").
//
// A pair of images that is a whole-image match (PairDistance within the threshold, both qualities
// enough) stays exactly that; only otherwise does the best pair of records decide. Rotations other
// than the mirror are not searched for regions (the index would need 8 hashes a region): a cropped
// and rotated copy is not found; a cropped and mirrored one is.

import (
	"fmt"
	"image"
	"image/color"
	"slices"

	"github.com/relcat/relcat/catalog/pdq"
)

// RegionSetVersion identifies the region set and how it is computed: stored with each image's
// regions; records of another version are recomputed by `relcat reindex` from preserved originals.
const RegionSetVersion = 1

// MaxRegionHashes is the most region hashes an image gets (each costs about 289 bytes of index
// memory: 5 keep the 1M-image index within 2 GB).
const MaxRegionHashes = 5

// Region is the stored code of a region of an image (on disk: never reuse a value). RegionWhole
// is the whole image; regionHashes never returns it.
type Region uint8

// Region codes.
const (
	RegionWhole Region = 0

	// Centred windows: 1..15.
	regionCentre95 Region = 1
	regionCentre88 Region = 2
	regionCentre80 Region = 3

	// Content left after trimming bands: 16 + a bitmask of the trimmed sides (top 1, bottom 2,
	// left 4, right 8), i.e. 17..31. Param: the band's size in percent of the picture left (its
	// height for top/bottom bands, its width for left/right ones; the mean of two opposite bands;
	// with both a horizontal and a vertical band, the larger of the two).
	regionContent Region = 16
)

// Trimmed sides, as in the content codes.
const (
	sideTop    = 1
	sideBottom = 2
	sideLeft   = 4
	sideRight  = 8
)

// centreKeep is the share (percent of width and height) a centred window keeps, 0 if r is none.
func centreKeep(r Region) int {
	switch r {
	case regionCentre95:
		return 95
	case regionCentre88:
		return 88
	case regionCentre80:
		return 80
	}
	return 0
}

// isContent reports whether r is a band-trimmed content region, and which sides were trimmed.
func isContent(r Region) (sides int, ok bool) {
	if r > regionContent && r < regionContent+16 {
		return int(r - regionContent), true
	}
	return 0, false
}

// String is a short stable name for --json: "whole", "centre95", "content-bottom",
// "content-top-bottom", ...
func (r Region) String() string {
	if r == RegionWhole {
		return "whole"
	}
	if k := centreKeep(r); k > 0 {
		return fmt.Sprintf("centre%d", k)
	}
	if s, ok := isContent(r); ok {
		name := "content"
		for _, x := range []struct {
			bit  int
			name string
		}{{sideTop, "top"}, {sideBottom, "bottom"}, {sideLeft, "left"}, {sideRight, "right"}} {
			if s&x.bit != 0 {
				name += "-" + x.name
			}
		}
		return name
	}
	return fmt.Sprintf("region%d", uint8(r))
}

// RegionHash is one region's hashes: AsIs and Mirror (the FlipY dihedral hash of the same DCT) and
// the region's PDQ quality. Param is shown, never compared (content regions: the trimmed share).
type RegionHash struct {
	Region  Region
	Param   uint8
	Quality int
	AsIs    pdq.Hash
	Mirror  pdq.Hash
}

// RegionMinQuality is the lowest PDQ quality of a region hash (and of the whole hash it is
// compared with) that region matching uses.
const RegionMinQuality = DefaultMinQuality

// regionMinSide is the smallest side, in pixels of the work image, of a hashed region: PDQ samples a
// 64x64 grid, and smaller windows only repeat pixels (they match by chance more easily).
const regionMinSide = 64

// regionThreshold is the largest RegionDistance at which region a of one image and region b of the
// other match, or -1 when that pair is never compared. Symmetric; never asked about (RegionWhole,
// RegionWhole), which is PairDistance's.
func regionThreshold(a, b Region) int {
	if a == RegionWhole && b == RegionWhole {
		return -1
	}
	ka, kb := centreKeep(a), centreKeep(b)
	_, ca := isContent(a)
	_, cb := isContent(b)
	switch {
	case a == RegionWhole || b == RegionWhole:
		return DefaultMaxDistance
	case ka > 0 && kb > 0 && ka != kb:
		return DefaultMaxDistance // nested centred windows: crops between the windows' shares
	case ca && cb:
		return DefaultMaxDistance // two band-trimmed copies of one picture
	case ca && kb > 0 || cb && ka > 0:
		return DefaultMaxDistance // a cropped copy with a band added
	}
	return -1
}

// regionHashes computes the region hashes of a work image (the image hashWork hashes). Pure and
// deterministic; 0..MaxRegionHashes hashes ordered by Region code (none for a work image too small
// to hold regionMinSide-pixel windows).
func regionHashes(work image.Image) ([]RegionHash, error) {
	if b := work.Bounds(); b.Dx() < regionMinSide || b.Dy() < regionMinSide {
		return nil, nil
	}
	_, rs, err := workHashes(work)
	return rs, err
}

// workHashes is hashWork and regionHashes at once, from one luminance and one blur of the work
// image (what ingest needs: the regions cost about a window's DCT each beyond the whole-image hash).
// The whole-image PDQ is bit for bit hashWork's (pdq.Windows of the whole image is pdq.FromImage).
func workHashes(work image.Image) (*PDQInfo, []RegionHash, error) {
	wants := regionWindows(work)
	rects := []image.Rectangle{work.Bounds()}
	for _, x := range wants {
		rects = append(rects, x.rect)
	}
	res, err := pdq.Windows(work, rects)
	if err != nil {
		return nil, nil, err
	}
	p := &PDQInfo{Hash: res[0].Hash, Quality: res[0].Quality, Variant: pdq.VariantName(WorkSide), Dihedral: res[0].Dihedral}
	var out []RegionHash
	for i, x := range wants {
		r := res[1+i]
		out = append(out, RegionHash{Region: x.r, Param: x.param, Quality: r.Quality, AsIs: r.Hash, Mirror: r.Dihedral[pdq.FlipY]})
	}
	return p, out, nil
}

// regionWindow is a region to hash: its code, Param and rectangle in the work image.
type regionWindow struct {
	r     Region
	param uint8
	rect  image.Rectangle
}

// regionWindows lists the regions of a work image, in code order (none under regionMinSide).
func regionWindows(work image.Image) []regionWindow {
	b := work.Bounds()
	w, h := b.Dx(), b.Dy()
	var wants []regionWindow
	for _, r := range []Region{regionCentre95, regionCentre88, regionCentre80} {
		k := centreKeep(r)
		kw, kh := (w*k+50)/100, (h*k+50)/100
		at := image.Pt(b.Min.X+(w-kw)/2, b.Min.Y+(h-kh)/2)
		if kw >= regionMinSide && kh >= regionMinSide {
			wants = append(wants, regionWindow{r: r, rect: image.Rectangle{Min: at, Max: at.Add(image.Pt(kw, kh))}})
		}
	}
	if t := findBands(work); t.sides != 0 {
		rect := image.Rect(b.Min.X+t.left, b.Min.Y+t.top, b.Max.X-t.right, b.Max.Y-t.bottom)
		if rect.Dx() >= regionMinSide && rect.Dy() >= regionMinSide {
			wants = append(wants, regionWindow{r: regionContent + Region(t.sides), param: uint8(min(t.share, 255)), rect: rect})
		}
	}
	return wants
}

// bandTrim is what findBands found: pixels to trim on each side, the sides (bitmask) and the
// trimmed share in percent (see regionContent).
type bandTrim struct {
	top, bottom, left, right int
	sides, share             int
}

// Band detection parameters. A band runs from an edge of the image: its edge line is clean (at
// least bandClean of its pixels within a tolerance of the band's colour, the edge line's mean), the
// following lines are clean or carry text (at least bandLoose of them within bandNear: letters on
// the band),
// its last clean line still has the band's colour (within bandDrift: a sky's gradient drifts, a
// band does not), and within bandEdge lines after it the picture starts (a line with less than
// bandOpen of its pixels near). A band covers bandMin..bandMax of the image's height (or width).
// The tolerance follows the edge line's own noise (its 95th percentile deviation plus bandSlack,
// within bandTight..bandNear): a flat band gets a tight one, so that a dark picture next to a
// black band, or a pale sky under a white one, is told apart from the band.
const (
	bandNear  = 24   // loosest tolerance: channel difference of a pixel "of the band's colour"
	bandTight = 8    // tightest tolerance
	bandSlack = 6    // added to the edge line's 95th percentile deviation
	bandClean = 0.95 // share of near pixels in a clean line
	bandLoose = 0.30 // share of near pixels in a line with text on the band
	bandDrift = 8    // largest channel difference between the band's first and last clean lines
	bandOpen  = 0.80 // a line with fewer near pixels belongs to the picture
	bandEdge  = 8    // lines of JPEG ringing (up to a block) between the band and the picture
	bandMin   = 0.02
	bandMax   = 0.35
)

// findBands looks for bands at the edges of img: top and bottom first (caption bands, letterbox
// bars), then left and right within what is left (pillarbox bars). A plain band on one side and the
// same colour over as many lines on the opposite side make a letterbox (or pillarbox) even where the
// picture's own edge has that colour (a dark picture in black bars).
func findBands(img image.Image) bandTrim {
	px := newRGBPlane(img)
	var t bandTrim
	if px.w < regionMinSide || px.h < regionMinSide {
		return t
	}
	t.top, t.bottom = px.bandPair(true, 0, px.w)
	t.left, t.right = px.bandPair(false, t.top, px.h-t.bottom)
	for _, s := range []struct{ n, bit int }{{t.top, sideTop}, {t.bottom, sideBottom}, {t.left, sideLeft}, {t.right, sideRight}} {
		if s.n > 0 {
			t.sides |= s.bit
		}
	}
	t.share = max(bandShare(t.top, t.bottom, px.h), bandShare(t.left, t.right, px.w))
	return t
}

// bandPair finds the bands at both ends of the rows (rows set: top and bottom) or of the columns,
// looking along each line only at positions lo..hi-1. What is left must be at least half.
func (p rgbPlane) bandPair(rows bool, lo, hi int) (a, b int) {
	n := p.h
	if !rows {
		n = p.w
	}
	ba := p.band(0, 1, rows, lo, hi)
	bb := p.band(n-1, -1, rows, lo, hi)
	// A plain band opposite an edge of its colour: the same size there (letterbox bars).
	if ba.size > 0 && bb.size == 0 && !ba.text {
		bb.size = p.same(n-1, -1, rows, lo, hi, ba)
	} else if bb.size > 0 && ba.size == 0 && !bb.text {
		ba.size = p.same(0, 1, rows, lo, hi, bb)
	}
	if ba.size+bb.size > n/2 {
		return 0, 0
	}
	return ba.size, bb.size
}

// bandShare is the size of the bands a and b (pixels, either may be 0) trimmed from a dimension of
// n pixels, in percent of what is left (the picture): a band of 12 % added below a picture is 12 %
// whatever the picture's size. Two bands count as their mean (a letterbox of 10 % each).
func bandShare(a, b, n int) int {
	pic := n - a - b
	if a+b == 0 || pic <= 0 {
		return 0
	}
	if a > 0 && b > 0 {
		return ((a+b)*100 + pic) / (2 * pic)
	}
	return ((a+b)*100 + pic/2) / pic
}

// rgbPlane is an image's pixels as 8-bit RGB: pixel (x, y) is pix[y*stride+x*bpp:][:3]. An
// *image.NRGBA (every work image in colour) is read in place (bpp 4, its alpha skipped), anything
// else is converted to packed triples (bpp 3).
type rgbPlane struct {
	w, h        int
	stride, bpp int
	pix         []uint8
}

func newRGBPlane(img image.Image) rgbPlane {
	b := img.Bounds()
	p := rgbPlane{w: b.Dx(), h: b.Dy(), stride: 3 * b.Dx(), bpp: 3}
	if m, ok := img.(*image.NRGBA); ok && p.w > 0 && p.h > 0 {
		p.stride, p.bpp = m.Stride, 4
		p.pix = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):]
		return p
	}
	p.pix = make([]uint8, 3*p.w*p.h)
	i := 0
	switch m := img.(type) {
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for _, v := range m.Pix[m.PixOffset(b.Min.X, y):][:p.w] {
				p.pix[i], p.pix[i+1], p.pix[i+2] = v, v, v
				i += 3
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				p.pix[i], p.pix[i+1], p.pix[i+2] = c.R, c.G, c.B
				i += 3
			}
		}
	}
	return p
}

// each calls f with the colour of every other pixel of line i at positions lo..hi-1 along it (half
// of them are plenty to measure shares): line i is a row when rows is set, else a column.
func (p rgbPlane) each(i int, rows bool, lo, hi int, f func(c [3]int)) {
	at := func(o int) [3]int { return [3]int{int(p.pix[o]), int(p.pix[o+1]), int(p.pix[o+2])} }
	if rows {
		for x := lo; x < hi; x += 2 {
			f(at(i*p.stride + x*p.bpp))
		}
		return
	}
	for y := lo; y < hi; y += 2 {
		f(at(y*p.stride + i*p.bpp))
	}
}

// mean is the mean colour of line i (positions lo..hi-1).
func (p rgbPlane) mean(i int, rows bool, lo, hi int) [3]int {
	var sum [3]int
	n := 0
	p.each(i, rows, lo, hi, func(c [3]int) {
		sum[0] += c[0]
		sum[1] += c[1]
		sum[2] += c[2]
		n++
	})
	return [3]int{sum[0] / max(1, n), sum[1] / max(1, n), sum[2] / max(1, n)}
}

// near is the share of line i's pixels (every other one at positions lo..hi-1) within tol of
// colour c. Written without each: it is the loop band detection spends its time in.
func (p rgbPlane) near(i int, rows bool, lo, hi int, c [3]int, tol int) float64 {
	off, stride := i*p.stride+lo*p.bpp, 2*p.bpp
	if !rows {
		off, stride = lo*p.stride+i*p.bpp, 2*p.stride
	}
	nn, n := 0, 0
	for k := lo; k < hi; k += 2 {
		px := p.pix[off : off+3 : off+3]
		d0, d1, d2 := int(px[0])-c[0], int(px[1])-c[1], int(px[2])-c[2]
		if d0 <= tol && d0 >= -tol && d1 <= tol && d1 >= -tol && d2 <= tol && d2 >= -tol {
			nn++
		}
		n++
		off += stride
	}
	return float64(nn) / float64(max(1, n))
}

func colourDiff(a, b [3]int) int {
	return max(absInt(a[0]-b[0]), absInt(a[1]-b[1]), absInt(a[2]-b[2]))
}

// edgeBand is a band found at one edge: its size in lines, its colour and tolerance, whether
// lines with text were crossed.
type edgeBand struct {
	size int
	bg   [3]int
	tol  int
	text bool
}

// band finds the band starting at line `from`, stepping by `step` (rows when rows is set, else
// columns; positions lo..hi-1 along each line); size 0 when there is none.
func (p rgbPlane) band(from, step int, rows bool, lo, hi int) edgeBand {
	n := p.h
	if !rows {
		n = p.w
	}
	line := func(k int) int { return from + k*step }
	e := edgeBand{bg: p.mean(from, rows, lo, hi)}
	var devs []int
	p.each(from, rows, lo, hi, func(c [3]int) { devs = append(devs, colourDiff(c, e.bg)) })
	if len(devs) == 0 {
		return edgeBand{}
	}
	slices.Sort(devs)
	e.tol = min(max(devs[len(devs)*95/100]+bandSlack, bandTight), bandNear)
	if p.near(from, rows, lo, hi, e.bg, e.tol) < bandClean {
		return edgeBand{}
	}
	limit := int(bandMax * float64(n))
	last := 0 // the last clean line
	for k := 1; k <= limit+1 && k < n; k++ {
		if p.near(line(k), rows, lo, hi, e.bg, e.tol) >= bandClean {
			last = k
			continue
		}
		// Letters blur the band's colour around them (JPEG's chroma is coarser than its luma):
		// a line with text is judged with the loosest tolerance.
		if p.near(line(k), rows, lo, hi, e.bg, bandNear) < bandLoose {
			break
		}
		e.text = true
	}
	count := last + 1
	if count > limit || count < max(2, int(bandMin*float64(n)+0.5)) {
		return edgeBand{}
	}
	if colourDiff(p.mean(line(last), rows, lo, hi), e.bg) > bandDrift {
		return edgeBand{}
	}
	for end := count; end < n && end <= count+bandEdge; end++ {
		if p.near(line(end), rows, lo, hi, e.bg, e.tol) < bandOpen {
			// Text crossed only after the last clean line is the picture's, not the band's.
			e.text = e.text && p.textBefore(line, rows, lo, hi, e, last)
			e.size = end
			return e
		}
	}
	return edgeBand{}
}

// textBefore reports whether a line with text (not clean) lies before the last clean line.
func (p rgbPlane) textBefore(line func(int) int, rows bool, lo, hi int, e edgeBand, last int) bool {
	for k := 1; k < last; k++ {
		if p.near(line(k), rows, lo, hi, e.bg, e.tol) < bandClean {
			return true
		}
	}
	return false
}

// same returns how many lines from line `from` (stepping by step) are clean in band o's colour,
// when that is at least o's size (then o.size: the opposite bar of a letterbox); else 0.
func (p rgbPlane) same(from, step int, rows bool, lo, hi int, o edgeBand) int {
	if colourDiff(p.mean(from, rows, lo, hi), o.bg) > bandDrift {
		return 0
	}
	for k := range o.size {
		if p.near(from+k*step, rows, lo, hi, o.bg, o.tol) < bandClean {
			return 0
		}
	}
	return o.size
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// describeRegionMatch says in the user's words how the query image relates to the matched one,
// when the query's region qa (param qp) matched the other's region mb (param mp), mirrored or not.
func describeRegionMatch(qa Region, qp uint8, mb Region, mp uint8, mirrored bool) string {
	ka, kb := centreKeep(qa), centreKeep(mb)
	if qa == RegionWhole {
		ka = 100
	}
	if mb == RegionWhole {
		kb = 100
	}
	sa, ca := isContent(qa)
	sb, cb := isContent(mb)
	var s string
	switch {
	case ka > 0 && kb > 0 && kb < ka:
		// The query's window ka is the other's window kb: the query is the other cropped to kb/ka.
		s = fmt.Sprintf("cropped%s (about %d %%, centre)", andMirrored(mirrored), (200*kb+ka)/(2*ka))
	case ka > 0 && kb > 0 && ka < kb:
		s = fmt.Sprintf("uncropped%s: the other photo is a crop of this one (about %d %%, centre)", andMirrored(mirrored), (200*ka+kb)/(2*kb))
	case ka > 0 && kb > 0:
		s = fmt.Sprintf("edges differ%s: the centre %d %% matches", andMirrored(mirrored), ka)
	case ca && mb == RegionWhole:
		s = fmt.Sprintf("%s added%s (%s, %s)", bandWord(sa), andMirrored(mirrored), sideWords(sa), bandSize(sa, qp))
	case cb && qa == RegionWhole:
		s = fmt.Sprintf("%s removed%s (%s, %s)", bandWord(sb), andMirrored(mirrored), sideWords(sb), bandSize(sb, mp))
	case ca && cb && sa == sb:
		s = fmt.Sprintf("%s changed%s (%s, %s; the other's %s)", bandWord(sa), andMirrored(mirrored), sideWords(sa), bandSize(sa, qp), bandSize(sb, mp))
	case ca && cb && sb&^sa == 0:
		// The query has bands on more sides (the other's own bands, e.g. a dark edge, stay).
		s = fmt.Sprintf("%s added%s (%s)", bandWord(sa&^sb), andMirrored(mirrored), sideWords(sa&^sb))
	case ca && cb && sa&^sb == 0:
		s = fmt.Sprintf("%s removed%s (%s)", bandWord(sb&^sa), andMirrored(mirrored), sideWords(sb&^sa))
	case ca && cb:
		s = fmt.Sprintf("bands differ%s (this photo: %s; the other: %s)", andMirrored(mirrored), sideWords(sa), sideWords(sb))
	case ca && kb > 0:
		// The query's content is the other's centre kb: cropped, and a band added.
		s = fmt.Sprintf("cropped (about %d %%, centre) and %s added%s (%s, %s)", kb, bandWord(sa), andMirrored(mirrored), sideWords(sa), bandSize(sa, qp))
	case cb && ka > 0:
		s = fmt.Sprintf("%s removed%s (%s, %s); the other photo is a crop of this one (about %d %%, centre)", bandWord(sb), andMirrored(mirrored), sideWords(sb), bandSize(sb, mp), ka)
	default:
		s = fmt.Sprintf("region %s matches the other's %s%s", qa, mb, andMirrored(mirrored))
	}
	return s
}

func andMirrored(m bool) string {
	if m {
		return " and mirrored"
	}
	return ""
}

// bandWord names a band by the sides it was trimmed from.
func bandWord(sides int) string {
	switch sides {
	case sideTop, sideBottom:
		return "caption band"
	case sideTop | sideBottom:
		return "letterbox"
	case sideLeft | sideRight:
		return "pillarbox"
	}
	return "border"
}

// bandSize says the size of a band of those sides: "12 %", or "10 % each" for two opposite bands.
func bandSize(sides int, pct uint8) string {
	if sides == sideTop|sideBottom || sides == sideLeft|sideRight {
		return fmt.Sprintf("%d %% each", pct)
	}
	return fmt.Sprintf("%d %%", pct)
}

// sideWords lists the trimmed sides: "bottom", "top and bottom", "left, top and right".
func sideWords(sides int) string {
	var names []string
	for _, x := range []struct {
		bit  int
		name string
	}{{sideTop, "top"}, {sideBottom, "bottom"}, {sideLeft, "left"}, {sideRight, "right"}} {
		if sides&x.bit != 0 {
			names = append(names, x.name)
		}
	}
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	s := names[0]
	for _, n := range names[1 : len(names)-1] {
		s += ", " + n
	}
	return s + " and " + names[len(names)-1]
}

package catalog

// Matching evaluation (issue 3): how well the catalog's PDQ variant (one area-average downscale to
// WorkSide, then PDQ, 8 dihedral hashes) separates unrelated photos, pairs rotated/mirrored copies,
// survives everyday edits, and keeps low-quality hashes out of matching.
//
// Corpus-wide tests run when RELCAT_CORPUS is set (CI). The full transform sweep over every corpus
// photo runs only with RELCAT_EVAL=1 (it decodes, edits and re-encodes every photo at full
// resolution); without it a fixed subset runs with assertions.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/relcat/relcat/catalog/pdq"
)

// corpusPhoto is one Go-decodable file of corpus/real with the catalog's hash of it.
type corpusPhoto struct {
	name string // below corpus/real
	path string
	w, h int
	data []byte
	pdq  *PDQInfo
	// regions are the region hashes of the same work image (issue 10).
	regions []RegionHash
}

var corpusHashCache struct {
	sync.Mutex
	dir    string
	photos []*corpusPhoto
}

// corpusPhotos returns every corpus/real file whose MANIFEST.tsv go_decode is "ok", hashed with the
// catalog's pipeline (hashBytes), in manifest order. The result is computed once per test binary.
func corpusPhotos(t *testing.T) []*corpusPhoto {
	t.Helper()
	dir := corpusDir(t)
	corpusHashCache.Lock()
	defer corpusHashCache.Unlock()
	if corpusHashCache.dir == dir {
		return corpusHashCache.photos
	}
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan()
	col := map[string]int{}
	for i, c := range strings.Split(sc.Text(), "\t") {
		col[c] = i
	}
	for _, c := range []string{"file", "go_decode", "width", "height"} {
		if _, ok := col[c]; !ok {
			t.Fatalf("MANIFEST.tsv has no %s column", c)
		}
	}
	var photos []*corpusPhoto
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if cols[col["go_decode"]] != "ok" {
			continue
		}
		p := &corpusPhoto{name: strings.TrimPrefix(cols[col["file"]], "corpus/real/")}
		p.path = filepath.Join(dir, "real", filepath.FromSlash(p.name))
		fmt.Sscan(cols[col["width"]], &p.w)
		fmt.Sscan(cols[col["height"]], &p.h)
		photos = append(photos, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(photos) < 90 {
		t.Fatalf("MANIFEST.tsv lists %d Go-decodable files, want about 100", len(photos))
	}
	errs := make([]error, len(photos))
	parallelEach(len(photos), func(i int) {
		p := photos[i]
		data, err := os.ReadFile(p.path)
		if err != nil {
			errs[i] = err
			return
		}
		// With the region hashes of the same work image (the region suite reads them).
		h, err := hashBytes(context.Background(), p.name, data, HashOptions{MaxPixels: DefaultMaxPixels, MaxFileSize: DefaultMaxFileSize, Regions: true})
		if err != nil {
			errs[i] = err
			return
		}
		if h.PDQ == nil && h.Width >= 5 && h.Height >= 5 {
			errs[i] = fmt.Errorf("%s: go_decode ok but no PDQ: %v", p.name, h.Warnings)
			return
		}
		p.data, p.pdq, p.regions = data, h.PDQ, h.regions
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Images under 5 px on a side have no PDQ (Issue 508.jpg is 1x1): nothing to match.
	photos = slices.DeleteFunc(photos, func(p *corpusPhoto) bool { return p.pdq == nil })
	corpusHashCache.dir, corpusHashCache.photos = dir, photos
	return photos
}

// catalogHash hashes image bytes exactly as ingest and lookup do (hashBytes with HashFile's
// defaults: hashBytes itself does not fill them in, and a zero MaxPixels refuses every image).
func catalogHash(name string, data []byte) (*FileHashes, error) {
	return hashBytes(context.Background(), name, data, HashOptions{MaxPixels: DefaultMaxPixels, MaxFileSize: DefaultMaxFileSize})
}

// parallelEach runs fn(0..n-1) on GOMAXPROCS goroutines.
func parallelEach(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, min(n, runtime.GOMAXPROCS(0))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// bestDihedral is the matching distance between two hashed images (PairDistance, what every command
// reports) and how a relates to b.
func bestDihedral(a, b *PDQInfo) (pdq.Transform, int) {
	d, tr := PairDistance(a, b)
	return tr, d
}

// relatedPairs lists the corpus pairs that show the same picture, each with the reason. Pairs are
// keyed by the two names below corpus/real in sorted order.
func relatedPairs(photos []*corpusPhoto) map[[2]string]string {
	related := map[[2]string]string{}
	add := func(a, b, why string) {
		if a > b {
			a, b = b, a
		}
		related[[2]string{a, b}] = why
	}
	const orient = "exif-samples/jpg/orientation/"
	for _, set := range []string{"landscape", "portrait"} {
		for i := 1; i <= 8; i++ {
			for j := i + 1; j <= 8; j++ {
				add(fmt.Sprintf("%s%s_%d.jpg", orient, set, i), fmt.Sprintf("%s%s_%d.jpg", orient, set, j),
					"orientation set: the same picture stored rotated/mirrored (corpus README)")
			}
		}
	}
	add("exif-samples/jpg/hdr/canon_hdr_YES.jpg", "exif-samples/jpg/hdr/canon_hdr_NO.jpg",
		"HDR pair: the same scene 26 s apart (corpus README)")
	add("exif-samples/jpg/exif-org/kodak-dc210.jpg", "metadata-extractor-images/jpg/Kodak DC210.jpg",
		"byte-identical files (corpus README)")
	for i := 1; i <= 8; i++ {
		for j := i + 1; j <= 8; j++ {
			add(fmt.Sprintf("goexif/exif/samples/f%d-exif.jpg", i), fmt.Sprintf("goexif/exif/samples/f%d-exif.jpg", j),
				"goexif orientation set: the same letter F stored under each EXIF orientation (viewed; 0 bits through the dihedral hashes)")
		}
	}
	for _, p := range extraRelated {
		add(p.a, p.b, p.why)
	}
	return related
}

// extraRelated are further pairs found to show the same picture: each pair came up under 31 bits,
// was rendered to PNG (stored pixels) and looked at side by side before being listed here. Every
// other unrelated pair is at least 88 bits apart.
var extraRelated = []struct{ a, b, why string }{
	{"goexif/exif/samples/geodegrees_as_string.jpg", "goexif/exif/samples/has-lens-info.jpg",
		"the same 205x102 panorama (viewed) with other EXIF (GPS as text vs lens info, Orientation 6); 0 bits"},
	{"metadata-extractor-images/jpg/HTC Desire.jpg", "metadata-extractor-images/webp/HTC Desire.webp",
		"the same 776x909 car-park photo (viewed), JPEG and its WebP re-encode; 2 bits"},
}

// TestCorpusNoFalseMatches hashes every Go-decodable corpus photo with the catalog's variant and
// checks that no two unrelated photos match at the defaults (best dihedral distance <= 31, both
// qualities >= 50). It logs the smallest unrelated distance and the histogram.
func TestCorpusNoFalseMatches(t *testing.T) {
	photos := corpusPhotos(t)
	related := relatedPairs(photos)
	byName := map[string]bool{}
	for _, p := range photos {
		byName[p.name] = true
	}
	for k := range related {
		if !byName[k[0]] || !byName[k[1]] {
			t.Errorf("related pair %v: not among the Go-decodable corpus photos", k)
		}
	}
	var hist [257]int
	type pair struct {
		a, b string
		d    int
		tr   pdq.Transform
	}
	var pairs, relatedSeen []pair
	lowQ := 0
	for i, a := range photos {
		if a.pdq.Quality < DefaultMinQuality {
			lowQ++
		}
		for _, b := range photos[i+1:] {
			tr, d := bestDihedral(a.pdq, b.pdq)
			k := [2]string{a.name, b.name}
			if k[0] > k[1] {
				k[0], k[1] = k[1], k[0]
			}
			pr := pair{a.name, b.name, d, tr}
			if _, ok := related[k]; ok {
				relatedSeen = append(relatedSeen, pr)
				continue
			}
			if a.pdq.Quality < DefaultMinQuality || b.pdq.Quality < DefaultMinQuality {
				continue
			}
			hist[d]++
			pairs = append(pairs, pr)
			if d <= DefaultMaxDistance {
				t.Errorf("false match: %s (q %d) and %s (q %d) at distance %d (%s)", a.name, a.pdq.Quality, b.name, b.pdq.Quality, d, tr)
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].d < pairs[j].d })
	t.Logf("%d photos (%d with quality < %d left out), %d unrelated pairs compared, %d related pairs excluded",
		len(photos), lowQ, DefaultMinQuality, len(pairs), len(relatedSeen))
	if len(pairs) == 0 {
		t.Fatal("no unrelated pairs")
	}
	for _, p := range pairs[:min(8, len(pairs))] {
		t.Logf("closest unrelated: %3d %-10s %s | %s", p.d, p.tr, p.a, p.b)
	}
	t.Logf("minimum unrelated distance: %d (threshold %d)", pairs[0].d, DefaultMaxDistance)
	t.Logf("histogram of best dihedral distance over unrelated pairs (bin of 8 bits):\n%s", distHistogram(hist[:], 8))
	sort.Slice(relatedSeen, func(i, j int) bool { return relatedSeen[i].d < relatedSeen[j].d })
	for _, p := range relatedSeen {
		if !strings.Contains(p.a, "/orientation/") && !strings.Contains(p.a, "exif/samples/f") {
			t.Logf("related (excluded): %3d %-10s %s | %s", p.d, p.tr, p.a, p.b)
		}
	}
}

// distHistogram renders counts binned by width.
func distHistogram(counts []int, width int) string {
	var b strings.Builder
	for lo := 0; lo < len(counts); lo += width {
		n := 0
		for _, c := range counts[lo:min(lo+width, len(counts))] {
			n += c
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %3d-%3d %6d %s\n", lo, min(lo+width, len(counts))-1, n, strings.Repeat("#", min(60, (n+9)/10)))
	}
	return b.String()
}

// TestOrientationSetsMatchDihedral checks that every landscape_N / portrait_N of the corpus
// orientation sets (the same picture stored rotated or mirrored, the EXIF tag undoing it) matches
// its _1 through the dihedral hashes, with the expected transform: pdq.Nearest(hash(X_N),
// Dihedral(X_1)) is the transform that turns _1's stored pixels into X_N's (shared/PDQ.md section 3).
func TestOrientationSetsMatchDihedral(t *testing.T) {
	photos := corpusPhotos(t)
	byName := map[string]*corpusPhoto{}
	for _, p := range photos {
		byName[p.name] = p
	}
	want := map[int]pdq.Transform{
		2: pdq.FlipY, 3: pdq.Rot180, 4: pdq.FlipX, 5: pdq.FlipPlus1,
		6: pdq.Rot90, 7: pdq.FlipMinus1, 8: pdq.Rot270,
	}
	for _, set := range []string{"landscape", "portrait"} {
		ref := byName[fmt.Sprintf("exif-samples/jpg/orientation/%s_1.jpg", set)]
		if ref == nil {
			t.Fatalf("%s_1.jpg is not among the Go-decodable corpus photos", set)
		}
		for n := 2; n <= 8; n++ {
			p := byName[fmt.Sprintf("exif-samples/jpg/orientation/%s_%d.jpg", set, n)]
			if p == nil {
				t.Fatalf("%s_%d.jpg is not among the Go-decodable corpus photos", set, n)
			}
			tr, d := pdq.Nearest(p.pdq.Hash, &ref.pdq.Dihedral)
			plain := pdq.Distance(p.pdq.Hash, ref.pdq.Hash)
			t.Logf("%s_%d vs _1: nearest %-10s at %2d bits (plain hash %3d), qualities %d/%d", set, n, tr, d, plain, p.pdq.Quality, ref.pdq.Quality)
			if tr != want[n] {
				t.Errorf("%s_%d: nearest transform %s, want %s", set, n, tr, want[n])
			}
			if d > DefaultMaxDistance || p.pdq.Quality < DefaultMinQuality || ref.pdq.Quality < DefaultMinQuality {
				t.Errorf("%s_%d: distance %d, qualities %d/%d: not a match at the defaults", set, n, d, p.pdq.Quality, ref.pdq.Quality)
			}
		}
	}
}

// quantiles returns min, median, p90 and max of xs (nearest-rank), or -1s when empty.
func quantiles(xs []int) (lo, med, p90, hi int) {
	if len(xs) == 0 {
		return -1, -1, -1, -1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := func(q float64) int {
		i := int(q*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return s[0], rank(0.5), rank(0.9), s[len(s)-1]
}

// lowQualityImage is a low-contrast texture: a fixed sum of the 16x16 lowest cosine waves (the
// frequencies PDQ's DCT keeps), each a few levels deep with a pseudo-random sign, so its PDQ hash is
// stable under small noise while PDQ's quality metric (steps of at least 1% between neighbouring cells
// of its 64x64 grid) stays well below 50. noise > 0 adds a pseudo-random +-noise (seeded) to every
// pixel.
func lowQualityImage(noise int, seed uint32) *image.Gray {
	const n, amp = 256, 10.0        // amp 10: qualities 22..25 (14 gives 44..46, 18 gives 66)
	rnd := func(x *uint32) uint32 { // xorshift32
		*x ^= *x << 13
		*x ^= *x >> 17
		*x ^= *x << 5
		return *x
	}
	var coef [17][17]float64
	s := uint32(0x9e3779b9)
	for u := 1; u <= 16; u++ {
		for v := 1; v <= 16; v++ {
			sign := float64(int(rnd(&s)%2)*2 - 1)
			coef[u][v] = sign * amp / float64(u+v)
		}
	}
	var cx, cy [17][n]float64
	for k := 1; k <= 16; k++ {
		for i := range n {
			cx[k][i] = math.Cos(math.Pi * float64(2*i+1) * float64(k) / (2 * n))
		}
	}
	cy = cx
	m := image.NewGray(image.Rect(0, 0, n, n))
	x := seed | 1
	for y := range n {
		for xx := range n {
			v := 128.0
			for u := 1; u <= 16; u++ {
				for w := 1; w <= 16; w++ {
					v += coef[u][w] * cx[u][xx] * cy[w][y]
				}
			}
			if noise > 0 {
				v += float64(int(rnd(&x)%uint32(2*noise+1)) - noise)
			}
			m.Pix[y*m.Stride+xx] = uint8(max(0, min(255, math.Round(v))))
		}
	}
	return m
}

func writeTestPNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLowQualityNeverMatchesByDefault ingests a low-quality image and a slightly noisy copy of it
// as two releases: by default neither Dupes nor Lookup (of a third noisy copy) pairs them, and
// Lookup says "low quality"; with MinQuality -1 (accept every quality) they do match.
func TestLowQualityNeverMatchesByDefault(t *testing.T) {
	root := t.TempDir()
	flat, copy1, copy2 := lowQualityImage(0, 0), lowQualityImage(2, 1), lowQualityImage(2, 7)
	writeTestPNG(t, filepath.Join(root, "a", "flat.png"), flat)
	writeTestPNG(t, filepath.Join(root, "b", "flat-noisy.png"), copy1)
	query := filepath.Join(root, "query", "flat-noisy2.png")
	writeTestPNG(t, query, copy2)

	// The premise: all three are low quality, and close enough to match if quality were ignored.
	var hs []*PDQInfo
	for _, p := range []string{filepath.Join(root, "a", "flat.png"), filepath.Join(root, "b", "flat-noisy.png"), query} {
		h, err := HashFile(context.Background(), p, HashOptions{})
		if err != nil || h.PDQ == nil {
			t.Fatalf("%s: %v %v", p, err, h)
		}
		if h.PDQ.Quality >= DefaultMinQuality {
			t.Fatalf("%s: quality %d, the test needs < %d", p, h.PDQ.Quality, DefaultMinQuality)
		}
		hs = append(hs, h.PDQ)
	}
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			tr, d := bestDihedral(hs[i], hs[j])
			t.Logf("qualities %d/%d, distance %d (%s)", hs[i].Quality, hs[j].Quality, d, tr)
			if d > DefaultMaxDistance {
				t.Fatalf("the generated copies are %d bits apart: the test needs them within %d", d, DefaultMaxDistance)
			}
		}
	}

	c := openTest(t)
	ctx := context.Background()
	for _, r := range []struct{ dir, date string }{{"a", "2020-01-01"}, {"b", "2020-02-01"}} {
		sums, err := c.Ingest(ctx, []string{filepath.Join(root, r.dir)}, IngestOptions{NoCopy: true,
			Release: ReleaseInfo{Affiliate: "test", Released: r.date}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range sums[0].Files {
			if f.Status != StatusNew || len(f.Near) != 0 {
				t.Errorf("ingest %s/%s: status %s, near %v: want new without near matches", r.dir, f.Name, f.Status, f.Near)
			}
		}
	}

	cl, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl) != 0 {
		t.Errorf("Dupes at the defaults: %d clusters, want none (low-quality hashes never match): %+v", len(cl), cl)
	}
	cl, err = c.Dupes(DupesOptions{Match: MatchOptions{MinQuality: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl) != 1 || len(cl[0].Members) != 2 || len(cl[0].Edges) != 1 {
		t.Errorf("Dupes with MinQuality -1: %+v, want one cluster of the two images with one edge", cl)
	}

	r, err := c.Lookup(ctx, query, MatchOptions{}, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.LowQual || len(r.Near) != 0 || len(r.Exact) != 0 {
		t.Errorf("Lookup at the defaults: low quality %v, %d near, %d exact: want low quality, no match", r.LowQual, len(r.Near), len(r.Exact))
	}
	r, err = c.Lookup(ctx, query, MatchOptions{MinQuality: -1}, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.LowQual || len(r.Near) != 2 {
		t.Errorf("Lookup with MinQuality -1: low quality %v, near %+v: want both stored images", r.LowQual, r.Near)
	}
	// A quality floor between the two: the stored images (quality < floor) still do not match.
	r, err = c.Lookup(ctx, query, MatchOptions{MinQuality: hs[2].Quality}, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Near {
		if m.Quality < hs[2].Quality {
			t.Errorf("Lookup with MinQuality %d matched a stored hash of quality %d", hs[2].Quality, m.Quality)
		}
	}
}

package catalog

import (
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
)

// sampleSources are demo photos (samples/, in the repository) the always-on region tests edit.
var sampleSources = []string{
	"2019-11-02-sinai/03-dog.jpg",
	"2019-11-02-sinai/06-church.jpg",
	"2019-11-02-sinai/09-ship.jpg",
	"2019-11-02-sinai/11-throne.jpg",
	"2019-11-05-khorasan/11-flowers.jpg",
	"2020-01-14-west-africa/04-jungle.jpg",
}

// loadSample reads a sample photo and returns its bytes, its catalog hashes and its pixels.
func loadSample(t *testing.T, rel string) ([]byte, *hashedImage, *image.RGBA) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "samples", "releases", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := hashForRegions(t, rel, data)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := media.Decode(data, media.Sniff(data), DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	// Edited at up to 640 px: enough for the work image, and quick under -race.
	return data, h, toRGBA(media.Shrink(img, 640))
}

// TestRegionHashesShape: regions are deterministic, ordered by code, at most MaxRegionHashes,
// each code once; the whole-image hash is unchanged (hashWork); tiny images get none.
func TestRegionHashesShape(t *testing.T) {
	data, h, _ := loadSample(t, sampleSources[0])
	ch, err := catalogHash("dog", data)
	if err != nil {
		t.Fatal(err)
	}
	if ch.PDQ.Hash != h.pdq.Hash || ch.PDQ.Quality != h.pdq.Quality {
		t.Errorf("work-image PDQ differs from the catalog's: %s vs %s", h.pdq.Hash, ch.PDQ.Hash)
	}
	if len(h.regions) == 0 || len(h.regions) > MaxRegionHashes {
		t.Fatalf("%d regions, want 1..%d", len(h.regions), MaxRegionHashes)
	}
	for i, r := range h.regions {
		if i > 0 && r.Region <= h.regions[i-1].Region {
			t.Errorf("regions not in code order: %v", h.regions)
		}
		if r.Region == RegionWhole || strings.HasPrefix(r.Region.String(), "region") {
			t.Errorf("region %d: code %d (%s) is not a known region", i, r.Region, r.Region)
		}
		if r.Quality < 0 || r.Quality > 100 {
			t.Errorf("region %s: quality %d", r.Region, r.Quality)
		}
		t.Logf("%s: quality %d, %d bits from the whole image", r.Region, r.Quality, pdq.Distance(r.AsIs, h.pdq.Hash))
	}
	work, _, err := workImage(t.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := regionHashes(work); err != nil || len(rs) != len(h.regions) || rs[0] != h.regions[0] {
		t.Errorf("regionHashes differs from workHashes' regions: %v %v", rs, err)
	}
	if p, err := hashWork(work); err != nil || *p != *h.pdq {
		t.Errorf("hashWork differs from workHashes' whole hash: %+v %v", p, err)
	}
	h2, err := hashForRegions(t, "again", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(h2.regions) != len(h.regions) {
		t.Fatal("not deterministic")
	}
	for i := range h.regions {
		if h.regions[i] != h2.regions[i] {
			t.Errorf("region %d differs between two runs", i)
		}
	}
	tiny := image.NewNRGBA(image.Rect(0, 0, 60, 40))
	rs, err := regionHashes(tiny)
	if err != nil || len(rs) != 0 {
		t.Errorf("60x40 image: %d regions, %v; want none", len(rs), err)
	}
}

// TestRegionWindowHashIsTheCrop: the centred window's hash is close to the hash of that crop,
// saved and hashed by the catalog's own path.
func TestRegionWindowHashIsTheCrop(t *testing.T) {
	for _, rel := range sampleSources[:3] {
		_, h, src := loadSample(t, rel)
		for _, r := range h.regions {
			k := centreKeep(r.Region)
			if k == 0 {
				continue
			}
			data, err := encodeJPEG(cropCentre(src, float64(k)), editJPEGQuality)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := hashForRegions(t, "crop", data)
			if err != nil {
				t.Fatal(err)
			}
			d := pdq.Distance(ch.pdq.Hash, r.AsIs)
			t.Logf("%s %s: the crop's whole hash is %d bits from the window's", rel, r.Region, d)
			if d > 20 {
				t.Errorf("%s %s: the crop's hash is %d bits from the window's, want <= 20", rel, r.Region, d)
			}
		}
	}
}

// TestRegionSamplesFound: on the demo photos, centred crops, a caption band, a letterbox, the
// repost and a mirrored crop are found (the fast, corpus-free check of the rule), and the demo
// photos do not match each other.
func TestRegionSamplesFound(t *testing.T) {
	var srcs []*hashedImage
	var names []string
	rng := rand.New(rand.NewPCG(evalSeed, 1))
	type tc struct {
		name string
		make func(s *image.RGBA) (*image.RGBA, int)
		word string // expected in the words
	}
	cases := []tc{
		{"centre-90", func(s *image.RGBA) (*image.RGBA, int) { return cropCentre(s, 90), 90 }, "cropped"},
		{"centre-80", func(s *image.RGBA) (*image.RGBA, int) { return cropCentre(s, 80), 90 }, "cropped"},
		{"band-bottom-12-text", func(s *image.RGBA) (*image.RGBA, int) {
			return addBand(s, 12, false, color.RGBA{0, 0, 0, 255}, "exclusive images from the front"), 90
		}, "caption band added (bottom"},
		{"band-top-8", func(s *image.RGBA) (*image.RGBA, int) {
			return addBand(s, 8, true, color.RGBA{255, 255, 255, 255}, ""), 90
		}, "caption band added (top"},
		{"letterbox-10", func(s *image.RGBA) (*image.RGBA, int) { return letterbox(s, 10), 90 }, "letterbox added"},
		{"repost", func(s *image.RGBA) (*image.RGBA, int) {
			return channelName(resizePct(cropCentre(s, 94), 60), rng.IntN(4), "@amaq_agency"), 70
		}, "cropped"},
		{"centre-90-mirrored", func(s *image.RGBA) (*image.RGBA, int) { return mirrorLR(cropCentre(s, 90)), 90 }, "mirrored"},
	}
	hits := map[string]int{}
	for _, rel := range sampleSources {
		_, h, src := loadSample(t, rel)
		srcs, names = append(srcs, h), append(names, rel)
		for _, c := range cases {
			m, q := c.make(src)
			data, err := encodeJPEG(m, q)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := hashForRegions(t, rel+"#"+c.name, data)
			if err != nil {
				t.Fatal(err)
			}
			v := evalMatch(ch, h)
			t.Logf("%-40s %-22s match %-5v dist %3d %q", rel, c.name, v.match, v.dist, v.words)
			if v.match && !v.whole && !strings.Contains(v.words, c.word) {
				t.Errorf("%s %s: words %q do not say %q", rel, c.name, v.words, c.word)
			}
			if v.match {
				hits[c.name]++
			}
			// The rule is symmetric: asked from the other side, the same distance.
			if w := evalMatch(h, ch); w.match != v.match || w.dist != v.dist {
				t.Errorf("%s %s: asked from the original: match %v dist %d; from the copy: %v %d", rel, c.name, w.match, w.dist, v.match, v.dist)
			}
		}
	}
	for _, c := range cases {
		// At most one miss in six per case on these photos (measured: see the log).
		if hits[c.name] < len(sampleSources)-1 {
			t.Errorf("%s: found %d of %d", c.name, hits[c.name], len(sampleSources))
		}
	}
	for i := range srcs {
		for j := i + 1; j < len(srcs); j++ {
			if v := evalMatch(srcs[i], srcs[j]); v.match {
				t.Errorf("different demo photos %s and %s match: %s~%s at %d", names[i], names[j], v.ra, v.rb, v.dist)
			}
		}
	}
}

// TestFindBands: bands added to a photo are found to within 2 % of their size, on the right sides.
func TestFindBands(t *testing.T) {
	_, _, src := loadSample(t, sampleSources[1])
	h0 := src.Bounds().Dy()
	for _, c := range []struct {
		name      string
		img       *image.RGBA
		sides     int
		top, bot  int
		wordSides string
	}{
		{"none", src, 0, 0, 0, ""},
		{"bottom-12-black-text", addBand(src, 12, false, color.RGBA{0, 0, 0, 255}, "Wilayat media office - photo report"), sideBottom, 0, h0 * 12 / 100, "bottom"},
		{"top-6-blue", addBand(src, 6, true, color.RGBA{15, 35, 90, 255}, ""), sideTop, h0 * 6 / 100, 0, "top"},
		{"top-15-red-text", addBand(src, 15, true, color.RGBA{150, 20, 20, 255}, "BREAKING: soldiers of the caliphate"), sideTop, h0 * 15 / 100, 0, "top"},
		{"letterbox-10", letterbox(src, 10), sideTop | sideBottom, h0 * 10 / 100, h0 * 10 / 100, "top and bottom"},
	} {
		// As ingest sees it: through a JPEG and the work image.
		data, err := encodeJPEG(c.img, 80)
		if err != nil {
			t.Fatal(err)
		}
		work, _, err := workImage(t.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := float64(work.Bounds().Dy()) / float64(c.img.Bounds().Dy())
		bt := findBands(work)
		t.Logf("%s: trim top %d bottom %d left %d right %d (sides %d, %d %%), want top %.0f bottom %.0f", c.name, bt.top, bt.bottom, bt.left, bt.right, bt.sides, bt.share, float64(c.top)*s, float64(c.bot)*s)
		if bt.sides != c.sides {
			t.Errorf("%s: sides %b, want %b", c.name, bt.sides, c.sides)
			continue
		}
		tol := 0.02 * float64(work.Bounds().Dy())
		if d := float64(bt.top) - float64(c.top)*s; d < -tol || d > tol {
			t.Errorf("%s: top trim %d, want %.0f", c.name, bt.top, float64(c.top)*s)
		}
		if d := float64(bt.bottom) - float64(c.bot)*s; d < -tol || d > tol {
			t.Errorf("%s: bottom trim %d, want %.0f", c.name, bt.bottom, float64(c.bot)*s)
		}
		if c.sides != 0 && sideWords(bt.sides) != c.wordSides {
			t.Errorf("%s: sides in words %q, want %q", c.name, sideWords(bt.sides), c.wordSides)
		}
	}
}

// TestRegionThreshold: symmetric, never above the default distance, the whole pair left to
// PairDistance, and every code regionHashes can return is compared with the whole image.
func TestRegionThreshold(t *testing.T) {
	var codes []Region
	for c := range 64 {
		r := Region(c)
		if r == RegionWhole || !strings.HasPrefix(r.String(), "region") {
			codes = append(codes, r)
		}
	}
	for _, a := range codes {
		for _, b := range codes {
			ta, tb := regionThreshold(a, b), regionThreshold(b, a)
			if ta != tb {
				t.Errorf("regionThreshold(%s, %s) = %d, reversed %d", a, b, ta, tb)
			}
			if ta > DefaultMaxDistance {
				t.Errorf("regionThreshold(%s, %s) = %d > %d", a, b, ta, DefaultMaxDistance)
			}
		}
		if a != RegionWhole && regionThreshold(a, RegionWhole) < 0 {
			t.Errorf("%s is never compared with the whole image", a)
		}
	}
	if regionThreshold(RegionWhole, RegionWhole) != -1 {
		t.Error("(whole, whole) must be PairDistance's")
	}
}

// TestDescribeRegionMatch: the user's words, both ways round.
func TestDescribeRegionMatch(t *testing.T) {
	bottom := regionContent + sideBottom
	lb := regionContent + sideTop + sideBottom
	for _, c := range []struct {
		qa   Region
		qp   uint8
		mb   Region
		mp   uint8
		mir  bool
		want string
	}{
		{RegionWhole, 0, regionCentre80, 0, false, "cropped (about 80 %, centre)"},
		{RegionWhole, 0, regionCentre88, 0, true, "cropped and mirrored (about 88 %, centre)"},
		{regionCentre80, 0, RegionWhole, 0, false, "uncropped: the other photo is a crop of this one (about 80 %, centre)"},
		{regionCentre95, 0, regionCentre88, 0, false, "cropped (about 93 %, centre)"},
		{bottom, 12, RegionWhole, 0, false, "caption band added (bottom, 12 %)"},
		{RegionWhole, 0, bottom, 12, false, "caption band removed (bottom, 12 %)"},
		{lb, 10, RegionWhole, 0, false, "letterbox added (top and bottom, 10 % each)"},
		{bottom, 12, regionCentre95, 0, false, "cropped (about 95 %, centre) and caption band added (bottom, 12 %)"},
		{regionContent + sideBottom + sideLeft, 12, regionContent + sideLeft, 4, false, "caption band added (bottom)"},
		{regionContent + sideLeft, 4, regionContent + sideBottom + sideLeft, 12, true, "caption band removed and mirrored (bottom)"},
		{regionContent + sideTop, 19, regionContent + sideTop, 43, false, "caption band changed (top, 19 %; the other's 43 %)"},
		{regionContent + sideTop, 19, regionContent + sideLeft, 4, false, "bands differ (this photo: top; the other: left)"},
	} {
		if got := describeRegionMatch(c.qa, c.qp, c.mb, c.mp, c.mir); got != c.want {
			t.Errorf("describeRegionMatch(%s, %d, %s, %d, %v) = %q, want %q", c.qa, c.qp, c.mb, c.mp, c.mir, got, c.want)
		}
	}
}

// BenchmarkRegionHashes: the region hashes of one 1024-px work image (what ingest adds per image),
// against hashWork on the same work image (the whole-image PDQ ingest computes anyway).
//
//	go test -run '^$' -bench RegionHashes -benchtime 50x ./catalog
func BenchmarkRegionHashes(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(repoRoot(b), "samples", "releases", "2019-11-02-sinai", "01-receipt.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	work, _, err := workImage(b.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("work image %v", work.Bounds().Size())
	// cpu-ms/op: user+system time of the process per operation (steadier than wall time on a
	// shared machine).
	cpu := func(b *testing.B, f func()) {
		c0 := cpuTime(b)
		for b.Loop() {
			f()
		}
		b.ReportMetric(float64(cpuTime(b)-c0)/float64(b.N)/1e6, "cpu-ms/op")
	}
	b.Run("regionHashes", func(b *testing.B) { cpu(b, func() { _, _ = regionHashes(work) }) })
	b.Run("workHashes", func(b *testing.B) { cpu(b, func() { _, _, _ = workHashes(work) }) })
	b.Run("hashWork", func(b *testing.B) { cpu(b, func() { _, _ = hashWork(work) }) })
	b.Run("findBands", func(b *testing.B) { cpu(b, func() { findBands(work) }) })
}

// BenchmarkProtoWindows: the query windows of one 1024-px work image (what an arriving photo adds).
//
//	go test -run '^$' -bench ProtoWindows -benchtime 20x ./catalog
func BenchmarkProtoWindows(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(repoRoot(b), "samples", "releases", "2019-11-02-sinai", "01-receipt.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	work, _, err := workImage(b.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	c0 := cpuTime(b)
	n := 0
	for b.Loop() {
		ws, err := protoWindows(work)
		if err != nil {
			b.Fatal(err)
		}
		n = len(ws)
	}
	b.ReportMetric(float64(cpuTime(b)-c0)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(n), "windows")
}

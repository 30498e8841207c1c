package pdq_test

import (
	"fmt"
	"image"
	_ "image/gif"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// variantSides are the work-image sizes measured against full-resolution hashing.
var variantSides = []int{512, 768, 1024}

// chosenSide is the work-image size whose distances are asserted (<= 10 bits on every qualifying
// image); the others are only logged.
const chosenSide = 1024

type variantCase struct {
	name string
	img  image.Image
}

// corpusPhotos decodes every Go-decodable image of corpus/real (at most 50 MP each).
func corpusPhotos(t *testing.T, corpus string) []variantCase {
	t.Helper()
	var out []variantCase
	root := filepath.Join(corpus, "real")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		img, err := decodeBounded(path, 50_000_000)
		if err != nil {
			return nil // not decodable by Go: out of scope for this measurement
		}
		rel, _ := filepath.Rel(corpus, path)
		out = append(out, variantCase{rel, img})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no decodable image under %s", root)
	}
	return out
}

func decodeBounded(path string, maxPixels int) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, err
	}
	if cfg.Width*cfg.Height > maxPixels {
		return nil, fmt.Errorf("too large")
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	img, _, err = image.Decode(f)
	return img, err
}

// TestVariantDistances measures how far the hash of a work image (area-averaged by media.Shrink
// to at most N px on the longest side) lands from the full-resolution hash. Every image counts
// that has full-resolution quality >= 50 and both sides >= 64 px; the distances for chosenSide
// must all be <= 10 bits. The distributions are logged for every N.
func TestVariantDistances(t *testing.T) {
	evaluation(t)
	t.Parallel()
	var cases []variantCase
	for _, row := range pdq.RefRows(t) {
		img, err := pdq.DecodeFile(row.File)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, variantCase{strings.TrimPrefix(row.Rel, "corpus/"), img})
	}
	if corpus := pdq.CorpusDir(t); corpus != "" {
		cases = append(cases, corpusPhotos(t, corpus)...)
	}
	dists := map[int][]int{}  // every qualifying image
	shrunk := map[int][]int{} // those actually reduced (longest side > N)
	skipped := 0
	for _, c := range cases {
		full, err := pdq.FromImage(c.img)
		if err != nil {
			t.Logf("%s: %v", c.name, err)
			skipped++
			continue
		}
		b := c.img.Bounds()
		if full.Quality < 50 || b.Dx() < 64 || b.Dy() < 64 {
			t.Logf("%s: %dx%d quality %d: not qualifying", c.name, b.Dx(), b.Dy(), full.Quality)
			skipped++
			continue
		}
		if isBilevel(c.img) {
			// A scanned black-and-white page is not a photo: averaging its pixel-fine strokes
			// moves the hash more (goexif/tiff/sample1.tif: 26/22/14 bits at 512/768/1024).
			bilevel := fmt.Sprintf("%s: %dx%d bilevel document, logged only:", c.name, b.Dx(), b.Dy())
			for _, n := range variantSides {
				r, err := pdq.FromImage(media.Shrink(c.img, n))
				if err == nil {
					bilevel += fmt.Sprintf(" N=%d: %d bits", n, pdq.Distance(full.Hash, r.Hash))
				}
			}
			t.Log(bilevel)
			skipped++
			continue
		}
		line := fmt.Sprintf("%-70s %5dx%-5d", c.name, b.Dx(), b.Dy())
		longest := max(b.Dx(), b.Dy())
		for _, n := range variantSides {
			small := media.Shrink(c.img, n)
			r, err := pdq.FromImage(small)
			if err != nil {
				t.Errorf("%s N=%d: %v", c.name, n, err)
				continue
			}
			d := pdq.Distance(full.Hash, r.Hash)
			dists[n] = append(dists[n], d)
			if longest > n {
				shrunk[n] = append(shrunk[n], d)
			}
			line += fmt.Sprintf("  N=%d: %2d bits q%3d", n, d, r.Quality)
			if n == chosenSide && d > 10 {
				t.Errorf("%s: work image of %d px is %d bits from the full-resolution hash, want <= 10", c.name, n, d)
			}
		}
		t.Log(line)
	}
	for _, n := range variantSides {
		logDist(t, fmt.Sprintf("N=%4d all qualifying", n), dists[n])
		logDist(t, fmt.Sprintf("N=%4d shrunk only  ", n), shrunk[n])
	}
	t.Logf("%d images not qualifying (quality < 50, side < 64, unhashable)", skipped)
}

func logDist(t *testing.T, label string, ds []int) {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	if len(ds) == 0 {
		t.Logf("%s: no images", label)
		return
	}
	sum := 0
	for _, d := range ds {
		sum += d
	}
	t.Logf("%s: %3d images, max %2d, mean %5.2f, exact %3d, <=4 %3d, <=10 %3d; sorted %v", label, len(ds), ds[len(ds)-1],
		float64(sum)/float64(len(ds)), countLE(ds, 0), countLE(ds, 4), countLE(ds, 10), ds)
}

// isBilevel reports whether every pixel is pure black or pure white (a fax-style document).
func isBilevel(img image.Image) bool {
	switch m := img.(type) {
	case *image.Gray:
		for _, v := range m.Pix {
			if v != 0 && v != 255 {
				return false
			}
		}
		return true
	case *image.Paletted:
		if len(m.Palette) > 2 {
			return false
		}
		for _, c := range m.Palette {
			r, g, b, _ := c.RGBA()
			if !(r == g && g == b && (r == 0 || r == 0xffff)) {
				return false
			}
		}
		return true
	}
	return false
}

func countLE(ds []int, k int) int {
	n := 0
	for _, d := range ds {
		if d <= k {
			n++
		}
	}
	return n
}

// BenchmarkShrink measures the work-image route on a 12 MP JPEG's *image.YCbCr: media.Shrink alone,
// and Shrink followed by FromImage, for each N. Compare with BenchmarkFromImage12MP and
// BenchmarkDecodeJPEG12MP in the same run.
func BenchmarkShrink(b *testing.B) {
	_, img := pdq.BigImage12MP(b)
	for _, n := range variantSides {
		b.Run(fmt.Sprintf("N=%d/shrink", n), func(b *testing.B) {
			for b.Loop() {
				media.Shrink(img, n)
			}
		})
		b.Run(fmt.Sprintf("N=%d/shrink+hash", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := pdq.FromImage(media.Shrink(img, n)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// evaluation marks a measurement over many real photos (pixel arithmetic, no concurrency of its
// own): skipped with -short, which CI uses for its race-detector pass; CI's full pass (the
// README's go test ./..., without -race) runs it.
func evaluation(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a measurement over many photos: runs without -short (CI's full pass)")
	}
}

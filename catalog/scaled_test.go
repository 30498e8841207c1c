package catalog

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
)

// TestScaledDecodePDQ holds the reduced JPEG decode of ingest and lookup (issue 11) to its PDQ
// bars on every corpus JPEG that image/jpeg decodes: the stored hash is within 4 bits of the hash
// of the work image made from image/jpeg's full-resolution decode (what ingest stored before), and
// within 10 bits of the reference full-resolution PDQ on at least 98% of the photos.
//
// Images under 32 pixels a side are left out of the 4-bit bar (and logged): PDQ of such an image
// is decoder rounding noise, e.g. the 8x8 goexif/corrupt/infinite_loop_exif.jpg hashes 39 bits
// apart when decoded by image/jpeg and by libjpeg-turbo's djpeg, and 18 apart with this decoder.
func TestScaledDecodePDQ(t *testing.T) {
	evaluation(t)
	dir := corpusDir(t)
	if v := os.Getenv("RELCAT_WORK_MIN_SIDE"); v != "" { // measuring other reductions
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		defer func(old int) { workMinSide = old }(workMinSide)
		workMinSide = n
	}
	var files []string
	err := filepath.Walk(filepath.Join(dir, "real"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var n, reduced, within10, worstToday, worstRef int
	var hist [9]int // scale -> count
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if media.Sniff(data) != media.JPEG {
			continue
		}
		full, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			continue // no PDQ either way
		}
		b := full.Bounds()
		if b.Dx() < 5 || b.Dy() < 5 {
			continue
		}
		today, err := pdq.FromImage(media.Shrink(full, WorkSide))
		if err != nil {
			t.Fatal(p, err)
		}
		ref, err := pdq.FromImage(full)
		if err != nil {
			t.Fatal(p, err)
		}
		work, _, err := workImage(context.Background(), data, media.JPEG, DefaultMaxPixels, 0, nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got, err := hashWork(work)
		if err != nil {
			t.Fatal(p, err)
		}
		n++
		s := media.Scale(b.Dx(), b.Dy(), workMinSide)
		hist[s]++
		if s > 1 {
			reduced++
		}
		dt, dr := pdq.Distance(got.Hash, today.Hash), pdq.Distance(got.Hash, ref.Hash)
		if max(b.Dx(), b.Dy()) >= 32 {
			worstToday = max(worstToday, dt)
		}
		worstRef = max(worstRef, dr)
		if max(b.Dx(), b.Dy()) < 32 {
			t.Logf("%s (%dx%d): %d bits from the work-image PDQ of the full decode (tiny image, not held to 4 bits)", p, b.Dx(), b.Dy(), dt)
		} else if dt > 4 {
			t.Errorf("%s (%dx%d, decoded at 1/%d): %d bits from the work-image PDQ of the full decode", p, b.Dx(), b.Dy(), s, dt)
		}
		if dr <= 10 {
			within10++
		}
	}
	if n < 50 {
		t.Fatalf("only %d corpus JPEGs decoded", n)
	}
	share := float64(within10) / float64(n)
	t.Logf("%d JPEGs (%d decoded reduced: 1/2 %d, 1/4 %d, 1/8 %d); worst distance to today's work-image PDQ %d bits (images of 32 px and more); "+
		"to the reference full-resolution PDQ %d bits, %d/%d (%.1f%%) within 10",
		n, reduced, hist[2], hist[4], hist[8], worstToday, worstRef, within10, n, 100*share)
	if share < 0.98 {
		t.Errorf("only %.1f%% of the corpus JPEGs within 10 bits of the reference PDQ, want >= 98%%", 100*share)
	}
}

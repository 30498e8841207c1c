package pdq

import (
	"slices"
	"strings"
	"testing"
)

// TestConformance compares with the reference's full-resolution hashes. The PNG decodes to the
// reference's exact pixels and must match bit for bit (hash, quality, all 8 dihedral hashes).
// JPEGs are decoded by Go's image/jpeg, which is not libjpeg-turbo: for those with reference
// quality >= 50 and both sides >= 64 px every hash must be within 10 bits and the quality within 2.
// Others (featureless images with quality < 50, tiny images without blur) are only logged, with a
// loose sanity bound of 64 bits on the as-is hash (unrelated images sit near 128 apart).
func TestConformance(t *testing.T) {
	t.Parallel()
	var dists []int
	for _, row := range RefRows(t) {
		img, err := DecodeFile(row.File)
		if err != nil {
			t.Errorf("%s: %v", row.Rel, err)
			continue
		}
		res, err := FromImage(img)
		if err != nil {
			t.Errorf("%s: %v", row.Rel, err)
			continue
		}
		b := img.Bounds()
		var dd [8]int
		for i := range dd {
			dd[i] = Distance(res.Dihedral[i], row.Dihedral[i])
		}
		d := dd[AsIs]
		t.Logf("%-60s %4dx%-4d q=%3d ref q=%3d dist=%2d dihedral=%v", row.Rel, b.Dx(), b.Dy(), res.Quality, row.Quality, d, dd)
		if res.Hash != res.Dihedral[AsIs] {
			t.Errorf("%s: Hash != Dihedral[AsIs]", row.Rel)
		}
		switch {
		case strings.HasSuffix(row.Rel, ".png"):
			if res.Quality != row.Quality || res.Dihedral != row.Dihedral {
				t.Errorf("%s: want exact match, got q=%d (want %d), dihedral distances %v\n got %s\nwant %s",
					row.Rel, res.Quality, row.Quality, dd, res.Hash, row.Dihedral[AsIs])
			}
		case row.Quality >= 50 && b.Dx() >= 64 && b.Dy() >= 64:
			dists = append(dists, d)
			if slices.Max(dd[:]) > 10 {
				t.Errorf("%s: dihedral distances %v, want all <= 10", row.Rel, dd)
			}
			if q := res.Quality - row.Quality; q < -2 || q > 2 {
				t.Errorf("%s: quality %d, reference %d", row.Rel, res.Quality, row.Quality)
			}
		default:
			if d > 64 {
				t.Errorf("%s: low-quality/tiny image %d bits from the reference, want <= 64", row.Rel, d)
			}
		}
	}
	slices.Sort(dists)
	t.Logf("qualifying JPEG distances (sorted): %v", dists)
}

package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"
)

// refCase is one JPEG for TestReducedReferencePDQ.
type refCase struct {
	name string
	data []byte
}

// TestReducedReferencePDQ measures the reference PDQ ingest stores for a JPEG it decodes at a
// reduction (pdq.FromReduced from the 1/2..1/8 decode) against the exact full-resolution hash of the
// same file (a full-size decode hashed by pdq.FromImage: what `relcat hash` and `ingest
// --exact-pdq` give), on every corpus JPEG ingest decodes reduced (RELCAT_CORPUS) and on generated
// photos (two of 2400x1800; with RELCAT_EVAL=1 also the 16 photos of 4000x3000 that BenchmarkIngest
// makes). Every distance and the worst are logged; the bar is the worst seen plus a margin.
// Smaller JPEGs decode at full size and their stored reference hash is exact
// (TestIngestStoresReferencePDQ). `relcat hash` gives the exact hash (checked on the generated ones).
func TestReducedReferencePDQ(t *testing.T) {
	evaluation(t)
	var cases []refCase
	gen := func(w, h, n int, seed uint64) {
		dir := t.TempDir()
		makeBenchPhotos(t, dir, benchSources(t), w, h, n, seed)
		for i := range n {
			data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%03d.jpg", i)))
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, refCase{fmt.Sprintf("generated %dx%d #%d", w, h, i), data})
		}
	}
	gen(2400, 1800, 2, 5)
	if os.Getenv("RELCAT_EVAL") == "1" {
		gen(4000, 3000, 16, 1)
	}
	if os.Getenv("RELCAT_CORPUS") != "" {
		dir := corpusDir(t)
		var files []string
		for _, sub := range []string{"real", "pdq-ref"} {
			err := filepath.Walk(filepath.Join(dir, sub), func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					files = append(files, p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		sort.Strings(files)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if media.Sniff(data) == media.JPEG {
				rel, _ := filepath.Rel(dir, p)
				cases = append(cases, refCase{rel, data})
			}
		}
	}
	var dists []int
	worstQ := 0
	for _, c := range cases {
		cfg, err := media.DecodeConfig(c.data, media.JPEG)
		if err != nil || cfg.Width < 5 || cfg.Height < 5 {
			continue
		}
		scale := media.Scale(cfg.Width, cfg.Height, workDecodeSide(false))
		if scale == 1 {
			continue // decoded at full size: exact
		}
		_, got, _, err := workAndReference(context.Background(), c.data, media.JPEG, DefaultMaxPixels, 0, nil, true, false)
		if err != nil {
			continue // not decodable (corrupt corpus files): no hash either way
		}
		if got == nil {
			t.Errorf("%s: no reference hash", c.name)
			continue
		}
		full, fcfg, err := decodeBounded(context.Background(), c.data, media.JPEG, DefaultMaxPixels, 0, nil)
		if err != nil {
			t.Errorf("%s: reduced decode worked, full decode failed: %v", c.name, err)
			continue
		}
		exact, err := hashReference(full, fcfg)
		if err != nil {
			t.Fatal(c.name, err)
		}
		if b := full.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
			t.Fatalf("%s: the full decode is %v", c.name, b)
		}
		if strings.HasPrefix(c.name, "generated") {
			// `relcat hash` (HashFile with Full) decodes at full size: the exact hash.
			path := filepath.Join(t.TempDir(), "photo.jpg")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			h, err := HashFile(context.Background(), path, HashOptions{Full: true})
			if err != nil || h.PDQ == nil || h.PDQ.Hash != exact.Hash || h.PDQ.Dihedral != exact.Dihedral || h.PDQ.Variant != pdq.VariantFull {
				t.Errorf("%s: relcat hash gives %+v (%v), the exact hash is %s", c.name, h, err, exact.Hash)
			}
		}
		var dd [8]int
		for i := range dd {
			dd[i] = pdq.Distance(got.Dihedral[i], exact.Dihedral[i])
		}
		dists = append(dists, dd[pdq.AsIs])
		worstQ = max(worstQ, abs(got.Quality-exact.Quality))
		t.Logf("%s (%dx%d, decoded at 1/%d): %d bits from the exact hash (dihedral %v), quality %d vs %d",
			c.name, cfg.Width, cfg.Height, scale, dd[pdq.AsIs], dd, got.Quality, exact.Quality)
		if slices.Max(dd[:]) > maxReducedRefBits {
			t.Errorf("%s: %d bits from the exact reference hash, want <= %d", c.name, slices.Max(dd[:]), maxReducedRefBits)
		}
	}
	slices.Sort(dists)
	t.Logf("%d JPEGs decoded reduced; distances to the exact hash (sorted): %v; worst quality difference %d", len(dists), dists, worstQ)
	if len(dists) < 2 {
		t.Errorf("only %d reduced JPEGs measured", len(dists))
	}
	if worstQ > 2 {
		t.Errorf("quality up to %d from the exact hash's", worstQ)
	}
}

// maxReducedRefBits bounds the distance of the reduced reference hash to the exact one. Measured
// (RELCAT_EVAL=1, with the corpus, JPEGs of 1024 px and more decoded reduced to 512 px and more):
// 47 JPEGs, 40 at 0 bits and 7 at 2 (dihedral hashes up to 2), quality at most 1 apart.
const maxReducedRefBits = 6

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

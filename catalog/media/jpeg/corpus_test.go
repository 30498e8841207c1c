package jpeg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func corpusJPEGs(t *testing.T) []string {
	dir := os.Getenv("RELCAT_CORPUS")
	if dir == "" {
		t.Skip("RELCAT_CORPUS not set: the corpus comparison is skipped")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", "..", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		t.Fatalf("RELCAT_CORPUS=%s: %v", dir, err)
	}
	var files []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			if b, err := os.ReadFile(p); err == nil && len(b) > 2 && b[0] == 0xff && b[1] == 0xd8 {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCorpusScale1: every corpus JPEG gets the verdict image/jpeg gives, and the samples
// of those both decode differ by at most 1.
func TestCorpusScale1(t *testing.T) {
	evaluation(t)
	files := corpusJPEGs(t)
	worst, same := 0, 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, ourErr, stdErr := compareStd(t, data)
		name := strings.TrimPrefix(p, filepath.Dir(filepath.Dir(p)))
		if (ourErr == nil) != (stdErr == nil) {
			t.Errorf("%s: verdicts differ: ours %v, image/jpeg %v", name, ourErr, stdErr)
			continue
		}
		if ourErr != nil {
			t.Logf("%s: both fail: ours %v; image/jpeg %v", name, ourErr, stdErr)
			continue
		}
		if d == 0 {
			same++
		}
		worst = max(worst, d)
		if _, ycck := ours(data); ycck {
			// The YCCK to CMYK conversion amplifies a one-level plane difference.
			if d > 3 {
				t.Errorf("%s (YCCK): max sample difference %d", name, d)
			}
			continue
		}
		if d > 1 {
			t.Errorf("%s: max sample difference %d", name, d)
		}
	}
	t.Logf("%d corpus JPEGs; %d decoded bit-identical; worst difference %d", len(files), same, worst)
}

// ours reports whether data is an Adobe YCCK file.
func ours(data []byte) (*decoder, bool) {
	d := &decoder{data: data}
	_ = d.run(true)
	return d, d.ncomp == 4 && d.adobe && d.adobeTransform == 2
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

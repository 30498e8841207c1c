package pdq

import (
	"bufio"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RefRow is one row of expected.tsv joined with expected-dihedral.tsv.
type RefRow struct {
	Rel      string // path as written in the TSV, e.g. corpus/pdq-ref/bridge-mods/aaa-orig.jpg
	File     string // resolved file path
	Quality  int
	Dihedral [8]Hash
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// CorpusDir returns the shared corpus folder when RELCAT_CORPUS is set (relative paths are taken
// from the repository root), failing the test if it is set but missing; "" when it is not set.
func CorpusDir(t testing.TB) string {
	t.Helper()
	v := os.Getenv("RELCAT_CORPUS")
	if v == "" {
		return ""
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(repoRoot(t), v)
	}
	if st, err := os.Stat(v); err != nil || !st.IsDir() {
		t.Fatalf("RELCAT_CORPUS=%q: corpus folder missing (%v)", os.Getenv("RELCAT_CORPUS"), err)
	}
	return v
}

// RefRows reads the reference hashes: all rows of the corpus' TSVs with RELCAT_CORPUS, otherwise
// the rows whose image was copied into testdata/pdq-ref.
func RefRows(t testing.TB) []RefRow {
	t.Helper()
	corpus := CorpusDir(t)
	base := filepath.Join("testdata", "pdq-ref")
	if corpus != "" {
		base = filepath.Join(corpus, "pdq-ref")
	}
	dih := map[string][8]Hash{}
	for _, f := range readTSV(t, filepath.Join(base, "expected-dihedral.tsv")) {
		if len(f) != 10 {
			t.Fatalf("expected-dihedral.tsv: %d fields in %q", len(f), f)
		}
		var d [8]Hash
		for i := range d {
			d[i] = mustParse(t, f[2+i])
		}
		dih[f[0]] = d
	}
	var rows []RefRow
	for _, f := range readTSV(t, filepath.Join(base, "expected.tsv")) {
		if len(f) != 3 {
			t.Fatalf("expected.tsv: %d fields in %q", len(f), f)
		}
		rel, ok := strings.CutPrefix(f[0], "corpus/pdq-ref/")
		if !ok {
			t.Fatalf("unexpected path %q", f[0])
		}
		file := filepath.Join(base, filepath.FromSlash(rel))
		if _, err := os.Stat(file); err != nil {
			if corpus != "" {
				t.Fatalf("corpus file missing: %v", err)
			}
			continue // not copied into testdata
		}
		q, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatal(err)
		}
		d, ok := dih[f[0]]
		if !ok {
			t.Fatalf("no dihedral row for %s", f[0])
		}
		if h := mustParse(t, f[1]); h != d[AsIs] {
			t.Fatalf("%s: expected.tsv and expected-dihedral.tsv disagree", f[0])
		}
		rows = append(rows, RefRow{Rel: f[0], File: file, Quality: q, Dihedral: d})
	}
	if len(rows) == 0 {
		t.Fatal("no reference rows found")
	}
	return rows
}

func readTSV(t testing.TB, name string) [][]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		if sc.Text() == "" {
			continue
		}
		out = append(out, strings.Split(sc.Text(), "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustParse(t testing.TB, s string) Hash {
	t.Helper()
	h, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var decoded sync.Map // file name -> image.Image; tests only read the images

// DecodeFile decodes an image file with the standard decoders, once per test binary. Callers
// must not modify the returned image.
func DecodeFile(name string) (image.Image, error) {
	if img, ok := decoded.Load(name); ok {
		return img.(image.Image), nil
	}
	img, err := decodeFile(name)
	if err == nil {
		decoded.Store(name, img)
	}
	return img, err
}

func decodeFile(name string) (image.Image, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return img, nil
}

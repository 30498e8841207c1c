package media

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusDir resolves RELCAT_CORPUS: absolute, or relative to the repository
// root (the directory holding go.mod). It skips when the variable is unset
// and fails when it is set but the folder is missing.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RELCAT_CORPUS")
	if dir == "" {
		t.Skip("RELCAT_CORPUS not set")
	}
	if !filepath.IsAbs(dir) {
		root, err := filepath.Abs(".")
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatalf("RELCAT_CORPUS=%q is relative but no go.mod found above the test", dir)
			}
			root = parent
		}
		dir = filepath.Join(root, dir)
	}
	if fi, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil || fi.IsDir() {
		t.Fatalf("RELCAT_CORPUS=%q: no MANIFEST.tsv there (%v)", dir, err)
	}
	return dir
}

var manifestFormats = map[string]Format{
	"JPEG": JPEG, "PNG": PNG, "GIF": GIF, "TIFF": TIFF, "WEBP": WebP, "Extended WEBP": WebP,
	"BMP": BMP, "HEIC": HEIC, "HEIF": HEIF, "AVIF": AVIF,
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var col map[string]int
	files, decoded := 0, 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, name := range fields {
				col[name] = i
			}
			for _, name := range []string{"file", "format", "width", "height", "go_decode"} {
				if _, ok := col[name]; !ok {
					t.Fatalf("MANIFEST.tsv has no %q column", name)
				}
			}
			continue
		}
		name := fields[col["file"]]
		path := filepath.Join(dir, strings.TrimPrefix(name, "corpus/"))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		files++
		want, ok := manifestFormats[fields[col["format"]]]
		if !ok {
			t.Errorf("%s: manifest format %q not mapped", name, fields[col["format"]])
			continue
		}
		if got := Sniff(data); got != want {
			t.Errorf("%s: Sniff = %q, manifest says %q", name, got, fields[col["format"]])
		}
		goOK := fields[col["go_decode"]] == "ok"
		cfg, err := func() (cfg Config, err error) {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic escaped: %v", name, r)
				}
			}()
			m, cfg, err := Decode(data, Sniff(data), DefaultMaxPixels)
			if err == nil {
				Shrink(m, 256)
			}
			return cfg, err
		}()
		if goOK != (err == nil) {
			t.Errorf("%s: Decode error %v, manifest go_decode %q", name, err, fields[col["go_decode"]])
		}
		if err != nil && !errors.Is(err, ErrDecode) && !errors.Is(err, ErrNoDecoder) && !errors.Is(err, ErrTooManyPixels) {
			t.Errorf("%s: error %v wraps no expected sentinel", name, err)
		}
		if err == nil {
			decoded++
		}
		// The header size must agree with the manifest wherever we read one.
		w, werr := strconv.Atoi(fields[col["width"]])
		h, herr := strconv.Atoi(fields[col["height"]])
		if werr == nil && herr == nil && (err == nil || errors.Is(err, ErrNoDecoder)) &&
			(cfg.Width != w || cfg.Height != h) {
			t.Errorf("%s: config %dx%d, manifest %dx%d", name, cfg.Width, cfg.Height, w, h)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Errorf("only %d files read from the manifest", files)
	}
	t.Logf("%d files, %d decoded", files, decoded)
}

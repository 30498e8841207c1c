package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/relcat/relcat/catalog/exifmeta"
	"github.com/relcat/relcat/internal/hostile"
)

// The library side of the hostile-file suite (cmd/relcat/hostile_test.go drives the CLI): the same
// generated folder through Catalog.Ingest on a catalog whose invariants are verified on cleanup.

func hostileRelease(t *testing.T) (string, []hostile.Case) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hostile")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cases, err := hostile.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := filepath.Glob(filepath.Join(sampleDirs(t)[0], "*.jpg"))
	for i, p := range good[:2] {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, []string{"good a.jpg", "good b.jpg"}[i]), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, cases
}

func TestIngestHostile(t *testing.T) {
	for _, recursive := range []bool{false, true} {
		name := "flat"
		if recursive {
			name = "recursive"
		}
		t.Run(name, func(t *testing.T) {
			c := openTest(t)
			dir, cases := hostileRelease(t)
			sums, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{
				Release:   ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"},
				Recursive: recursive, Workers: 3,
			})
			if err != nil {
				t.Fatal(err)
			}
			s := sums[0]
			if !s.Partial() {
				t.Error("not partial")
			}
			byName := map[string]FileResult{}
			for _, f := range s.Files {
				byName[f.Name] = f
				if strings.Contains(f.Reason, "internal error") {
					t.Errorf("%q: %s", f.Name, f.Reason)
				}
			}
			notes := strings.Join(s.Notes, "\n")
			files := 2
			for _, hc := range cases {
				outcome, fname, substr := hc.Outcome, textName(hc.Name), hc.Substr
				if recursive && hc.Recursive != "" {
					outcome, fname, substr = hc.Recursive, hc.Name+"/inner.jpg", ""
				}
				if outcome == hostile.NotAFile {
					if !strings.Contains(notes, substr) {
						t.Errorf("%q: notes lack %q:\n%s", hc.Name, substr, notes)
					}
					continue
				}
				files++
				f, ok := byName[fname]
				text := f.Reason + strings.Join(f.Warnings, "\n")
				switch {
				case !ok:
					t.Errorf("%q: no result", hc.Name)
				case outcome == hostile.Rejected && (f.Status != StatusRejected || f.Reason == "" || !strings.Contains(text, substr)):
					t.Errorf("%q: %+v, want rejected with %q", hc.Name, f, substr)
				case outcome == hostile.NoPixels && (f.Status != StatusNew || !f.NoPixels || !strings.Contains(text, substr)):
					t.Errorf("%q: %+v, want new without pixels, %q", hc.Name, f, substr)
				case outcome == hostile.New && (f.Status != StatusNew || f.NoPixels || !strings.Contains(text, substr)):
					t.Errorf("%q: %+v, want new with pixels, %q", hc.Name, f, substr)
				}
			}
			if len(s.Files) != files {
				t.Errorf("%d results, want %d", len(s.Files), files)
			}
			if !recursive {
				checkStoredHostile(t, c, byName)
			}
		})
	}
}

// checkStoredHostile looks at what the catalog kept for some of the files.
func checkStoredHostile(t *testing.T, c *Catalog, byName map[string]FileResult) {
	t.Helper()
	img := func(name string) *Image {
		t.Helper()
		f := byName[name]
		if f.SHA256 == nil {
			t.Fatalf("%q: no hash", name)
		}
		d, err := c.Image(*f.SHA256)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		return d.Image
	}
	tr := img("01 truncated mid-scan.jpg")
	if tr.Pixels || tr.PDQ != nil || tr.Thumb != "" || tr.EXIF.Make != "TruncCam" || tr.Object == "" || tr.PixelsError == "" {
		t.Errorf("truncated JPEG: want EXIF, hashes and the original without pixels: %+v", tr)
	}
	for _, n := range []string{"03 bomb 60000x60000.png", "04 bomb 65500x65500.jpg"} {
		b := img(n)
		if b.Pixels || b.Width < 60000 || b.Height < 60000 || !strings.Contains(b.PixelsError, "--max-pixels") {
			t.Errorf("%s: %+v", n, b)
		}
	}
	if m := img("25 exif script ansi bel.jpg").EXIF; m.Make != hostile.Script || m.Model != hostile.ANSI || m.Serial != hostile.RLO {
		t.Errorf("hostile strings not stored verbatim: %+v", m)
	}
	if m := img("26 exif 60KB string.jpg").EXIF; len(m.Model) > exifmeta.MaxRawValue || len(m.Model) < exifmeta.MaxRawValue-16 {
		t.Errorf("60 KB model stored as %d bytes, want the cap %d", len(m.Model), exifmeta.MaxRawValue)
	}
	for _, n := range []string{"08 gps zero denominators.jpg", "09 gps 123N 200E.jpg"} {
		if g := img(n).EXIF.GPS; g != nil {
			t.Errorf("%s: GPS stored: %+v", n, g)
		}
	}
	if n := textName("19 invalid \xff\xfe utf8.jpg"); n != `19 invalid \xff\xfe utf8.jpg` || byName[n].Status != StatusNew {
		t.Errorf("non-UTF-8 name recorded as %q: %+v", n, byName[n])
	}
}

// readRegular must refuse a FIFO without blocking even when it is handed one directly (a file can
// be swapped for a FIFO between the folder listing and the read).
func TestReadRegularFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe.jpg")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := readRegular(p, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := readRegular(t.TempDir(), 1<<20); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("folder: %v", err)
	}
}

func TestTextName(t *testing.T) {
	for in, want := range map[string]string{
		"plain.jpg": "plain.jpg", "صورة.jpg": "صورة.jpg", "a\xffb.jpg": `a\xffb.jpg`,
		"\xe2\x80": `\xe2\x80`, "ok\u202e\n.jpg": "ok\u202e\n.jpg",
	} {
		if got := textName(in); got != want {
			t.Errorf("textName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A zone can move a date-time out of the years RFC 3339 writes in UTC; such a release time is
// refused (it was stored as "-0001-…" and the batch record no longer read back).
func TestParseReleasedYearRange(t *testing.T) {
	// Before MinReleaseYear: refused (0001-01-01 is Go's zero time and was shown as an empty date).
	for _, s := range []string{"0000-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0000-01-01T00:30:00-01:00",
		"0000-01-01", "0001-01-01", "0001-01-01T00:00:00Z", "1899-12-31T23:30:00Z", "1900-01-01T00:30:00+01:00"} {
		if _, err := ParseReleased(s); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"1900-01-01T00:30:00-01:00", "9999-12-31T23:30:00+01:00", "1900-01-01"} {
		r, err := ParseReleased(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if back, err := ParseReleased(r.String()); err != nil || !back.Time.Equal(r.Time) {
			t.Errorf("%s -> %s -> %v", s, r, err)
		}
	}
}

// A folder whose name is not UTF-8 (an archive unpacked with a legacy code page) and an operator
// name with such bytes: the log entry must still hash to its recorded hash (openTest verifies).
func TestIngestNonUTF8FolderAndOperator(t *testing.T) {
	c := openTest(t)
	dir := filepath.Join(t.TempDir(), "release \xe5\xd1\xc7")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a\xff.jpg"), hostile.JPEG(32, 32, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{
		Release:  ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01", Title: "t\xfe"},
		Operator: "op\xff", Command: "relcat ingest " + dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Verify(context.Background(), VerifyOptions{})
	if err != nil || len(r.Problems) > 0 {
		t.Errorf("verify: %v %v", err, r.Problems)
	}
}

package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog"
	"github.com/relcat/relcat/internal/hostile"
)

// The payloads of the hostile batch: each would set window.__pwned or fetch from the canary URL
// (canaryHost) if the browser ran it.
const (
	canaryHost = "relcat-canary.invalid"
	pwnScript  = "<script>window.__pwned=1</script>"
	pwnImg     = `"><img src=x onerror="window.__pwned=2">`
	pwnFetch   = `<img src="http://` + canaryHost + `/exif.png">`
	pwnCSS     = `<style>@import url(http://` + canaryHost + `/x.css);body{background:url(//` + canaryHost + `/b.png)}</style>\3c script\3e`
	pwnJS      = "javascript:window.__pwned=3"
	rtl        = "serial \u202egpj.exe"
)

// long is a 60 KB hostile string (no spaces: it must wrap, not widen the page).
var long = strings.Repeat("W", 60<<10)

var (
	fixOnce sync.Once
	fixDir  string
	fixErr  error
	// fixture results
	fixHostileBatch catalog.BatchID
	fixManyBatch    catalog.BatchID
)

// manyN is the size of the release that needs two pages.
const manyN = PageSize + 5

// fixture is one catalog per test binary: the four demo releases of samples/ and a hostile
// release whose names, EXIF, title and notes carry payloads.
func fixture(t testing.TB) string {
	t.Helper()
	fixOnce.Do(func() { fixDir, fixErr = buildFixture() })
	if fixErr != nil {
		t.Fatalf("fixture: %v", fixErr)
	}
	return fixDir
}

func buildFixture() (string, error) {
	root, err := os.MkdirTemp("", "relcat-web-test-")
	if err != nil {
		return "", err
	}
	samples, err := filepath.Glob("../samples/releases/*")
	if err != nil || len(samples) == 0 {
		return "", err
	}
	hdir := filepath.Join(root, "2021-06-01-hostile")
	if err := os.MkdirAll(hdir, 0o755); err != nil {
		return "", err
	}
	rel, _ := json.Marshal(map[string]string{"affiliate": "is-hostile", "released": "2021-06-01",
		"title": pwnScript + pwnImg + "\u202etitle", "notes": pwnFetch + pwnCSS + long, "source": pwnJS})
	if err := os.WriteFile(filepath.Join(hdir, "release.json"), rel, 0o644); err != nil {
		return "", err
	}
	exif := hostile.TIFF(hostile.IFD{Entries: []hostile.Entry{
		hostile.ASCII(0x010f, pwnScript),            // Make
		hostile.ASCII(0x0110, pwnImg),               // Model
		hostile.ASCII(0x0131, pwnCSS),               // Software
		hostile.ASCII(0x010e, pwnFetch+long[:4000]), // ImageDescription
	}}, hostile.IFD{Exif: true, Entries: []hostile.Entry{
		hostile.ASCII(0xa431, rtl),   // BodySerialNumber
		hostile.ASCII(0xa434, pwnJS), // LensModel
		hostile.ASCII(0x9003, "2021:05:30 10:00:00"),
	}})
	files := map[string][]byte{
		pwnScript[:len(pwnScript)-9] + ".jpg":        hostile.Splice(hostile.JPEG(96, 64, 11), exif),
		strings.ReplaceAll(pwnImg, "/", "") + ".jpg": hostile.JPEG(64, 96, 12),
		"javascript:window.__pwned=4.jpg":            hostile.JPEG(80, 80, 13),
		"\u202egpj.exe.jpg":                          hostile.JPEG(70, 90, 14),
		"bad-\xff\xfe-utf8.jpg":                      hostile.JPEG(90, 70, 15),
		strings.Repeat("\u0645", 120) + ".jpg":       hostile.JPEG(100, 60, 16),
	}
	// Formats a browser does not show (or relcat cannot decode): no preview, originals as
	// octet-stream.
	for name, src := range map[string]string{"scan.tiff": "Arbitro.tiff", "photo.avif": "32Bit-72dpi-sRGB-800x600.avif"} {
		data, err := os.ReadFile(filepath.Join("..", "catalog", "exifmeta", "testdata", src))
		if err != nil {
			return "", err
		}
		files[name] = data
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(hdir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	// A release longer than a page (PageSize photos).
	mdir := filepath.Join(root, "2022-02-02-many")
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(mdir, "release.json"), []byte(`{"affiliate":"is-many","released":"2022-02-02"}`), 0o644); err != nil {
		return "", err
	}
	for i := 0; i < manyN; i++ {
		if err := os.WriteFile(filepath.Join(mdir, fmt.Sprintf("many-%03d.jpg", i)), hostile.JPEG(24, 16, 1000+i), 0o644); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(root, "cat")
	c, err := catalog.Open(dir, catalog.Options{Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }})
	if err != nil {
		return "", err
	}
	defer c.Close()
	sums, err := c.Ingest(context.Background(), append(samples, hdir, mdir), catalog.IngestOptions{Operator: "web-test"})
	if err != nil {
		return "", err
	}
	fixHostileBatch = sums[len(sums)-2].Batch.ID
	fixManyBatch = sums[len(sums)-1].Batch.ID
	return dir, nil
}

// openFixture opens the fixture catalog read-only for one test.
func openFixture(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Open(fixture(t), catalog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// batchOf finds the batch of a demo release by its folder name.
func batchOf(t testing.TB, c *catalog.Catalog, folder string) catalog.BatchID {
	t.Helper()
	bs, err := c.Batches("")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Folder == folder {
			return b.ID
		}
	}
	t.Fatalf("no batch from folder %s", folder)
	return catalog.BatchID{}
}

func TestMain(m *testing.M) {
	code := m.Run()
	closeBrowser()
	if fixDir != "" {
		os.RemoveAll(filepath.Dir(fixDir))
	}
	os.Exit(code)
}

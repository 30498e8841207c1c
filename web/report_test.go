package web

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) }

// writeReport renders a report of the fixture into a file and returns its path and its bytes.
func writeReport(t *testing.T, o ReportOptions) (string, []byte) {
	t.Helper()
	c := openFixture(t)
	o.Now = fixedNow
	var buf bytes.Buffer
	if err := Report(c, o, &buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

// selfContained checks what a report file may refer to: nothing outside itself.
func selfContained(t *testing.T, html []byte) {
	t.Helper()
	s := string(html)
	for _, bad := range []string{"<script", "src=\"http", "src=\"/", "href=\"http", "<link", "url("} {
		if strings.Contains(s, bad) {
			i := strings.Index(s, bad)
			t.Errorf("report contains %q: …%s…", bad, s[max(0, i-80):min(len(s), i+80)])
		}
	}
}

func TestBrowserReportBatch(t *testing.T) {
	c := openFixture(t)
	id := batchOf(t, c, "2019-11-05-khorasan")
	path, html := writeReport(t, ReportOptions{Batch: &id})
	selfContained(t, html)

	tb := newTab(t)
	tb.open(t, "file://"+path)
	n := tb.checkImages(t, 12)
	if n != 12 {
		t.Errorf("contact sheet of the 12 files shows %d images", n)
	}
	txt := tb.text(t)
	head, ok, err := c.LogHead()
	if err != nil || !ok {
		t.Fatal("no log head", err)
	}
	for _, want := range []string{
		"01-signpost.jpg", "12-night.jpg", // file names, in file order
		"seen before: identical", "origin: 2019-11-02 · is-sinai", "10-signpost.jpg", // origin release and its file name
		"seen before: near copy, distance", "mirrored left-right", // 07-ship
		"made 2026-11-30T09:00:00Z", head.Hash, // the report names the catalog state
		"stripped: no EXIF metadata", "SONY DSC-HX5V", "2010-05-15T17:12:05 (zone unknown)", "51.77862, 8.36564",
		"Digital Camera FinePix40i Ver1.39", // software
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("report text lacks %q", want)
		}
	}
	if i, j := strings.Index(txt, "01-signpost.jpg"), strings.Index(txt, "12-night.jpg"); i > j {
		t.Error("photos are not in file order")
	}
	if out := tb.requestsOutside("file://", "data:"); len(out) > 0 {
		t.Errorf("the report made requests: %v", out)
	}
	if v := tb.cspViolations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
	tb.screenshot(t, "report-batch")
}

// TestBrowserReports opens the other reports offline: duplicates, an affiliate, an image, the
// timeline. Every thumbnail loads from the file itself, nothing else is requested.
func TestBrowserReports(t *testing.T) {
	c := openFixture(t)
	ship := shaOf(t, c, sample("2019-11-05-khorasan/07-ship.jpg"))
	cls, err := c.Dupes(catalog.DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	images := 0
	for _, cl := range cls {
		if len(cl.Members) == 1 {
			images++ // byte-identical reuse: one picture, its sightings beside it
		} else {
			images += 2 * (len(cl.Members) - 1) // each pair shows the origin image and a copy
		}
	}
	for _, tc := range []struct {
		name   string
		o      ReportOptions
		images int
		want   []string
	}{
		{"dupes", ReportOptions{Dupes: &catalog.DupesOptions{}}, images,
			[]string{"Recycled photos", "origin 2019-11-02 · is-sinai", "the origin mirrored left-right", "07-ship.jpg", "09-ship.jpg"}},
		{"dupes-exact", ReportOptions{Dupes: &catalog.DupesOptions{Exact: true, Affiliate: "is-khorasan"}}, 1,
			[]string{"only: byte-identical reuse", "affiliate: is-khorasan", "02-dog.jpg"}},
		{"affiliate", ReportOptions{Affiliate: "is-sinai"}, 0,
			[]string{"Affiliate is-sinai", "2 · 19 files", "2019-11-02", "2020-03-09T07:30:00Z", "new", "recycled"}},
		{"image", ReportOptions{Image: &ship}, 3,
			[]string{ship.String(), "07-ship.jpg", "is-khorasan", "origin", "09-ship.jpg", "this image is that one mirrored left-right", "stripped: no EXIF metadata"}},
		{"timeline", ReportOptions{Timeline: true}, 0,
			[]string{"Timeline", "2019-11-02", "is-west-africa", "DEMO 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, html := writeReport(t, tc.o)
			selfContained(t, html)
			tb := newTab(t)
			tb.open(t, "file://"+path)
			if n := tb.checkImages(t, tc.images); tc.images > 0 && n < tc.images {
				t.Errorf("%d images, want %d", n, tc.images)
			}
			txt := tb.text(t)
			for _, want := range tc.want {
				if !strings.Contains(txt, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			if out := tb.requestsOutside("file://", "data:"); len(out) > 0 {
				t.Errorf("the report made requests: %v", out)
			}
			if v := tb.cspViolations(); len(v) > 0 {
				t.Errorf("CSP violations: %v", v)
			}
			if tc.name == "affiliate" {
				if n := eval[int](t, tb, `document.querySelectorAll("svg.chart rect").length`); n != 4 {
					t.Errorf("chart has %d bars, want 4 (two releases)", n)
				}
			}
			tb.screenshot(t, "report-"+tc.name)
		})
	}
}

package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/disintegration/imaging"

	"github.com/relcat/relcat/catalog"
)

// testServer serves the fixture catalog on loopback for one test.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(ServerOptions{Dir: fixture(t), Now: fixedNow}))
	t.Cleanup(srv.Close)
	return srv
}

// shaOf finds the image a demo file is.
func shaOf(t testing.TB, c *catalog.Catalog, path string) catalog.SHA256 {
	t.Helper()
	h, err := catalog.HashFile(context.Background(), path, catalog.HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return h.SHA256
}

func sample(name string) string { return filepath.Join("..", "samples", "releases", name) }

// TestBrowserServerLinks follows links from an affiliate to a batch, to an image, to a
// near-duplicate, and back, checking every page's text and thumbnails on the way.
func TestBrowserServerLinks(t *testing.T) {
	srv := testServer(t)
	c := openFixture(t)
	tb := newTab(t)

	tb.open(t, srv.URL+"/")
	txt := tb.text(t)
	for _, want := range []string{"is-sinai", "is-khorasan", "is-west-africa", "2019-11-02", "catalog log head #"} {
		if !strings.Contains(txt, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	tb.screenshot(t, "server-home")
	tb.click(t, `a[href="/affiliate/is-khorasan"]`)
	tb.wantPath(t, "/affiliate/is-khorasan")
	txt = tb.text(t)
	for _, want := range []string{"12 files: 3 new, 9 recycled", "2019-11-05", "DEMO 2"} {
		if !strings.Contains(txt, want) {
			t.Errorf("affiliate page lacks %q:\n%s", want, txt)
		}
	}
	if n := eval[int](t, tb, `document.querySelectorAll("svg.chart rect").length`); n != 2 {
		t.Errorf("chart has %d bars, want 2 (new + recycled of one release)", n)
	}
	khorasan := batchOf(t, c, "2019-11-05-khorasan")
	tb.click(t, `a[href="/batch/`+khorasan.String()+`"]`)
	tb.wantPath(t, "/batch/"+khorasan.String())
	tb.checkImages(t, 12)
	txt = tb.text(t)
	for _, want := range []string{"07-ship.jpg", "seen before: near copy, distance 14, mirrored left-right", "origin: 2019-11-02 · is-sinai", "09-ship.jpg"} {
		if !strings.Contains(txt, want) {
			t.Errorf("batch page lacks %q", want)
		}
	}
	tb.screenshot(t, "server-batch")
	// The README's contact sheet: the first four photos.
	tb.run(t, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#sheet .card:nth-child(n+5)").forEach(e => e.hidden = true); document.querySelector("#sheet").style.maxWidth = "1000px"`))
	tb.elementShot(t, "readme-contact-sheet", "#sheet", 0.6)
	tb.run(t, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#sheet .card").forEach(e => e.hidden = false); document.querySelector("#sheet").style.maxWidth = ""`))

	copySHA := shaOf(t, c, sample("2019-11-05-khorasan/07-ship.jpg"))
	origSHA := shaOf(t, c, sample("2019-11-02-sinai/09-ship.jpg"))
	tb.click(t, `#img-`+copySHA.String()+` .name a`)
	tb.wantPath(t, "/image/"+copySHA.String())
	tb.checkImages(t, 3) // the preview of the original, and the pair of thumbnails
	txt = tb.text(t)
	for _, want := range []string{copySHA.String(), "07-ship.jpg", "is-khorasan", "this image is that one mirrored left-right", "stripped: no EXIF metadata"} {
		if !strings.Contains(txt, want) {
			t.Errorf("image page lacks %q", want)
		}
	}
	// The near-duplicate's thumbnail is shown mirrored, as the match says.
	if tr := eval[string](t, tb, `getComputedStyle(document.querySelector("#near img.t-flipy")).transform`); tr != "matrix(-1, 0, 0, 1, 0, 0)" {
		t.Errorf("near-duplicate thumbnail transform %q, want a left-right mirror", tr)
	}
	tb.click(t, `a.near-link[href="/image/`+origSHA.String()+`"]`)
	tb.wantPath(t, "/image/"+origSHA.String())
	if txt = tb.text(t); !strings.Contains(txt, "09-ship.jpg") || !strings.Contains(txt, "is-sinai") {
		t.Errorf("near-duplicate's page lacks its sighting:\n%s", txt)
	}
	tb.back(t)
	tb.wantPath(t, "/image/"+copySHA.String())
	if out := tb.requestsOutside(srv.URL + "/"); len(out) > 0 {
		t.Errorf("pages made requests elsewhere: %v", out)
	}
	if v := tb.cspViolations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

// TestBrowserServerPages opens the list pages: dupes, timeline, search.
func TestBrowserServerPages(t *testing.T) {
	srv := testServer(t)
	c := openFixture(t)
	tb := newTab(t)

	tb.open(t, srv.URL+"/dupes")
	n := tb.checkImages(t, 10)
	txt := tb.text(t)
	for _, want := range []string{"origin 2019-11-02 · is-sinai", "the origin mirrored left-right", "the origin rotated 90°", "09-ship.jpg", "07-ship.jpg"} {
		if !strings.Contains(txt, want) {
			t.Errorf("dupes page lacks %q", want)
		}
	}
	// Mirrored copies are turned back: the ship copy's thumbnail carries a left-right mirror.
	if k := eval[int](t, tb, `document.querySelectorAll("img.t-flipy").length`); k == 0 {
		t.Error("no mirrored copy is shown mirrored back")
	}
	tb.screenshot(t, "server-dupes")
	t.Logf("dupes page: %d thumbnails", n)
	// The README's duplicate pair: the mirrored ship beside its origin.
	tb.run(t, chromedp.Evaluate[chromedp.Void](`document.querySelector("img.t-flipy").closest(".pair").id = "readme-pair"`))
	tb.elementShot(t, "readme-duplicate-pair", "#readme-pair", 0.75)

	tb.open(t, srv.URL+"/dupes?across-affiliates=1&affiliate=is-west-africa")
	txt = tb.text(t)
	if !strings.Contains(txt, "05-antennas.png") || strings.Contains(txt, "03-dog.jpg") {
		t.Errorf("filtered dupes page wrong:\n%s", txt)
	}
	cls, err := c.Dupes(catalog.DupesOptions{AcrossAffiliates: true, Affiliate: "is-west-africa"})
	if err != nil {
		t.Fatal(err)
	}
	if k := eval[int](t, tb, `document.querySelectorAll("section.cluster").length`); k != len(cls) {
		t.Errorf("filtered dupes page shows %d clusters, `dupes` gives %d", k, len(cls))
	}

	tb.open(t, srv.URL+"/timeline")
	txt = tb.text(t)
	if i, j := strings.Index(txt, "2019-11-02"), strings.Index(txt, "2020-03-09T07:30:00Z"); i < 0 || j < i {
		t.Errorf("timeline not in order:\n%s", txt)
	}
	// The counts and sources are catalog.Timeline's (what `relcat timeline` prints).
	tl, err := c.Timeline(catalog.TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := eval[[]string](t, tb, `Array.from(document.querySelectorAll("#timeline tr")).slice(1).map(r => r.innerText)`)
	if len(rows) != len(tl) {
		t.Fatalf("timeline shows %d releases, Timeline gives %d", len(rows), len(tl))
	}
	for i, r := range tl {
		cells := fmt.Sprintf("%d\t%d\t%d\t%d", r.Photos, r.New, r.Identical, r.Near)
		if !strings.Contains(rows[i], r.Batch.ID.String()) || !strings.Contains(rows[i], cells) {
			t.Errorf("timeline row %d %q, want batch %s and %q", i, rows[i], r.Batch.ID, cells)
		}
		for _, src := range r.Sources {
			if !strings.Contains(rows[i], fmt.Sprintf("%s: %d identical, %d near", src.Batch.String()[:8], src.Identical, src.Near)) {
				t.Errorf("timeline row %d lacks source %s", i, src.Batch)
			}
		}
	}

	sinai := batchOf(t, c, "2019-11-02-sinai")
	tb.open(t, srv.URL+"/search")
	tb.run(t, chromedpSendKeys("#q", sinai.String()[:6]))
	tb.submit(t, "#search-form")
	tb.wantPath(t, "/batch/"+sinai.String())
	// By MD5, with or without its prefix, and by a SHA-256 prefix.
	dog, err := catalog.HashFile(context.Background(), sample("2019-11-02-sinai/03-dog.jpg"), catalog.HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{dog.MD5.String(), "md5:" + dog.MD5.String(), dog.SHA256.String()[:10], "sha256:" + dog.SHA256.String()} {
		tb.open(t, srv.URL+"/search")
		tb.run(t, chromedpSendKeys("#q", q))
		tb.submit(t, "#search-form")
		tb.wantPath(t, "/image/"+dog.SHA256.String())
	}
	// A PDQ hash is looked up as `relcat lookup pdq:HEX` answers.
	pq := "pdq:" + dog.PDQ.Hash.String()
	want, err := c.LookupHash(pq, catalog.MatchOptions{})
	if err != nil || len(want) != 1 {
		t.Fatalf("LookupHash: %v %v", want, err)
	}
	tb.open(t, srv.URL+"/search")
	tb.run(t, chromedpSendKeys("#q", pq))
	tb.submit(t, "#search-form")
	txt = tb.text(t)
	if !strings.Contains(txt, itoa(len(want[0].Near))+" near match(es)") {
		t.Errorf("PDQ search does not give the %d matches of LookupHash:\n%s", len(want[0].Near), txt)
	}
	for _, m := range want[0].Near {
		if !strings.Contains(txt, m.SHA256.String()[:16]) {
			t.Errorf("PDQ search lacks %s", m.SHA256)
		}
	}
	tb.checkImages(t, len(want[0].Near))
	// Metadata search, as `relcat search --make`.
	tb.open(t, srv.URL+"/search?meta=1&make=sony*")
	hits, err := c.Search(catalog.SearchQuery{Make: "sony*"})
	if err != nil || hits.Total == 0 {
		t.Fatalf("Search: %v %v", hits, err)
	}
	if txt = tb.text(t); !strings.Contains(txt, itoa(hits.Total)+" image(s)") {
		t.Errorf("metadata search does not give the %d hits of Search:\n%s", hits.Total, txt)
	}
	tb.checkImages(t, hits.Total)
	tb.open(t, srv.URL+"/search?q=ffffffffffff")
	if txt := tb.text(t); !strings.Contains(txt, "no batch or image matches") {
		t.Errorf("search for an unknown hash: %s", txt)
	}
	if v := tb.cspViolations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

// TestBrowserLookupForm sends files through the form and compares the answer with catalog.Lookup
// (what `relcat lookup` prints).
func TestBrowserLookupForm(t *testing.T) {
	srv := testServer(t)
	c := openFixture(t)
	// A file the catalog has never seen: a sample mirrored, a near copy of it.
	src, err := imaging.Open(sample("2019-11-02-sinai/06-church.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.Image(imaging.FlipH(src)), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	mirrored := filepath.Join(t.TempDir(), "mirrored-church.jpg")
	if err := os.WriteFile(mirrored, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t)
	for _, file := range []string{sample("2019-11-05-khorasan/02-dog.jpg"), mirrored} {
		abs, _ := filepath.Abs(file)
		want, err := c.Lookup(context.Background(), abs, catalog.MatchOptions{}, catalog.HashOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tb.open(t, srv.URL+"/lookup")
		tb.run(t, chromedpUpload("#file", abs))
		tb.submit(t, "#lookup-form")
		tb.wantPath(t, "/lookup")
		txt := tb.text(t)
		if !strings.Contains(txt, want.Hashes.SHA256.String()) {
			t.Errorf("%s: answer lacks the sha256 %s:\n%s", file, want.Hashes.SHA256, txt)
		}
		switch {
		case len(want.Exact) > 0:
			if !strings.Contains(txt, "seen "+itoa(len(want.Exact))+" time(s) byte-identical") {
				t.Errorf("%s: answer does not say seen %d times:\n%s", file, len(want.Exact), txt)
			}
			for _, s := range want.Exact {
				if !strings.Contains(txt, s.Name) || !strings.Contains(txt, s.Batch.String()) {
					t.Errorf("%s: answer lacks sighting %s in %s", file, s.Name, s.Batch)
				}
			}
		case len(want.Near) > 0:
			if !strings.Contains(txt, "not seen byte-identical") || !strings.Contains(txt, itoa(len(want.Near))+" near match(es)") {
				t.Errorf("%s: answer does not give %d near matches:\n%s", file, len(want.Near), txt)
			}
			for _, m := range want.Near {
				if !strings.Contains(txt, m.SHA256.String()[:16]) || !strings.Contains(txt, "distance "+itoa(m.Distance)) {
					t.Errorf("%s: answer lacks near match %s at %d", file, m.SHA256, m.Distance)
				}
			}
			if !strings.Contains(txt, "mirrored left-right") {
				t.Errorf("%s: the answer does not say mirrored:\n%s", file, txt)
			}
			tb.checkImages(t, 1)
		default:
			t.Fatalf("%s: lookup finds nothing; the test needs a known file", file)
		}
		// The origin is the one catalog.OriginOf names, as `relcat lookup` prints it.
		if want.Origin == nil {
			t.Errorf("%s: lookup names no origin", file)
		} else if o := eval[string](t, tb, `document.querySelector(".lookup-origin").innerText`); !strings.Contains(o, want.Origin.Sighting.Batch.String()) ||
			!strings.Contains(o, want.Origin.Sighting.Name) || !strings.Contains(o, want.Origin.Sighting.Released.String()) {
			t.Errorf("%s: origin shown %q, want %s %s %s", file, o, want.Origin.Sighting.Released, want.Origin.Sighting.Batch, want.Origin.Sighting.Name)
		}
		tb.screenshot(t, "server-lookup-"+filepath.Base(file))
	}
	// The lookup stored nothing: the catalog's log head is unchanged by lookups.
	if _, err := c.Resolve(mustSHA(t, mirrored)); err == nil {
		t.Error("the looked-up file is now in the catalog")
	}
}

func mustSHA(t *testing.T, path string) string {
	h, err := catalog.HashFile(context.Background(), path, catalog.HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return h.SHA256.String()
}

// TestServerHeaders checks the headers of every kind of response without a browser.
func TestServerHeaders(t *testing.T) {
	srv := testServer(t)
	c := openFixture(t)
	sha := shaOf(t, c, sample("2019-11-02-sinai/03-dog.jpg"))
	get := func(path string, hdr ...string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
			if hdr[i] == "Host" {
				req.Host = hdr[i+1]
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		path string
		code int
		ct   string
	}{
		{"/", 200, "text/html; charset=utf-8"},
		{"/image/" + sha.String(), 200, "text/html; charset=utf-8"},
		{"/thumb/" + sha.String(), 200, "image/jpeg"},
		{"/original/" + sha.String(), 200, "image/jpeg"},
		{"/static/relcat.css", 200, "text/css; charset=utf-8"},
		{"/image/" + strings.Repeat("0", 64), 404, "text/html; charset=utf-8"},
		{"/image/<script>", 400, "text/html; charset=utf-8"},
		{"/batch/zz", 400, "text/html; charset=utf-8"},
		{"/batch/" + batchOf(t, c, "2019-11-02-sinai").String() + "?page=x", 400, "text/html; charset=utf-8"},
		{"/affiliate/nobody", 404, "text/html; charset=utf-8"},
		{"/dupes?max-distance=99", 400, "text/html; charset=utf-8"},
		{"/nowhere", 404, "text/plain; charset=utf-8"},
	} {
		resp := get(tc.path)
		if resp.StatusCode != tc.code || resp.Header.Get("Content-Type") != tc.ct {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.code, tc.ct)
		}
		for h, want := range map[string]string{"Content-Security-Policy": serverCSP, "X-Content-Type-Options": "nosniff"} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %s %q, want %q", tc.path, h, got, want)
			}
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: CSP lacks frame-ancestors 'none'", tc.path)
		}
	}
	if cd := get("/original/" + sha.String()).Header.Get("Content-Disposition"); cd != "attachment; filename="+sha.String() {
		t.Errorf("original: Content-Disposition %q", cd)
	}
	// Originals a browser does not show as images are served as bytes to save, never typed otherwise.
	d, err := c.Batch(fixHostileBatch)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, bi := range d.Images {
		if bi.Image.Format != "tiff" && bi.Image.Format != "avif" {
			continue
		}
		seen++
		resp := get("/original/" + bi.Image.SHA256.String())
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s original: %d %q %q", bi.Image.Format, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
		page, err := http.Get(srv.URL + "/image/" + bi.Image.SHA256.String())
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(page.Body)
		page.Body.Close()
		if strings.Contains(body.String(), `id="preview"`) {
			t.Errorf("%s: the image page previews the original", bi.Image.Format)
		}
		if bi.Image.Thumb == "" && !strings.Contains(body.String(), "no thumbnail") {
			t.Errorf("%s: the image page does not say there is no thumbnail", bi.Image.Format)
		}
	}
	if seen != 2 {
		t.Errorf("the fixture has %d of its tiff and avif files", seen)
	}
	// DNS rebinding: a loopback server refuses another Host.
	if resp := get("/", "Host", "attacker.example"); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: %d, want 421", resp.StatusCode)
	}
	if resp := get("/", "Host", "localhost:1234"); resp.StatusCode != 200 {
		t.Errorf("localhost Host: %d", resp.StatusCode)
	}
	// Read-only: no other method.
	req, _ := http.NewRequest("DELETE", srv.URL+"/", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %v %v", resp, err)
	}
}

// TestPagination: a batch past PageSize photos is cut into pages with permanent URLs; the pages
// hold every photo once, in file order.
func TestPagination(t *testing.T) {
	srv := testServer(t)
	fixture(t)
	get := func(url string) string {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", url, resp.StatusCode)
		}
		return b.String()
	}
	base := srv.URL + "/batch/" + fixManyBatch.String()
	p1 := get(base)
	p2 := get(base + "?page=2")
	if n := strings.Count(p1, `class="card"`); n != PageSize {
		t.Errorf("page 1 shows %d photos, want %d", n, PageSize)
	}
	if n := strings.Count(p2, `class="card"`); n != manyN-PageSize {
		t.Errorf("page 2 shows %d photos, want %d", n, manyN-PageSize)
	}
	if !strings.Contains(p1, "page 1 of 2 ("+itoa(manyN)+" items)") || !strings.Contains(p1, `href="/batch/`+fixManyBatch.String()+`?page=2" rel="next"`) {
		t.Error("page 1 has no pager leading to page 2")
	}
	if !strings.Contains(p2, `rel="prev"`) || strings.Contains(p2, `rel="next"`) {
		t.Error("page 2 is not the last page")
	}
	if !strings.Contains(p1, "many-000.jpg") || !strings.Contains(p1, "many-199.jpg") || strings.Contains(p1, "many-200.jpg") ||
		!strings.Contains(p2, "many-200.jpg") || !strings.Contains(p2, "many-204.jpg") {
		t.Error("pages do not cut the file order at 200")
	}
	// A page past the end shows the last one.
	if p9 := get(base + "?page=9"); !strings.Contains(p9, "page 2 of 2") {
		t.Error("page 9 is not clamped to the last page")
	}
}

// TestDupesPagesReadByLimit: the first pages of an unfiltered dupes list read only their clusters
// and one more, say that more follow instead of counting them all, and cut the same list as the
// whole one.
func TestDupesPagesReadByLimit(t *testing.T) {
	c, err := catalog.Open(fixture(t), catalog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	all, err := c.Dupes(catalog.DupesOptions{})
	if err != nil || len(all) < 5 {
		t.Fatalf("dupes: %v, %d clusters", err, len(all))
	}
	defer func(n int) { pageSize = n }(pageSize)
	pageSize = 2
	href := func(p int) string { return "/dupes?page=" + itoa(p) }
	pages := (len(all) + 1) / 2
	var seen []string
	for p := 1; p <= pages; p++ {
		_, v, err := viewDupes(c, catalog.DupesOptions{}, p, serverThumbs, serverLinks{}, href)
		if err != nil {
			t.Fatal(err)
		}
		want := all[(p-1)*2 : min(p*2, len(all))]
		if len(v.Clusters) != len(want) {
			t.Fatalf("page %d: %d clusters, want %d", p, len(v.Clusters), len(want))
		}
		for i, cv := range v.Clusters {
			if cv.First.SHA != want[i].Members[0].SHA256.String() || cv.N != (p-1)*2+i+1 {
				t.Errorf("page %d cluster %d: %s (#%d), want %s", p, i, cv.First.SHA[:12], cv.N, want[i].Members[0].SHA256.String()[:12])
			}
			seen = append(seen, cv.First.SHA)
		}
		last := p == pages
		if v.Pager == nil || v.Pager.More == last || (v.Pager.NextHref != "") == last || v.Pager.Page != p {
			t.Errorf("page %d of %d: pager %+v", p, pages, v.Pager)
		}
		if last && v.Pager.Total != len(all) {
			t.Errorf("last page: total %d, want %d", v.Pager.Total, len(all))
		}
	}
	if len(seen) != len(all) {
		t.Errorf("the pages show %d clusters, dupes %d", len(seen), len(all))
	}
}

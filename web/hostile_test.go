package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/relcat/relcat/catalog"
)

// TestBrowserHostile opens the hostile release (names, EXIF, title and notes carrying script,
// markup, javascript: and CSS payloads, an RTL override, invalid UTF-8 and 60 KB strings) as a
// report and as server pages: nothing runs (window.__pwned stays unset), nothing is fetched
// (every request is the page's own; the canary host is never asked), the console shows no CSP
// violation caused by relcat's markup, the payloads are shown as text, and the layout holds.
func TestBrowserHostile(t *testing.T) {
	c := openFixture(t)
	id := fixHostileBatch
	var canary atomic.Int64
	// A second server standing for "anywhere else": any request reaching it is a leak.
	leak := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { canary.Add(1) }))
	defer leak.Close()
	srv := testServer(t)
	d, err := c.Batch(id)
	if err != nil {
		t.Fatal(err)
	}
	var exifImage catalog.SHA256
	for _, bi := range d.Images {
		if bi.Image.EXIF.Make != "" {
			exifImage = bi.Image.SHA256
		}
	}
	if exifImage == (catalog.SHA256{}) {
		t.Fatal("the hostile EXIF was not read: the test would prove nothing")
	}
	reportPath, _ := writeReport(t, ReportOptions{Batch: &id})
	imagePath, _ := writeReport(t, ReportOptions{Image: &exifImage})

	pages := []struct{ name, url, own string }{
		{"report-batch", "file://" + reportPath, "file://"},
		{"report-image", "file://" + imagePath, "file://"},
		{"server-batch", srv.URL + "/batch/" + id.String(), srv.URL + "/"},
		{"server-image", srv.URL + "/image/" + exifImage.String(), srv.URL + "/"},
		{"server-affiliate", srv.URL + "/affiliate/is-hostile", srv.URL + "/"},
		{"server-timeline", srv.URL + "/timeline", srv.URL + "/"},
		{"server-cameras", srv.URL + "/cameras", srv.URL + "/"},
		{"server-search", srv.URL + "/search?meta=1&affiliate=is-hostile", srv.URL + "/"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			tb := newTab(t)
			tb.open(t, p.url)
			tb.checkImages(t, 0)
			if v := eval[string](t, tb, `String(window.__pwned)`); v != "undefined" {
				t.Errorf("a payload ran: window.__pwned = %s", v)
			}
			if n := eval[int](t, tb, `document.scripts.length`); n != 0 {
				t.Errorf("the page has %d script elements", n)
			}
			if out := tb.requestsOutside(p.own, "data:"); len(out) > 0 {
				t.Errorf("requests left the page: %v", out)
			}
			if v := tb.cspViolations(); len(v) > 0 {
				t.Errorf("CSP violations: %v", v)
			}
			txt := tb.text(t)
			for _, want := range []string{"is-hostile"} {
				if !strings.Contains(txt, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			// The 60 KB notes and long names wrap or are cut: the page is not wider than the window.
			if w := eval[int](t, tb, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
				t.Errorf("the page is %d px wider than the window", w)
			}
			switch p.name {
			case "report-batch", "server-batch":
				for _, want := range []string{pwnScript, `javascript:window.__pwned=4.jpg`, `\u202egpj.exe.jpg`, `bad-\xff\xfe-utf8.jpg`, pwnJS} {
					if !strings.Contains(txt, want) {
						t.Errorf("the payload %q is not shown as text", want)
					}
				}
				// A javascript: source is text, never a link; no link leaves relcat's own pages.
				if n := eval[int](t, tb, `Array.from(document.links).filter(a => a.protocol !== "http:" || a.host !== location.host).length`); n != 0 && strings.HasPrefix(p.url, "http") {
					t.Errorf("%d links leave the server", n)
				}
				if n := eval[int](t, tb, `document.links.length`); n != 0 && strings.HasPrefix(p.url, "file") {
					t.Errorf("the report has %d links", n)
				}
			case "server-cameras":
				// The hostile EXIF names a camera body (make, model, serial): shown as text.
				for _, want := range []string{pwnScript, `\u202egpj.exe`, "is-hostile"} {
					if !strings.Contains(txt, want) {
						t.Errorf("the camera payload %q is not shown as text", want)
					}
				}
			case "server-search":
				if !strings.Contains(txt, itoa(len(d.Images))+" image(s)") {
					t.Errorf("metadata search by affiliate does not find the %d hostile files:\n%s", len(d.Images), txt)
				}
			case "report-image", "server-image":
				for _, want := range []string{pwnScript, pwnImg, `\u202egpj.exe`} {
					if !strings.Contains(txt, want) {
						t.Errorf("the EXIF payload %q is not shown as text", want)
					}
				}
			}
			tb.screenshot(t, "hostile-"+p.name)
		})
	}
	if n := canary.Load(); n != 0 {
		t.Errorf("%d requests reached the outside server", n)
	}
}

// TestText checks the cleaning of hostile text for pages.
func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\u202eb", `a\u202eb`},
		{"bell\x07", `bell\x07`},
		{"bad\xff", "bad\uFFFD"},
		{"zwj\u200dok", "zwj\u200dok"},
		{strings.Repeat("x", 10), "xxxxx…"},
	} {
		if got := text(tc.in, 5); tc.in == "plain" || tc.in == strings.Repeat("x", 10) {
			if got != tc.want {
				t.Errorf("text(%q, 5) = %q, want %q", tc.in, got, tc.want)
			}
		} else if got := text(tc.in, 100); got != tc.want {
			t.Errorf("text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := text(long, 300); utf8.RuneCountInString(got) != 301 {
		t.Errorf("60 KB cut to %d characters", utf8.RuneCountInString(got))
	}
}

// TestLookupLimits: the lookup form refuses a body over its limit and a request that is not a
// multipart form, and answers an unreadable file with its reason; nothing is stored.
func TestLookupLimits(t *testing.T) {
	h := Handler(ServerOptions{Dir: fixture(t), MaxUpload: 1 << 10, Now: fixedNow})
	post := func(body []byte, ct string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "http://127.0.0.1/lookup", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	form := func(name string, data []byte) ([]byte, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
		mw.Close()
		return b.Bytes(), mw.FormDataContentType()
	}
	body, ct := form("big.jpg", bytes.Repeat([]byte{0xff}, 4<<10))
	if rec := post(body, ct); rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "over the limit of 1024 bytes") {
		t.Errorf("oversized upload: %d %s", rec.Code, rec.Body.String())
	}
	body, ct = form("<b>note</b>.txt", []byte("not an image at all"))
	rec := post(body, ct)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "unknown format") || strings.Contains(rec.Body.String(), "<b>note") {
		t.Errorf("text upload: %d %s", rec.Code, rec.Body.String())
	}
	if rec := post([]byte("file=x"), "application/x-www-form-urlencoded"); rec.Code != 400 {
		t.Errorf("urlencoded post: %d", rec.Code)
	}
	if rec := post(nil, "multipart/form-data; boundary=x"); rec.Code != 400 {
		t.Errorf("empty multipart: %d", rec.Code)
	}
}

func TestLoopbackHost(t *testing.T) {
	for h, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.1": true, "127.1.2.3:1": true, "[::1]:8080": true, "::1": true,
		"localhost": true, "LOCALHOST:80": true,
		"0.0.0.0:8080": false, "[::]:80": false, "192.168.1.2:80": false, "example.com": false,
		"localhost.example.com:80": false, "127.0.0.1.nip.io": false, "": false,
	} {
		if got := LoopbackHost(h); got != want {
			t.Errorf("LoopbackHost(%q) = %v, want %v", h, got, want)
		}
	}
}

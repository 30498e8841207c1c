package web

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/relcat/relcat/catalog"
	"github.com/relcat/relcat/catalog/exifmeta"
	"github.com/relcat/relcat/catalog/textsafe"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/relcat.css
var css string

// cssHash is the CSP source of the inlined stylesheet of a report ('sha256-…').
var cssHash = func() string {
	h := sha256.Sum256([]byte(css))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}()

// reportCSP is the policy a report carries in a <meta> element: nothing but its own inline
// stylesheet (by hash) and data: images; no script, no fetch, no form target, no base URL.
var reportCSP = "default-src 'none'; img-src data:; style-src " + cssHash + "; base-uri 'none'; form-action 'none'"

// pages are the templates, each parsed with the layout and the shared partials.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{"text": text}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if n.Name() == "layout.html" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n.Name()))
		out[strings.TrimSuffix(n.Name(), ".html")] = t
	}
	return out
}()

// text makes a string from a catalogued file (a name, an EXIF field, a release title) fit for a
// page: invalid UTF-8 becomes U+FFFD, control and invisible format characters (bidi overrides,
// zero-width space, ...) are shown escaped (\u202e), and it is cut to at most max characters.
// html/template escapes the result for its context; templates put such text in <bdi> elements so
// that right-to-left text cannot reorder what surrounds it.
func text(s string, max int) string {
	if max <= 0 {
		max = 300
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = "\uFFFD"
		case textsafe.Unsafe(r):
			piece = textsafe.Escape(r)
		default:
			piece = string(r)
		}
		w := utf8.RuneCountInString(piece)
		if n+w > max {
			b.WriteString("…")
			break
		}
		b.WriteString(piece)
		n += w
	}
	return b.String()
}

// head is the catalog state a page was made from.
type head struct {
	OK   bool
	Seq  uint64
	Hash string
}

// page is what the layout renders; Data is the page's own view.
type page struct {
	Title     string
	Report    bool
	CSS       template.CSS
	ReportCSP string
	Made      string
	Head      head
	Data      any
}

// links say where a view links to: the server links pages by permanent URLs; a report is one
// file and links only inside itself (or not at all).
type links interface {
	image(s catalog.SHA256) string
	batch(id catalog.BatchID) string
	affiliate(slug string) string
}

// serverLinks are the web UI's permanent URLs.
type serverLinks struct{}

func (serverLinks) image(s catalog.SHA256) string   { return "/image/" + s.String() }
func (serverLinks) batch(id catalog.BatchID) string { return "/batch/" + id.String() }
func (serverLinks) affiliate(slug string) string {
	if !catalog.ValidSlug(slug) {
		return ""
	}
	return "/affiliate/" + url.PathEscape(slug)
}

// reportLinks: a report has no other pages.
type reportLinks struct{}

func (reportLinks) image(catalog.SHA256) string  { return "" }
func (reportLinks) batch(catalog.BatchID) string { return "" }
func (reportLinks) affiliate(slug string) string { return "" }

// thumbView is one thumbnail: its src attribute (a URL on the server, a data: URI in a report), the
// CSS class turning it as a match says, and why there is none.
//
// Src is a whole trusted attribute, built here from hex digits or base64 only: html/template would
// otherwise normalise and escape every byte of each 20-30 KB data: URI, most of a report's cost.
type thumbView struct {
	Src   template.HTMLAttr
	Class string
	Alt   string
	Why   string
}

// thumbSource gives the src attribute of an image's thumbnail, or "" and the reason there is none.
type thumbSource func(img *catalog.Image) (template.HTMLAttr, string)

// serverThumbs: thumbnails are fetched from /thumb/<sha256>.
func serverThumbs(img *catalog.Image) (template.HTMLAttr, string) {
	if img.Thumb == "" {
		return "", noThumbReason(img)
	}
	return template.HTMLAttr(`src="/thumb/` + img.SHA256.String() + `"`), ""
}

// dataThumbs embeds thumbnails read from the catalog as data: URIs (for a report). The same image
// shown twice is read once.
func dataThumbs(c *catalog.Catalog) thumbSource {
	cache := map[catalog.SHA256]template.HTMLAttr{}
	return func(img *catalog.Image) (template.HTMLAttr, string) {
		if img.Thumb == "" {
			return "", noThumbReason(img)
		}
		if u, ok := cache[img.SHA256]; ok {
			return u, ""
		}
		data, err := c.Thumbnail(img.SHA256)
		if err != nil {
			return "", err.Error()
		}
		const head = `src="data:image/jpeg;base64,`
		b := make([]byte, len(head)+base64.StdEncoding.EncodedLen(len(data))+1)
		copy(b, head)
		base64.StdEncoding.Encode(b[len(head):], data)
		b[len(b)-1] = '"'
		u := template.HTMLAttr(b)
		cache[img.SHA256] = u
		return u, ""
	}
}

func noThumbReason(img *catalog.Image) string {
	if img.PixelsError != "" {
		return "not decoded: " + img.PixelsError
	}
	return "not decoded"
}

// sightingView is one sighting with its links.
type sightingView struct {
	Released  string
	Affiliate string
	AffHref   string
	Batch     string
	BatchHref string
	Position  int
	Name      string
}

func viewSighting(s catalog.Sighting, l links) sightingView {
	return sightingView{Released: s.Released.String(), Affiliate: s.Affiliate, AffHref: l.affiliate(s.Affiliate),
		Batch: s.Batch.String(), BatchHref: l.batch(s.Batch), Position: s.Position, Name: s.Name}
}

// seenView is the "seen before" badge.
type seenView struct {
	Kind      string // "identical" or "near"
	Distance  int
	Transform string
	Origin    sightingView
	Uncertain bool
}

// flag is one forensic cue or warning shown as a badge.
type flag struct {
	Class string
	Text  string
}

// photoView is one photo of a contact sheet.
type photoView struct {
	Position int
	Name     string
	SHA      string
	Href     string
	Thumb    thumbView
	Format   string
	Dims     string
	Size     string
	Camera   string
	Serial   string
	Taken    string
	GPS      string
	Software string
	Flags    []flag
	Seen     *seenView
}

func dims(img *catalog.Image) string {
	if img.Width == 0 {
		return "? px"
	}
	return fmt.Sprintf("%d×%d px", img.Width, img.Height)
}

func sizeText(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 10<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func camera(m exifmeta.Meta) string {
	return strings.TrimSpace(m.Make + " " + m.Model)
}

// taken is the EXIF date with its zone, or "(zone unknown)".
func taken(m exifmeta.Meta) string {
	if m.DateTimeOriginal == "" {
		return ""
	}
	if m.Offset == "" {
		return m.DateTimeOriginal + " (zone unknown)"
	}
	return m.DateTimeOriginal
}

func gpsText(g *exifmeta.GPS) string {
	if g == nil {
		return ""
	}
	return fmt.Sprintf("%.5f, %.5f", g.Lat, g.Lon)
}

// flags are the forensic cues of `relcat show` (catalog.ForensicCues, the one place that computes
// them; sightings gives the first release for "taken after release") and what could not be done
// with the file: not decoded, low quality hash, the warnings of ingest.
func flags(img *catalog.Image, sightings []catalog.Sighting) []flag {
	var out []flag
	for _, f := range catalog.ForensicCues(img, sightings).Flags {
		out = append(out, flag{"flag", f.Code + ": " + f.Detail})
	}
	if img.PDQ != nil && img.PDQ.Quality < catalog.DefaultMinQuality {
		out = append(out, flag{"warn", fmt.Sprintf("low quality hash (%d): not used for matching", img.PDQ.Quality)})
	}
	if !img.Pixels && img.PixelsError != "" {
		out = append(out, flag{"warn", "not decoded: " + img.PixelsError})
	}
	for i, w := range img.Warnings {
		if i == 6 {
			out = append(out, flag{"warn", fmt.Sprintf("and %d more warnings", len(img.Warnings)-6)})
			break
		}
		out = append(out, flag{"warn", w})
	}
	return out
}

// viewPhoto is one photo card; sightings (at least the earliest) feed the forensic cues.
func viewPhoto(pos int, name string, img *catalog.Image, sightings []catalog.Sighting, seen *seenView, thumb thumbSource, l links) photoView {
	src, why := thumb(img)
	m := img.EXIF
	return photoView{
		Position: pos, Name: name, SHA: img.SHA256.String(), Href: l.image(img.SHA256),
		Thumb:  thumbView{Src: src, Alt: img.SHA256.String()[:12], Why: why},
		Format: img.Format, Dims: dims(img), Size: sizeText(img.Size),
		Camera: camera(m), Serial: m.Serial, Taken: taken(m), GPS: gpsText(m.GPS), Software: m.Software,
		Flags: flags(img, sightings), Seen: seen,
	}
}

// pager is the navigation of a list cut into pages of PageSize items.
type pager struct {
	Page, Pages, Total int
	PrevHref, NextHref string
	More               bool // the list goes on past the pages counted (Total is what was read)
}

// PageSize is how many items a server page shows; longer lists are paginated.
const PageSize = 200

// pageSize is PageSize (tests make it smaller).
var pageSize = PageSize

// paginate returns the range [lo, hi) of page p (1-based, clamped) of n items and its pager; href
// builds the URL of a page.
func paginate(n, p int, href func(int) string) (int, int, *pager) {
	pages := max(1, (n+pageSize-1)/pageSize)
	p = min(max(p, 1), pages)
	pg := &pager{Page: p, Pages: pages, Total: n}
	if p > 1 {
		pg.PrevHref = href(p - 1)
	}
	if p < pages {
		pg.NextHref = href(p + 1)
	}
	return (p - 1) * pageSize, min(p*pageSize, n), pg
}

// render writes one page.
func render(w io.Writer, name string, p *page) error {
	t := pages[name]
	if t == nil {
		return fmt.Errorf("web: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// stream writes one page straight to w, through a buffer (a report of thousands of embedded
// thumbnails is tens of MB: not held twice in memory). On an error w holds part of a page; the
// report command writes to a temporary file that it renames only on success.
func stream(w io.Writer, name string, p *page) error {
	t := pages[name]
	if t == nil {
		return fmt.Errorf("web: no template %q", name)
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := t.ExecuteTemplate(bw, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return bw.Flush()
}

// newPage fills the layout's fields: the log head and the time the page was made.
func newPage(c *catalog.Catalog, title string, report bool, now time.Time, data any) (*page, error) {
	p := &page{Title: title, Report: report, Made: now.UTC().Format(time.RFC3339), Data: data}
	if report {
		p.CSS = template.CSS(css)
		p.ReportCSP = reportCSP
	}
	e, ok, err := c.LogHead()
	if err != nil {
		return nil, err
	}
	if ok {
		p.Head = head{OK: true, Seq: e.Seq, Hash: e.Hash}
	}
	return p, nil
}

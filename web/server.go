package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/relcat/relcat/catalog"
)

// ServerOptions configure Handler.
type ServerOptions struct {
	// Dir is the catalog directory. Each request opens it read-only and closes it, so the server
	// never keeps a writer (an ingest) out for longer than one page takes.
	Dir string
	// Remote accepts requests for any Host. Without it only loopback names and addresses are
	// accepted as Host (a defence against DNS rebinding of a loopback server).
	Remote bool
	// MaxUpload bounds a file sent to the lookup form (default DefaultMaxUpload).
	MaxUpload int64
	// Now is the clock that stamps pages (default time.Now).
	Now func() time.Time
	// Log receives one line per failed request (default: discarded).
	Log *log.Logger
}

// DefaultMaxUpload is the largest file the lookup form accepts by default.
const DefaultMaxUpload = 64 << 20

// serverCSP is the policy of every response: only this origin's stylesheet and images, forms
// posted only here, no script at all, never framed.
const serverCSP = "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type server struct {
	o      ServerOptions
	mux    *http.ServeMux
	lookup chan struct{} // one lookup decodes at a time: bounds memory
}

// Handler returns the read-only web UI over the catalog in o.Dir.
func Handler(o ServerOptions) http.Handler {
	if o.MaxUpload <= 0 {
		o.MaxUpload = DefaultMaxUpload
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = log.New(io.Discard, "", 0)
	}
	s := &server{o: o, mux: http.NewServeMux(), lookup: make(chan struct{}, 1)}
	s.mux.HandleFunc("GET /{$}", s.page(s.home))
	s.mux.HandleFunc("GET /affiliate/{slug}", s.page(s.affiliate))
	s.mux.HandleFunc("GET /batch/{id}", s.page(s.batch))
	s.mux.HandleFunc("GET /image/{sha}", s.page(s.image))
	s.mux.HandleFunc("GET /dupes", s.page(s.dupes))
	s.mux.HandleFunc("GET /timeline", s.page(s.timeline))
	s.mux.HandleFunc("GET /search", s.page(s.search))
	s.mux.HandleFunc("GET /cameras", s.page(s.cameras))
	s.mux.HandleFunc("GET /lookup", s.page(s.lookupForm))
	s.mux.HandleFunc("POST /lookup", s.page(s.lookupPost))
	s.mux.HandleFunc("GET /thumb/{sha}", s.thumb)
	s.mux.HandleFunc("GET /original/{sha}", s.original)
	s.mux.HandleFunc("GET /static/relcat.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		io.WriteString(w, css)
	})
	return s
}

// ServeHTTP sets the security headers of every response, checks the Host, then routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", serverCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !s.o.Remote && !LoopbackHost(r.Host) {
		http.Error(w, "relcat serves loopback names only (Host "+strconv.Quote(r.Host)+"): start it with --allow-remote to accept others", http.StatusMisdirectedRequest)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		http.Error(w, "read-only: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// LoopbackHost reports whether a Host header (or listen address) names this machine only:
// localhost or a loopback address, with or without a port.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpError is an error with its status.
type httpError struct {
	code int
	err  error
}

func (e httpError) Error() string { return e.err.Error() }
func (e httpError) Unwrap() error { return e.err }

func badRequest(format string, args ...any) error {
	return httpError{http.StatusBadRequest, fmt.Errorf(format, args...)}
}

// view is what a page handler returns: a template, a title and its data; or a redirect.
type view struct {
	name, title string
	data        any
	redirect    string
	status      int // 200 when 0
}

// page wraps a handler: open the catalog read-only for this request, build the view, render it
// with the layout, close the catalog.
func (s *server) page(fn func(c *catalog.Catalog, r *http.Request) (*view, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.open()
		var v *view
		if err == nil {
			v, err = fn(c, r)
			if err == nil && v.redirect == "" {
				var p *page
				if p, err = newPage(c, v.title, false, s.o.Now(), v.data); err == nil {
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					w.Header().Set("Cache-Control", "no-store")
					if v.status != 0 {
						w.WriteHeader(v.status)
					}
					err = render(w, v.name, p)
				}
			}
			c.Close()
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if v.redirect != "" {
			http.Redirect(w, r, v.redirect, http.StatusSeeOther)
		}
	}
}

func (s *server) open() (*catalog.Catalog, error) {
	return catalog.Open(s.o.Dir, catalog.Options{ReadOnly: true, LockTimeout: 5 * time.Second})
}

// fail answers an error as a small page (never echoing markup: the message is escaped text).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	var he httpError
	switch {
	case errors.As(err, &he):
		code = he.code
	case errors.Is(err, catalog.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, catalog.ErrBadArgument), errors.Is(err, catalog.ErrAmbiguous):
		code = http.StatusBadRequest
	case errors.Is(err, catalog.ErrLocked):
		code = http.StatusServiceUnavailable
	}
	if code >= 500 {
		s.o.Log.Printf("%s %s: %v", r.Method, strconv.Quote(r.URL.Path), err)
	}
	p := &page{Title: http.StatusText(code), Made: s.o.Now().UTC().Format(time.RFC3339), Data: struct{ Message string }{err.Error()}}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = render(w, "error", p)
}

// pageNo reads ?page=N (1 when absent).
func pageNo(r *http.Request) (int, error) {
	p := r.URL.Query().Get("page")
	if p == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 1<<30 {
		return 0, badRequest("page %q: want a number from 1", p)
	}
	return n, nil
}

// withPage is the URL of another page of the same list (the other parameters kept).
func withPage(r *http.Request) func(int) string {
	return func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
}

func (s *server) home(c *catalog.Catalog, r *http.Request) (*view, error) {
	title, v, err := viewHome(c, serverLinks{})
	return &view{name: "home", title: title, data: v}, err
}

func (s *server) affiliate(c *catalog.Catalog, r *http.Request) (*view, error) {
	title, v, err := viewAffiliate(c, r.PathValue("slug"), serverLinks{})
	return &view{name: "affiliate", title: title, data: v}, err
}

func (s *server) batch(c *catalog.Catalog, r *http.Request) (*view, error) {
	var id catalog.BatchID
	if err := id.UnmarshalText([]byte(r.PathValue("id"))); err != nil {
		return nil, badRequest("batch id %q: want 16 hex digits", r.PathValue("id"))
	}
	n, err := pageNo(r)
	if err != nil {
		return nil, err
	}
	title, v, err := viewBatch(c, id, n, serverThumbs, serverLinks{}, withPage(r))
	return &view{name: "batch", title: title, data: v}, err
}

func parseSHA(r *http.Request) (catalog.SHA256, error) {
	s, err := catalog.ParseSHA256(r.PathValue("sha"))
	if err != nil {
		return s, badRequest("sha256 %q: want 64 hex digits", r.PathValue("sha"))
	}
	return s, nil
}

func (s *server) image(c *catalog.Catalog, r *http.Request) (*view, error) {
	sha, err := parseSHA(r)
	if err != nil {
		return nil, err
	}
	title, v, err := viewImage(c, sha, catalog.MatchOptions{}, serverThumbs, serverLinks{}, true)
	return &view{name: "image", title: title, data: v}, err
}

// dupesOptions reads the filters of `relcat dupes` from the query string.
func dupesOptions(r *http.Request) (catalog.DupesOptions, dupesQuery, error) {
	q := r.URL.Query()
	var o catalog.DupesOptions
	dq := dupesQuery{MaxDistance: catalog.DefaultMaxDistance, MinQuality: catalog.DefaultMinQuality}
	o.Exact = q.Get("exact") != ""
	o.AcrossAffiliates = q.Get("across-affiliates") != ""
	o.Affiliate = strings.TrimSpace(q.Get("affiliate"))
	dq.Exact, dq.Across, dq.Affiliate = o.Exact, o.AcrossAffiliates, o.Affiliate
	if since := strings.TrimSpace(q.Get("since")); since != "" {
		rel, err := catalog.ParseReleased(since)
		if err != nil {
			return o, dq, badRequest("since: %v", err)
		}
		o.Since, dq.Since = rel, since
	}
	num := func(name string, lo, hi int, into *int) error {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return badRequest("%s %q: must be %d to %d", name, v, lo, hi)
		}
		*into = n
		return nil
	}
	if err := num("max-distance", 0, catalog.MaxSearchDistance, &dq.MaxDistance); err != nil {
		return o, dq, err
	}
	if err := num("min-quality", 0, 100, &dq.MinQuality); err != nil {
		return o, dq, err
	}
	o.Match = catalog.MatchOptions{MaxDistance: dq.MaxDistance, MinQuality: dq.MinQuality}
	if dq.MinQuality == 0 {
		o.Match.MinQuality = -1 // as the CLI: 0 accepts every hash
	}
	return o, dq, nil
}

func (s *server) dupes(c *catalog.Catalog, r *http.Request) (*view, error) {
	o, dq, err := dupesOptions(r)
	if err != nil {
		return nil, err
	}
	n, err := pageNo(r)
	if err != nil {
		return nil, err
	}
	title, v, err := viewDupes(c, o, n, serverThumbs, serverLinks{}, withPage(r))
	if v != nil {
		v.Query = dq
	}
	return &view{name: "dupes", title: title, data: v}, err
}

func (s *server) timeline(c *catalog.Catalog, r *http.Request) (*view, error) {
	n, err := pageNo(r)
	if err != nil {
		return nil, err
	}
	title, v, err := viewTimeline(c, n, serverLinks{}, withPage(r))
	return &view{name: "timeline", title: title, data: v}, err
}

// search: a batch id, a SHA-256, an MD5 or a unique prefix redirects to its page (catalog.Resolve);
// a hash naming no stored image (a PDQ, an unknown SHA-256 or MD5) is looked up as `relcat lookup
// HASH` does (catalog.LookupHash); meta=1 searches by metadata (catalog.Search).
func (s *server) search(c *catalog.Catalog, r *http.Request) (*view, error) {
	qs := r.URL.Query()
	q := strings.TrimSpace(qs.Get("q"))
	sp := &searchPage{Q: q}
	v := &view{name: "search", title: "Search", data: sp}
	if qs.Get("meta") != "" {
		m := &sp.Meta
		for _, f := range []struct {
			name string
			into *string
		}{{"make", &m.Make}, {"model", &m.Model}, {"serial", &m.Serial}, {"software", &m.Software}, {"format", &m.Format}, {"affiliate", &m.Affiliate}} {
			*f.into = strings.TrimSpace(qs.Get(f.name))
			if len(*f.into) > 200 {
				return nil, badRequest("%s: at most 200 characters", f.name)
			}
		}
		m.Stripped = qs.Get("stripped") != ""
		if err := viewMetaSearch(c, m, serverThumbs, serverLinks{}); err != nil {
			if errors.Is(err, catalog.ErrBadArgument) || errors.Is(err, catalog.ErrNotFound) {
				sp.Err = err.Error()
				return v, nil
			}
			return nil, err
		}
		return v, nil
	}
	if q == "" {
		return v, nil
	}
	if len(q) > 80 {
		return nil, badRequest("query of %d characters: a hash has at most 71", len(q))
	}
	res, err := c.Resolve(q)
	if err == nil {
		if res.Batch != nil {
			v.redirect = serverLinks{}.batch(*res.Batch)
		} else {
			v.redirect = serverLinks{}.image(*res.Image)
		}
		return v, nil
	}
	if !errors.Is(err, catalog.ErrNotFound) && !errors.Is(err, catalog.ErrBadArgument) && !errors.Is(err, catalog.ErrAmbiguous) {
		return nil, err
	}
	if errors.Is(err, catalog.ErrAmbiguous) && !strings.HasPrefix(strings.ToLower(q), "md5:") {
		sp.Err = err.Error()
		return v, nil
	}
	// Not a stored batch or image: a hash to look up (a PDQ, or an MD5 shared by several images).
	rs, lerr := c.LookupHash(q, catalog.MatchOptions{})
	if lerr != nil {
		sp.Err = err.Error()
		if errors.Is(lerr, catalog.ErrBadArgument) && !errors.Is(err, catalog.ErrNotFound) {
			sp.Err = lerr.Error()
		}
		return v, nil
	}
	for _, lr := range rs {
		sp.Answers = append(sp.Answers, viewLookup(c, lr, serverThumbs, serverLinks{}))
	}
	return v, nil
}

func (s *server) cameras(c *catalog.Catalog, r *http.Request) (*view, error) {
	o := catalog.CamerasOptions{Affiliate: strings.TrimSpace(r.URL.Query().Get("affiliate")), Shared: r.URL.Query().Get("shared") != ""}
	if len(o.Affiliate) > 200 {
		return nil, badRequest("affiliate: at most 200 characters")
	}
	title, v, err := viewCameras(c, o, serverThumbs, serverLinks{})
	return &view{name: "cameras", title: title, data: v}, err
}

func (s *server) limitText() string { return sizeText(s.o.MaxUpload) }

func (s *server) lookupForm(c *catalog.Catalog, r *http.Request) (*view, error) {
	return &view{name: "lookup", title: "Look up a file", data: &lookupPage{Limit: s.limitText()}}, nil
}

// lookupPost looks up the uploaded file exactly as `relcat lookup` does (catalog.LookupReader):
// the body is limited, the part is streamed into memory (never to disk: no ParseMultipartForm)
// and nothing is stored.
func (s *server) lookupPost(c *catalog.Catalog, r *http.Request) (*view, error) {
	v := &view{name: "lookup", title: "Look up a file"}
	r.Body = http.MaxBytesReader(nil, r.Body, s.o.MaxUpload+64<<10)
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return nil, badRequest("send the file as multipart/form-data (the form on /lookup)")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("lookup: %v", err)
	}
	for parts := 0; parts < 4; parts++ {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		name := part.FileName()
		if name == "" {
			name = "upload"
		}
		select {
		case s.lookup <- struct{}{}:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		res, err := c.LookupReader(r.Context(), name, part, catalog.MatchOptions{}, catalog.HashOptions{MaxFileSize: s.o.MaxUpload})
		<-s.lookup
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = fmt.Errorf("%w: %s: over the limit of %s", catalog.ErrBadArgument, name, s.limitText())
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			// The form again, with the reason: too large (413), or a file that is not an image
			// relcat reads (422).
			v.status = http.StatusUnprocessableEntity
			if strings.Contains(err.Error(), "over the limit") {
				v.status = http.StatusRequestEntityTooLarge
			}
			v.data = &lookupPage{Limit: s.limitText(), Err: err.Error()}
			return v, nil
		}
		lp := viewLookup(c, res, serverThumbs, serverLinks{})
		lp.Limit = s.limitText()
		v.data = lp
		return v, nil
	}
	return nil, badRequest("lookup: no file in the form")
}

// thumb serves a stored thumbnail (a JPEG the catalog made and checked).
func (s *server) thumb(w http.ResponseWriter, r *http.Request) {
	sha, err := parseSHA(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.open()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := c.Thumbnail(sha)
	c.Close()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(data)
}

// imageTypes are the only types an original is served as; anything else is octet-stream.
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/bmp": true}

// original serves a preserved original as an attachment, typed by sniffing its bytes: an image
// type only, never HTML (nosniff keeps the browser from guessing otherwise).
func (s *server) original(w http.ResponseWriter, r *http.Request) {
	sha, err := parseSHA(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.open()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, size, err := c.OpenOriginal(sha)
	c.Close()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	ct := http.DetectContentType(head[:n])
	if !imageTypes[ct] {
		ct = "application/octet-stream"
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": sha.String()}))
	w.Header().Set("Cache-Control", "private, max-age=3600")
	if r.Method == http.MethodHead {
		return
	}
	io.Copy(w, io.LimitReader(f, size))
}

// Serve runs the web UI on ln until ctx is done.
func Serve(ctx context.Context, ln net.Listener, o ServerOptions) error {
	srv := &http.Server{
		Handler:           Handler(o),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          o.Log,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
		return nil
	}
}

// URL is the address to open for a listener.
func URL(ln net.Listener) string {
	return (&url.URL{Scheme: "http", Host: ln.Addr().String(), Path: "/"}).String()
}

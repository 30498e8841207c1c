package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's chromium (package "chromium") through chromedp: one browser per
// test binary, one tab per test. Without a browser they skip with a loud message, unless CI=true,
// where a missing browser is a failure (.ci/run installs it).

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel func()
	browserErr    error
	browserDir    string
)

// chromiumPath finds the browser: $RELCAT_CHROMIUM, else chromium, chromium-browser, google-chrome.
func chromiumPath() string {
	if p := os.Getenv("RELCAT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser() (context.Context, func(), error) {
	path := chromiumPath()
	if path == "" {
		return nil, nil, fmt.Errorf("no chromium found (install it: apt-get install chromium, or set RELCAT_CHROMIUM)")
	}
	dir, err := os.MkdirTemp("", "relcat-chromium-")
	if err != nil {
		return nil, nil, err
	}
	browserDir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// Start the browser now. The first call must run on bctx itself (the browser lives as long as
	// the context of that call); a watchdog bounds how long starting may take.
	watchdog := time.AfterFunc(60*time.Second, bcancel)
	defer watchdog.Stop()
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		return nil, nil, fmt.Errorf("start %s: %w", path, err)
	}
	return bctx, func() { bcancel(); acancel() }, nil
}

func closeBrowser() {
	if browserCancel != nil {
		browserCancel()
	}
	if browserDir != "" {
		os.RemoveAll(browserDir)
	}
}

// tab is one page under test and what it did: every request it made, console messages and log
// entries (CSP violations are reported there).
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	console  []string
	navs     int
}

// newTab opens a tab in the shared browser, or skips (fails under CI=true) without a browser.
func newTab(t *testing.T) *tab {
	t.Helper()
	browserOnce.Do(func() { browserCtx, browserCancel, browserErr = startBrowser() })
	if browserErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need chromium in CI: %v", browserErr)
		}
		t.Skipf("\n\n*** SKIPPING BROWSER TEST %s: %v ***\n\n", t.Name(), browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	ctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { tcancel(); cancel() })
	tb := &tab{ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // open the tab
		t.Fatal(err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value))
			}
			tb.console = append(tb.console, string(e.Type)+": "+strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			tb.console = append(tb.console, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			tb.console = append(tb.console, string(e.Entry.Source)+": "+e.Entry.Text)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *tab) run(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// open navigates and waits for the page to load.
func (tb *tab) open(t *testing.T, url string) {
	t.Helper()
	tb.run(t, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// text is the visible text of the page.
func (tb *tab) text(t *testing.T) string {
	t.Helper()
	return eval[string](t, tb, `document.body.innerText`)
}

// eval evaluates a JavaScript expression in the page (the test's own script, through the
// DevTools protocol: the page's CSP does not apply to it).
func eval[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// checkImages asserts that the page shows at least min images and that every one loaded.
func (tb *tab) checkImages(t *testing.T, min int) int {
	t.Helper()
	// Lazy images load when scrolled to: make them eager, then wait until all are complete.
	n := eval[int](t, tb, `(() => { for (const i of document.images) i.loading = "eager"; return document.images.length })()`)
	if n < min {
		t.Errorf("page shows %d images, want at least %d", n, min)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		pending := eval[int](t, tb, `Array.from(document.images).filter(i => !i.complete).length`)
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	broken := eval[[]string](t, tb, `Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt + " " + i.src.slice(0, 80))`)
	if len(broken) > 0 {
		t.Errorf("%d of %d images did not load: %v", len(broken), n, broken)
	}
	return n
}

// requestsOutside lists the requests that went anywhere but the allowed prefixes.
func (tb *tab) requestsOutside(allowed ...string) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
next:
	for _, r := range tb.requests {
		for _, a := range allowed {
			if strings.HasPrefix(r, a) {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// cspViolations lists console or log messages about the Content-Security-Policy.
func (tb *tab) cspViolations() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, m := range tb.console {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Content-Security-Policy") {
			out = append(out, m)
		}
	}
	return out
}

// screenshot writes a PNG of the whole page to $RELCAT_SCREENSHOTS/name.png when that is set.
func (tb *tab) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("RELCAT_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// navigate runs steps that cause a navigation and waits until a new document has loaded.
func (tb *tab) navigate(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// Mark the document shown now; the next one (also one restored from the back-forward cache)
	// carries another mark or none.
	tb.navs++
	mark := strconv.Itoa(tb.navs)
	tb.run(t, chromedp.Evaluate[chromedp.Void](`window.__relcatNav = `+mark))
	tb.run(t, steps...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`window.__relcatNav !== `+mark+` && document.readyState === "complete"`))
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: no new page loaded within 30 s (at %s)", eval[string](t, tb, `location.href`))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// click follows the first link matching a CSS selector (as a user's click does: the element's
// click activation) and waits for the page it leads to.
func (tb *tab) click(t *testing.T, sel string) {
	t.Helper()
	if n := eval[int](t, tb, `document.querySelectorAll(`+strconv.Quote(sel)+`).length`); n == 0 {
		t.Fatalf("no element %s on %s", sel, eval[string](t, tb, `location.pathname`))
	}
	tb.navigate(t, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+strconv.Quote(sel)+`).click()`))
}

// submit submits a form and waits for the answer page.
func (tb *tab) submit(t *testing.T, sel string) {
	t.Helper()
	tb.navigate(t, chromedp.Submit(chromedp.CSS(sel)))
}

// back goes back in the history.
func (tb *tab) back(t *testing.T) {
	t.Helper()
	tb.navigate(t, chromedp.Evaluate[chromedp.Void](`history.back()`))
}

// wantPath checks the path of the page shown.
func (tb *tab) wantPath(t *testing.T, path string) {
	t.Helper()
	if got := eval[string](t, tb, `location.pathname`); got != path {
		t.Fatalf("at %s, want %s", got, path)
	}
}

func chromedpSendKeys(sel, keys string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), keys)
}

func chromedpUpload(sel, file string) chromedp.Action[chromedp.Void] {
	return chromedp.SetUploadFiles(chromedp.CSS(sel), []string{file})
}

func itoa(n int) string { return strconv.Itoa(n) }

// elementShot writes a PNG of one element, scaled, to $RELCAT_SCREENSHOTS/name.png when that is
// set (the README's pictures come from here).
func (tb *tab) elementShot(t *testing.T, name, sel string, scale float64) {
	t.Helper()
	dir := os.Getenv("RELCAT_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(tb.ctx, chromedp.ScreenshotScale(chromedp.CSS(sel), scale))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

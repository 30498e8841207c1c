package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog"
)

// TestServeDuringIngest: the web UI answers while an ingest holds the catalog (stalled in the
// middle of a release), and shows what it committed so far.
func TestServeDuringIngest(t *testing.T) {
	dir := t.TempDir() + "/cat"
	c, err := catalog.Open(dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Ingest(context.Background(), []string{sample("2019-11-02-sinai")}, catalog.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	h := Handler(ServerOptions{Dir: dir})
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1"+path, nil))
		return rec.Code, rec.Body.String()
	}
	stalled, resume := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		once := false
		_, err := c.Ingest(context.Background(), []string{sample("2019-11-05-khorasan")}, catalog.IngestOptions{
			Progress: func(n, total int) {
				if n >= 1 && !once {
					once = true
					close(stalled)
					<-resume
				}
			},
		})
		done <- err
	}()
	<-stalled
	start := time.Now()
	code, body := get("/")
	if code != http.StatusOK || !strings.Contains(body, "is-sinai") {
		t.Errorf("during an ingest, / answers %d:\n%s", code, body)
	}
	code, body = get("/timeline")
	if code != http.StatusOK || !strings.Contains(body, "2019-11-02") {
		t.Errorf("during an ingest, /timeline answers %d", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("pages took %s while the ingest was stalled: they waited for the writer", d)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.Close()
	if code, body = get("/timeline"); code != 200 || !strings.Contains(body, "2019-11-05") {
		t.Errorf("after the ingest, /timeline lacks the new release (%d)", code)
	}
}

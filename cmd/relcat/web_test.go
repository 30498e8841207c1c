package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReportCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)...)...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code := relcat(t, "--catalog", cat, "--json", "batches")
	if code != exitOK {
		t.Fatal(code)
	}
	var khorasan string
	for _, r := range jsonLines(t, out) {
		if r["folder"] == "2019-11-05-khorasan" {
			khorasan = r["id"].(string)
		}
	}
	file := filepath.Join(t.TempDir(), "r.html")
	if _, errOut, code := relcat(t, "--catalog", cat, "report", "--batch", khorasan[:6], "-o", file); code != exitOK {
		t.Fatalf("report exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"07-ship.jpg", "seen before: identical", "data:image/jpeg;base64,", khorasan} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, args := range [][]string{
		{"report", "--batch", khorasan},                           // no -o
		{"report", "--batch", khorasan, "--timeline", "-o", file}, // two kinds
		{"report", "-o", file},                                    // none
		{"report", "--batch", khorasan, "--exact", "-o", file},    // a dupes filter without --dupes
		{"report", "--dupes", "--max-distance", "99", "-o", file}, // bad threshold
	} {
		if _, errOut, code := relcat(t, append([]string{"--catalog", cat}, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
	}
	if _, errOut, code := relcat(t, "--catalog", cat, "report", "--batch", "ffffffffffffffff", "-o", filepath.Join(t.TempDir(), "x.html")); code != exitError || !strings.Contains(errOut, "no batch or image") {
		t.Errorf("unknown batch: exit %d: %s", code, errOut)
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine writing and the test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, "--catalog", cat, "ingest", sampleDirs(t)[0]); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	// Another address than loopback needs --allow-remote.
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8080", "[::]:0", "example.com:80"} {
		if _, errOut, code := relcat(t, "--catalog", cat, "serve", "--addr", addr); code != exitUsage || !strings.Contains(errOut, "--allow-remote") {
			t.Errorf("serve --addr %s: exit %d: %s", addr, code, errOut)
		}
	}
	if _, errOut, code := relcat(t, "--catalog", cat, "serve", "--addr", "nonsense"); code != exitUsage {
		t.Errorf("serve --addr nonsense: exit %d: %s", code, errOut)
	}
	if _, errOut, code := relcat(t, "--catalog", filepath.Join(t.TempDir(), "none"), "serve", "--addr", "127.0.0.1:0"); code != exitError || !strings.Contains(errOut, "no catalog") {
		t.Errorf("serve without a catalog: exit %d: %s", code, errOut)
	}
	serve := func(args ...string) (string, func() int) {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, append([]string{"--catalog", cat, "serve"}, args...), &out, &errOut) }()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), "http://") {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		url := strings.Fields(out.String()[strings.Index(out.String(), "http://"):])[0]
		return url, func() int { cancel(); return <-done }
	}
	url, stop := serve("--addr", "127.0.0.1:0")
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "is-sinai") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if code := stop(); code != exitOK {
		t.Errorf("serve stopped with exit %d", code)
	}
}

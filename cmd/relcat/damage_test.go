package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runDeadline runs one command line in-process and fails the test when it has not returned within d
// (a hang). A panic that escaped would crash the test binary.
func runDeadline(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	type result struct {
		out, errOut string
		code        int
	}
	ch := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		ch <- result{out.String(), errb.String(), code}
	}()
	select {
	case r := <-ch:
		return r.out, r.errOut, r.code
	case <-time.After(d):
		t.Fatalf("relcat %s: still running after %s (hang)", strings.Join(args, " "), d)
	}
	return "", "", 0
}

// Issue 12 item 9: 63 of 150 random byte flips of catalog.db made show, dupes or verify panic (a Go
// stack trace, exit 2) or hang. With a fixed seed, 150 catalogs with one byte flipped each (inside the
// pages the database uses): every command answers within seconds, with exit 0, 1 (an error naming the
// catalog) or 3 (an answer naming the damage it left out), never a panic, a hang or a usage error.
func TestRandomByteFlipsNeverPanicOrHang(t *testing.T) {
	base := t.TempDir()
	cat := filepath.Join(base, "cat")
	if _, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)[:2]...)...); code != exitOK {
		t.Fatalf("ingest: exit %d %s", code, errOut)
	}
	out, _, _ := relcat(t, "--catalog", cat, "batches")
	batch := strings.Fields(strings.Split(out, "\n")[1])[0]
	dbPath := filepath.Join(cat, "catalog.db")
	orig, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	// Flip bytes only below the high-water mark (meta page 0: page size at 16+8, pgid at 16+40).
	ps := binary.NativeEndian.Uint32(orig[24:])
	used := int(binary.NativeEndian.Uint64(orig[56:])) * int(ps)
	if used <= 0 || used > len(orig) {
		used = len(orig)
	}
	rng := rand.New(rand.NewPCG(12, 9))
	counts := map[string]map[int]int{}
	for i := 0; i < 150; i++ {
		data := bytes.Clone(orig)
		off := rng.IntN(used)
		data[off] ^= byte(1 + rng.IntN(255))
		if err := os.WriteFile(dbPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"show", batch}, {"dupes"}, {"verify", "--quick"}} {
			_, errOut, code := runDeadline(t, 20*time.Second, append([]string{"--catalog", cat}, args...)...)
			if counts[args[0]] == nil {
				counts[args[0]] = map[int]int{}
			}
			counts[args[0]][code]++
			switch {
			case code == exitError && args[0] != "verify" && !strings.Contains(errOut, cat):
				t.Errorf("flip %d (offset %d): %v: error does not name the catalog: %s", i, off, args, errOut)
			case code == exitError || code == exitOK || code == exitPartial:
			default:
				t.Errorf("flip %d (offset %d): %v: exit %d: %s", i, off, args, code, errOut)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("flip %d: %v: %s", i, args, errOut)
			}
		}
	}
	t.Logf("exit codes per command over 150 flips: %v", counts)
}

// Issue 12 items 9 and 11 through the commands: a truncated catalog.db is refused by every command
// with exit 1, a message naming the catalog and `relcat verify`; verify reports it (exit 1); and an
// emptied catalog.db beside the preserved originals is refused by ingest instead of starting over.
func TestDamagedCatalogCommands(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if _, errOut, code := relcat(t, "--catalog", cat, "ingest", sampleDirs(t)[0]); code != exitOK {
		t.Fatalf("ingest: exit %d %s", code, errOut)
	}
	dbPath := filepath.Join(cat, "catalog.db")
	if err := os.Truncate(dbPath, 3*4096); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"batches"}, {"show", "0000"}, {"dupes"}, {"log"}, {"ingest", sampleDirs(t)[1]}} {
		_, errOut, code := runDeadline(t, 20*time.Second, append([]string{"--catalog", cat}, args...)...)
		if code != exitError || !strings.Contains(errOut, cat) || !strings.Contains(errOut, "relcat verify") || !strings.Contains(errOut, "truncated") {
			t.Errorf("%v on a truncated catalog: exit %d: %s", args, code, errOut)
		}
	}
	out, _, code := runDeadline(t, 20*time.Second, "--catalog", cat, "verify")
	if code != exitError || !strings.Contains(out, "PROBLEM storage: catalog.db:") || !strings.Contains(out, "truncated") {
		t.Errorf("verify on a truncated catalog: exit %d:\n%s", code, out)
	}
	// Emptied: ingest must not start a new catalog over the preserved originals.
	if err := os.Truncate(dbPath, 0); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runDeadline(t, 20*time.Second, "--catalog", cat, "ingest", sampleDirs(t)[1])
	if code != exitError || !strings.Contains(errOut, "catalog.db is empty but objects/ holds") {
		t.Errorf("ingest beside an emptied catalog.db: exit %d: %s", code, errOut)
	}
	if fi, err := os.Stat(dbPath); err != nil || fi.Size() != 0 {
		t.Errorf("catalog.db was rewritten")
	}
	_, errOut, code = runDeadline(t, 20*time.Second, "--catalog", cat, "verify")
	if code != exitError || !strings.Contains(errOut, "damaged catalog, not a new one") {
		t.Errorf("verify beside an emptied catalog.db: exit %d: %s", code, errOut)
	}
}

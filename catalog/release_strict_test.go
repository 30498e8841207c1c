package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relcat/relcat/internal/hostile"
)

// A release.json with a key twice or a key in another case: Go's decoder takes the last value and
// matches names case-insensitively, so {"affiliate":"is-a","Affiliate":"is-b"} was silently is-b.
func TestReleaseJSONDuplicateAndCaseKeys(t *testing.T) {
	for _, s := range []string{
		`{"affiliate":"is-a","released":"2020-01-01","affiliate":"is-b"}`,
		`{"affiliate":"is-a","released":"2020-01-01","Affiliate":"is-b"}`,
		`{"AFFILIATE":"is-a","released":"2020-01-01"}`,
		`{"affiliate":"is-a","Released":"2020-01-01"}`,
		`{"affiliate":"is-a","released":"2020-01-01","title":"x","title":"y"}`,
		`{"affiliate":"is-a","released":"2020-01-01","afiliate":"typo"}`,
		`["affiliate"]`,
	} {
		if ri, err := ParseReleaseInfo([]byte(s)); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s: accepted as %+v (%v)", s, ri, err)
		}
	}
	ri, err := ParseReleaseInfo([]byte(`{"affiliate":"is-a","released":"2020-01-01","source":"s","title":"t","notes":"n"}`))
	if err != nil || ri.Affiliate != "is-a" || ri.Title != "t" {
		t.Errorf("plain release.json: %+v %v", ri, err)
	}
}

// Affiliate slugs are lowercased in ASCII only: the Kelvin sign (U+212A) and the dotted capital I
// (U+0130) lowercase to "k" and "i" in Unicode, which made "is-\u212Ahorasan" the slug is-khorasan.
func TestAffiliateSlugNoUnicodeFolding(t *testing.T) {
	for _, aff := range []string{"is-\u212Ahorasan", "\u0130s-sinai", "is-s\u0131nai"} {
		_, _, err := ReleaseInfo{Affiliate: aff, Released: "2020-01-01"}.normalise("dir")
		if !errors.Is(err, ErrBadArgument) {
			t.Errorf("%q: accepted (%v)", aff, err)
		}
	}
	aff, _, err := ReleaseInfo{Affiliate: " IS-Khorasan ", Released: "2020-01-01"}.normalise("dir")
	if err != nil || aff != "is-khorasan" {
		t.Errorf("ASCII upper case: %q %v", aff, err)
	}
}

// Changing only the title of an ingested batch writes a log entry: the summary must not say that
// nothing changed, and it names the change.
func TestTitleOnlyChangeIsReported(t *testing.T) {
	c := openTest(t)
	dir := filepath.Join(t.TempDir(), "rel")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "a.jpg"), hostile.JPEG(64, 48, 1), 0o644)
	rel := ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01", Title: "first"}
	ingest := func(title string) *BatchSummary {
		t.Helper()
		r := rel
		r.Title = title
		ss, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{Release: r})
		if err != nil || len(ss) != 1 {
			t.Fatal(err)
		}
		return ss[0]
	}
	ingest("first")
	logLen := func() int {
		n := 0
		c.Log(func(LogEntry) bool { n++; return true })
		return n
	}
	before := logLen()
	if s := ingest("first"); !s.Unchanged || logLen() != before {
		t.Errorf("same ingest again: unchanged %v, log %d -> %d", s.Unchanged, before, logLen())
	}
	s := ingest("second")
	if logLen() != before+1 {
		t.Fatalf("title change wrote %d log entries", logLen()-before)
	}
	if s.Unchanged {
		t.Errorf("title-only change reported as nothing changed")
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), `title "second" (was "first")`) {
		t.Errorf("notes do not name the change: %q", s.Notes)
	}
	if s.Batch.Title != "second" {
		t.Errorf("title %q", s.Batch.Title)
	}
}

// The exit-4 message names the writer's pid only when that process is alive and is the one that
// wrote catalog.pid: a writer killed earlier leaves the file behind, and its pid may be reused.
func TestLockedMessageNamesNoStalePID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	open := func() error {
		_, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
		return err
	}
	// Another process holds the writer lock (readers never do: lock.go); catalog.pid is stale: pid 1
	// exists, but did not write it.
	r, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := flockWait(r, true, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, stale := range []string{"1 12345\n", "1\n", strconv.Itoa(os.Getpid()) + " 1\n", "999999999 1\n"} {
		os.WriteFile(filepath.Join(dir, pidFileName), []byte(stale), 0o644)
		err := open()
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("%q: %v", stale, err)
		}
		if strings.Contains(err.Error(), "pid") {
			t.Errorf("catalog.pid %q: message names a stale pid: %v", stale, err)
		}
	}
	r.Close()
	// A live writer is named.
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = open()
	if _, ok := procStartTime(os.Getpid()); ok && (err == nil || !strings.Contains(err.Error(), "(pid "+strconv.Itoa(os.Getpid())+")")) {
		t.Errorf("live writer not named: %v", err)
	}
}

package catalog

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relcat/relcat/internal/hostile"
)

// A raw non-UTF-8 name "p\xff.jpg" and a file literally named `p\xff.jpg` (backslash, x, f, f) are
// shown alike, but they are two files: both are recorded, each once, and a re-run finds both.
// Before, the sighting was keyed by the escaped text: 5 files recorded 4.
func TestSightingsKeyedByNameBytes(t *testing.T) {
	c := openTest(t)
	dir := filepath.Join(t.TempDir(), "rel")
	os.Mkdir(dir, 0o755)
	same := hostile.JPEG(64, 48, 1)
	files := map[string][]byte{
		"p\xff.jpg": same,
		`p\xff.jpg`: same,
		"q\xfe.jpg": hostile.JPEG(64, 48, 2),
		`q\xfe.jpg`: hostile.JPEG(64, 48, 3),
		"plain.jpg": hostile.JPEG(64, 48, 4),
	}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := IngestOptions{Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"}}
	ss, err := c.Ingest(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := ss[0]
	if s.Batch.Files != 5 || s.New != 4 || s.Known != 1 || s.Rejected != 0 {
		t.Fatalf("5 files: recorded %d, %d new, %d known, %d rejected", s.Batch.Files, s.New, s.Known, s.Rejected)
	}
	for _, f := range s.Files {
		if f.Repeat {
			t.Errorf("%s taken for a repeat of another file", f.Name)
		}
	}
	d, err := c.Image(SHA256(sha256.Sum256(same)))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sightings) != 2 || d.Sightings[0].Name != `p\xff.jpg` || d.Sightings[1].Name != `p\xff.jpg` {
		t.Errorf("sightings of the shared image: %+v", d.Sightings)
	}
	again, err := c.Ingest(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again[0].Unchanged || again[0].Batch.Files != 5 {
		t.Errorf("re-run: unchanged %v, %d files", again[0].Unchanged, again[0].Batch.Files)
	}
}

// Symbolic links to regular files are read only when the target is inside the release folder;
// a link anywhere else is rejected per file, unless FollowLinks (--follow-links).
func TestSymlinkOutsideReleaseRejected(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "rel")
	outside := filepath.Join(base, "elsewhere")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.Mkdir(outside, 0o755)
	os.WriteFile(filepath.Join(dir, "real.jpg"), hostile.JPEG(64, 48, 1), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "deep.jpg"), hostile.JPEG(64, 48, 2), 0o644)
	os.WriteFile(filepath.Join(outside, "secret.jpg"), hostile.JPEG(64, 48, 3), 0o644)
	links := map[string]string{
		"in-rel.jpg":    "real.jpg",
		"in-abs.jpg":    filepath.Join(dir, "sub", "deep.jpg"),
		"in-dotdot.jpg": "sub/../real.jpg",
		"out-rel.jpg":   "../elsewhere/secret.jpg",
		"out-abs.jpg":   filepath.Join(outside, "secret.jpg"),
		"out-2hop.jpg":  "in-hop.lnk",
	}
	for n, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, n)); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	os.Symlink(filepath.Join(outside, "secret.jpg"), filepath.Join(dir, "in-hop.lnk")) // a link to a link outside
	// The folder is also given through a link to it: "inside" is judged on resolved paths.
	viaLink := filepath.Join(base, "rel-link")
	os.Symlink(dir, viaLink)

	for _, follow := range []bool{false, true} {
		c := openTest(t)
		ss, err := c.Ingest(context.Background(), []string{viaLink}, IngestOptions{
			Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"}, FollowLinks: follow})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ss[0].Files {
			out := strings.HasPrefix(f.Name, "out-") || f.Name == "in-hop.lnk"
			switch {
			case out && !follow:
				if f.Status != StatusRejected || !strings.Contains(f.Reason, "outside the release folder") || !strings.Contains(f.Reason, "--follow-links") {
					t.Errorf("%s: %s %q, want rejected as outside", f.Name, f.Status, f.Reason)
				}
			case f.Status == StatusRejected:
				t.Errorf("follow=%v %s: rejected: %s", follow, f.Name, f.Reason)
			}
		}
	}
}

package catalog

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/internal/hostile"
)

// within fails the test if fn has not returned after d (a hang is the bug these tests look for).
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s still running after %v: it hangs", what, d)
	}
}

func releaseOf(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "release")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestObjectsNotRegular (issue 12 item 10): a FIFO or a link to /dev/zero at objects/ab/<sha> must
// not hang verify (full or --quick) nor an ingest that finds one where it writes an original; verify
// names it, ingest replaces it and says so.
func TestObjectsNotRegular(t *testing.T) {
	c := openTest(t)
	ctx := context.Background()
	a, b, d := hostile.JPEG(64, 48, 1), hostile.JPEG(64, 48, 2), hostile.JPEG(64, 48, 3)
	if _, err := c.Ingest(ctx, []string{releaseOf(t, map[string][]byte{"a.jpg": a})},
		IngestOptions{Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"}}); err != nil {
		t.Fatal(err)
	}
	obj := func(data []byte) string {
		return filepath.Join(c.dir, filepath.FromSlash(objectRelPath(SHA256(sha256.Sum256(data)))))
	}
	plant := func(path, kind string) {
		t.Helper()
		_ = os.Chmod(path, 0o644)
		_ = os.Remove(path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if kind == "fifo" {
			err = syscall.Mkfifo(path, 0o644)
		} else {
			err = os.Symlink("/dev/zero", path)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []struct{ kind, want string }{{"fifo", "named pipe"}, {"devzero", "symbolic link"}} {
		plant(obj(a), k.kind)
		for _, quick := range []bool{false, true} {
			var r *VerifyReport
			var err error
			within(t, 20*time.Second, "verify", func() { r, err = c.Verify(ctx, VerifyOptions{Quick: quick}) })
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range r.Problems {
				found = found || (p.Kind == "object" && strings.Contains(p.Detail, k.want))
			}
			if !found {
				t.Errorf("%s, quick %v: problems %v, want an object that is %q", k.kind, quick, r.Problems, k.want)
			}
		}
	}
	// Put a's original back, so that the catalog is whole again.
	_ = os.Remove(obj(a))
	if err := os.WriteFile(obj(a), a, 0o444); err != nil {
		t.Fatal(err)
	}
	// New images whose object paths already hold a FIFO and a link to /dev/zero.
	plant(obj(b), "fifo")
	plant(obj(d), "devzero")
	var sums []*BatchSummary
	var err error
	within(t, 20*time.Second, "ingest", func() {
		sums, err = c.Ingest(ctx, []string{releaseOf(t, map[string][]byte{"b.jpg": b, "d.jpg": d})},
			IngestOptions{Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-02"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sums[0].Files {
		if f.Status != StatusNew || !strings.Contains(strings.Join(f.Warnings, "; "), "damaged copy of this original in objects/ was replaced") {
			t.Errorf("%s: %s, warnings %q", f.Name, f.Status, f.Warnings)
		}
	}
	for _, data := range [][]byte{b, d} {
		fi, err := os.Lstat(obj(data))
		got, _ := os.ReadFile(obj(data))
		if err != nil || !fi.Mode().IsRegular() || !bytes.Equal(got, data) {
			t.Errorf("object %s not replaced by the original (%v, %v)", obj(data), fi.Mode(), err)
		}
	}
}

// TestIngestStreamsLargeFiles (issue 12 item 6): a file over half the memory budget is never held
// whole: it is hashed and copied by streaming, stored with its hashes and EXIF (from its first MiB)
// but without pixels, as a limit; a later ingest with a budget that fits decodes it.
func TestIngestStreamsLargeFiles(t *testing.T) {
	c := openTest(t)
	ctx := context.Background()
	big := append(hostile.Splice(hostile.JPEG(640, 480, 5), hostile.TIFF(hostile.IFD{Entries: []hostile.Entry{hostile.ASCII(0x010f, "StreamCam")}})),
		make([]byte, 700<<10)...) // 700 KB of trailing zeros after EOI
	dir := releaseOf(t, map[string][]byte{"big.jpg": big})
	o := IngestOptions{Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"}, DecodeMemory: 1 << 20}
	sums, err := c.Ingest(ctx, []string{dir}, o)
	if err != nil {
		t.Fatal(err)
	}
	f := sums[0].Files[0]
	if f.Status != StatusNew || !f.NoPixels || !strings.Contains(strings.Join(f.Warnings, "; "), "hashed by streaming") {
		t.Fatalf("%s: %s no_pixels %v warnings %q", f.Name, f.Status, f.NoPixels, f.Warnings)
	}
	d, err := c.Image(*f.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	img := d.Image
	stored, _ := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(img.Object)))
	if img.SHA256 != SHA256(sha256.Sum256(big)) || img.MD5 != MD5(md5.Sum(big)) || img.Size != int64(len(big)) ||
		!bytes.Equal(stored, big) || img.EXIF.Make != "StreamCam" || img.Width != 640 || !img.PixelsLimited {
		t.Errorf("stored %+v", img)
	}
	// The default budget fits: the same folder again decodes it.
	o.DecodeMemory = 0
	sums, err = c.Ingest(ctx, []string{dir}, o)
	if err != nil {
		t.Fatal(err)
	}
	if f := sums[0].Files[0]; f.Status != StatusKnown || !f.Updated {
		t.Errorf("re-ingest: %s updated %v", f.Status, f.Updated)
	}
	if d, _ := c.Image(img.SHA256); d == nil || !d.Image.Pixels {
		t.Error("not decoded on re-ingest with a budget that fits")
	}
}

// TestIngestFileSizeLimit: a file over --max-file-size is rejected before it is read.
func TestIngestFileSizeLimit(t *testing.T) {
	c := openTest(t)
	dir := releaseOf(t, map[string][]byte{"a.jpg": hostile.JPEG(640, 480, 6), "b.jpg": hostile.JPEG(32, 32, 7)})
	sums, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{
		Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"}, MaxFileSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sums[0].Files {
		big := f.Name == "a.jpg"
		if got := f.Status == StatusRejected && strings.Contains(f.Reason, "over the limit of 4096 bytes (--max-file-size)"); got != big {
			t.Errorf("%s: %s %q", f.Name, f.Status, f.Reason)
		}
	}
}

// TestBudgetHeldThroughUse (issue 12 item 8): the decode-memory budget is held while the full image
// is used (downscale, reference hash), and what is held covers the decoder's estimate plus the
// downscale.
func TestBudgetHeldThroughUse(t *testing.T) {
	data := hostile.PNGZeros(2000, 1500, false, false)
	const budget = 64 << 20
	sem := semaphore.NewWeighted(budget)
	need, _, _, err := decodeNeed(data, media.PNG, DefaultMaxPixels, 0, budget, false)
	if err != nil {
		t.Fatal(err)
	}
	if need < 2000*1500*4+4*WorkSide*WorkSide {
		t.Errorf("need %d does not cover the image and the work image", need)
	}
	used := false
	_, err = decodeWith(context.Background(), data, media.PNG, DefaultMaxPixels, budget, sem, false, 0, func(full image.Image, _ media.Config, _ bool) {
		used = true
		if sem.TryAcquire(budget - need + 1) {
			t.Error("the budget was released before the image was used")
		}
	})
	if err != nil || !used {
		t.Fatal(err)
	}
	if !sem.TryAcquire(budget) {
		t.Error("the budget was not given back")
	}
}

// TestExtremeAspectNotALimit: an image far more elongated than media.MaxAspectRatio is refused from
// its header before any memory is budgeted, and not as a limit a larger budget would lift (a
// re-ingest does not try it again).
func TestExtremeAspectNotALimit(t *testing.T) {
	_, _, _, err := decodeNeed(hostile.PNGHeader(100_000_000, 1), media.PNG, DefaultMaxPixels, 0, 0, false)
	if !errors.Is(err, media.ErrTooMuchWork) || errors.Is(err, media.ErrTooManyPixels) {
		t.Errorf("100000000x1: %v", err)
	}
}

// TestReadStored: reindex reads originals through readStored, which refuses a FIFO, a link and a
// file whose size is not the recorded one, without blocking.
func TestReadStored(t *testing.T) {
	dir := t.TempDir()
	good, fifo, link := filepath.Join(dir, "good"), filepath.Join(dir, "fifo"), filepath.Join(dir, "link")
	if err := os.WriteFile(good, []byte("original"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if b, err := readStored(ctx, good, 8); err != nil || string(b) != "original" {
		t.Errorf("good: %q %v", b, err)
	}
	within(t, 10*time.Second, "readStored", func() {
		for path, want := range map[string]string{good: "9 recorded", fifo: "named pipe", link: "symbolic link"} {
			size := int64(8)
			if path == good {
				size = 9
			}
			if _, err := readStored(ctx, path, size); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %q", filepath.Base(path), err, want)
			}
		}
	})
}

// TestIngestBudgetContention: workers whose files and decodes do not all fit the budget at once
// give their share back and wait for both together (a file over the reuse limit is read again):
// no deadlock, every image decoded, its hashes those of the file.
func TestIngestBudgetContention(t *testing.T) {
	c := openTest(t)
	files := map[string][]byte{}
	for i := 0; i < 4; i++ {
		files[string(rune('a'+i))+".jpg"] = append(hostile.JPEG(1600, 1200, 20+i), make([]byte, 10<<20)...)
	}
	var sums []*BatchSummary
	var err error
	within(t, 120*time.Second, "ingest", func() {
		sums, err = c.Ingest(context.Background(), []string{releaseOf(t, files)}, IngestOptions{
			Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"}, DecodeMemory: 24 << 20, Workers: 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sums[0].Files {
		if f.Status != StatusNew || f.NoPixels || *f.SHA256 != SHA256(sha256.Sum256(files[f.Name])) {
			t.Errorf("%s: %s no_pixels %v warnings %q", f.Name, f.Status, f.NoPixels, f.Warnings)
		}
	}
}

// TestExportBundleFIFOObject: exporting a bundle whose original is a FIFO fails at once, naming it.
func TestExportBundleFIFOObject(t *testing.T) {
	c := openTest(t)
	ctx := context.Background()
	a := hostile.JPEG(64, 48, 9)
	if _, err := c.Ingest(ctx, []string{releaseOf(t, map[string][]byte{"a.jpg": a})},
		IngestOptions{Release: ReleaseInfo{Affiliate: "is-test", Released: "2020-01-01"}}); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(c.dir, filepath.FromSlash(objectRelPath(SHA256(sha256.Sum256(a)))))
	_ = os.Chmod(obj, 0o644)
	if err := os.Remove(obj); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	within(t, 20*time.Second, "export bundle", func() { _, err = c.ExportBundle(ctx, io.Discard, Selection{}, BundleExportOptions{}) })
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("export: %v", err)
	}
	// Put the original back for the invariants checked on cleanup.
	_ = os.Remove(obj)
	if err := os.WriteFile(obj, a, 0o444); err != nil {
		t.Fatal(err)
	}
}

package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Issue 13: the storage check read all of catalog.db at every Open (0.17 s of CPU at 300k images,
// and resident memory as large as the file). A file unchanged since a check passed is not read
// again; any change, even one that sets the modification time back, is checked in full.
func TestStorageVerdictRemembered(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("verdicts are remembered on Linux only (inode and ctime); elsewhere every Open checks in full")
	}
	defer func(v int64) { verdictMinSize = v }(verdictMinSize)
	verdictMinSize = 0
	dir := damageFixture(t) // a writer's Close records the verdict of what it committed
	if _, err := os.Stat(filepath.Join(dir, verdictFileName)); err != nil {
		t.Fatalf("no verdict after a writer closed: %v", err)
	}
	images, ps := rootPage(t, dir, bucketImages)
	open := func(ro bool) error {
		c, err := Open(dir, Options{ReadOnly: ro, LockTimeout: time.Second})
		if err == nil {
			_, err = c.Batches("")
			c.Close()
		}
		return err
	}
	checks := func(what string, want int64, fn func()) {
		t.Helper()
		n := storageChecks.Load()
		fn()
		if got := storageChecks.Load() - n; got != want {
			t.Errorf("%s: %d full storage check(s), want %d", what, got, want)
		}
	}
	checks("reader on an unchanged file", 0, func() {
		if err := open(true); err != nil {
			t.Fatal(err)
		}
	})
	// A writer commits (Open itself writes the schema check) and closes: its verdict covers its commits.
	checks("writer, then reader", 0, func() {
		if err := open(false); err != nil {
			t.Fatal(err)
		}
		if err := open(true); err != nil {
			t.Fatal(err)
		}
	})
	// Damage right after the writer closed, the modification time then set back as it was: the
	// status-change time still moved, so the file is checked again and refused.
	path := filepath.Join(dir, dbFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flags := orig[images*ps+8 : images*ps+10]
	patch(t, dir, images*ps+8, u16(0x20))
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	checks("damaged after the verdict", 1, func() {
		if err := open(true); !errors.Is(err, ErrDamaged) {
			t.Errorf("damaged file opened: %v", err)
		}
	})
	checks("damaged, again", 1, func() {
		if err := open(false); !errors.Is(err, ErrDamaged) {
			t.Errorf("damaged file opened by a writer: %v", err)
		}
	})
	// Repaired (the flags put back): checked in full once, then remembered by the reader that checked.
	patch(t, dir, images*ps+8, flags)
	time.Sleep(verdictMargin + 10*time.Millisecond)
	checks("repaired", 1, func() {
		if err := open(true); err != nil {
			t.Fatal(err)
		}
	})
	checks("repaired, reopened", 0, func() {
		if err := open(true); err != nil {
			t.Fatal(err)
		}
	})
	// A verdict file that is damaged, or copied beside another copy of the catalog, is not trusted.
	if err := os.WriteFile(filepath.Join(dir, verdictFileName), []byte("RELCATSC garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	checks("damaged verdict", 1, func() {
		if err := open(true); err != nil {
			t.Fatal(err)
		}
	})
	other := filepath.Join(t.TempDir(), "copy")
	copyTree(t, dir, other)
	dir = other
	checks("copied catalog", 1, func() {
		if err := open(true); err != nil {
			t.Fatal(err)
		}
	})
}

// A verdict proven within the margin of the file's last change is not trusted (a write in the same
// tick of the kernel's coarse clock could leave the file's times as they were).
func TestStorageVerdictMargin(t *testing.T) {
	s := fileStamp{dev: 1, ino: 2, size: 3, mtime: 1_000_000_000, ctime: 1_000_000_000, meta: 4}
	for _, tc := range []struct {
		after time.Duration
		other func(*fileStamp)
		want  bool
	}{
		{verdictMargin, nil, true},
		{verdictMargin - time.Millisecond, nil, false},
		{0, nil, false},
		{time.Second, func(s *fileStamp) { s.ctime++ }, false},
		{time.Second, func(s *fileStamp) { s.meta++ }, false},
		{time.Second, func(s *fileStamp) { s.size++ }, false},
		{time.Second, func(s *fileStamp) { s.ino++ }, false},
	} {
		v := storageVerdict{stamp: s, provenAt: s.ctime + int64(tc.after)}
		now := s
		if tc.other != nil {
			tc.other(&now)
		}
		w, ok := decodeVerdict(v.encode())
		if !ok || w != v {
			t.Fatalf("verdict does not survive encoding: %+v %+v", v, w)
		}
		if got := w.trusted(now); got != tc.want {
			t.Errorf("proven %s after the change, stamp %+v: trusted %v, want %v", tc.after, now, got, tc.want)
		}
	}
	b := storageVerdict{stamp: s, provenAt: s.ctime + int64(time.Second)}.encode()
	b[20] ^= 1
	if _, ok := decodeVerdict(b); ok {
		t.Error("a verdict with a flipped bit decodes")
	}
}

// TestVerdictMargin: the margin is two ticks of the file-time clock (at least 5 ms), 50 ms when the
// tick is unknown or coarse; on Linux the tick is read from the kernel.
func TestVerdictMargin(t *testing.T) {
	for _, c := range []struct{ tick, want time.Duration }{
		{4 * time.Millisecond, 8 * time.Millisecond},
		{10 * time.Millisecond, 20 * time.Millisecond},
		{time.Millisecond, 5 * time.Millisecond},
		{time.Nanosecond, 5 * time.Millisecond},
		{0, 50 * time.Millisecond},
		{40 * time.Millisecond, 50 * time.Millisecond},
	} {
		if got := marginOf(c.tick); got != c.want {
			t.Errorf("tick %v: margin %v, want %v", c.tick, got, c.want)
		}
	}
	if runtime.GOOS == "linux" {
		if tick := fileTimeTick(); tick <= 0 || tick > time.Second {
			t.Errorf("file-time tick %v", tick)
		}
	}
}

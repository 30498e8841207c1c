package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog"
)

// The crash tests run the real relcat binary as a subprocess over a generated set of a few hundred
// files in two release folders, stop it at chosen points (SIGKILL, SIGINT, SIGSTOP) and check that
// the catalog opens, verifies, that re-running the ingest completes, and that the result equals an
// uninterrupted run. The kill points are set by progress (preserved originals on disk), not by
// time, so that they land mid-ingest however loaded the machine is.
//
// RELCAT_CRASH_LOOPS=N adds N further kill-and-resume rounds to the repeated-kill case.

// crashHangGuard bounds every subprocess: a relcat that does not finish by then has hung.
const crashHangGuard = 3 * time.Minute

// crashBuildRelcat builds the relcat binary of this tree once for the test.
func crashBuildRelcat(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "relcat")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/relcat")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashFolders writes two release folders: crash-a holds 216 distinct JPEGs, crash-b 144 others plus
// 24 byte-identical copies of crash-a files. The images are 6 small sample photos shrunk to 256 px,
// each encoded at 12 qualities, each encoding stored with 0 to 4 extra bytes after the end of the
// image (still valid JPEGs, each with its own SHA-256).
func crashFolders(t *testing.T) []string {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(repoRoot(t), "samples", "releases")
	bases := []string{"2019-11-02-sinai/02-antennas.jpg", "2019-11-02-sinai/03-dog.jpg", "2019-11-02-sinai/11-throne.jpg",
		"2020-03-09-sinai/07-lamp.jpg", "2020-03-09-sinai/08-ship.jpg", "2020-01-14-west-africa/02-skyline.jpg"}
	var files [][]byte
	for _, name := range bases {
		f, err := os.Open(filepath.Join(src, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		small := crashShrink(img, 256)
		for q := 40; q < 100; q += 5 {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			for extra := range 5 {
				files = append(files, append(bytes.Clone(buf.Bytes()), bytes.Repeat([]byte{byte(q)}, extra)...))
			}
		}
	}
	if len(files) != 360 {
		t.Fatalf("generated %d files", len(files))
	}
	var dirs []string
	write := func(folder, released string, fs [][]byte) {
		dir := filepath.Join(root, folder)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		rj := fmt.Sprintf(`{"affiliate":"is-crash-test","released":%q,"title":"generated for the crash test"}`, released)
		if err := os.WriteFile(filepath.Join(dir, "release.json"), []byte(rj), 0o644); err != nil {
			t.Fatal(err)
		}
		for i, data := range fs {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d.jpg", i)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, dir)
	}
	// Interleave the bases so that every chunk of the ingest holds all of them.
	var a, b [][]byte
	for i, data := range files {
		if i%5 < 3 {
			a = append(a, data)
		} else {
			b = append(b, data)
		}
	}
	for i := 0; i < 24; i++ {
		b = append(b, a[i*9])
	}
	write("crash-a", "2021-05-01", a)
	write("crash-b", "2021-06-01", b)
	return dirs
}

// crashShrink scales img down to the given width by nearest-neighbour sampling (directly on the
// YCbCr planes of a colour JPEG: the race detector makes per-pixel interface calls slow).
func crashShrink(img image.Image, width int) image.Image {
	r := img.Bounds()
	h := r.Dy() * width / r.Dx()
	if src, ok := img.(*image.YCbCr); ok {
		out := image.NewYCbCr(image.Rect(0, 0, width, h), image.YCbCrSubsampleRatio444)
		for y := 0; y < h; y++ {
			sy := r.Min.Y + y*r.Dy()/h
			for x := 0; x < width; x++ {
				sx := r.Min.X + x*r.Dx()/width
				i, yi, ci := out.YOffset(x, y), src.YOffset(sx, sy), src.COffset(sx, sy)
				out.Y[i], out.Cb[i], out.Cr[i] = src.Y[yi], src.Cb[ci], src.Cr[ci]
			}
		}
		return out
	}
	out := image.NewRGBA(image.Rect(0, 0, width, h))
	for y := 0; y < h; y++ {
		for x := 0; x < width; x++ {
			out.Set(x, y, img.At(r.Min.X+x*r.Dx()/width, r.Min.Y+y*r.Dy()/h))
		}
	}
	return out
}

// crashProc is a running relcat subprocess.
type crashProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
	cancel         context.CancelFunc
}

func crashStart(t *testing.T, bin string, args ...string) *crashProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), crashHangGuard)
	p := &crashProc{done: make(chan struct{}), cancel: cancel}
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	// Every catalog gets a persisted near index, so that a kill can land while it is written.
	p.cmd.Env = append(os.Environ(), "USER=crash-test", "RELCAT_NEAR_FILE_MIN=1")
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process and returns its exit code (-1 when a signal ended it).
func (p *crashProc) wait(t *testing.T) int {
	t.Helper()
	<-p.done
	if p.err != nil && !errors.As(p.err, new(*exec.ExitError)) {
		t.Fatalf("%v: %v", p.cmd.Args, p.err)
	}
	if st, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		if st.Signal() != syscall.SIGKILL {
			t.Fatalf("%v: ended by %v (hang guard?)\nstderr: %s", p.cmd.Args, st.Signal(), p.stderr.String())
		}
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *crashProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// crashRun runs a subprocess to the end and returns its exit code.
func crashRun(t *testing.T, bin string, args ...string) (*crashProc, int) {
	t.Helper()
	p := crashStart(t, bin, args...)
	return p, p.wait(t)
}

// crashCountObjects counts the preserved originals written so far (temporary files left out).
func crashCountObjects(cat string) int {
	n := 0
	subs, _ := os.ReadDir(filepath.Join(cat, "objects"))
	for _, s := range subs {
		files, _ := os.ReadDir(filepath.Join(cat, "objects", s.Name()))
		for _, f := range files {
			if !strings.HasPrefix(f.Name(), ".tmp-") {
				n++
			}
		}
	}
	return n
}

// crashWaitObjects waits until the ingest has written at least n originals; false when it ended first.
func crashWaitObjects(t *testing.T, p *crashProc, cat string, n int) bool {
	t.Helper()
	for crashCountObjects(cat) < n {
		if p.exited() {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// crashIngestArgs is the ingest command line for the catalog and folders.
func crashIngestArgs(cat string, dirs []string) []string {
	return append([]string{"--catalog", cat, "--json", "ingest"}, dirs...)
}

// crashSnapshot renders the catalog: the batches, affiliates and exact duplicates as the read
// commands print them (JSON, ingest times left out), every image as `relcat --json show SHA256`
// prints it (hashes, EXIF, PDQ, every sighting with batch, name and position), and the hash of every
// file under objects/ and thumbs/, all lines sorted. It also returns the files no image record
// refers to (orphans) and the temporary files left by a killed process.
func crashSnapshot(t *testing.T, cat string) (state string, orphans, temps []string) {
	t.Helper()
	var lines []string
	// dupes (near-duplicates) reads the edges stored at ingest.
	for _, args := range [][]string{{"batches"}, {"affiliates"}, {"dupes", "--exact"}, {"dupes"}} {
		out, errOut, code := relcat(t, append([]string{"--catalog", cat, "--json"}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		for _, r := range jsonLines(t, out) {
			crashStripTimes(r)
			data, _ := json.Marshal(r)
			lines = append(lines, strings.Join(args, " ")+" "+string(data))
		}
	}
	c, err := catalog.Open(cat, catalog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	images := 0
	for _, sub := range []string{"objects", "thumbs"} {
		err := filepath.WalkDir(filepath.Join(cat, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel := filepath.ToSlash(strings.TrimPrefix(p, cat+string(filepath.Separator)))
			if strings.HasPrefix(d.Name(), ".tmp-") {
				temps = append(temps, rel)
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("file %s %x", rel, sha256.Sum256(data)))
			s, err := catalog.ParseSHA256(strings.TrimSuffix(d.Name(), ".jpg"))
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			img, err := c.Image(s)
			if errors.Is(err, catalog.ErrNotFound) {
				orphans = append(orphans, rel)
				return nil
			}
			if err != nil {
				return err
			}
			if sub == "objects" {
				// The image as `relcat --json show SHA256` prints it (no ingest time in it).
				rec := imageRecord(img.Image)
				rec["sightings"] = img.Sightings
				data, err := json.Marshal(rec)
				if err != nil {
					return err
				}
				lines = append(lines, "show "+s.String()+" "+string(data))
				images++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lines = append(lines, fmt.Sprintf("images with a preserved original: %d", images))
	sort.Strings(lines)
	return strings.Join(lines, "\n"), orphans, temps
}

// crashStripTimes removes the ingest and creation times, which legitimately differ between runs.
func crashStripTimes(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "ingested")
		delete(x, "created")
		for _, e := range x {
			crashStripTimes(e)
		}
	case []any:
		for _, e := range x {
			crashStripTimes(e)
		}
	}
}

// crashFirstDiff shows where two snapshots part.
func crashFirstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  uninterrupted: %.400s\n  this run:      %.400s", i+1, x, y)
		}
	}
	return "no difference"
}

// crashVerifyOK runs relcat verify on the catalog and fails the test on any problem.
func crashVerifyOK(t *testing.T, cat, when string) {
	t.Helper()
	crashVerify(t, cat, when)
}

// crashVerify runs verify (which also checks the stored edges against the hashes and a current
// near.idx against the index of the hashes) and returns what it says of near.idx.
func crashVerify(t *testing.T, cat, when string) string {
	t.Helper()
	out, errOut, code := relcat(t, "--catalog", cat, "--json", "verify")
	if code != exitOK {
		t.Fatalf("%s: verify exit %d\n%s%s", when, code, out, errOut)
	}
	for _, r := range jsonLines(t, out) {
		if r["type"] == "verify" {
			s, _ := r["near_index"].(string)
			return s
		}
	}
	t.Fatalf("%s: verify printed no summary:\n%s", when, out)
	return ""
}

// crashEnv is what the crash subtests share: the binary, the folders and the uninterrupted result.
type crashEnv struct {
	bin   string
	dirs  []string
	want  string
	files int    // preserved originals in a complete catalog
	ref   string // the uninterrupted catalog (not to be written)
	more  int    // RELCAT_CRASH_LOOPS: extra kill points and rounds
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the relcat binary and ingests a few hundred files several times: skipped with -short")
	}
	start := time.Now()
	env := crashEnv{bin: crashBuildRelcat(t)}
	t.Logf("go build: %s", time.Since(start).Round(time.Millisecond))
	if v := os.Getenv("RELCAT_CRASH_LOOPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("RELCAT_CRASH_LOOPS=%q: want a count", v)
		}
		env.more = n
	}
	start = time.Now()
	env.dirs = crashFolders(t)
	t.Logf("generated 384 files in %s", time.Since(start).Round(time.Millisecond))

	// The uninterrupted run everything is compared with.
	ref := filepath.Join(t.TempDir(), "ref")
	start = time.Now()
	p, code := crashRun(t, env.bin, crashIngestArgs(ref, env.dirs)...)
	if code != exitOK {
		t.Fatalf("uninterrupted ingest: exit %d\n%s", code, p.stderr.String())
	}
	t.Logf("uninterrupted ingest of %d folders: %s", len(env.dirs), time.Since(start).Round(time.Millisecond))
	var sums []map[string]any
	for _, r := range jsonLines(t, p.stdout.String()) {
		if r["type"] == "summary" {
			sums = append(sums, r)
		}
	}
	if len(sums) != 2 || sums[0]["new"].(float64) != 216 || sums[1]["new"].(float64) != 144 || sums[1]["known"].(float64) != 24 {
		t.Fatalf("uninterrupted ingest summaries: %v", sums)
	}
	if ni := crashVerify(t, ref, "uninterrupted"); !strings.HasPrefix(ni, "current") {
		t.Fatalf("uninterrupted: near index file %q, want current", ni)
	}
	var orphans, temps []string
	start = time.Now()
	env.want, orphans, temps = crashSnapshot(t, ref)
	t.Logf("snapshot: %s", time.Since(start).Round(time.Millisecond))
	env.files = crashCountObjects(ref)
	if env.files != 360 || len(orphans) != 0 || len(temps) != 0 {
		t.Fatalf("uninterrupted: %d originals, orphans %v, temporary files %v", env.files, orphans, temps)
	}

	t.Run("SIGKILL", func(t *testing.T) { crashKill(t, env) })
	t.Run("SIGKILL repeatedly", func(t *testing.T) { crashKillRepeatedly(t, env) })
	t.Run("SIGINT", func(t *testing.T) { crashInterrupt(t, env) })
	t.Run("readers during a write", func(t *testing.T) { crashReaders(t, env) })
	env.ref = ref
	t.Run("SIGKILL during compact", func(t *testing.T) { crashCompact(t, env) })
}

// crashCompact kills `relcat compact` while it writes the new file (as soon as it appears) on a copy
// of the uninterrupted catalog: catalog.db is still the old file, verifies and answers as before (the
// same file: a writer's Open commits, so its bytes differ in the meta pages); the next
// writer removes the temporary file; a compact run to the end answers the same.
// The kill races the copy: up to 5 tries, one of which must land before the swap.
func crashCompact(t *testing.T, env crashEnv) {
	landed := false
	for try := 0; try < 5 && !landed; try++ {
		cat := filepath.Join(t.TempDir(), "cat")
		crashCopyTree(t, env.ref, cat)
		db := filepath.Join(cat, "catalog.db")
		was, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		p := crashStart(t, env.bin, "--catalog", cat, "compact")
		var temps []string
		for len(temps) == 0 && !p.exited() {
			temps, _ = filepath.Glob(db + ".tmp-*")
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		code := p.wait(t)
		now, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		left, _ := filepath.Glob(db + ".tmp-*")
		if code == -1 && len(left) > 0 {
			landed = true
			if !os.SameFile(now, was) {
				t.Errorf("try %d: compact killed while it wrote %v replaced catalog.db", try, left)
			}
		} else {
			t.Logf("try %d: compact ended (exit %d) before the kill landed", try, code)
		}
		crashCompare(t, env, cat, fmt.Sprintf("compact killed (try %d)", try))
		// The next writer removes what the killed compact left; a compact run to the end.
		p, code = crashRun(t, env.bin, "--catalog", cat, "compact")
		if code != exitOK {
			t.Fatalf("compact after the kill: exit %d\n%s", code, p.stderr.String())
		}
		if left, _ := filepath.Glob(db + ".tmp-*"); len(left) > 0 {
			t.Errorf("temporary files left after a complete compact: %v", left)
		}
		crashCompare(t, env, cat, "compacted after a killed compact")
	}
	if !landed {
		t.Errorf("no kill landed while compact wrote the new file in 5 tries")
	}
}

// crashCopyTree copies the directory tree src to dst (regular files and directories).
func crashCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// crashResume re-runs the interrupted ingest, which must complete, and compares the catalog
// with the uninterrupted one.
func crashResume(t *testing.T, env crashEnv, cat, what string) {
	t.Helper()
	p, code := crashRun(t, env.bin, crashIngestArgs(cat, env.dirs)...)
	if code != exitOK {
		t.Fatalf("%s: re-run exit %d\n%s", what, code, p.stderr.String())
	}
	crashCompare(t, env, cat, what+", re-run")
}

// crashCompare verifies a completed catalog and compares it with the uninterrupted one.
func crashCompare(t *testing.T, env crashEnv, cat, what string) {
	t.Helper()
	// The completed ingest closed the catalog and left a current near index file.
	if ni := crashVerify(t, cat, what); !strings.HasPrefix(ni, "current") {
		t.Errorf("%s: near index file %q, want current", what, ni)
	}
	got, orphans, temps := crashSnapshot(t, cat)
	if got != env.want {
		t.Errorf("%s: the completed catalog differs from an uninterrupted ingest: %s", what, crashFirstDiff(env.want, got))
	}
	if len(orphans) > 0 {
		t.Errorf("%s: files no record refers to: %v", what, orphans)
	}
	if len(temps) > 0 {
		t.Logf("%s: %d temporary files left by the killed process (harmless, not evidence): %v", what, len(temps), temps)
	}
}

// crashAfterStop checks a catalog whose ingest was stopped: it opens, verifies, and reports how much
// was committed and how many originals were written without a committed record.
func crashAfterStop(t *testing.T, cat, what string) {
	t.Helper()
	crashVerifyOK(t, cat, what)
	out, errOut, code := relcat(t, "--catalog", cat, "--json", "batches")
	if code != exitOK {
		t.Fatalf("%s: batches exit %d: %s", what, code, errOut)
	}
	committed := 0
	for _, b := range jsonLines(t, out) {
		committed += int(b["files"].(float64))
	}
	_, orphans, temps := crashSnapshot(t, cat)
	t.Logf("%s: %d sightings committed, %d originals on disk, %d of them (and thumbnails) without a record yet, %d temporary files",
		what, committed, crashCountObjects(cat), crashOrphanObjects(orphans), len(temps))
}

func crashOrphanObjects(orphans []string) int {
	n := 0
	for _, o := range orphans {
		if strings.HasPrefix(filepath.ToSlash(o), "objects/") {
			n++
		}
	}
	return n
}

// crashKill kills a fresh ingest at several points, each on its own catalog: before the first
// commit, and in the second folder (more with RELCAT_CRASH_LOOPS).
func crashKill(t *testing.T, env crashEnv) {
	points := []int{1, 300}
	if env.more > 0 {
		points = append(points, 90, 230, 340)
	}
	for _, at := range points {
		cat := filepath.Join(t.TempDir(), "cat")
		what := fmt.Sprintf("SIGKILL after %d originals", at)
		p := crashStart(t, env.bin, crashIngestArgs(cat, env.dirs)...)
		if !crashWaitObjects(t, p, cat, at) {
			t.Fatalf("%s: the ingest ended (exit %d) before writing %d originals", what, p.wait(t), at)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(t); code != -1 {
			t.Logf("%s: the ingest finished (exit %d) before the kill landed", what, code)
		}
		crashAfterStop(t, cat, what)
		crashResume(t, env, cat, what)
	}
}

// crashKillRepeatedly kills the same ingest again and again as it resumes, then lets it finish.
func crashKillRepeatedly(t *testing.T, env crashEnv) {
	cat := filepath.Join(t.TempDir(), "cat")
	rounds := []int{60, 200, 280}
	for i := 0; i < env.more; i++ {
		rounds = append(rounds, rounds[len(rounds)-1]+7)
	}
	for i, at := range rounds {
		at = min(at, env.files-1)
		what := fmt.Sprintf("round %d: SIGKILL after %d originals", i+1, at)
		p := crashStart(t, env.bin, crashIngestArgs(cat, env.dirs)...)
		// The originals of earlier rounds are on disk already: each round goes further.
		if !crashWaitObjects(t, p, cat, at) {
			t.Logf("%s: the ingest finished (exit %d) first", what, p.wait(t))
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		p.wait(t)
		crashAfterStop(t, cat, what)
	}
	crashResume(t, env, cat, "repeated SIGKILL")
	out, _, _ := relcat(t, "--catalog", cat, "--json", "log")
	t.Logf("repeated SIGKILL: %d log entries (uninterrupted: one per chunk of 64 files)", len(jsonLines(t, out)))
}

// crashInterrupt sends SIGINT: exit 130, one clean message, a consistent catalog, and a re-run
// that completes.
func crashInterrupt(t *testing.T, env crashEnv) {
	// 100: inside the first folder after its first chunk (64 files) committed, which leaves it incomplete.
	points := []int{30, 100, 250}
	if env.more > 0 {
		points = append(points, 130, 330)
	}
	for _, at := range points {
		cat := filepath.Join(t.TempDir(), "cat")
		what := fmt.Sprintf("SIGINT after %d originals", at)
		p := crashStart(t, env.bin, crashIngestArgs(cat, env.dirs)...)
		if !crashWaitObjects(t, p, cat, at) {
			t.Fatalf("%s: the ingest ended (exit %d) first", what, p.wait(t))
		}
		sent := time.Now()
		if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		code := p.wait(t)
		t.Logf("%s: exited %d, %s after the signal", what, code, time.Since(sent).Round(time.Millisecond))
		switch {
		case code == exitOK && p.stderr.Len() == 0:
			t.Logf("%s: the ingest had finished before the signal landed", what)
		case code != exitInterrupted:
			t.Errorf("%s: exit %d, want %d\nstderr: %s", what, code, exitInterrupted, p.stderr.String())
		case p.stderr.String() != "relcat: interrupted\n":
			t.Errorf("%s: stderr %q, want one line \"relcat: interrupted\"", what, p.stderr.String())
		}
		// Whatever reached stdout is whole JSON lines: summaries of the folders completed.
		for _, r := range jsonLines(t, p.stdout.String()) {
			if code == exitInterrupted && r["type"] == "summary" && r["folder"] != "crash-a" {
				t.Errorf("%s: summary of %v printed for an interrupted folder", what, r["folder"])
			}
		}
		crashAfterStop(t, cat, what)
		interrupted := crashIncompleteShown(t, cat, what, false)
		crashResume(t, env, cat, what)
		crashIncompleteShown(t, cat, what+", then re-run", interrupted)
	}
}

// crashIncompleteShown (issue 7 item 6): after an interrupted ingest, `batches` (text and JSON) and
// `show` mark the batch it was writing, if it had committed a chunk, as incomplete, and `log` marks
// its run interrupted. With rerun (the re-run of an ingest that had left a batch incomplete) every
// batch is complete and the log shows the interrupted run and the completing one. It reports whether
// a batch is incomplete.
func crashIncompleteShown(t *testing.T, cat, what string, rerun bool) bool {
	t.Helper()
	out, _, _ := relcat(t, "--catalog", cat, "--json", "batches")
	var incomplete []string
	for _, b := range jsonLines(t, out) {
		if b["incomplete"] == true {
			incomplete = append(incomplete, b["id"].(string))
		}
	}
	text, _, _ := relcat(t, "--catalog", cat, "batches")
	logText, _, _ := relcat(t, "--catalog", cat, "log")
	interruptedRun := strings.Contains(logText, "interrupted")
	t.Logf("%s: incomplete batches %v, an interrupted run in the log: %v", what, incomplete, interruptedRun)
	switch {
	case len(incomplete) > 1:
		t.Errorf("%s: %d incomplete batches, at most the one being written: %s", what, len(incomplete), out)
	case !rerun && len(incomplete) != strings.Count(text, "(incomplete)"):
		t.Errorf("%s: batches text does not mark the incomplete batch:\n%s", what, text)
	case !rerun && (len(incomplete) == 1) != interruptedRun:
		t.Errorf("%s: %d incomplete batches but the log says interrupted=%v:\n%s", what, len(incomplete), interruptedRun, logText)
	case rerun && (len(incomplete) != 0 || strings.Contains(text, "incomplete")):
		t.Errorf("%s: still incomplete: %v\n%s", what, incomplete, text)
	case rerun && (!interruptedRun || !strings.Contains(logText, ", complete]")):
		t.Errorf("%s: the log should show the interrupted run and the completing one:\n%s", what, logText)
	}
	if !rerun && len(incomplete) == 1 {
		show, _, _ := relcat(t, "--catalog", cat, "show", incomplete[0])
		if !strings.Contains(show, "re-run it to complete") {
			t.Errorf("%s: show of the incomplete batch does not say it:\n%s", what, show)
		}
	}
	return len(incomplete) == 1
}

// crashReaders (issue 7 item 8): while an ingest runs (paused with SIGSTOP in its second folder, so
// that it stays in the middle of the ingest for as long as the check takes), a reader and verify
// work and see the committed chunks, and a second ingest gets exit 4 with a message naming the
// writer's pid after the 3 s lock timeout (hang guard: 20 s). (Stopped in the middle of a commit, the
// reader would wait for it and exit 4 naming the pid: accepted, and logged.) Then the ingest resumes
// and a reader polls until it ends: every call works. The ingest completes and equals an
// uninterrupted one.
func crashReaders(t *testing.T, env crashEnv) {
	cat := filepath.Join(t.TempDir(), "cat")
	writer := crashStart(t, env.bin, crashIngestArgs(cat, env.dirs)...)
	if !crashWaitObjects(t, writer, cat, 250) {
		t.Fatalf("the ingest ended (exit %d) first", writer.wait(t))
	}
	if err := writer.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(writer.cmd.Process.Pid)
	type outcome struct {
		args      []string
		code      int
		stderr    string
		took      time.Duration
		hung, ran bool
	}
	checks := [][]string{
		{"--catalog", cat, "batches"},
		{"--catalog", cat, "verify"},
		crashIngestArgs(cat, env.dirs[1:]),
	}
	results := make(chan outcome, len(checks))
	for _, args := range checks {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, env.bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			o := outcome{args: args[2:], took: time.Since(start), hung: ctx.Err() != nil, stderr: stderr.String()}
			o.ran = err == nil
			if cmd.ProcessState != nil {
				o.code = cmd.ProcessState.ExitCode()
			}
			results <- o
		}()
	}
	for range checks {
		o := <-results
		if o.hung {
			t.Errorf("%v: still running after 20 s while another process holds the catalog (hang)", o.args)
			continue
		}
		t.Logf("%v while an ingest runs: exit %d after %s: %s", o.args, o.code, o.took.Round(time.Millisecond), strings.TrimSpace(o.stderr))
		locked := o.code == exitLocked && strings.Contains(o.stderr, "in use by another relcat process (pid "+pid+")")
		writer := slices.Contains(o.args, "ingest")
		switch {
		case writer && !locked:
			t.Errorf("%v: exit %d %q, want exit %d naming pid %s", o.args, o.code, o.stderr, exitLocked, pid)
		case !writer && !o.ran && !(locked && strings.Contains(o.stderr, "committing")):
			t.Errorf("%v: exit %d %q: a reader must work during an ingest", o.args, o.code, o.stderr)
		}
	}
	if err := writer.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// A reader polling while the ingest runs on.
	outcomes := map[int]int{}
	for !writer.exited() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, env.bin, "--catalog", cat, "--json", "batches")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		hung := ctx.Err() != nil
		cancel()
		if hung {
			t.Fatalf("batches still running after 20 s during an ingest (hang)")
		}
		code := cmd.ProcessState.ExitCode()
		outcomes[code]++
		if code == exitOK {
			jsonLines(t, stdout.String())
		} else {
			t.Errorf("batches during an ingest: exit %d: %s", code, stderr.String())
		}
	}
	t.Logf("batches polled during the resumed ingest: exit code -> count %v", outcomes)
	if code := writer.wait(t); code != exitOK {
		t.Fatalf("the paused ingest, resumed: exit %d\n%s", code, writer.stderr.String())
	}
	crashCompare(t, env, cat, "paused ingest")
}

package catalog

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/media"
)

// openRegular opens path for reading only if it is a regular file: O_NONBLOCK so that opening a
// FIFO never waits for a writer, then fstat on the open file (no race with a rename). With
// noFollow a symbolic link is refused too (files under objects/ and thumbs/ are never links).
func openRegular(path string, noFollow bool) (*os.File, os.FileInfo, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if noFollow && errors.Is(err, syscall.ELOOP) {
			return nil, nil, errors.New("not a regular file: a symbolic link")
		}
		if noFollow {
			return nil, nil, errors.New(shortErr(err))
		}
		return nil, nil, fmt.Errorf("cannot open: %s", shortErr(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cannot stat: %s", shortErr(err))
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("not a regular file: %s", kindOf(fi.Mode()))
	}
	return f, fi, nil
}

// maxThumbSize bounds the bytes read from a stored thumbnail (they are a few KB).
const maxThumbSize = 16 << 20

// checkStored is verify --quick's test of a file under objects/ or thumbs/: it exists, is a regular
// file (not a link, FIFO or device) and, when size >= 0, has the recorded size.
func checkStored(path string, size int64) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return errors.New(shortErr(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file: %s", kindOf(fi.Mode()))
	}
	if size >= 0 && fi.Size() != size {
		return fmt.Errorf("%d bytes, %d recorded (truncated or altered)", fi.Size(), size)
	}
	return nil
}

// hashStored streams a file under objects/ or thumbs/ through SHA-256, opening it only if it is a
// regular file and reading at most the recorded size (size < 0: maxThumbSize) plus one byte, so
// that neither a FIFO nor a link to /dev/zero can hang or flood the caller.
func hashStored(ctx context.Context, path string, size int64) (SHA256, error) {
	var s SHA256
	f, fi, err := openRegular(path, true)
	if err != nil {
		return s, err
	}
	defer f.Close()
	limit := size
	if limit < 0 {
		limit = maxThumbSize
	}
	if size >= 0 && fi.Size() != size {
		return s, fmt.Errorf("%d bytes, %d recorded (truncated or altered)", fi.Size(), size)
	}
	h := sha256.New()
	n, err := copyContext(ctx, h, io.LimitReader(f, limit+1))
	if err != nil {
		return s, err
	}
	if n > limit {
		return s, fmt.Errorf("longer than the %d bytes recorded", limit)
	}
	copy(s[:], h.Sum(nil))
	return s, nil
}

// copyContext is io.Copy in 256 KiB steps that stops once ctx is done.
func copyContext(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// writeContentFile stores data at dir/rel (temporary file, rename) with the given mode. A regular
// file already there with the same SHA-256 is kept as it is; anything else there (other content: a
// damaged copy; a FIFO, a device, a link) is replaced without being read past len(data) bytes, and
// the replacement is reported so that it reaches the summary.
//
// Durability: where batchSync is set (Linux), the file is not fsynced here; the caller must call
// syncContent(dir) before committing a record that references it (ingest does, once per chunk:
// one syncfs instead of two fsyncs per image, which stalled the workers). A power loss before that
// can leave an incomplete file that no record references; the next ingest of the same bytes finds
// its hash wrong and replaces it, saying so. Elsewhere each file is fsynced before the rename.
func writeContentFile(dir, rel string, data []byte, mode os.FileMode) (replaced bool, err error) {
	return writeContentFileSum(dir, rel, data, sha256.Sum256(data), mode)
}

// writeContentFileSum is writeContentFile for data whose SHA-256 the caller has just computed from
// these very bytes (ingest hashes a file as it reads it): it is not hashed again.
func writeContentFileSum(dir, rel string, data []byte, sum SHA256, mode os.FileMode) (replaced bool, err error) {
	return storeContentFile(context.Background(), dir, rel, int64(len(data)), sum, mode,
		func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
}

// storeContentFile is the one way content-addressed files are written (writeContentFile,
// copyContentFile): keep the file already there when it hashes to sum, else write a temporary file
// with fill, make it durable as batchSync says, give it mode, and rename it into place.
func storeContentFile(ctx context.Context, dir, rel string, size int64, sum SHA256, mode os.FileMode, fill func(io.Writer) error) (replaced bool, err error) {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Lstat(path); err == nil {
		old, err := hashStored(ctx, path, size)
		if err == nil && old == sum {
			return false, nil
		}
		replaced = true
	}
	// The folder is made only when missing (a stat per file was 1 % of ingest's CPU).
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return false, err
		}
		tmp, err = os.CreateTemp(filepath.Dir(path), ".tmp-*")
	}
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := fill(tmp); err != nil {
		tmp.Close()
		return false, err
	}
	if !batchSync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return false, err
		}
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if replaced {
		// A read-only damaged file: make room for the good copy.
		_ = os.Chmod(path, 0o644)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return replaced, nil
}

// reuseMax is the largest file a worker reads into its reusable buffer (re-ingest of a folder of
// photos then allocates nothing per file); a larger one gets a buffer of its own, dropped after.
// Each worker keeps its buffer between files, outside the memory budget: reuseLimit makes all the
// workers' buffers together at most a quarter of the budget.
const reuseMax = 8 << 20

// reuseLimit is the largest file each of workers reads into its reusable buffer.
func reuseLimit(budget int64, workers int) int64 {
	return min(reuseMax, budget/int64(4*max(workers, 1)))
}

// decodeReuseMax bounds the decoding buffers a worker keeps between files (media.Buffers: a
// progressive JPEG's coefficients, 17 MB for a 12 MP 4:2:0 photo decoded at 1/4, 23 MB at 4:2:2).
const decodeReuseMax = 48 << 20

// decodeReuseLimit is the most each of workers keeps in its decoding buffers between files: with
// its read buffer (reuseLimit), at most a quarter of the budget for all workers together. While a
// decode runs, its buffers are counted in the budget like a fresh allocation (decodeNeedScaled).
func decodeReuseLimit(budget int64, workers int) int64 {
	return max(0, min(decodeReuseMax, budget/int64(4*max(workers, 1))-reuseLimit(budget, workers)))
}

// workerBuffers are what one ingest worker keeps from file to file, outside the decode-memory
// budget: its read buffer (reuseLimit) and its decoders' buffers (decodeReuseLimit).
type workerBuffers struct {
	read   []byte
	decode media.Buffers
}

// heldFile is one file read whole into memory within the ingest's memory budget: its bytes count
// against the budget (sem, of size budget) from before they are read until release.
type heldFile struct {
	f      *os.File
	size   int64
	sum    SHA256
	data   []byte
	sem    *semaphore.Weighted
	budget int64
	held   int64
	reuse  int64 // the largest size read into the worker's reusable buffer
}

// readHeld reads the open regular file f of size bytes whole, hashing it (SHA-256) as it goes, after
// taking size bytes of the budget. buf is the worker's reusable buffer.
func readHeld(ctx context.Context, f *os.File, size int64, sem *semaphore.Weighted, budget, reuse int64, buf *[]byte) (*heldFile, error) {
	h := &heldFile{f: f, size: size, sem: sem, budget: budget, reuse: reuse}
	if err := h.take(ctx, size); err != nil {
		return nil, err
	}
	if err := h.read(ctx, buf); err != nil {
		h.release()
		return nil, err
	}
	return h, nil
}

func (h *heldFile) take(ctx context.Context, n int64) error {
	if h.sem == nil || n == 0 {
		return nil
	}
	if err := h.sem.Acquire(ctx, n); err != nil {
		return err
	}
	h.held += n
	return nil
}

// read reads the file from its start into a buffer of exactly its size (no doubling growth),
// hashing 256 KiB at a time while the bytes are in cache, and checks that it did not change size.
func (h *heldFile) read(ctx context.Context, buf *[]byte) error {
	if h.size <= h.reuse && buf != nil {
		if int64(cap(*buf)) < h.size {
			// Grown to the largest file seen (in 1 MiB steps), never past h.reuse.
			*buf = make([]byte, min((h.size+1<<20-1)&^(1<<20-1), h.reuse))
		}
		h.data = (*buf)[:h.size]
	} else {
		h.data = make([]byte, h.size)
	}
	sh := sha256.New()
	const step = 256 << 10
	for off := int64(0); off < h.size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(off+step, h.size)
		n, err := h.f.ReadAt(h.data[off:end], off)
		sh.Write(h.data[off : off+int64(n)])
		off += int64(n)
		if err == io.EOF && off < h.size {
			return fmt.Errorf("file shrank while being read (%d bytes of %d)", off, h.size)
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("cannot read: %s", shortErr(err))
		}
	}
	var one [1]byte
	if n, _ := h.f.ReadAt(one[:], h.size); n > 0 {
		return fmt.Errorf("file grew while being read (past %d bytes)", h.size)
	}
	copy(h.sum[:], sh.Sum(nil))
	return nil
}

// grow takes need more bytes of the budget for decoding, besides the file's. When they are not free,
// waiting while holding the file's share could deadlock workers that each hold theirs: the share is
// given back and both are taken at once. A file bigger than the reuse limit is dropped meanwhile and read
// again (its SHA-256 must not have changed); a smaller one stays in the worker's buffer, so while it
// waits a worker holds at most its reuse limit outside the budget.
func (h *heldFile) grow(ctx context.Context, need int64, buf *[]byte) error {
	if h.sem == nil || need == 0 {
		return nil
	}
	if h.sem.TryAcquire(need) {
		h.held += need
		return nil
	}
	sum := h.sum
	reread := h.size > h.reuse
	h.release()
	if reread {
		h.data = nil
	}
	if err := h.take(ctx, h.size+need); err != nil {
		return err
	}
	if reread {
		if err := h.read(ctx, buf); err != nil {
			return err
		}
		if h.sum != sum {
			return errors.New("file changed while being read")
		}
	}
	return nil
}

// drop gives back n bytes of the budget (the decoder's share, once the downscale is done).
func (h *heldFile) drop(n int64) {
	if h.sem == nil || n == 0 {
		return
	}
	n = min(n, h.held)
	h.sem.Release(n)
	h.held -= n
}

// release gives back all of the budget this file holds.
func (h *heldFile) release() { h.drop(h.held) }

// streamHead is how much of a file hashed by streaming is kept for sniffing and EXIF.
const streamHead = 1 << 20

// streamed is a file too large to hold in the memory budget, hashed by streaming.
type streamed struct {
	sum  SHA256
	md5  MD5
	head []byte // the first streamHead bytes
}

// streamFile reads the open regular file f of size bytes once, 256 KiB at a time, through SHA-256
// and MD5, keeping its first streamHead bytes.
func streamFile(ctx context.Context, f *os.File, size int64) (*streamed, error) {
	s := &streamed{}
	sh, mh := sha256.New(), md5.New()
	buf := make([]byte, 256<<10)
	var off int64
	for off < size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		sh.Write(buf[:n])
		mh.Write(buf[:n])
		if k := min(n, streamHead-len(s.head)); k > 0 {
			s.head = append(s.head, buf[:k]...)
		}
		off += int64(n)
		if err == io.EOF && off < size {
			return nil, fmt.Errorf("file shrank while being read (%d bytes of %d)", off, size)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("cannot read: %s", shortErr(err))
		}
	}
	var one [1]byte
	if n, _ := f.ReadAt(one[:], size); n > 0 {
		return nil, fmt.Errorf("file grew while being read (past %d bytes)", size)
	}
	copy(s.sum[:], sh.Sum(nil))
	copy(s.md5[:], mh.Sum(nil))
	return s, nil
}

// copyContentFile is writeContentFile for a file too large to hold in memory: it copies size bytes
// of f by streaming, checking that they still hash to sum.
func copyContentFile(ctx context.Context, dir, rel string, f *os.File, size int64, sum SHA256, mode os.FileMode) (replaced bool, err error) {
	return storeContentFile(ctx, dir, rel, size, sum, mode, func(w io.Writer) error {
		h := sha256.New()
		if _, err := copyContext(ctx, io.MultiWriter(w, h), io.NewSectionReader(f, 0, size)); err != nil {
			return err
		}
		if SHA256(h.Sum(nil)) != sum {
			return errors.New("file changed while being copied")
		}
		return nil
	})
}

// readStored reads a file under objects/ whole, opening it only if it is a regular file (not a
// link, FIFO or device) of exactly the recorded size.
func readStored(ctx context.Context, path string, size int64) ([]byte, error) {
	f, fi, err := openRegular(path, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() != size {
		return nil, fmt.Errorf("%d bytes, %d recorded (truncated or altered)", fi.Size(), size)
	}
	h := &heldFile{f: f, size: size}
	if err := h.read(ctx, nil); err != nil {
		return nil, err
	}
	return h.data, nil
}

//go:build unix

package catalog

import (
	"os"
	"syscall"
	"time"
)

// mapFile maps the first size bytes of f read-only (shared with bbolt's own mapping in the page cache,
// so checking a large catalog costs no extra memory).
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if int64(int(size)) != size {
		return nil, nil, syscall.EFBIG
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}

// sharedLock takes a shared lock on f as bbolt's readers do (a writer holds it exclusively), waiting
// up to timeout; it reports false on timeout.
func sharedLock(f *os.File, timeout time.Duration) (unlock func(), ok bool, err error) {
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, true, nil
		}
		if err != syscall.EWOULDBLOCK {
			return nil, false, err
		}
		if time.Now().After(deadline) {
			return nil, false, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

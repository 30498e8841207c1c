package catalog

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// mapPrivate maps a whole file private and writable (changes stay in this process, copy-on-write):
// the persisted near index is used in place and may be extended in memory. unmap releases it. The
// mapping asks for huge pages (hugewrite.go): a part of the file read back from disk comes in 2 MiB
// folios, which later faults map whole. A kernel without transparent huge pages refuses the advice;
// the mapping works the same.
func mapPrivate(f *os.File, size int) ([]byte, error) {
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err == nil {
		_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	}
	return b, err
}

func unmapPrivate(b []byte) error { return unix.Munmap(b) }

// fileResident is how many bytes of files this process has mapped and resident (/proc/self/statm,
// the shared pages).
func fileResident() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident, shared int64
	if _, err := fmt.Sscan(string(b), &size, &resident, &shared); err != nil {
		return 0
	}
	return shared * int64(os.Getpagesize())
}

// releaseMapped lets go of the pages of tx's database mapped in this process (mapped.go).
func releaseMapped(tx *bolt.Tx) {
	data, n := tx.DB().Info().Data, uintptr(tx.Size())
	if data == 0 || n == 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, data, n, unix.MADV_DONTNEED)
}

// releaseBytes lets go of the resident pages of a shared file mapping (mapped.go).
func releaseBytes(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

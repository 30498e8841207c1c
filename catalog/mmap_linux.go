package catalog

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapPrivate maps a whole file private and writable (changes stay in this process, copy-on-write):
// the persisted near index is used in place and may be extended in memory. unmap releases it.
func mapPrivate(f *os.File, size int) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
}

func unmapPrivate(b []byte) error { return unix.Munmap(b) }

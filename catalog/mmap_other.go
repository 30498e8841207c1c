//go:build !linux

package catalog

import (
	"io"
	"os"
)

// mapPrivate reads a whole file in one go where there is no mmap here.
func mapPrivate(f *os.File, size int) ([]byte, error) {
	b := make([]byte, size)
	_, err := io.ReadFull(f, b)
	return b, err
}

func unmapPrivate([]byte) error { return nil }

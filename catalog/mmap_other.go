//go:build !linux

package catalog

import (
	"io"
	"os"
)

// mapFile reads a whole file in one go where there is no mmap here.
func mapFile(f *os.File, size int) ([]byte, error) {
	b := make([]byte, size)
	_, err := io.ReadFull(f, b)
	return b, err
}

func unmap([]byte) error { return nil }

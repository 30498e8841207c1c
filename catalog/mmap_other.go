//go:build !linux

package catalog

import (
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// mapPrivate reads a whole file in one go where there is no mmap here.
func mapPrivate(f *os.File, size int) ([]byte, error) {
	b := make([]byte, size)
	_, err := io.ReadFull(f, b)
	return b, err
}

func unmapPrivate([]byte) error { return nil }

// fileResident is not measured here (mapped.go).
func fileResident() int64 { return 0 }

// releaseMapped does nothing here (mapped.go).
func releaseMapped(*bolt.Tx) {}

// releaseBytes does nothing here (mapped.go).
func releaseBytes([]byte) {}

//go:build !unix

package catalog

import (
	"io"
	"os"
	"time"
)

// mapFile reads the file (no shared mapping here).
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, nil, err
	}
	return data, func() {}, nil
}

// sharedLock is a no-op where flock is not available (bbolt locks the file itself).
func sharedLock(f *os.File, timeout time.Duration) (func(), bool, error) { return func() {}, true, nil }

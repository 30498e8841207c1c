//go:build !linux

package catalog

import (
	"os"
	"time"
)

// statStamp: elsewhere no verdict is remembered (catalog.db is checked in full at every Open).
func statStamp(os.FileInfo) (fileStamp, bool) { return fileStamp{}, false }

// fileTimeTick: unknown elsewhere (no verdict is remembered there anyway).
func fileTimeTick() time.Duration { return 0 }

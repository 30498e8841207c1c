package catalog

import (
	"os"

	"golang.org/x/sys/unix"
)

// batchSync says that content files are made durable in one syncfs(2) per committed chunk (see
// syncContent) rather than one fsync per file.
const batchSync = true

// syncContent makes every file written under dir so far durable, with its directory entry: one
// syncfs(2) of the file system holding dir. Ingest calls it before the transaction that references
// the files, so a committed record never points at an original or thumbnail that a power loss could
// take back.
func syncContent(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

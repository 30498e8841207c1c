package catalog

import bolt "go.etcd.io/bbolt"

// Long reads and resident memory.
//
// bbolt reads catalog.db through a shared read-only mapping, and the kernel maps up to 16
// neighbouring pages of the page cache at every page fault: a pass over a large bucket, or random
// reads all over the file, leaves most of catalog.db counted in the process's resident memory (at a
// million images, gigabytes) although nothing is held. A long read (dupes, verify, an index build)
// calls mapWatch.step once per record; every 1,024 records, when more than mappedLimit of the file is
// mapped, the mapping is let go (madvise MADV_DONTNEED): the pages stay in the page cache and are
// mapped again on the next access, with the same content (no commit changes catalog.db while a read
// transaction is open, lock.go), so resident memory stays bounded by what the read holds.

// mappedLimit is how much of catalog.db a long read keeps mapped before letting it go.
var mappedLimit int64 = 256 << 20

// mapWatchEvery is how many records a long read takes between two looks at its mapped share.
const mapWatchEvery = 1024

// mapWatch keeps a long read's mapped share of catalog.db under mappedLimit.
type mapWatch struct {
	tx *bolt.Tx
	n  int
}

// step counts one record read.
func (w *mapWatch) step() { w.stepN(1) }

// stepN counts k records read.
func (w *mapWatch) stepN(k int) {
	// Each page fault maps up to 16 neighbouring pages: between two looks a read scattered over the
	// file maps up to 64 KiB a record, so the look comes often (a read of /proc/self/statm).
	if w.n += k; w.n >= mapWatchEvery {
		w.n = 0
		if w.tx != nil && fileResident() > mappedLimit {
			releaseMapped(w.tx)
		}
	}
}

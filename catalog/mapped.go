package catalog

import bolt "go.etcd.io/bbolt"

// Long reads and resident memory.
//
// bbolt reads catalog.db through a shared read-only mapping, and the kernel maps up to 16
// neighbouring pages of the page cache at every page fault: a pass over a large bucket, or random
// reads all over the file, leaves most of catalog.db counted in the process's resident memory (at a
// million images, gigabytes) although nothing is held. A long read (dupes, verify, an index build)
// calls mapWatch.step once per record; every 4,096 records, when more than mappedLimit of the file is
// mapped, the mapping is let go (madvise MADV_DONTNEED): the pages stay in the page cache and are
// mapped again on the next access, with the same content (no commit changes catalog.db while a read
// transaction is open, lock.go), so resident memory stays bounded by what the read holds.

// mappedLimit is how much of catalog.db a long read keeps mapped before letting it go.
var mappedLimit int64 = 256 << 20

// mapWatch keeps a long read's mapped share of catalog.db under mappedLimit.
type mapWatch struct {
	tx *bolt.Tx
	n  int
}

// step counts one record read.
func (w *mapWatch) step() { w.stepN(1) }

// stepN counts k records read.
func (w *mapWatch) stepN(k int) {
	if w.n += k; w.n >= 4096 {
		w.n = 0
		if w.tx != nil && fileResident() > mappedLimit {
			releaseMapped(w.tx)
		}
	}
}

package catalog

import (
	"encoding/binary"
	"hash/crc32"
	"hash/fnv"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// The storage check's verdict, remembered (catalog.check beside catalog.db).
//
// The storage check (storage.go) reads every page of catalog.db: linear in the file (about 0.5 s of
// CPU a GB) and, through its mapping, as much resident memory as the file is large. Run at every
// Open, it would dominate every short query of a large catalog. So a check that passes without a
// problem is remembered, keyed by what any change of the file changes: its device and inode, size,
// modification and status-change times (ctime cannot be set back by a program: any write, chmod or
// utime sets it to the current time), and the two bbolt meta pages (the last transaction id, the
// root, the high-water mark, each with its checksum). The next Open of the same file, unchanged,
// takes the verdict instead of reading the file again. A file changed in any way is checked again
// in full; `relcat verify` always checks in full and ignores the verdict.
//
// File times have the granularity of the kernel's coarse clock (a few milliseconds): a write within
// the same tick as the time recorded could leave both times as they were. A verdict is therefore
// trusted only when it was proven at least verdictMargin (two ticks of that clock) after the
// file's last change (the check started that much later, so any later write gets a later ctime). A writer knows the file it
// committed is as sound as the one it opened (bbolt writes it; between commits the writer holds the
// file shared, so a writer that respects the lock cannot change it), and records the verdict when it
// closes the catalog, waiting out the margin first when its last commit was that recent; a killed
// writer records none, and the next Open checks in full. Catalogs under verdictMinSize are checked
// in full at every Open (a few milliseconds) and get no verdict.
//
// Format (88 bytes, little-endian): "RELCATSC", version (4), 0 (4), device (8), inode (8), size (8),
// mtime ns (8), ctime ns (8), meta pages digest (8), proven-at ns (8), 0 (8), CRC-32C of the bytes
// before (4), 0 (4). It is a cache, never evidence: a missing, unreadable or mismatched file only
// means a full check.
const (
	verdictFileName = "catalog.check"
	verdictMagic    = "RELCATSC"
	verdictVersion  = 1
	verdictSize     = 88
)

// verdictMargin is how long after the file's last change a verdict must have been proven to be
// trusted: two ticks of the clock file times come from (so that any later write gets a later time,
// with a tick to spare), at least 5 ms; 50 ms when the tick cannot be read. It was a fixed 50 ms,
// which a writer of a large catalog waited out at every Close (4 ms ticks here: 8 ms now).
var verdictMargin = marginOf(fileTimeTick())

func marginOf(tick time.Duration) time.Duration {
	if tick <= 0 || tick > 25*time.Millisecond {
		return 50 * time.Millisecond
	}
	return max(2*tick, 5*time.Millisecond)
}

// verdictMinSize: below this size catalog.db is checked at every Open (tests lower it).
var verdictMinSize int64 = 64 << 20

// storageChecks counts full storage checks (tests).
var storageChecks atomic.Int64

// fileStamp is what changes whenever a file's content changes.
type fileStamp struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns since the epoch
	meta         uint64
}

// lastChange is the later of the file's modification and status-change times.
func (s fileStamp) lastChange() time.Time { return time.Unix(0, max(s.mtime, s.ctime)) }

// stampOf reads f's stamp (ok false where the platform gives no inode or ctime).
func stampOf(f *os.File) (fileStamp, bool) {
	fi, err := f.Stat()
	if err != nil {
		return fileStamp{}, false
	}
	s, ok := statStamp(fi)
	if !ok {
		return s, false
	}
	s.size = fi.Size()
	s.meta = metaDigest(f)
	return s, true
}

// metaDigest digests the two bbolt meta pages as they stand (their header and meta fields: magic,
// version, page size, root, freelist, high-water mark, txid and checksum).
func metaDigest(f *os.File) uint64 {
	h := fnv.New64a()
	b := make([]byte, boltPageHeader+boltMetaSize)
	n, _ := f.ReadAt(b, 0)
	h.Write(b[:n])
	ps := int64(4096)
	if m := readBoltMeta(b[:n]); m.valid {
		ps = int64(m.pageSize)
	}
	n, _ = f.ReadAt(b, ps)
	h.Write(b[:n])
	return h.Sum64()
}

type storageVerdict struct {
	stamp    fileStamp
	provenAt int64 // ns: the file was sound at this time (a check started then, or a writer closed)
}

func (v storageVerdict) encode() []byte {
	b := make([]byte, verdictSize)
	copy(b, verdictMagic)
	binary.LittleEndian.PutUint32(b[8:], verdictVersion)
	le := binary.LittleEndian
	le.PutUint64(b[16:], v.stamp.dev)
	le.PutUint64(b[24:], v.stamp.ino)
	le.PutUint64(b[32:], uint64(v.stamp.size))
	le.PutUint64(b[40:], uint64(v.stamp.mtime))
	le.PutUint64(b[48:], uint64(v.stamp.ctime))
	le.PutUint64(b[56:], v.stamp.meta)
	le.PutUint64(b[64:], uint64(v.provenAt))
	le.PutUint32(b[80:], crc32.Checksum(b[:80], castagnoli))
	return b
}

func decodeVerdict(b []byte) (storageVerdict, bool) {
	var v storageVerdict
	le := binary.LittleEndian
	if len(b) != verdictSize || string(b[:8]) != verdictMagic || le.Uint32(b[8:]) != verdictVersion ||
		le.Uint32(b[80:]) != crc32.Checksum(b[:80], castagnoli) {
		return v, false
	}
	v.stamp = fileStamp{dev: le.Uint64(b[16:]), ino: le.Uint64(b[24:]), size: int64(le.Uint64(b[32:])),
		mtime: int64(le.Uint64(b[40:])), ctime: int64(le.Uint64(b[48:])), meta: le.Uint64(b[56:])}
	v.provenAt = int64(le.Uint64(b[64:]))
	return v, true
}

// trusted reports whether v vouches for a file whose stamp is now.
func (v storageVerdict) trusted(now fileStamp) bool {
	return v.stamp == now && time.Unix(0, v.provenAt).Sub(now.lastChange()) >= verdictMargin
}

// cachedVerdict reports whether dir's remembered verdict vouches for catalog.db as f stands now.
func cachedVerdict(dir string, f *os.File) bool {
	b, err := os.ReadFile(filepath.Join(dir, verdictFileName))
	if err != nil {
		return false
	}
	v, ok := decodeVerdict(b)
	if !ok {
		return false
	}
	now, ok := stampOf(f)
	return ok && now.size >= verdictMinSize && v.trusted(now)
}

// rememberVerdict records that catalog.db (open as f) was sound at provenAt with stamp was, when it
// still has that stamp and the verdict would be trusted (best effort: a directory the user cannot
// write simply keeps checking in full).
func rememberVerdict(dir string, f *os.File, was fileStamp, provenAt time.Time) {
	if was.size < verdictMinSize {
		return
	}
	v := storageVerdict{stamp: was, provenAt: provenAt.UnixNano()}
	if now, ok := stampOf(f); !ok || !v.trusted(now) {
		return
	}
	tmp, err := os.CreateTemp(dir, verdictFileName+".tmp-*")
	if err != nil {
		return
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(v.encode())
	if cerr := tmp.Close(); err != nil || cerr != nil {
		return
	}
	_ = os.Rename(tmp.Name(), filepath.Join(dir, verdictFileName))
}

// rememberOwnCommits is the writer's verdict, when it closes the catalog: the file it committed
// is as sound as the one Open checked (storageClean). It waits out the margin after the last commit
// when needed (at most verdictMargin, and only for catalogs of verdictMinSize or more).
func (c *Catalog) rememberOwnCommits() {
	if c.readOnly || c.db == nil || !c.storageClean {
		return
	}
	f, err := os.Open(filepath.Join(c.dir, dbFileName))
	if err != nil {
		return
	}
	defer f.Close()
	s, ok := stampOf(f)
	if !ok || s.size < verdictMinSize || cachedVerdict(c.dir, f) {
		return
	}
	if wait := verdictMargin - time.Since(s.lastChange()); wait > 0 {
		time.Sleep(wait + time.Millisecond)
	}
	rememberVerdict(c.dir, f, s, time.Now())
}

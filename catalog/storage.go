package catalog

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"runtime/debug"
	"slices"
)

// The storage check reads catalog.db by itself, bounds-checked, before bbolt is trusted with it.
//
// bbolt follows page ids, element offsets and overflow counts from the file as they are, through
// unchecked pointers: one damaged page (wrong flags, an element offset past the page, a child page
// past the end of a truncated file, a page reachable from two parents or from itself, a huge overflow
// count) makes it panic, fault, loop or allocate without bound, and its own Tx.Check does the same on
// such a file. checkStorage walks the whole B+tree the way bbolt would read it and proves, for every
// page reachable from the meta page bbolt will use, that what bbolt dereferences lies inside the file:
// page ids below the high-water mark and inside the file, the page header's id, flags and count, every
// element's key and value inside its page, keys in order, inline buckets inside their value, the
// freelist. Each page is visited at most once (a page reached twice is damage, which also rules out
// cycles) and the tree depth is bounded, so the work is linear in the file size. A file that passes
// can be read by bbolt without panicking or hanging; a file that fails is refused with the reason.

// Layout constants of bbolt's file format (go.etcd.io/bbolt/internal/common), version 2.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16 // id u64, flags u16, count u16, overflow u32
	boltElemSize     = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltMetaPage     = 0x04
	boltFreelistPage = 0x10
	boltBucketLeaf   = 0x01
	boltBucketHeader = 16 // root pgid u64, sequence u64
	boltMetaSize     = 64 // magic, version, page size, flags, root bucket (16), freelist, pgid, txid, checksum
	boltNoFreelist   = ^uint64(0)
	maxTreeDepth     = 64 // bbolt trees of millions of keys are 4-6 deep
)

// bbolt writes its integers in the machine's byte order.
var boltOrder = binary.NativeEndian

// StorageReport is the outcome of the storage check of catalog.db.
type StorageReport struct {
	Problems []string // every problem found, in file order
	// Unsafe: bbolt cannot read the file safely (it would panic, fault, loop or run out of memory).
	// Problems that leave it readable (a stale second meta page, leaked pages) do not set it.
	Unsafe bool
	Pages  uint64 // pages under the high-water mark
	Free   uint64 // of them, pages on the free list (`relcat compact` gives them back)
	Size   uint64 // bytes a page
}

type boltMeta struct {
	pageSize      uint32
	root          uint64
	freelist, hwm uint64
	txid          uint64
	valid         bool
	invalid       string // why not valid
}

func readBoltMeta(b []byte) boltMeta {
	var m boltMeta
	if len(b) < boltPageHeader+boltMetaSize {
		m.invalid = "cut short"
		return m
	}
	p := b[boltPageHeader:]
	magic, version := boltOrder.Uint32(p[0:]), boltOrder.Uint32(p[4:])
	m.pageSize = boltOrder.Uint32(p[8:])
	m.root = boltOrder.Uint64(p[16:])
	m.freelist = boltOrder.Uint64(p[32:])
	m.hwm = boltOrder.Uint64(p[40:])
	m.txid = boltOrder.Uint64(p[48:])
	h := fnv.New64a()
	h.Write(p[:56])
	switch {
	case magic != boltMagic:
		m.invalid = "not a bbolt meta page (bad magic)"
	case version != boltVersion:
		m.invalid = fmt.Sprintf("bbolt format version %d, want %d", version, boltVersion)
	case boltOrder.Uint64(p[56:]) != h.Sum64():
		m.invalid = "checksum mismatch"
	default:
		m.valid = true
	}
	return m
}

// checkStorage checks the file at path (see the comment at the top of this file). An error means the
// file could not be read at all; damage is reported in the StorageReport.
func checkStorage(ctx context.Context, path string) (*StorageReport, error) {
	storageChecks.Add(1)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := &StorageReport{}
	if fi.Size() < 2*1024 {
		r.Unsafe = true
		r.Problems = append(r.Problems, fmt.Sprintf("file of %d bytes is too small to be a database (truncated or emptied)", fi.Size()))
		return r, nil
	}
	data, unmap, err := mapFile(f, fi.Size())
	if err != nil {
		return nil, err
	}
	defer unmap()
	// The file could shrink while it is mapped (another program truncating it): a read past its end
	// faults; turn the fault into a panic and report it.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			r.Unsafe = true
			r.Problems = append(r.Problems, fmt.Sprintf("the file could not be read to the end (it changed while being checked?): %v", p))
		}
	}()
	w := &storageWalker{ctx: ctx, data: data, r: r}
	if err := w.run(); err != nil {
		return nil, err
	}
	return r, nil
}

type storageWalker struct {
	ctx   context.Context
	data  []byte
	r     *StorageReport
	ps    uint64
	hwm   uint64
	used  []bool // pages reachable (meta, freelist, tree)
	steps int
}

func (w *storageWalker) bad(format string, args ...any) {
	w.r.Unsafe = true
	w.r.Problems = append(w.r.Problems, fmt.Sprintf(format, args...))
}

func (w *storageWalker) note(format string, args ...any) {
	w.r.Problems = append(w.r.Problems, fmt.Sprintf(format, args...))
}

func (w *storageWalker) run() error {
	size := uint64(len(w.data))
	// The page size: from the first meta page, else from the second one found where bbolt looks.
	m0 := readBoltMeta(w.data)
	ps := uint64(0)
	if m0.valid {
		ps = uint64(m0.pageSize)
	} else {
		for i := 0; i <= 14; i++ {
			pos := uint64(1024) << i
			if pos+boltPageHeader+boltMetaSize > size {
				break
			}
			if m := readBoltMeta(w.data[pos:]); m.valid {
				ps = uint64(m.pageSize)
				break
			}
		}
	}
	if ps == 0 {
		w.bad("both meta pages are unreadable (%s): not a bbolt database, or its first pages are damaged", m0.invalid)
		return nil
	}
	if ps < 1024 || ps > 1<<24 || ps&(ps-1) != 0 {
		w.bad("meta page gives a page size of %d bytes, which bbolt cannot use", ps)
		return nil
	}
	if 2*ps > size {
		w.bad("file of %d bytes cannot hold the two meta pages of %d bytes (truncated)", size, ps)
		return nil
	}
	w.ps = ps
	w.r.Size = ps
	m1 := readBoltMeta(w.data[ps:])
	// bbolt uses the valid meta with the higher transaction id.
	var m boltMeta
	switch {
	case m0.valid && m1.valid:
		m = m0
		if m1.txid > m0.txid {
			m = m1
		}
	case m0.valid:
		m = m0
		w.note("meta page 1 is invalid (%s): the other one is used; the last commit may be lost", m1.invalid)
	case m1.valid:
		m = m1
		w.note("meta page 0 is invalid (%s): the other one is used; the last commit may be lost", m0.invalid)
	default:
		w.bad("both meta pages are invalid (%s; %s)", m0.invalid, m1.invalid)
		return nil
	}
	if uint64(m.pageSize) != ps {
		w.bad("the meta pages disagree on the page size (%d and %d)", ps, m.pageSize)
		return nil
	}
	if m.hwm < 3 || m.hwm > size/ps {
		w.bad("the database spans %d pages of %d bytes, the file holds %d bytes (%d pages): truncated or damaged", m.hwm, ps, size, size/ps)
		return nil
	}
	w.hwm = m.hwm
	w.r.Pages = m.hwm
	w.used = make([]bool, m.hwm)
	w.used[0], w.used[1] = true, true
	free := w.freelist(m.freelist)
	w.r.Free = uint64(len(free))
	if m.root < 2 || m.root >= m.hwm {
		w.bad("root bucket page %d is outside the database (pages 2..%d)", m.root, m.hwm-1)
		return nil
	}
	if err := w.tree(m.root, 0, "root"); err != nil {
		return err
	}
	if w.r.Unsafe {
		return nil
	}
	leaked := 0
	first := uint64(0)
	for id := uint64(2); id < m.hwm; id++ {
		switch {
		case free[id] && w.used[id]:
			w.bad("page %d is both free and in use", id)
		case !free[id] && !w.used[id]:
			if leaked == 0 {
				first = id
			}
			leaked++
		}
	}
	if leaked > 0 {
		w.note("%d page(s) neither reachable nor free, from page %d (space leaked, no data lost)", leaked, first)
	}
	return nil
}

// span returns the bytes of page id with its overflow pages, after checking its header; it marks the
// pages used. ok is false when the page is damaged or already reached (then it is reported).
func (w *storageWalker) span(id uint64, what string) ([]byte, bool) {
	if id < 2 || id >= w.hwm {
		w.bad("%s: page %d is outside the database (pages 2..%d)", what, id, w.hwm-1)
		return nil, false
	}
	off := id * w.ps
	hdr := w.data[off : off+boltPageHeader]
	if got := boltOrder.Uint64(hdr); got != id {
		w.bad("%s: page %d says it is page %d", what, id, got)
		return nil, false
	}
	over := uint64(boltOrder.Uint32(hdr[12:]))
	if over >= w.hwm-id {
		w.bad("%s: page %d claims %d overflow pages, past the end of the database (%d pages)", what, id, over, w.hwm)
		return nil, false
	}
	for p := id; p <= id+over; p++ {
		if w.used[p] {
			w.bad("%s: page %d is reached twice (a page shared by two parents, or a cycle)", what, p)
			return nil, false
		}
	}
	for p := id; p <= id+over; p++ {
		w.used[p] = true
	}
	return w.data[off : off+(over+1)*w.ps], true
}

func (w *storageWalker) freelist(id uint64) map[uint64]bool {
	free := map[uint64]bool{}
	if id == boltNoFreelist {
		return free
	}
	b, ok := w.span(id, "freelist")
	if !ok {
		return free
	}
	if flags := boltOrder.Uint16(b[8:]); flags != boltFreelistPage {
		w.bad("freelist: page %d has flags %#x, not a freelist page", id, flags)
		return free
	}
	n, start := uint64(boltOrder.Uint16(b[10:])), uint64(boltPageHeader)
	if n == 0xFFFF {
		if len(b) < boltPageHeader+8 {
			w.bad("freelist: page %d cut short", id)
			return free
		}
		n, start = boltOrder.Uint64(b[boltPageHeader:]), boltPageHeader+8
	}
	if n > (uint64(len(b))-start)/8 {
		w.bad("freelist: page %d claims %d free pages, more than it can hold", id, n)
		return free
	}
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = boltOrder.Uint64(b[start+uint64(i)*8:])
	}
	slices.Sort(ids)
	for i, p := range ids {
		switch {
		case p < 2 || p >= w.hwm:
			w.bad("freelist: free page %d is outside the database", p)
			return free
		case i > 0 && ids[i-1] == p:
			w.bad("freelist: page %d is listed twice", p)
			return free
		}
		free[p] = true
	}
	return free
}

// tree checks the page tree rooted at id.
func (w *storageWalker) tree(id uint64, depth int, what string) error {
	if depth > maxTreeDepth {
		w.bad("%s: the tree is more than %d levels deep", what, maxTreeDepth)
		return nil
	}
	if w.steps++; w.steps%mapWatchEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return ErrInterrupted
		}
		// Each page is read once: let go of the pages read so far (mapped.go), so that checking
		// a file of gigabytes does not hold it all in this process's resident memory.
		if fileResident() > mappedLimit {
			releaseBytes(w.data)
		}
	}
	b, ok := w.span(id, what)
	if !ok {
		return nil
	}
	where := fmt.Sprintf("%s: page %d", what, id)
	switch flags := boltOrder.Uint16(b[8:]); flags {
	case boltBranchPage:
		return w.elements(b, false, depth, where)
	case boltLeafPage:
		return w.elements(b, true, depth, where)
	default:
		w.bad("%s has flags %#x, not a branch or leaf page", where, flags)
		return nil
	}
}

// elements checks the elements of a branch or leaf page b (a page span, or an inline bucket's page)
// and descends into child pages and sub-buckets.
func (w *storageWalker) elements(b []byte, leaf bool, depth int, where string) error {
	n := uint64(boltOrder.Uint16(b[10:]))
	if !leaf && n == 0 {
		w.bad("%s: branch page without elements", where)
		return nil
	}
	if boltPageHeader+n*boltElemSize > uint64(len(b)) {
		w.bad("%s: %d elements do not fit in the page", where, n)
		return nil
	}
	var prev []byte
	for i := uint64(0); i < n; i++ {
		e := boltPageHeader + i*boltElemSize
		var pos, ksize, vsize uint64
		var eflags uint32
		var child uint64
		if leaf {
			eflags = boltOrder.Uint32(b[e:])
			pos, ksize, vsize = uint64(boltOrder.Uint32(b[e+4:])), uint64(boltOrder.Uint32(b[e+8:])), uint64(boltOrder.Uint32(b[e+12:]))
		} else {
			pos, ksize, child = uint64(boltOrder.Uint32(b[e:])), uint64(boltOrder.Uint32(b[e+4:])), boltOrder.Uint64(b[e+8:])
		}
		if e+pos+ksize+vsize > uint64(len(b)) {
			w.bad("%s: element %d (offset %d, key %d bytes, value %d bytes) runs past the end of the page", where, i, pos, ksize, vsize)
			return nil
		}
		key := b[e+pos : e+pos+ksize]
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			w.bad("%s: keys out of order at element %d", where, i)
			return nil
		}
		prev = key
		if !leaf {
			if err := w.tree(child, depth+1, where); err != nil {
				return err
			}
			continue
		}
		if eflags&^boltBucketLeaf != 0 {
			w.bad("%s: element %d has undefined flag bits %#x", where, i, eflags)
			return nil
		}
		if eflags&boltBucketLeaf == 0 {
			continue
		}
		// A bucket: its header, then (root 0) its inline leaf page, else its own page tree.
		val := b[e+pos+ksize : e+pos+ksize+vsize]
		sub := fmt.Sprintf("bucket %q", key)
		if len(val) < boltBucketHeader {
			w.bad("%s: %s: bucket header cut short", where, sub)
			return nil
		}
		root := boltOrder.Uint64(val)
		if root != 0 {
			if err := w.tree(root, depth+1, sub); err != nil {
				return err
			}
			continue
		}
		inline := val[boltBucketHeader:]
		if len(inline) < boltPageHeader {
			w.bad("%s: %s: inline page cut short", where, sub)
			return nil
		}
		if flags := boltOrder.Uint16(inline[8:]); flags != boltLeafPage {
			w.bad("%s: %s: inline page has flags %#x, not a leaf", where, sub, flags)
			return nil
		}
		if depth+1 > maxTreeDepth {
			w.bad("%s: buckets nested more than %d deep", where, maxTreeDepth)
			return nil
		}
		if err := w.elements(inline, true, depth+1, sub+" (inline)"); err != nil {
			return err
		}
	}
	return nil
}

package catalog

import "io"

// Index files in huge pages.
//
// A process searching near.idx or regions.idx at a million images touches a few hundred random
// pages of them per query, some 90,000 over a 16-photo ingest. When the file's page cache is held in
// 4 KiB folios, each fault maps at most 16 of them (64 KiB), and a short-lived process spends
// about as long faulting the mapping in and tearing it down as searching. When it is held in 2 MiB
// folios, the kernel maps each with one page-table entry (a PMD): one fault per 2 MiB, a few hundred
// in all, and nothing to tear down page by page.
//
// Two things give the page cache those folios (Linux 6.x, a filesystem with large folios: measured on
// ext4):
//   - writing the file in 2 MiB pieces at 2 MiB offsets (hugeChunkWriter): the writer's own page
//     cache, what every later process maps while the file stays cached;
//   - mapping it with MADV_HUGEPAGE (mapPrivate): a page read back from disk after the cache let go
//     of it is read 2 MiB at a time into one folio.
//
// Neither changes a byte of the file; elsewhere (another OS, a filesystem without large folios,
// huge pages disabled) both are harmless and the mapping is made of small pages as before.

// hugeChunk is the size and alignment of the writes of an index file: the x86-64 and arm64 (4 KiB
// pages) PMD size.
const hugeChunk = 2 << 20

// hugeChunkWriter writes to w, which is at offset 0 of a file, in writes of exactly hugeChunk
// bytes (so each starts at a multiple of hugeChunk), the last one excepted (Flush).
type hugeChunkWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func newHugeChunkWriter(w io.Writer) *hugeChunkWriter {
	return &hugeChunkWriter{w: w}
}

func (h *hugeChunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 && h.err == nil {
		if len(h.buf) == 0 && len(p) >= hugeChunk {
			// Whole chunks straight from p: the file is at a chunk boundary.
			k := len(p) / hugeChunk * hugeChunk
			var w int
			w, h.err = h.w.Write(p[:k])
			if h.err == nil && w < k {
				h.err = io.ErrShortWrite
			}
			n += w
			p = p[w:]
			continue
		}
		if h.buf == nil {
			h.buf = make([]byte, 0, hugeChunk)
		}
		k := copy(h.buf[len(h.buf):hugeChunk], p)
		h.buf = h.buf[:len(h.buf)+k]
		n += k
		p = p[k:]
		if len(h.buf) == hugeChunk {
			h.flushBuf()
		}
	}
	return n, h.err
}

// Flush writes what is buffered (the file's last, partial chunk).
func (h *hugeChunkWriter) Flush() error {
	if h.err == nil && len(h.buf) > 0 {
		h.flushBuf()
	}
	return h.err
}

func (h *hugeChunkWriter) flushBuf() {
	w, err := h.w.Write(h.buf)
	if err == nil && w < len(h.buf) {
		err = io.ErrShortWrite
	}
	h.err = err
	h.buf = h.buf[:0]
}

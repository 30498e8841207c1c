package exifmeta

import (
	"encoding/binary"
	"fmt"
)

// TIFF field types and their sizes in bytes.
var typeSizes = [...]uint64{
	1:  1, // BYTE
	2:  1, // ASCII
	3:  2, // SHORT
	4:  4, // LONG
	5:  8, // RATIONAL
	6:  1, // SBYTE
	7:  1, // UNDEFINED
	8:  2, // SSHORT
	9:  4, // SLONG
	10: 8, // SRATIONAL
	11: 4, // FLOAT
	12: 8, // DOUBLE
	13: 4, // IFD
}

const (
	tByte      = 1
	tASCII     = 2
	tShort     = 3
	tLong      = 4
	tRational  = 5
	tSByte     = 6
	tUndefined = 7
	tSShort    = 8
	tSLong     = 9
	tSRational = 10
	tFloat     = 11
	tDouble    = 12
	tIFD       = 13
)

// Pointer tags that lead to sub-IFDs.
const (
	tagExifIFD    = 0x8769
	tagGPSIFD     = 0x8825
	tagInteropIFD = 0xa005
)

const (
	maxIFDs    = 16   // IFDs visited per block, chain and sub-IFDs together
	maxEntries = 4096 // entries decoded per block
)

// entry is one decoded IFD entry. val aliases the block; it is always in
// bounds and exactly count*typeSize bytes long.
type entry struct {
	ifd   string
	tag   uint16
	typ   uint16
	count uint32
	val   []byte
}

// walker decodes a TIFF block. It never reads outside b and keeps
// everything it allocates proportional to len(b).
type walker struct {
	b       []byte
	order   binary.ByteOrder
	visited map[uint32]bool
	entries []entry
	nIFDs   int
	warn    func(format string, args ...any)
	// goexifSafe stays true while the block has nothing that makes goexif
	// loop forever or allocate by a hostile count.
	goexifSafe bool
}

// walkTIFF decodes the TIFF block b. ok is false when b has no valid TIFF
// header.
func walkTIFF(b []byte, warn func(string, ...any)) (w *walker, ok bool) {
	if len(b) < 8 {
		return nil, false
	}
	w = &walker{b: b, visited: map[uint32]bool{}, warn: warn, goexifSafe: true}
	switch string(b[:2]) {
	case "II":
		w.order = binary.LittleEndian
	case "MM":
		w.order = binary.BigEndian
	default:
		return nil, false
	}
	if w.order.Uint16(b[2:]) != 42 {
		return nil, false
	}
	off := w.order.Uint32(b[4:])
	// IFD0 and the chain after it (IFD1 is the thumbnail; later ones are
	// extra pages of a TIFF file).
	for i := 0; off != 0; i++ {
		name := "IFD0"
		if i > 0 {
			name = fmt.Sprintf("IFD%d", i)
		}
		next, ok := w.ifd(name, off)
		if !ok {
			break
		}
		off = next
	}
	return w, true
}

// ifd decodes the IFD at off and follows its sub-IFD pointers. It returns
// the offset of the next IFD in the chain.
func (w *walker) ifd(name string, off uint32) (next uint32, ok bool) {
	if w.visited[off] {
		w.warn("exif: %s at offset %d already visited (IFD loop), skipped", name, off)
		w.goexifSafe = false
		return 0, false
	}
	if w.nIFDs >= maxIFDs {
		w.warn("exif: more than %d IFDs, %s skipped", maxIFDs, name)
		w.goexifSafe = false
		return 0, false
	}
	w.visited[off] = true
	w.nIFDs++
	b := w.b
	if uint64(off)+2 > uint64(len(b)) {
		w.warn("exif: %s offset %d past the end of the block (%d bytes)", name, off, len(b))
		w.goexifSafe = false
		return 0, false
	}
	n := int(w.order.Uint16(b[off:]))
	start := int(off) + 2
	if avail := (len(b) - start) / 12; n > avail {
		w.warn("exif: %s declares %d entries, only %d fit in the block", name, n, avail)
		w.goexifSafe = false
		n = avail
	}
	var subs []struct {
		name string
		off  uint32
	}
	for i := 0; i < n; i++ {
		p := start + 12*i
		e, ok := w.entry(name, b[p:p+12])
		if !ok {
			continue
		}
		if len(w.entries) >= maxEntries {
			w.warn("exif: more than %d entries, rest skipped", maxEntries)
			w.goexifSafe = false
			return 0, false
		}
		w.entries = append(w.entries, e)
		if e.tag == tagExifIFD || e.tag == tagGPSIFD || e.tag == tagInteropIFD {
			// goexif follows these pointers wherever they are and whatever
			// their type; only let it run on blocks where the walker
			// validated every IFD it will visit.
			follow := (e.typ == tLong || e.typ == tIFD) &&
				((name == "IFD0" && e.tag != tagInteropIFD) || (name == "Exif" && e.tag == tagInteropIFD))
			if !follow {
				w.goexifSafe = false
			}
		}
		if (e.typ == tLong || e.typ == tIFD) && e.count >= 1 {
			var sub string
			switch {
			case name == "IFD0" && e.tag == tagExifIFD:
				sub = "Exif"
			case name == "IFD0" && e.tag == tagGPSIFD:
				sub = "GPS"
			case name == "Exif" && e.tag == tagInteropIFD:
				sub = "Interop"
			}
			if sub != "" {
				subs = append(subs, struct {
					name string
					off  uint32
				}{sub, w.order.Uint32(e.val)})
			}
		}
	}
	if end := start + 12*n; end+4 <= len(b) {
		next = w.order.Uint32(b[end:])
	}
	for _, s := range subs {
		w.ifd(s.name, s.off)
	}
	return next, true
}

// entry decodes one 12-byte IFD entry.
func (w *walker) entry(ifd string, p []byte) (entry, bool) {
	e := entry{
		ifd:   ifd,
		tag:   w.order.Uint16(p),
		typ:   w.order.Uint16(p[2:]),
		count: w.order.Uint32(p[4:]),
	}
	if int(e.typ) >= len(typeSizes) || typeSizes[e.typ] == 0 {
		w.warn("exif: %s entry 0x%04x has unknown type %d, skipped", ifd, e.tag, e.typ)
		return e, false
	}
	if e.count == 0 {
		w.warn("exif: %s entry 0x%04x has count 0, skipped", ifd, e.tag)
		return e, false
	}
	size := uint64(e.count) * typeSizes[e.typ]
	if size <= 4 {
		e.val = p[8 : 8+size]
		return e, true
	}
	off := uint64(w.order.Uint32(p[8:]))
	if off+size > uint64(len(w.b)) {
		w.warn("exif: %s entry 0x%04x (count %d) points past the end of the block, skipped", ifd, e.tag, e.count)
		w.goexifSafe = false
		return e, false
	}
	e.val = w.b[off : off+size]
	return e, true
}

// uints returns the unsigned integer values of a BYTE, SHORT or LONG
// entry (at most max of them).
func (w *walker) uints(e entry, max int) []uint64 {
	var out []uint64
	for i := 0; i < int(e.count) && i < max; i++ {
		switch e.typ {
		case tByte, tUndefined:
			out = append(out, uint64(e.val[i]))
		case tShort:
			out = append(out, uint64(w.order.Uint16(e.val[2*i:])))
		case tLong, tIFD:
			out = append(out, uint64(w.order.Uint32(e.val[4*i:])))
		default:
			return nil
		}
	}
	return out
}

// rationals returns numerator/denominator pairs of a RATIONAL or SRATIONAL
// entry (at most max of them).
func (w *walker) rationals(e entry, max int) [][2]int64 {
	var out [][2]int64
	for i := 0; i < int(e.count) && i < max; i++ {
		n, d := w.order.Uint32(e.val[8*i:]), w.order.Uint32(e.val[8*i+4:])
		switch e.typ {
		case tRational:
			out = append(out, [2]int64{int64(n), int64(d)})
		case tSRational:
			out = append(out, [2]int64{int64(int32(n)), int64(int32(d))})
		default:
			return nil
		}
	}
	return out
}

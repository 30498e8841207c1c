package exifmeta

import (
	"encoding/binary"
)

// box is one ISO-BMFF box: its type and payload (header excluded).
type box struct {
	typ  string
	body []byte
}

// boxes splits b into boxes. It stops at the first malformed header.
func boxes(b []byte, warn func(string, ...any)) []box {
	var out []box
	for len(b) >= 8 {
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				warn("heif: truncated box %q", typ)
				return out
			}
			size = binary.BigEndian.Uint64(b[8:])
			hdr = 16
		}
		if size < hdr || size > uint64(len(b)) {
			warn("heif: box %q has bad size %d", typ, size)
			return out
		}
		out = append(out, box{typ, b[hdr:size]})
		b = b[size:]
	}
	return out
}

// beUint reads an n-byte big-endian unsigned integer (n = 0, 2, 4 or 8)
// from b at *p, advancing *p. ok is false when b is too short.
func beUint(b []byte, p *int, n int) (uint64, bool) {
	if n == 0 {
		return 0, true
	}
	if *p+n > len(b) || n < 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b[*p : *p+n] {
		v = v<<8 | uint64(c)
	}
	*p += n
	return v, true
}

// heifBlock finds the 'Exif' item of the primary meta box, gathers its
// extents and skips the exif_tiff_header_offset prefix.
func heifBlock(d []byte, warn func(string, ...any)) []byte {
	var meta []byte
	for _, bx := range boxes(d, warn) {
		if bx.typ == "meta" {
			meta = bx.body
			break
		}
	}
	if len(meta) < 4 {
		return nil
	}
	var iinf, iloc, idat []byte
	for _, bx := range boxes(meta[4:], warn) { // skip FullBox version/flags
		switch bx.typ {
		case "iinf":
			iinf = bx.body
		case "iloc":
			iloc = bx.body
		case "idat":
			idat = bx.body
		}
	}
	id, ok := heifExifItem(iinf, warn)
	if !ok {
		return nil
	}
	item := heifItemData(d, iloc, idat, id, warn)
	if len(item) < 4 {
		if item != nil {
			warn("heif: Exif item too short")
		}
		return nil
	}
	skip := uint64(binary.BigEndian.Uint32(item))
	if 4+skip > uint64(len(item)) {
		warn("heif: Exif item header offset %d past its end", skip)
		return nil
	}
	return stripExifPrefix(item[4+skip:])
}

// heifExifItem returns the ID of the first item of type 'Exif'.
func heifExifItem(iinf []byte, warn func(string, ...any)) (uint32, bool) {
	if len(iinf) < 4 {
		return 0, false
	}
	p := 4
	n := 2
	if iinf[0] != 0 {
		n = 4
	}
	if _, ok := beUint(iinf, &p, n); !ok {
		return 0, false
	}
	for _, bx := range boxes(iinf[p:], warn) {
		if bx.typ != "infe" || len(bx.body) < 4 {
			continue
		}
		v := bx.body[0]
		if v < 2 {
			continue // version 0/1 entries have no item_type
		}
		q := 4
		idLen := 2
		if v >= 3 {
			idLen = 4
		}
		id, ok := beUint(bx.body, &q, idLen)
		if !ok {
			continue
		}
		q += 2 // item_protection_index
		if q+4 > len(bx.body) {
			continue
		}
		if string(bx.body[q:q+4]) == "Exif" {
			return uint32(id), true
		}
	}
	return 0, false
}

// heifItemData returns the bytes of item id as located by iloc. The result
// is a sub-slice of d or idat when there is one extent, or a copy bounded
// by len(d) when there are several.
func heifItemData(d, iloc, idat []byte, id uint32, warn func(string, ...any)) []byte {
	if len(iloc) < 6 {
		warn("heif: iloc box missing or short")
		return nil
	}
	v := iloc[0]
	p := 4
	offSize := int(iloc[p] >> 4)
	lenSize := int(iloc[p] & 15)
	baseSize := int(iloc[p+1] >> 4)
	idxSize := 0
	if v == 1 || v == 2 {
		idxSize = int(iloc[p+1] & 15)
	}
	p += 2
	valid := func(n int) bool { return n == 0 || n == 4 || n == 8 }
	if !valid(offSize) || !valid(lenSize) || !valid(baseSize) || !valid(idxSize) {
		warn("heif: iloc has unsupported field sizes")
		return nil
	}
	cntLen, idLen := 2, 2
	if v == 2 {
		cntLen, idLen = 4, 4
	}
	count, ok := beUint(iloc, &p, cntLen)
	if !ok {
		return nil
	}
	for i := uint64(0); i < count; i++ {
		itemID, ok := beUint(iloc, &p, idLen)
		if !ok {
			break
		}
		method := uint64(0)
		if v == 1 || v == 2 {
			if method, ok = beUint(iloc, &p, 2); !ok {
				break
			}
			method &= 15
		}
		p += 2 // data_reference_index
		base, ok := beUint(iloc, &p, baseSize)
		if !ok {
			break
		}
		nExt, ok := beUint(iloc, &p, 2)
		if !ok {
			break
		}
		// Every extent takes extSize bytes of the box: a count that does not fit is a lie.
		// Extents of zero bytes (all field sizes 0) mean "the whole source"; more than one of
		// them is meaningless, and walking 65,535 of them for each of thousands of items was
		// minutes of work for a 50 KB file.
		extSize := uint64(idxSize + offSize + lenSize)
		if extSize == 0 && nExt > 1 {
			warn("heif: iloc item %d has %d extents of zero bytes each", itemID, nExt)
			return nil
		}
		if nExt*extSize > uint64(len(iloc)-p) {
			warn("heif: iloc item %d declares %d extents, more than the box holds", itemID, nExt)
			return nil
		}
		if uint32(itemID) != id || itemID > 0xffffffff {
			p += int(nExt * extSize)
			continue
		}
		type ext struct{ off, n uint64 }
		var exts []ext
		for j := uint64(0); j < nExt; j++ {
			if _, ok = beUint(iloc, &p, idxSize); !ok {
				break
			}
			o, ok1 := beUint(iloc, &p, offSize)
			n, ok2 := beUint(iloc, &p, lenSize)
			if !ok1 || !ok2 {
				ok = false
				break
			}
			exts = append(exts, ext{o, n})
		}
		if !ok {
			break
		}
		src := d
		switch method {
		case 0:
		case 1:
			src = idat
		default:
			warn("heif: Exif item construction method %d not supported", method)
			return nil
		}
		var out []byte
		for _, e := range exts {
			start := base + e.off
			if start < base { // overflow
				warn("heif: Exif extent offset overflows")
				return nil
			}
			n := e.n
			if n == 0 && start <= uint64(len(src)) {
				n = uint64(len(src)) - start
			}
			if start > uint64(len(src)) || n > uint64(len(src))-start {
				warn("heif: Exif extent past the end of the file")
				return nil
			}
			chunk := src[start : start+n]
			if len(exts) == 1 {
				return chunk
			}
			if uint64(len(out))+n > uint64(len(d)) {
				warn("heif: Exif extents larger than the file")
				return nil
			}
			out = append(out, chunk...)
		}
		return out
	}
	warn("heif: Exif item %d not found in iloc", id)
	return nil
}

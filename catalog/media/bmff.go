package media

import "encoding/binary"

// bmffBox is one ISO-BMFF box: its four-character type and its payload.
type bmffBox struct {
	typ     string
	payload []byte
}

// nextBox splits the first box off b. ok is false when b does not start
// with a complete, well-formed box header. A box whose declared size runs
// past the end of b is cut at the end of b (files are often truncated).
func nextBox(b []byte) (box bmffBox, rest []byte, ok bool) {
	if len(b) < 8 {
		return box, nil, false
	}
	size := uint64(binary.BigEndian.Uint32(b[0:4]))
	hdr := uint64(8)
	switch size {
	case 0: // extends to the end
		size = uint64(len(b))
	case 1: // 64-bit size follows the type
		if len(b) < 16 {
			return box, nil, false
		}
		size = binary.BigEndian.Uint64(b[8:16])
		hdr = 16
	}
	if size < hdr {
		return box, nil, false
	}
	if size > uint64(len(b)) {
		size = uint64(len(b))
	}
	return bmffBox{typ: string(b[4:8]), payload: b[hdr:size]}, b[size:], true
}

// children returns the boxes inside a container payload, at most max of
// them (a bound against hostile files made of millions of empty boxes).
func children(b []byte, max int) []bmffBox {
	var out []bmffBox
	for len(b) > 0 && len(out) < max {
		box, rest, ok := nextBox(b)
		if !ok {
			break
		}
		out = append(out, box)
		b = rest
	}
	return out
}

// maxBoxes bounds every box list walked by bmffSize.
const maxBoxes = 4096

// bmffSize reads the pixel size of the primary image of a HEIF/HEIC/AVIF
// file from its 'ispe' property: meta/pitm names the primary item,
// meta/iprp/ipma associates it with properties in meta/iprp/ipco. When that
// chain is incomplete, the largest 'ispe' found is used; when there is none,
// the result is 0x0. The size is the coded size, before any 'irot'.
func bmffSize(data []byte) (w, h int) {
	var meta []byte
	for _, box := range children(data, maxBoxes) {
		if box.typ == "meta" {
			meta = box.payload
			break
		}
	}
	if len(meta) < 4 {
		return 0, 0
	}
	var (
		primary    uint32
		hasPrimary bool
		props      []bmffBox
		ipmas      []bmffBox
	)
	for _, box := range children(meta[4:], maxBoxes) { // skip version+flags
		switch box.typ {
		case "pitm":
			p := box.payload
			if len(p) >= 6 && p[0] == 0 {
				primary, hasPrimary = uint32(binary.BigEndian.Uint16(p[4:6])), true
			} else if len(p) >= 8 {
				primary, hasPrimary = binary.BigEndian.Uint32(p[4:8]), true
			}
		case "iprp":
			for _, c := range children(box.payload, maxBoxes) {
				switch c.typ {
				case "ipco":
					props = children(c.payload, maxBoxes)
				case "ipma":
					ipmas = append(ipmas, c)
				}
			}
		}
	}
	if hasPrimary {
		for _, ipma := range ipmas {
			for _, idx := range ipmaProps(ipma.payload, primary) {
				if idx >= 1 && idx <= len(props) && props[idx-1].typ == "ispe" {
					if w, h, ok := ispe(props[idx-1].payload); ok {
						return w, h
					}
				}
			}
		}
	}
	best := int64(-1)
	for _, p := range props {
		if p.typ != "ispe" {
			continue
		}
		if pw, ph, ok := ispe(p.payload); ok && int64(pw)*int64(ph) > best {
			w, h, best = pw, ph, int64(pw)*int64(ph)
		}
	}
	return w, h
}

// ispe decodes an image spatial extents property (full box: version+flags,
// then 32-bit width and height).
func ispe(p []byte) (w, h int, ok bool) {
	if len(p) < 12 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint32(p[4:8])), int(binary.BigEndian.Uint32(p[8:12])), true
}

// ipmaProps returns the 1-based ipco indexes associated with item in an
// item property association box.
func ipmaProps(p []byte, item uint32) []int {
	if len(p) < 8 {
		return nil
	}
	version, flags := p[0], p[3]
	count := binary.BigEndian.Uint32(p[4:8])
	p = p[8:]
	for e := uint32(0); e < count; e++ {
		var id uint32
		if version < 1 {
			if len(p) < 2 {
				return nil
			}
			id, p = uint32(binary.BigEndian.Uint16(p)), p[2:]
		} else {
			if len(p) < 4 {
				return nil
			}
			id, p = binary.BigEndian.Uint32(p), p[4:]
		}
		if len(p) < 1 {
			return nil
		}
		n := int(p[0])
		p = p[1:]
		size := 1
		if flags&1 != 0 {
			size = 2
		}
		if len(p) < n*size {
			return nil
		}
		if id == item {
			out := make([]int, 0, n)
			for i := 0; i < n; i++ {
				if size == 2 {
					out = append(out, int(binary.BigEndian.Uint16(p[2*i:])&0x7fff))
				} else {
					out = append(out, int(p[i]&0x7f))
				}
			}
			return out
		}
		p = p[n*size:]
	}
	return nil
}

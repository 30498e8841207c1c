package jpeg

import "encoding/binary"

// lutBits is the number of bits the first-level Huffman lookup resolves at once.
const lutBits = 10

// huffTable is one Huffman table, built from a DHT segment.
type huffTable struct {
	// lut maps the next lutBits bits to length<<8 | symbol for codes of at most
	// lutBits bits; 0 means a longer (or invalid) code.
	lut [1 << lutBits]uint16
	// Canonical decoding of longer codes (ITU T.81 F.2.2.3): codes of length l run from
	// mincode[l] to maxcode[l] (maxcode -1: none) and their symbols start at vals[valptr[l]].
	maxcode [17]int32
	mincode [17]int32
	valptr  [17]int32
	vals    []uint8
	ok      bool // defined by a DHT segment
	// fast resolves an AC code and the magnitude bits after it at once, when both fit in
	// lutBits bits and the symbol is a coefficient (size > 0): value<<16 | run<<12 |
	// code length<<8 | code length+size. 0: use lut.
	fast [1 << lutBits]int32
}

// build makes the decoding tables from the counts of codes per length (1..16) and the
// symbols in code order. Codes that do not fit their length (an over-subscribed table) are
// left undecodable rather than rejected.
func (h *huffTable) build(counts *[17]int, vals []uint8) {
	h.vals = append(h.vals[:0], vals...)
	clear(h.lut[:])
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l])
		if n == 0 {
			h.maxcode[l] = -1
		} else {
			h.valptr[l] = k
			h.mincode[l] = code
			h.maxcode[l] = code + n - 1
		}
		for i := int32(0); i < n; i++ {
			if l <= lutBits && code < 1<<l {
				lo := code << (lutBits - l)
				hi := (code + 1) << (lutBits - l)
				e := uint16(l)<<8 | uint16(vals[k+i])
				for j := lo; j < hi; j++ {
					h.lut[j] = e
				}
			}
			code++
		}
		k += n
		code <<= 1
	}
	clear(h.fast[:])
	for i, e := range h.lut {
		if e == 0 {
			continue
		}
		l, rs := uint(e>>8), uint8(e)
		run, size := int32(rs>>4), uint(rs&15)
		if size == 0 || l+size > lutBits {
			continue
		}
		// The size bits following the code in this lookup index.
		v := int32(uint(i)>>(lutBits-l-size)) & (1<<size - 1)
		if v < 1<<(size-1) {
			v += -1<<size + 1
		}
		h.fast[i] = v<<16 | run<<12 | int32(l)<<8 | int32(l+size)
	}
	h.ok = true
}

// slow decodes a code longer than lutBits from the next 16 bits (most significant first):
// the symbol and the code length, 0 when no code matches.
func (h *huffTable) slow(peek uint32) (uint8, uint) {
	for l := uint(lutBits + 1); l <= 16; l++ {
		c := int32(peek >> (16 - l))
		if c <= h.maxcode[l] {
			i := h.valptr[l] + c - h.mincode[l]
			if int(i) >= len(h.vals) {
				return 0, 0
			}
			return h.vals[i], l
		}
	}
	return 0, 0
}

// bitReader reads the entropy-coded segment of a scan: bytes with 0xFF00 stuffing, up to the
// next marker. Past a marker (or the end of the data) it supplies zero bits and counts them in
// pad; reading any of those is an error the caller detects with overrun.
type bitReader struct {
	data  []byte
	pos   int    // next byte of data to load
	acc   uint64 // unread bits, most significant first
	nbits uint   // number of valid bits in acc (real or padding)
	pad   uint   // padding bits loaded since the last reset
	stop  bool   // a marker or the end of the data was reached
}

func (r *bitReader) reset(pos int) {
	r.pos, r.acc, r.nbits, r.pad, r.stop = pos, 0, 0, 0, false
}

// overrun says whether bits past the end of the segment were consumed.
func (r *bitReader) overrun() bool { return r.nbits < r.pad }

// fill loads bytes until at least 57 bits are buffered.
func (r *bitReader) fill() {
	for r.nbits <= 56 {
		if !r.stop && r.pos+8 <= len(r.data) {
			// Fast path: eight bytes without 0xFF.
			w := binary.BigEndian.Uint64(r.data[r.pos:])
			t := ^w
			if (t-0x0101010101010101)&^t&0x8080808080808080 == 0 {
				k := (64 - r.nbits) >> 3 // whole bytes that fit
				add := 8 * k
				r.acc |= (w >> (64 - add)) << (64 - r.nbits - add)
				r.nbits += add
				r.pos += int(k)
				continue
			}
		}
		var b byte
		if !r.stop && r.pos < len(r.data) {
			b = r.data[r.pos]
			if b == 0xff {
				if r.pos+1 < len(r.data) && r.data[r.pos+1] == 0 {
					r.pos += 2
				} else {
					r.stop = true
					b = 0
					r.pad += 8
				}
			} else {
				r.pos++
			}
		} else {
			r.stop = true
			r.pad += 8
		}
		r.acc |= uint64(b) << (56 - r.nbits)
		r.nbits += 8
	}
}

// bit returns the next bit.
func (r *bitReader) bit() bool {
	if r.nbits == 0 {
		r.fill()
	}
	r.nbits--
	v := int64(r.acc) < 0
	r.acc <<= 1
	return v
}

package hostile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"os"
)

// The generators below make small files that cost a decoder or a parser far more memory or CPU than
// their size suggests (issue 12). Each takes its sizes as arguments: tests use small versions, the
// measurements in the closing note the full-size ones.

// zeros deflates n zero bytes (zlib, best compression: about 1 KB per MB).
func zeros(n int64) []byte {
	var b bytes.Buffer
	z, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		z.Write(chunk[:k])
		n -= k
	}
	z.Close()
	return b.Bytes()
}

// tiffEntry appends one little-endian IFD entry with an inline value.
func tiffEntry(b []byte, tag, typ uint16, count, val uint32) []byte {
	b = binary.LittleEndian.AppendUint16(b, tag)
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint32(b, count)
	if typ == 3 && count == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(val))
		return binary.LittleEndian.AppendUint16(b, 0)
	}
	return binary.LittleEndian.AppendUint32(b, val)
}

// TIFFInflateBomb is an 8-bit grey w x h TIFF with one deflate strip that inflates to inflated zero
// bytes (the decoder expects w*h). With inflated = 8*w*h it is the largest strip x/image/tiff
// accepts: 10000 x 10000 and 800 MB fit in about 800 KB.
func TIFFInflateBomb(w, h uint32, inflated int64) []byte {
	strip := zeros(inflated)
	const n = 9
	dataAt := uint32(8 + 2 + 12*n + 4)
	b := []byte("II*\x00\x08\x00\x00\x00")
	b = binary.LittleEndian.AppendUint16(b, n)
	b = tiffEntry(b, 256, 4, 1, w)                  // ImageWidth
	b = tiffEntry(b, 257, 4, 1, h)                  // ImageLength
	b = tiffEntry(b, 258, 3, 1, 8)                  // BitsPerSample
	b = tiffEntry(b, 259, 3, 1, 8)                  // Compression: deflate
	b = tiffEntry(b, 262, 3, 1, 1)                  // BlackIsZero
	b = tiffEntry(b, 273, 4, 1, dataAt)             // StripOffsets
	b = tiffEntry(b, 277, 3, 1, 1)                  // SamplesPerPixel
	b = tiffEntry(b, 278, 4, 1, h)                  // RowsPerStrip: one strip
	b = tiffEntry(b, 279, 4, 1, uint32(len(strip))) // StripByteCounts
	b = binary.LittleEndian.AppendUint32(b, 0)
	return append(b, strip...)
}

// PNGZeros is a w x h PNG (colour type 6, 8-bit RGBA, or 0, 8-bit grey, when grey is set) of
// transparent black, Adam7-interlaced when interlaced is set. A 100,000,000 x 1 grey PNG is 97 KB.
func PNGZeros(w, h uint32, grey, interlaced bool) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	bpp := int64(4)
	if grey {
		ihdr[9], bpp = 0, 1
	}
	if interlaced {
		ihdr[12] = 1
	}
	chunk(&b, "IHDR", ihdr)
	// Raw size: one filter byte per row plus the row's samples, per pass when interlaced.
	var raw int64
	if !interlaced {
		raw = int64(h) * (1 + int64(w)*bpp)
	} else {
		passes := [7][4]int64{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
		for _, p := range passes {
			pw := (int64(w) - p[0] + p[2] - 1) / p[2]
			ph := (int64(h) - p[1] + p[3] - 1) / p[3]
			if pw > 0 && ph > 0 {
				raw += ph * (1 + pw*bpp)
			}
		}
	}
	z := zeros(raw)
	for len(z) > 0 {
		k := min(len(z), 1<<20)
		chunk(&b, "IDAT", z[:k])
		z = z[k:]
	}
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

// EXIFCrossCheckBomb is a TIFF block whose IFD0 has entries BYTE entries of count values each, all
// pointing at the same bytes: about count + 12*entries bytes, but a reader that expands every value
// (goexif keeps each BYTE as an int64) allocates 8*entries*count.
func EXIFCrossCheckBomb(entries int, count uint32) []byte {
	dataAt := uint32(8 + 2 + 12*entries + 4)
	b := []byte("II*\x00\x08\x00\x00\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(entries))
	for i := 0; i < entries; i++ {
		b = tiffEntry(b, uint16(0x4000+i), 1, count, dataAt)
	}
	b = binary.LittleEndian.AppendUint32(b, 0)
	val := make([]byte, count)
	for i := range val {
		val[i] = byte(i)
	}
	return append(b, val...)
}

// EXIFRawBloat is a TIFF file of size bytes at least whose IFD0 has entries ASCII entries (distinct
// tags) sharing one value of valueLen bytes; the rest of the file is padding. Read naively, the
// raw EXIF kept per image is entries*valueLen.
func EXIFRawBloat(entries, valueLen, size int) []byte {
	dataAt := uint32(8 + 2 + 12*entries + 4)
	b := []byte("II*\x00\x08\x00\x00\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(entries))
	for i := 0; i < entries; i++ {
		b = tiffEntry(b, uint16(0x4000+i), 2, uint32(valueLen), dataAt)
	}
	b = binary.LittleEndian.AppendUint32(b, 0)
	v := bytes.Repeat([]byte("raw exif bloat "), valueLen/15+1)[:valueLen-1]
	b = append(append(b, v...), 0)
	if len(b) < size {
		b = append(b, make([]byte, size-len(b))...)
	}
	return b
}

// PNGWithEXIF is a 1x1 PNG carrying block in an eXIf chunk.
func PNGWithEXIF(block []byte) []byte {
	p := PNG(1, 1, 1)
	// Insert the eXIf chunk right after IHDR (8-byte signature + 25-byte IHDR chunk).
	var b bytes.Buffer
	b.Write(p[:33])
	chunk(&b, "eXIf", block)
	b.Write(p[33:])
	return b.Bytes()
}

func box(typ string, body ...[]byte) []byte {
	n := 8
	for _, p := range body {
		n += len(p)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	b = append(b, typ...)
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// HEIFIlocLoop is a HEIF file whose meta box has an Exif item and an iloc box (version 1, every
// field size 0) listing items items of extents zero-byte extents each: a parser that walks every
// extent does items*extents steps while reading about 8 bytes per item.
func HEIFIlocLoop(items int, extents uint16) []byte {
	ftyp := box("ftyp", []byte("heic\x00\x00\x00\x00mif1heic"))
	hdlr := box("hdlr", make([]byte, 8), []byte("pict"), make([]byte, 13))
	infe := box("infe", []byte{2, 0, 0, 0, 0xff, 0xff, 0, 0}, []byte("Exif"), []byte{0})
	iinf := box("iinf", []byte{0, 0, 0, 0, 0, 1}, infe)
	il := []byte{1, 0, 0, 0, 0x00, 0x00}
	il = binary.BigEndian.AppendUint16(il, uint16(items))
	for i := 0; i < items; i++ {
		il = binary.BigEndian.AppendUint16(il, uint16(i+1)) // never the Exif item (0xffff)
		il = append(il, 0, 0, 0, 0)                         // construction method, data reference
		il = binary.BigEndian.AppendUint16(il, extents)
	}
	iloc := box("iloc", il)
	meta := box("meta", []byte{0, 0, 0, 0}, hdlr, iinf, iloc)
	return append(ftyp, meta...)
}

// bitWriter writes JPEG entropy-coded bits, MSB first, stuffing a zero after every 0xff.
type bitWriter struct {
	b    *bytes.Buffer
	acc  uint32
	nacc uint
}

func (w *bitWriter) bits(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>uint(i))&1
		w.nacc++
		if w.nacc == 8 {
			w.b.WriteByte(byte(w.acc))
			if byte(w.acc) == 0xff {
				w.b.WriteByte(0)
			}
			w.acc, w.nacc = 0, 0
		}
	}
}

func (w *bitWriter) flush() {
	for w.nacc != 0 {
		w.bits(1, 1)
	}
}

// ProgressiveScans is a valid grey progressive JPEG of w x h pixels: one DC scan of zeros, then
// scans AC scans of the first AC coefficient, each made of a few end-of-band runs that skip every
// block. Each scan costs a few bytes; a decoder that visits every block in every scan does
// scans * w*h/64 steps (3,000 scans of 9600 x 9600: 400 KB).
func ProgressiveScans(w, h uint16, scans int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xd8})
	b.Write([]byte{0xff, 0xdb, 0, 67, 0}) // DQT 0: all ones
	b.Write(bytes.Repeat([]byte{1}, 64))
	b.Write([]byte{0xff, 0xc2, 0, 11, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})
	// DHT DC 0: one 1-bit code for category 0. DHT AC 0: one 1-bit code for EOB14 (0xe0).
	b.Write([]byte{0xff, 0xc4, 0, 20, 0x00, 1})
	b.Write(make([]byte, 15))
	b.WriteByte(0)
	b.Write([]byte{0xff, 0xc4, 0, 20, 0x10, 1})
	b.Write(make([]byte, 15))
	b.WriteByte(0xe0)
	blocks := ((int(w) + 7) / 8) * ((int(h) + 7) / 8)
	b.Write([]byte{0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 0, 0}) // DC first scan
	bw := &bitWriter{b: &b}
	for i := 0; i < blocks; i++ {
		bw.bits(0, 1)
	}
	bw.flush()
	for s := 0; s < scans; s++ {
		b.Write([]byte{0xff, 0xda, 0, 8, 1, 1, 0x00, 1, 1, 0}) // AC first scan, Ss=Se=1
		bw := &bitWriter{b: &b}
		for left := blocks; left > 0; {
			run := min(left, 1<<15-1) // EOB14 with 14 extra bits: 16384..32767 blocks
			if run < 1<<14 {
				run = 1 << 14 // the last run may cover more blocks than remain
			}
			bw.bits(0, 1)
			bw.bits(uint32(run-1<<14), 14)
			left -= run
		}
		bw.flush()
	}
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// SparseFile writes a small JPEG at path and extends the file to size bytes with a hole (zeros that
// take no disk space).
func SparseFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(JPEG(64, 48, 7)); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

package exifmeta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// ent is one IFD entry for the test TIFF builder. count 0 means "derive
// from val"; rawOff, when set, is written as the value offset instead of
// placing val in the data area (to build hostile pointers).
type ent struct {
	tag, typ uint16
	count    uint32
	val      []byte
	rawOff   *uint32
	setCount bool // write count as given, even 0
}

// order is a byte order that can also append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffBuilder writes little or big endian TIFF blocks.
type tiffBuilder struct {
	bo  order
	buf []byte
}

func newTIFF(bo order) *tiffBuilder {
	b := &tiffBuilder{bo: bo}
	if bo.String() == "LittleEndian" {
		b.buf = []byte("II*\x00\x00\x00\x00\x00")
	} else {
		b.buf = []byte("MM\x00*\x00\x00\x00\x00")
	}
	return b
}

func off32(v uint32) *uint32 { return &v }

// ifd appends an IFD with its data area and returns its offset.
func (b *tiffBuilder) ifd(ents []ent, next uint32) uint32 {
	start := uint32(len(b.buf))
	b.buf = b.bo.AppendUint16(b.buf, uint16(len(ents)))
	tbl := len(b.buf)
	b.buf = append(b.buf, make([]byte, 12*len(ents)+4)...)
	b.bo.PutUint32(b.buf[tbl+12*len(ents):], next)
	for i, e := range ents {
		p := tbl + 12*i
		count := e.count
		if count == 0 && !e.setCount {
			count = uint32(uint64(len(e.val)) / typeSizes[e.typ])
		}
		b.bo.PutUint16(b.buf[p:], e.tag)
		b.bo.PutUint16(b.buf[p+2:], e.typ)
		b.bo.PutUint32(b.buf[p+4:], count)
		switch {
		case e.rawOff != nil:
			b.bo.PutUint32(b.buf[p+8:], *e.rawOff)
		case len(e.val) <= 4:
			copy(b.buf[p+8:p+12], e.val)
		default:
			b.bo.PutUint32(b.buf[p+8:], uint32(len(b.buf)))
			b.buf = append(b.buf, e.val...)
			if len(b.buf)%2 == 1 {
				b.buf = append(b.buf, 0)
			}
		}
	}
	return start
}

// setFirst points the header at the first IFD.
func (b *tiffBuilder) setFirst(off uint32) { b.bo.PutUint32(b.buf[4:], off) }

func (b *tiffBuilder) ascii(tag uint16, s string) ent {
	return ent{tag: tag, typ: tASCII, val: append([]byte(s), 0)}
}

func (b *tiffBuilder) short(tag uint16, vs ...uint16) ent {
	var v []byte
	for _, x := range vs {
		v = b.bo.AppendUint16(v, x)
	}
	return ent{tag: tag, typ: tShort, val: v}
}

func (b *tiffBuilder) long(tag uint16, vs ...uint32) ent {
	var v []byte
	for _, x := range vs {
		v = b.bo.AppendUint32(v, x)
	}
	return ent{tag: tag, typ: tLong, val: v}
}

// rat takes numerator, denominator pairs.
func (b *tiffBuilder) rat(tag uint16, nd ...uint32) ent {
	var v []byte
	for _, x := range nd {
		v = b.bo.AppendUint32(v, x)
	}
	return ent{tag: tag, typ: tRational, val: v}
}

// block builds a TIFF block with IFD0 and optional Exif and GPS IFDs
// (pointers to them are added to IFD0).
func block(bo order, ifd0, exifIFD, gps []ent) []byte {
	b := newTIFF(bo)
	ents := append([]ent(nil), ifd0...)
	if exifIFD != nil {
		ents = append(ents, b.long(tagExifIFD, b.ifd(exifIFD, 0)))
	}
	if gps != nil {
		ents = append(ents, b.long(tagGPSIFD, b.ifd(gps, 0)))
	}
	b.setFirst(b.ifd(ents, 0))
	return b.buf
}

// gpsEnts builds GPS entries from degree/minute/second rationals.
func gpsEnts(bo order, latRef string, lat []uint32, lonRef string, lon []uint32) []ent {
	b := newTIFF(bo)
	return []ent{
		b.ascii(0x0001, latRef), b.rat(0x0002, lat...),
		b.ascii(0x0003, lonRef), b.rat(0x0004, lon...),
	}
}

// Containers around a TIFF block.

func wrapJPEG(tiff []byte) []byte {
	payload := append(append([]byte(nil), exifPrefix...), tiff...)
	out := []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10}
	out = append(out, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")...)
	out = append(out, 0xff, 0xe1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	out = append(out, payload...)
	return append(out, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9)
}

func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return append(out, 0, 0, 0, 0) // CRC is not checked by the reader
}

func wrapPNG(tiff []byte) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", make([]byte, 13))...)
	out = append(out, pngChunk("eXIf", tiff)...)
	return append(out, pngChunk("IEND", nil)...)
}

// wrapPNGRawProfile stores the block as ImageMagick does: a zTXt chunk
// "Raw profile type exif" holding a hex dump of "Exif\0\0" + TIFF.
func wrapPNGRawProfile(tiff []byte) []byte {
	raw := append(append([]byte(nil), exifPrefix...), tiff...)
	h := hex.EncodeToString(raw)
	var text bytes.Buffer
	fmt.Fprintf(&text, "\nexif\n%8d\n", len(raw))
	for i := 0; i < len(h); i += 72 {
		text.WriteString(h[i:min(i+72, len(h))])
		text.WriteByte('\n')
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(text.Bytes())
	zw.Close()
	data := append([]byte("Raw profile type exif\x00\x00"), z.Bytes()...)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", make([]byte, 13))...)
	out = append(out, pngChunk("zTXt", data)...)
	return append(out, pngChunk("IEND", nil)...)
}

func wrapWebP(tiff []byte, prefix bool) []byte {
	payload := tiff
	if prefix {
		payload = append(append([]byte(nil), exifPrefix...), tiff...)
	}
	var body []byte
	body = append(body, "WEBP"...)
	body = append(body, "VP8X"...)
	body = binary.LittleEndian.AppendUint32(body, 10)
	body = append(body, make([]byte, 10)...)
	body = append(body, "EXIF"...)
	body = binary.LittleEndian.AppendUint32(body, uint32(len(payload)))
	body = append(body, payload...)
	if len(payload)%2 == 1 {
		body = append(body, 0)
	}
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

func bmffBox(typ string, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	out = append(out, typ...)
	return append(out, body...)
}

// wrapHEIF builds ftyp + meta(hdlr, iinf with one 'Exif' infe v2, iloc v1)
// + mdat holding the Exif item (4-byte header offset, "Exif\0\0", TIFF).
func wrapHEIF(tiff []byte) []byte {
	item := binary.BigEndian.AppendUint32(nil, 6)
	item = append(item, exifPrefix...)
	item = append(item, tiff...)
	ftyp := bmffBox("ftyp", []byte("heic\x00\x00\x00\x00mif1heic"))
	infe := bmffBox("infe", append([]byte{2, 0, 0, 0, 0, 7, 0, 0}, "Exif\x00"...))
	iinf := bmffBox("iinf", append([]byte{0, 0, 0, 0, 0, 1}, infe...))
	hdlr := bmffBox("hdlr", append([]byte{0, 0, 0, 0, 0, 0, 0, 0}, "pict\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"...))
	// iloc v1: offset_size 4, length_size 4, base_offset_size 0, index_size 0.
	mkIloc := func(off uint32) []byte {
		b := []byte{1, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 7, 0, 0, 0, 0, 0, 1}
		b = binary.BigEndian.AppendUint32(b, off)
		b = binary.BigEndian.AppendUint32(b, uint32(len(item)))
		return bmffBox("iloc", b)
	}
	metaLen := len(bmffBox("meta", append(append(append([]byte{0, 0, 0, 0}, hdlr...), iinf...), mkIloc(0)...)))
	dataOff := uint32(len(ftyp) + metaLen + 8)
	meta := bmffBox("meta", append(append(append([]byte{0, 0, 0, 0}, hdlr...), iinf...), mkIloc(dataOff)...))
	out := append(ftyp, meta...)
	return append(out, bmffBox("mdat", item)...)
}

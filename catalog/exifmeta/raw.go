package exifmeta

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Text decodes UTF-16 text, stopping at the first NUL.
func utf16Text(v []byte, bo binary.ByteOrder) string {
	u := make([]uint16, 0, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		c := bo.Uint16(v[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return strings.TrimRight(string(utf16.Decode(u)), " ")
}

// MaxRaw caps what Meta.Raw keeps per image, keys and values together, in
// bytes: about 64 KiB whatever the file holds. Each value is also capped at
// MaxRawValue; an entry whose value is the same bytes as an earlier one (an
// alias: another offset pointing at them) is kept as a short reference to
// the first, so that aliases count once.
const MaxRaw = 64 << 10

// raw fills Meta.Raw with the entries the walker kept, up to MaxRaw bytes.
func (r *reader) raw() {
	if len(r.w.entries) == 0 {
		return
	}
	r.m.Raw = make(map[string]string, min(len(r.w.entries), 256))
	type span struct {
		off, n int
		typ    uint16
	}
	seen := map[span]string{} // value bytes already rendered -> the key that holds them
	r.budget = MaxRaw
	omitted := 0
	for _, e := range r.w.entries {
		key := tagName(e.ifd, e.tag)
		if _, dup := r.m.Raw[key]; dup {
			continue
		}
		if r.budget <= 0 {
			omitted++
			continue
		}
		var v string
		// Values of more than 4 bytes lie in the block; val aliases it.
		sp := span{cap(r.w.b) - cap(e.val), len(e.val), e.typ}
		if first, ok := seen[sp]; ok && len(e.val) > 4 {
			v = "(same value as " + first + ")"
		} else {
			v = r.render(key, e)
			if len(e.val) > 4 {
				seen[sp] = key
			}
		}
		if len(key)+len(v) > r.budget {
			omitted++
			r.budget = 0
			continue
		}
		r.budget -= len(key) + len(v)
		r.m.Raw[key] = v
	}
	if omitted > 0 {
		r.warn("raw: %d tags omitted: the raw EXIF kept per image is capped at %d bytes", omitted, MaxRaw)
	}
}

// render turns an entry into printable text of at most about MaxRawValue
// bytes plus a truncation note.
func (r *reader) render(key string, e entry) string {
	switch e.typ {
	case tASCII:
		return r.capText(key, textOf(e.val))
	case tByte, tUndefined, tSByte:
		v := e.val
		if e.tag == 0x9286 && len(v) >= 8 && e.ifd == "Exif" { // UserComment: 8-byte charset prefix
			switch cs := string(bytes.TrimRight(v[:8], "\x00 ")); cs {
			case "ASCII", "":
				return r.capText(key, textOf(v[8:]))
			case "UNICODE":
				return r.capText(key, utf16Text(v[8:], r.w.order))
			}
		}
		if e.tag >= 0x9c9b && e.tag <= 0x9c9f && e.typ == tByte && e.ifd != "Exif" && e.ifd != "GPS" && e.ifd != "Interop" {
			// Windows XPTitle/XPComment/XPAuthor/XPKeywords/XPSubject: UTF-16LE.
			return r.capText(key, utf16Text(v, binary.LittleEndian))
		}
		if isText(v) {
			return r.capText(key, textOf(v))
		}
		if len(v) <= maxBinaryShown {
			return "hex:" + hex.EncodeToString(v)
		}
		return fmt.Sprintf("(binary, %d bytes)", len(v))
	}
	var b strings.Builder
	n := int(e.count)
	for i := 0; i < n; i++ {
		if b.Len() >= MaxRawValue {
			r.warn("raw: %s has %d values, cut after %d", key, n, i)
			fmt.Fprintf(&b, " …(truncated, %d values)", n)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		switch e.typ {
		case tShort:
			b.WriteString(strconv.FormatUint(uint64(r.w.order.Uint16(e.val[2*i:])), 10))
		case tSShort:
			b.WriteString(strconv.FormatInt(int64(int16(r.w.order.Uint16(e.val[2*i:]))), 10))
		case tLong, tIFD:
			b.WriteString(strconv.FormatUint(uint64(r.w.order.Uint32(e.val[4*i:])), 10))
		case tSLong:
			b.WriteString(strconv.FormatInt(int64(int32(r.w.order.Uint32(e.val[4*i:]))), 10))
		case tRational, tSRational:
			q := r.w.rationals(entry{typ: e.typ, count: 1, val: e.val[8*i:]}, 1)[0]
			b.WriteString(strconv.FormatInt(q[0], 10) + "/" + strconv.FormatInt(q[1], 10))
		case tFloat:
			b.WriteString(fmtFloat(float64(math.Float32frombits(r.w.order.Uint32(e.val[4*i:])))))
		case tDouble:
			b.WriteString(fmtFloat(math.Float64frombits(r.w.order.Uint64(e.val[8*i:]))))
		}
	}
	return b.String()
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// textOf cuts at the first NUL, trims trailing blanks and NULs.
func textOf(v []byte) string {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	return string(bytes.TrimRight(v, " \x00"))
}

// isText reports bytes that are valid UTF-8 without control characters
// other than tab/newline, ignoring trailing NULs.
func isText(v []byte) bool {
	v = bytes.TrimRight(v, "\x00")
	if len(v) == 0 || !utf8.Valid(v) {
		return false
	}
	for _, c := range v {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// capText caps a text value at MaxRawValue bytes and marks the cut.
func (r *reader) capText(key, s string) string {
	if len(s) <= MaxRawValue {
		return clean(s)
	}
	r.warn("raw: %s value of %d bytes cut to %d", key, len(s), MaxRawValue)
	return clean(s[:MaxRawValue]) + fmt.Sprintf(" …(truncated, %d bytes)", len(s))
}

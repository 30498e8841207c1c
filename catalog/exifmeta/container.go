package exifmeta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"io"
)

var exifPrefix = []byte("Exif\x00\x00")

// maxInflate bounds the output of a compressed PNG text chunk.
const maxInflate = 1 << 20

// findBlock locates the TIFF-structured EXIF block in data. It trusts the
// file's magic bytes over the sniffed format, which is only a hint.
func findBlock(data []byte, format string, warn func(string, ...any)) []byte {
	switch {
	case len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff:
		return jpegBlock(data, warn)
	case len(data) >= 8 && (string(data[:4]) == "II*\x00" || string(data[:4]) == "MM\x00*"):
		return data
	case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
		return pngBlock(data, warn)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return webpBlock(data, warn)
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		return heifBlock(data, warn)
	case len(data) >= 6 && bytes.HasPrefix(data, exifPrefix):
		// A bare APP1 payload.
		return data[6:]
	}
	switch format {
	case "jpeg", "png", "webp", "tiff", "heic", "heif", "avif":
		warn("exif: content does not look like %s", format)
	}
	return nil
}

// stripExifPrefix removes an optional "Exif\0\0" header.
func stripExifPrefix(b []byte) []byte {
	if bytes.HasPrefix(b, exifPrefix) {
		return b[len(exifPrefix):]
	}
	return b
}

// jpegBlock walks the JPEG markers up to the start of scan and returns the
// payload of the first APP1 "Exif" segment.
func jpegBlock(d []byte, warn func(string, ...any)) []byte {
	p := 2
	for p < len(d) {
		if d[p] != 0xff {
			warn("jpeg: expected a marker at offset %d, found 0x%02x", p, d[p])
			return nil
		}
		for p < len(d) && d[p] == 0xff { // fill bytes
			p++
		}
		if p >= len(d) {
			return nil
		}
		m := d[p]
		p++
		switch {
		case m == 0xd9 || m == 0xda: // EOI, SOS: no EXIF after this point
			return nil
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // standalone markers
			continue
		}
		if p+2 > len(d) {
			warn("jpeg: truncated segment header")
			return nil
		}
		n := int(binary.BigEndian.Uint16(d[p:]))
		if n < 2 {
			warn("jpeg: segment 0x%02x has length %d", m, n)
			return nil
		}
		end := p + n
		if end > len(d) {
			warn("jpeg: segment 0x%02x runs past the end of the file", m)
			end = len(d)
		}
		seg := d[p+2 : end]
		if m == 0xe1 && bytes.HasPrefix(seg, exifPrefix) {
			return seg[len(exifPrefix):]
		}
		p = end
	}
	return nil
}

// pngBlock returns the eXIf chunk, or else a hex dump of EXIF in a
// "Raw profile type exif"/"APP1" tEXt, zTXt or iTXt chunk.
func pngBlock(d []byte, warn func(string, ...any)) []byte {
	var fallback []byte
	p := 8
	for p+8 <= len(d) {
		n := uint64(binary.BigEndian.Uint32(d[p:]))
		typ := string(d[p+4 : p+8])
		start := uint64(p + 8)
		if start+n > uint64(len(d)) {
			warn("png: chunk %q runs past the end of the file", typ)
			return fallback
		}
		c := d[start : start+n]
		switch typ {
		case "eXIf":
			return stripExifPrefix(c)
		case "tEXt", "zTXt", "iTXt":
			if fallback == nil {
				fallback = pngRawProfile(typ, c, warn)
			}
		case "IEND":
			return fallback
		}
		p = int(start + n + 4) // + CRC
	}
	return fallback
}

// pngRawProfile decodes ImageMagick's "Raw profile type exif" text chunk:
// "\nexif\n   LEN\nHEX...".
func pngRawProfile(typ string, c []byte, warn func(string, ...any)) []byte {
	k := bytes.IndexByte(c, 0)
	if k < 0 {
		return nil
	}
	key := string(c[:k])
	if key != "Raw profile type exif" && key != "Raw profile type APP1" {
		return nil
	}
	rest := c[k+1:]
	var text []byte
	switch typ {
	case "tEXt":
		text = rest
	case "zTXt":
		if len(rest) < 1 {
			return nil
		}
		text = inflate(rest[1:], warn)
	case "iTXt":
		// compression flag, method, language\0, translated keyword\0, text
		if len(rest) < 2 {
			return nil
		}
		flag := rest[0]
		rest = rest[2:]
		for i := 0; i < 2; i++ {
			j := bytes.IndexByte(rest, 0)
			if j < 0 {
				return nil
			}
			rest = rest[j+1:]
		}
		text = rest
		if flag == 1 {
			text = inflate(rest, warn)
		}
	}
	// Skip the profile name and length lines, then decode the hex digits.
	lines := bytes.SplitN(bytes.TrimLeft(text, "\n"), []byte("\n"), 3)
	if len(lines) < 3 {
		return nil
	}
	digits := make([]byte, 0, len(lines[2]))
	for _, ch := range lines[2] {
		if (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') {
			digits = append(digits, ch)
		}
	}
	raw := make([]byte, len(digits)/2)
	if _, err := hex.Decode(raw, digits[:2*len(raw)]); err != nil {
		warn("png: raw exif profile: %v", err)
		return nil
	}
	if i := bytes.Index(raw, exifPrefix); i >= 0 && i < 16 {
		return raw[i+len(exifPrefix):]
	}
	return raw
}

// inflate decompresses zlib data, bounded by maxInflate.
func inflate(b []byte, warn func(string, ...any)) []byte {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		warn("png: text chunk: %v", err)
		return nil
	}
	out, err := io.ReadAll(io.LimitReader(r, maxInflate))
	if err != nil {
		warn("png: text chunk: %v", err)
	}
	return out
}

// webpBlock returns the payload of the RIFF "EXIF" chunk.
func webpBlock(d []byte, warn func(string, ...any)) []byte {
	p := 12
	for p+8 <= len(d) {
		typ := string(d[p : p+4])
		n := uint64(binary.LittleEndian.Uint32(d[p+4:]))
		start := uint64(p + 8)
		end := start + n
		if end > uint64(len(d)) {
			warn("webp: chunk %q runs past the end of the file", typ)
			if typ != "EXIF" {
				return nil
			}
			end = uint64(len(d))
		}
		if typ == "EXIF" {
			return stripExifPrefix(d[start:end])
		}
		p = int(end + n&1) // chunks are padded to even sizes
	}
	return nil
}

package media

import (
	"bytes"
	"encoding/binary"
)

// Format is an image format identified from content. Its value is a short
// lower-case name suitable for storage ("jpeg", "heic", ...); Unknown is "".
type Format string

// Formats recognised by [Sniff].
const (
	Unknown Format = ""
	JPEG    Format = "jpeg"
	PNG     Format = "png"
	GIF     Format = "gif"
	WebP    Format = "webp"
	TIFF    Format = "tiff"
	BMP     Format = "bmp"
	HEIC    Format = "heic"
	HEIF    Format = "heif"
	AVIF    Format = "avif"
)

// Decodable reports whether this package can decode pixels of the format
// (JPEG, PNG, GIF, WebP, TIFF, BMP). HEIC, HEIF and AVIF are recognised,
// and their size read, but not decoded.
func (f Format) Decodable() bool {
	switch f {
	case JPEG, PNG, GIF, WebP, TIFF, BMP:
		return true
	}
	return false
}

// label is the name used in human-readable messages.
func (f Format) label() string {
	switch f {
	case JPEG:
		return "JPEG"
	case PNG:
		return "PNG"
	case GIF:
		return "GIF"
	case WebP:
		return "WebP"
	case TIFF:
		return "TIFF"
	case BMP:
		return "BMP"
	case HEIC:
		return "HEIC"
	case HEIF:
		return "HEIF"
	case AVIF:
		return "AVIF"
	}
	return "unknown format"
}

// SniffLen is the number of leading bytes [Sniff] looks at; passing more is
// harmless, passing fewer may leave a format unrecognised.
const SniffLen = 64

// Sniff identifies the format from the first bytes of a file (the first
// [SniffLen] bytes are enough) using magic numbers only. It returns Unknown
// for anything it does not recognise, including short or empty input.
func Sniff(head []byte) Format {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return JPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")),
		bytes.HasPrefix(head, []byte("II+\x00")), bytes.HasPrefix(head, []byte("MM\x00+")):
		return TIFF
	case isBMP(head):
		return BMP
	}
	return sniffBMFF(head)
}

// isBMP checks "BM" plus a known DIB header size, because two letters alone
// match too much text.
func isBMP(head []byte) bool {
	if len(head) < 18 || head[0] != 'B' || head[1] != 'M' {
		return false
	}
	switch binary.LittleEndian.Uint32(head[14:18]) {
	case 12, 16, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// sniffBMFF recognises HEIC, HEIF and AVIF from an ISO-BMFF 'ftyp' box.
// The major brand decides; if it is not an image brand, the compatible
// brands are searched (AVIF first, then HEIC, then the generic HEIF ones).
func sniffBMFF(head []byte) Format {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return Unknown
	}
	size := int(binary.BigEndian.Uint32(head[0:4]))
	if size >= 2 && size < 12 { // 0 = to end of file, 1 = 64-bit size follows
		return Unknown
	}
	if f := brandFormat(string(head[8:12])); f != Unknown {
		return f
	}
	end := len(head)
	if size >= 16 && size < end {
		end = size
	}
	var found [3]bool // avif, heic, heif
	for i := 16; i+4 <= end; i += 4 {
		switch brandFormat(string(head[i : i+4])) {
		case AVIF:
			found[0] = true
		case HEIC:
			found[1] = true
		case HEIF:
			found[2] = true
		}
	}
	switch {
	case found[0]:
		return AVIF
	case found[1]:
		return HEIC
	case found[2]:
		return HEIF
	}
	return Unknown
}

func brandFormat(brand string) Format {
	switch brand {
	case "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs":
		return HEIC
	case "avif", "avis", "avio":
		return AVIF
	case "mif1", "msf1", "mif2", "miaf":
		return HEIF
	}
	return Unknown
}

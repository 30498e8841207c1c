// Package hostile generates a release folder of adversarial files for relcat's tests: broken and
// lying image headers, decompression bombs, malformed EXIF blocks, terminal escape sequences in
// metadata and file names, and file-system traps (links, FIFOs, folders named like photos).
//
// It is imported by tests only (cmd/relcat and catalog); no program code may import it. Every file
// is built from scratch here: small JPEGs and PNGs from Go's encoders, EXIF blocks (TIFF header and
// IFDs) assembled byte by byte and spliced into a JPEG as an APP1 segment.
package hostile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Outcomes of a case, as the file record of `relcat ingest --json` reports them.
const (
	New      = "new"      // stored with pixels (thumbnail and perceptual hash); Substr, if set, is in a warning
	NoPixels = "nopixels" // stored with hashes (and EXIF), no pixels; Substr is in a warning
	Rejected = "rejected" // not stored; Substr is in the reason
	NotAFile = "note"     // no file record at all; Substr is in the summary notes
)

// Case is one generated entry of the release folder and its documented outcome.
type Case struct {
	Name    string // relative name in the folder (may hold a newline, escapes, invalid UTF-8)
	What    string // what the entry is, for the README table
	Outcome string // New, NoPixels, Rejected or NotAFile
	Format  string // sniffed format expected in the record ("" for rejected entries without one)
	Substr  string // expected in a warning (New, NoPixels), the reason (Rejected) or a note (NotAFile)
	// Recursive is the outcome under --recursive when it differs (the folder named .jpg).
	Recursive string
}

// LongLen is the length of the long EXIF text value (60 KB; an APP1 segment holds at most 64 KB).
const LongLen = 60 << 10

// Script, ANSI and others are the hostile EXIF strings, for tests that look for them.
const (
	Script = "<script>alert('relcat')</script>"
	ANSI   = "\x1b[31mRED\x1b[0m \x1b]0;owned title\x07 done"
	Bell   = "ring\x07\x07\x07"
	RLO    = "serial \u202egpj.exe"
)

// Build writes the hostile cases into dir (which must exist) and returns them in name order.
// FIFOs and links are created with the system calls; it fails where they are unsupported.
func Build(dir string) ([]Case, error) {
	var cases []Case
	write := func(c Case, data []byte) error {
		cases = append(cases, c)
		return os.WriteFile(filepath.Join(dir, c.Name), data, 0o644)
	}
	seed := 0
	jpg := func() []byte { seed++; return JPEG(64, 48, seed) }

	steps := []func() error{
		func() error {
			return write(Case{Name: "00 empty.jpg", What: "zero-byte file", Outcome: Rejected, Substr: "empty file"}, nil)
		},
		func() error {
			// EXIF intact in APP1, scan data cut in half.
			full := Splice(JPEG(256, 192, 99), TIFF(IFD{Entries: []Entry{ASCII(0x010f, "TruncCam"), ASCII(0x0110, "Model T")}}))
			sos := bytes.LastIndex(full, []byte{0xff, 0xda})
			cut := full[:sos+(len(full)-sos)/2]
			return write(Case{Name: "01 truncated mid-scan.jpg", What: "JPEG cut off mid-scan, EXIF intact", Outcome: NoPixels, Format: "jpeg", Substr: "no thumbnail or perceptual hash"}, cut)
		},
		func() error {
			return write(Case{Name: "02 text.jpg", What: "text file named .jpg", Outcome: Rejected, Substr: "looks like text"},
				[]byte("This is not a photo.\nIt is a note named like one.\n"))
		},
		func() error {
			return write(Case{Name: "03 bomb 60000x60000.png", What: "PNG header claiming 60000x60000", Outcome: NoPixels, Format: "png", Substr: "over the limit of 100 MP"},
				PNGHeader(60000, 60000))
		},
		func() error {
			return write(Case{Name: "04 bomb 65500x65500.jpg", What: "JPEG SOF claiming 65500x65500", Outcome: NoPixels, Format: "jpeg", Substr: "over the limit of 100 MP"},
				SetSOF(jpg(), 65500, 65500))
		},
		func() error {
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, "PastEnd"), {Tag: 0x0110, Type: 2, Count: 40, Off: 0x7fff0000}}})
			return write(Case{Name: "05 exif offset past end.jpg", What: "EXIF value offset past the end of the block", Outcome: New, Format: "jpeg", Substr: "exif"}, Splice(jpg(), t))
		},
		func() error {
			// IFD0's next-IFD link points back at IFD0, and its Exif pointer points at IFD0 too.
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, "LoopCam"), Long(0x8769, 8)}, Next: 8})
			return write(Case{Name: "06 exif ifd loop.jpg", What: "IFD pointing to itself (next link and Exif pointer)", Outcome: New, Format: "jpeg", Substr: "exif"}, Splice(jpg(), t))
		},
		func() error {
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, "CountCam"), {Tag: 0x010e, Type: 2, Count: 1<<31 - 1, Off: 26}}})
			return write(Case{Name: "07 exif count 2^31-1.jpg", What: "tag count 2^31-1", Outcome: New, Format: "jpeg", Substr: "exif"}, Splice(jpg(), t))
		},
		func() error {
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, "GPSZero")}}, IFD{Entries: []Entry{
				ASCII(0x0001, "N"), Rationals(0x0002, 45, 0, 10, 0, 0, 0), ASCII(0x0003, "E"), Rationals(0x0004, 7, 0, 1, 0, 1, 0)}})
			return write(Case{Name: "08 gps zero denominators.jpg", What: "GPS rationals with zero denominators", Outcome: New, Format: "jpeg", Substr: "gps"}, Splice(jpg(), t))
		},
		func() error {
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, "GPSRange")}}, IFD{Entries: []Entry{
				ASCII(0x0001, "N"), Rationals(0x0002, 123, 1, 0, 1, 0, 1), ASCII(0x0003, "E"), Rationals(0x0004, 200, 1, 0, 1, 0, 1)}})
			return write(Case{Name: "09 gps 123N 200E.jpg", What: "GPS 123 N 200 E (out of range)", Outcome: New, Format: "jpeg", Substr: "gps"}, Splice(jpg(), t))
		},
		func() error {
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, "DateCam"), ASCII(0x0132, "0000:00:00 00:00:00")}},
				IFD{Exif: true, Entries: []Entry{ASCII(0x9003, "2019:02:30 25:61:99"), ASCII(0x9004, "9999:99:99 99:99:99"), ASCII(0x9011, "+99:99")}})
			return write(Case{Name: "10 impossible dates.jpg", What: "impossible dates (Feb 30, 25:61:99, zone +99:99)", Outcome: New, Format: "jpeg", Substr: "date"}, Splice(jpg(), t))
		},
		func() error {
			return write(Case{Name: "11 png named.jpg", What: "PNG named .jpg", Outcome: New, Format: "png"}, PNG(40, 30, 11))
		},
		func() error {
			return write(Case{Name: "12 jpeg named.png", What: "JPEG named .png", Outcome: New, Format: "jpeg"}, jpg())
		},
		func() error {
			g := make([]byte, 16<<10)
			x := uint32(2463534242)
			for i := range g {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				g[i] = byte(x)
			}
			return write(Case{Name: "13 garbage after EOI.jpg", What: "16 KB of garbage after EOI", Outcome: New, Format: "jpeg"}, append(jpg(), g...))
		},
		func() error {
			return write(Case{Name: "14 name with  spaces .jpg", What: "file name with spaces", Outcome: New, Format: "jpeg"}, jpg())
		},
		func() error {
			return write(Case{Name: "15 صورة من الإصدار.jpg", What: "Arabic file name", Outcome: New, Format: "jpeg"}, jpg())
		},
		func() error {
			return write(Case{Name: "16 写真 写真.jpg", What: "CJK file name", Outcome: New, Format: "jpeg"}, jpg())
		},
		func() error {
			return write(Case{Name: "17 new\nline.jpg", What: "newline in the file name", Outcome: New, Format: "jpeg"}, jpg())
		},
		func() error {
			return write(Case{Name: "18 \x1b[31mred\x1b]0;title\x07 \u202egpj.jpg", What: "ESC, OSC, BEL and U+202E in the file name", Outcome: New, Format: "jpeg"}, jpg())
		},
		func() error {
			return write(Case{Name: "19 invalid \xff\xfe utf8.jpg", What: "file name that is not UTF-8 (recorded with \\xNN escapes, and a note)", Outcome: New, Format: "jpeg"}, jpg())
		},
		func() error {
			c := Case{Name: "20 symlink loop.jpg", What: "symbolic link to itself", Outcome: Rejected, Substr: "looping symbolic link"}
			cases = append(cases, c)
			return os.Symlink(c.Name, filepath.Join(dir, c.Name))
		},
		func() error {
			c := Case{Name: "21 dangling.jpg", What: "dangling symbolic link", Outcome: Rejected, Substr: "broken or looping symbolic link"}
			cases = append(cases, c)
			return os.Symlink("does-not-exist.jpg", filepath.Join(dir, c.Name))
		},
		func() error {
			c := Case{Name: "22 parent", What: "symbolic link to the parent folder", Outcome: NotAFile, Substr: "symbolic link to a folder, not followed"}
			cases = append(cases, c)
			return os.Symlink("..", filepath.Join(dir, c.Name))
		},
		func() error {
			c := Case{Name: "23 fifo.jpg", What: "FIFO named .jpg", Outcome: Rejected, Substr: "named pipe"}
			cases = append(cases, c)
			return syscall.Mkfifo(filepath.Join(dir, c.Name), 0o644)
		},
		func() error {
			c := Case{Name: "24 folder.jpg", What: "folder named .jpg (holding inner.jpg)", Outcome: NotAFile, Substr: "subfolder(s) skipped", Recursive: New}
			cases = append(cases, c)
			if err := os.Mkdir(filepath.Join(dir, c.Name), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, c.Name, "inner.jpg"), jpg(), 0o644)
		},
		func() error {
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, Script), ASCII(0x0110, ANSI), ASCII(0x0131, Bell), ASCII(0x013b, "<img src=x onerror=alert(1)>")}},
				IFD{Exif: true, Entries: []Entry{ASCII(0xa431, RLO), ASCII(0xa434, "lens \x1b[2J\x1b[H\x9b31m c1")}})
			return write(Case{Name: "25 exif script ansi bel.jpg", What: "EXIF text with <script>, ESC[31m, ESC]0;title BEL, BEL, U+202E, CSI", Outcome: New, Format: "jpeg"}, Splice(jpg(), t))
		},
		func() error {
			long := strings.Repeat("long model \x1b[5m", LongLen/15+1)[:LongLen]
			t := TIFF(IFD{Entries: []Entry{ASCII(0x010f, "LongCam"), ASCII(0x0110, long)}})
			return write(Case{Name: "26 exif 60KB string.jpg", What: "EXIF Model of 60 KB (with escapes)", Outcome: New, Format: "jpeg", Substr: "cut to 4096"}, Splice(jpg(), t))
		},
		func() error {
			// A sparse file past the default 512 MiB size limit: refused before it is read.
			c := Case{Name: "27 sparse 600MB.jpg", What: "600 MB sparse file (JPEG header, then holes)", Outcome: Rejected, Substr: "over the limit of"}
			cases = append(cases, c)
			f, err := os.Create(filepath.Join(dir, c.Name))
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.Write(jpg()); err != nil {
				return err
			}
			return f.Truncate(600 << 20)
		},
		// Small files that cost a decoder or a parser far more than their size (issue 12; full-size
		// versions of the same generators are measured in the README).
		func() error {
			return write(Case{Name: "28 tiff inflate bomb.tif", What: "TIFF 1200x1200 grey whose one deflate strip inflates to 8 bytes a pixel (12 KB file)", Outcome: NoPixels, Format: "tiff", Substr: "decompression bomb"},
				TIFFInflateBomb(1200, 1200, 8*1200*1200))
		},
		func() error {
			return write(Case{Name: "29 wide 100000x1.png", What: "PNG of 100000x1 pixels", Outcome: NoPixels, Format: "png", Substr: "aspect ratio over 1024:1"},
				PNGZeros(100000, 1, true, false))
		},
		func() error {
			return write(Case{Name: "30 exif cross-check bomb.tif", What: "TIFF whose IFD0 has 64 BYTE entries of 200,000 values sharing one offset", Outcome: NoPixels, Format: "tiff", Substr: "no thumbnail"},
				EXIFCrossCheckBomb(64, 200_000))
		},
		func() error {
			return write(Case{Name: "31 png exif cross-check bomb.png", What: "PNG whose eXIf chunk has 64 BYTE entries of 20,000 values sharing one offset", Outcome: New, Format: "png"},
				PNGWithEXIF(EXIFCrossCheckBomb(64, 20_000)))
		},
		func() error {
			return write(Case{Name: "32 heif iloc loop.heic", What: "HEIF whose iloc lists 5,000 items of 65,535 zero-byte extents", Outcome: NoPixels, Format: "heic", Substr: "extents of zero bytes"},
				HEIFIlocLoop(5000, 65535))
		},
		func() error {
			return write(Case{Name: "33 progressive 3000 scans.jpg", What: "progressive JPEG with 3,000 AC scans of a few bytes", Outcome: NoPixels, Format: "jpeg", Substr: "progressive JPEG scans"},
				ProgressiveScans(256, 256, 3000))
		},
		func() error {
			return write(Case{Name: "34 exif raw bloat.tif", What: "TIFF of 4,096 ASCII entries sharing one 4 KB value", Outcome: NoPixels, Format: "tiff", Substr: "raw EXIF kept per image is capped"},
				EXIFRawBloat(4096, 4096, 0))
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return cases, err
		}
	}
	return cases, nil
}

// JPEG encodes a small picture whose content depends on seed (so that every case has its own
// SHA-256 and its own perceptual hash).
func JPEG(w, h, seed int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, picture(w, h, seed), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// PNG encodes a small picture as PNG.
func PNG(w, h, seed int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, picture(w, h, seed)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func picture(w, h, seed int) image.Image {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := uint32(seed)*2654435761 + 1
	// A few random rectangles on a gradient: distinct structure per seed.
	for y := 0; y < h; y++ {
		for i := 0; i < w; i++ {
			m.SetNRGBA(i, y, color.NRGBA{uint8(i * 255 / w), uint8(y * 255 / h), uint8(seed * 37), 255})
		}
	}
	for r := 0; r < 6; r++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		x0, y0 := int(x%uint32(w)), int((x>>8)%uint32(h))
		x1, y1 := x0+w/3, y0+h/3
		c := color.NRGBA{uint8(x >> 3), uint8(x >> 11), uint8(x >> 19), 255}
		for y := y0; y < min(y1, h); y++ {
			for i := x0; i < min(x1, w); i++ {
				m.SetNRGBA(i, y, c)
			}
		}
	}
	return m
}

// ProgressiveJPEG is a valid progressive JPEG of w x h pixels (three components, no chroma
// subsampling) holding only one DC scan of zeros: a grey picture in about w*h*3/512 bytes. Go's
// decoder keeps 4 bytes of coefficients per pixel and component for progressive JPEGs, plus the
// 3-byte-per-pixel image: about 15 bytes per pixel, whatever the file size.
func ProgressiveJPEG(w, h uint16) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xd8})
	b.Write([]byte{0xff, 0xdb, 0, 67, 0}) // DQT 0: all ones
	b.Write(bytes.Repeat([]byte{1}, 64))
	b.Write([]byte{0xff, 0xc2, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0})
	b.Write([]byte{0xff, 0xc4, 0, 20, 0x00, 1}) // DHT DC 0: one 1-bit code for category 0
	b.Write(make([]byte, 15))
	b.WriteByte(0)
	b.Write([]byte{0xff, 0xda, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 0, 0}) // SOS: DC first scan, all components
	mcus := ((int(w) + 7) / 8) * ((int(h) + 7) / 8)
	b.Write(make([]byte, (mcus*3+7)/8))
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// PNGHeader is a PNG signature, an IHDR claiming w x h (8-bit RGBA), a tiny IDAT and IEND.
func PNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	chunk(&b, "IHDR", ihdr)
	chunk(&b, "IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01})
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

func chunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

// SetSOF returns a copy of a JPEG whose SOF0/SOF2 marker claims w x h.
func SetSOF(data []byte, w, h uint16) []byte {
	out := bytes.Clone(data)
	for i := 2; i+9 < len(out); {
		if out[i] != 0xff {
			break
		}
		m := out[i+1]
		n := int(binary.BigEndian.Uint16(out[i+2:]))
		if m == 0xc0 || m == 0xc1 || m == 0xc2 {
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
			return out
		}
		i += 2 + n
	}
	panic("hostile: no SOF marker")
}

// Splice inserts an APP1 Exif segment holding tiff right after the SOI of a JPEG.
func Splice(jpg, tiff []byte) []byte {
	seg := 2 + 6 + len(tiff)
	if seg > 0xffff {
		panic(fmt.Sprintf("hostile: APP1 of %d bytes", seg))
	}
	out := make([]byte, 0, len(jpg)+seg+2)
	out = append(out, jpg[:2]...)
	out = append(out, 0xff, 0xe1, byte(seg>>8), byte(seg))
	out = append(out, "Exif\x00\x00"...)
	out = append(out, tiff...)
	return append(out, jpg[2:]...)
}

// Entry is one IFD entry. When Data is nil and Off is set, Off is written as the value field
// as is (an offset that may point anywhere, or an inline value).
type Entry struct {
	Tag   uint16
	Type  uint16 // 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL
	Count uint32
	Data  []byte
	Off   uint32
}

// ASCII is a NUL-terminated ASCII entry.
func ASCII(tag uint16, s string) Entry {
	return Entry{Tag: tag, Type: 2, Count: uint32(len(s) + 1), Data: append([]byte(s), 0)}
}

// Long is a LONG entry with one inline value.
func Long(tag uint16, v uint32) Entry { return Entry{Tag: tag, Type: 4, Count: 1, Off: v} }

// Rationals is a RATIONAL entry from numerator, denominator pairs.
func Rationals(tag uint16, nd ...uint32) Entry {
	d := make([]byte, 4*len(nd))
	for i, v := range nd {
		binary.LittleEndian.PutUint32(d[4*i:], v)
	}
	return Entry{Tag: tag, Type: 5, Count: uint32(len(nd) / 2), Data: d}
}

// IFD is one image file directory. Next, when not zero, is written as the next-IFD link verbatim.
type IFD struct {
	Entries []Entry
	Next    uint32
	Exif    bool // an Exif sub-IFD (pointed to by 0x8769) rather than GPS (0x8825)
}

// TIFF builds a little-endian TIFF block: IFD0, then optional sub-IFDs, each pointed to from IFD0
// by an Exif (0x8769) or GPS (0x8825) pointer entry added here.
func TIFF(ifd0 IFD, subs ...IFD) []byte {
	for range subs {
		ifd0.Entries = append(ifd0.Entries, Entry{Type: 4, Count: 1}) // patched below
	}
	ifds := append([]IFD{ifd0}, subs...)
	b := []byte("II*\x00\x08\x00\x00\x00")
	starts := make([]int, len(ifds))
	var patches [][2]int // (value field position in b, index of the sub-IFD)
	for k, d := range ifds {
		starts[k] = len(b)
		n := len(d.Entries)
		dataAt := len(b) + 2 + 12*n + 4
		var data []byte
		b = binary.LittleEndian.AppendUint16(b, uint16(n))
		for j, e := range d.Entries {
			if k == 0 && j >= n-len(subs) {
				sub := j - (n - len(subs))
				tag := uint16(0x8825)
				if subs[sub].Exif {
					tag = 0x8769
				}
				b = binary.LittleEndian.AppendUint16(b, tag)
				b = binary.LittleEndian.AppendUint16(b, 4)
				b = binary.LittleEndian.AppendUint32(b, 1)
				patches = append(patches, [2]int{len(b), sub + 1})
				b = binary.LittleEndian.AppendUint32(b, 0)
				continue
			}
			b = binary.LittleEndian.AppendUint16(b, e.Tag)
			b = binary.LittleEndian.AppendUint16(b, e.Type)
			b = binary.LittleEndian.AppendUint32(b, e.Count)
			switch {
			case e.Data == nil:
				b = binary.LittleEndian.AppendUint32(b, e.Off)
			case len(e.Data) <= 4:
				v := make([]byte, 4)
				copy(v, e.Data)
				b = append(b, v...)
			default:
				b = binary.LittleEndian.AppendUint32(b, uint32(dataAt+len(data)))
				data = append(data, e.Data...)
				if len(data)%2 == 1 {
					data = append(data, 0)
				}
			}
		}
		b = binary.LittleEndian.AppendUint32(b, d.Next)
		b = append(b, data...)
	}
	for _, p := range patches {
		binary.LittleEndian.PutUint32(b[p[0]:], uint32(starts[p[1]]))
	}
	return b
}

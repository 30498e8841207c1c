package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ftyp(major string, compat ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(16+4*len(compat)))
	b = append(b, "ftyp"+major+"\x00\x00\x00\x00"...)
	for _, c := range compat {
		b = append(b, c...)
	}
	return append(b, "\x00\x00\x00\x08free"...)
}

func bmpHead(dib uint32) []byte {
	b := []byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00")
	return binary.LittleEndian.AppendUint32(b, dib)
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want Format
	}{
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), JPEG},
		{"jpeg exif", []byte("\xff\xd8\xff\xe1\x12\x34Exif\x00\x00"), JPEG},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), PNG},
		{"gif87a", []byte("GIF87a\x01\x00\x01\x00"), GIF},
		{"gif89a", []byte("GIF89a"), GIF},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), WebP},
		{"tiff le", []byte("II*\x00\x08\x00\x00\x00"), TIFF},
		{"tiff be", []byte("MM\x00*\x00\x00\x00\x08"), TIFF},
		{"bigtiff", []byte("II+\x00\x08\x00\x00\x00"), TIFF},
		{"bmp 40", bmpHead(40), BMP},
		{"bmp 124", bmpHead(124), BMP},
		{"bmp bad dib", bmpHead(1000), Unknown},
		{"text starting BM", []byte("BMW makes cars, and this is a text file."), Unknown},
		{"heic", ftyp("heic", "mif1", "heic"), HEIC},
		{"heix", ftyp("heix", "mif1"), HEIC},
		{"hevc", ftyp("hevc", "msf1"), HEIC},
		{"mif1 major", ftyp("mif1", "mif1", "heic"), HEIF},
		{"msf1 major", ftyp("msf1", "iso8"), HEIF},
		{"avif", ftyp("avif", "mif1", "miaf"), AVIF},
		{"avis", ftyp("avis", "msf1"), AVIF},
		{"unknown major, avif compat", ftyp("isom", "mif1", "avif"), AVIF},
		{"unknown major, heic compat", ftyp("abcd", "heic"), HEIC},
		{"mp4 video", ftyp("mp42", "isom", "mp41"), Unknown},
		{"ftyp size 4", []byte("\x00\x00\x00\x04ftypheic\x00\x00\x00\x00"), Unknown},
		{"truncated jpeg", []byte("\xff\xd8"), Unknown},
		{"truncated png", []byte("\x89PNG\r\n"), Unknown},
		{"truncated gif", []byte("GIF8"), Unknown},
		{"truncated webp", []byte("RIFF\x24\x00\x00\x00WEB"), Unknown},
		{"riff wave", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), Unknown},
		{"truncated ftyp", []byte("\x00\x00\x00\x18ftyp"), Unknown},
		{"truncated bmp", []byte("BM\x00\x00"), Unknown},
		{"text", []byte("hello, world\n"), Unknown},
		{"html", []byte("<!DOCTYPE html><html>"), Unknown},
		{"zeros", make([]byte, 64), Unknown},
		{"one zero", []byte{0}, Unknown},
		{"empty", []byte{}, Unknown},
		{"nil", nil, Unknown},
	}
	for _, tt := range tests {
		if got := Sniff(tt.head); got != tt.want {
			t.Errorf("%s: Sniff(%q) = %q, want %q", tt.name, tt.head, got, tt.want)
		}
	}
}

func TestDecodable(t *testing.T) {
	for f, want := range map[Format]bool{JPEG: true, PNG: true, GIF: true, WebP: true, TIFF: true, BMP: true,
		HEIC: false, HEIF: false, AVIF: false, Unknown: false} {
		if f.Decodable() != want {
			t.Errorf("%q.Decodable() = %v", f, !want)
		}
	}
}

func TestDecodeTestdata(t *testing.T) {
	tests := []struct {
		file    string
		format  Format
		w, h    int
		wantErr error
	}{
		{"Canon_40D.jpg", JPEG, 100, 68, nil},
		{"Canon_PowerShot_S40.jpg", JPEG, 480, 360, nil},
		{"Issue 614.jpg", JPEG, 100, 100, nil}, // progressive
		{"mspaint-8x10.png", PNG, 8, 12, nil},
		{"sampleWithExifData.png", PNG, 256, 256, nil},
		{"pbar-ani-invalid-XMP.gif", GIF, 48, 22, nil},
		{"Arbitro.tiff", TIFF, 174, 38, nil},
		{"Alpha Lossless (2).webp", WebP, 386, 395, nil},
		{"Issue 473 (Java).webp", WebP, 320, 240, nil},
		{"samplefilehub.heif", HEIC, 640, 426, ErrNoDecoder},
		{"32Bit-72dpi-sRGB-800x600.avif", AVIF, 800, 600, ErrNoDecoder},
		{"FailedHash-NoDate-sep-remembory.jpg", JPEG, 0, 0, ErrDecode}, // ends after EXIF
	}
	for _, tt := range tests {
		data := readTestdata(t, tt.file)
		f := Sniff(data)
		if f != tt.format {
			t.Errorf("%s: Sniff = %q, want %q", tt.file, f, tt.format)
			continue
		}
		cfg, cerr := DecodeConfig(data, f)
		img, dcfg, err := Decode(data, f, 4_000_000)
		if cfg != dcfg {
			t.Errorf("%s: DecodeConfig %+v != Decode's config %+v", tt.file, cfg, dcfg)
		}
		if cfg.Width != tt.w || cfg.Height != tt.h || cfg.Format != tt.format {
			t.Errorf("%s: config %+v, want %dx%d %s", tt.file, cfg, tt.w, tt.h, tt.format)
		}
		if tt.wantErr == nil {
			if cerr != nil || err != nil {
				t.Errorf("%s: errors %v / %v", tt.file, cerr, err)
				continue
			}
			b := img.Bounds()
			if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > tt.w || b.Dy() > tt.h {
				t.Errorf("%s: decoded bounds %v for a %dx%d header", tt.file, b, tt.w, tt.h)
			}
			if f != GIF && (b.Dx() != tt.w || b.Dy() != tt.h) {
				t.Errorf("%s: decoded bounds %v, want %dx%d", tt.file, b, tt.w, tt.h)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) || img != nil {
			t.Errorf("%s: Decode error %v (img %v), want %v", tt.file, err, img != nil, tt.wantErr)
		}
	}
}

func TestDecodeGenerated(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 13, 7))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	for i := 3; i < len(src.Pix); i += 4 {
		src.Pix[i] = 255 // opaque: BMP and GIF keep no alpha
	}
	pal := image.NewPaletted(src.Rect, color.Palette{color.Black, color.White, color.NRGBA{200, 10, 30, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	enc := map[Format]func(io.Writer, image.Image) error{
		PNG:  png.Encode,
		BMP:  bmp.Encode,
		TIFF: func(w io.Writer, m image.Image) error { return tiff.Encode(w, m, nil) },
		GIF:  func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) },
		JPEG: func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, &jpeg.Options{Quality: 95}) },
	}
	for f, encode := range enc {
		in := image.Image(src)
		if f == GIF {
			in = pal
		}
		var buf bytes.Buffer
		if err := encode(&buf, in); err != nil {
			t.Fatal(f, err)
		}
		data := buf.Bytes()
		if got := Sniff(data); got != f {
			t.Errorf("Sniff(%s encoder output) = %q", f, got)
		}
		// Unknown: Decode sniffs for itself.
		img, cfg, err := Decode(data, Unknown, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if cfg != (Config{f, 13, 7}) || img.Bounds() != src.Rect {
			t.Errorf("%s: cfg %+v bounds %v", f, cfg, img.Bounds())
		}
		if f == JPEG {
			continue // lossy
		}
		for y := 0; y < 7; y++ {
			for x := 0; x < 13; x++ {
				want := color.NRGBAModel.Convert(in.At(x, y))
				got := color.NRGBAModel.Convert(img.At(x, y))
				if want != got {
					t.Fatalf("%s: pixel (%d,%d) = %v, want %v", f, x, y, got, want)
				}
			}
		}
	}
}

// pngHeader is a PNG signature, a valid IHDR and IEND, and no pixels.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(b, typ...)
		b = append(b, data...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b
}

// jpegSOF is a JPEG with a baseline SOF0 claiming w x h (4:2:0) and an SOS
// with no scan data after it.
func jpegSOF(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0)
	b = append(b, 0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
	return append(b, 0xff, 0xd9)
}

func gifScreen(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, 0x3b)
}

func bmpBomb(w, h int32) []byte {
	b := []byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00")
	b = binary.LittleEndian.AppendUint32(b, 40)
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint16(b, 1)  // planes
	b = binary.LittleEndian.AppendUint16(b, 24) // bpp
	return append(b, make([]byte, 24)...)
}

func webpLossless(w, h uint32) []byte {
	bitsWH := (w - 1) | (h-1)<<14
	chunk := append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, bitsWH)...)
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(chunk)+1))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(chunk)))
	return append(append(b, chunk...), 0)
}

// tiffStrip is a little-endian grey TIFF header claiming w x h.
func tiffStrip(w, h uint32) []byte {
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	entries := []entry{{256, 4, w}, {257, 4, h}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
		{273, 4, 8}, {278, 4, h}, {279, 4, 1}}
	b := []byte("II*\x00\x08\x00\x00\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.typ)
		b = binary.LittleEndian.AppendUint32(b, 1)
		if e.typ == 3 {
			b = binary.LittleEndian.AppendUint16(b, uint16(e.val))
			b = append(b, 0, 0)
		} else {
			b = binary.LittleEndian.AppendUint32(b, e.val)
		}
	}
	return binary.LittleEndian.AppendUint32(b, 0)
}

func bombs() map[string][]byte {
	return map[string][]byte{
		"png 60000x60000":  pngHeader(60000, 60000, 8, 6),
		"jpeg 65500x65500": jpegSOF(65500, 65500),
		"gif 65535x65535":  gifScreen(65535, 65535),
		"bmp 50000x50000":  bmpBomb(50000, 50000),
		"webp 16384x16384": webpLossless(16384, 16384),
		"tiff 100000^2":    tiffStrip(100000, 100000),
		"png 16-bit 6000²": pngHeader(6000, 6000, 16, 6), // 36 MP but 288 MB
		"jpeg 0 height":    jpegSOF(200, 0),
	}
}

func TestBombsRefusedWithoutAllocating(t *testing.T) {
	for name, data := range bombs() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		img, cfg, err := Decode(data, Sniff(data), 40_000_000)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooManyPixels) || img != nil {
			t.Errorf("%s: got %v (cfg %+v), want ErrTooManyPixels", name, err, cfg)
			continue
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 10<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", name, n)
		}
		t.Logf("%s: %v", name, err)
	}
}

// TestAllocMeasurementWorks shows the measurement above can fail: a header
// under the limit makes the JPEG decoder allocate its planes (12 MP 4:2:0 =
// 18 MB) before it finds the scan missing.
func TestAllocMeasurementWorks(t *testing.T) {
	data := jpegSOF(4000, 3000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := Decode(data, JPEG, 100_000_000)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrDecode) {
		t.Fatalf("got %v, want ErrDecode", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n < 10<<20 {
		t.Errorf("allocated only %d bytes; the bomb test's measurement would not see a decode", n)
	}
}

func TestTooManyPixelsMessage(t *testing.T) {
	_, _, err := Decode(pngHeader(60000, 60000, 8, 6), PNG, 100_000_000)
	want := "PNG header claims 60000x60000 pixels (3600 MP), over the limit of 100 MP"
	if err == nil || err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	_, _, err = Decode(pngHeader(6000, 6000, 16, 6), PNG, 40_000_000)
	want = "PNG header claims 6000x6000 pixels at 8 bytes each (288 MB), over the limit of 160 MB"
	if err == nil || err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	// Under the limit the same header goes on to decoding (and fails: no pixels).
	_, _, err = Decode(pngHeader(60, 60, 8, 6), PNG, 100_000_000)
	if !errors.Is(err, ErrDecode) || !strings.HasPrefix(err.Error(), "cannot read PNG pixels: ") {
		t.Errorf("60x60 header only: %v", err)
	}
}

func TestTruncatedJPEG(t *testing.T) {
	data := readTestdata(t, "Canon_PowerShot_S40.jpg")
	for _, n := range []int{len(data) / 2, len(data) - 100, len(data) - 2} {
		img, cfg, err := Decode(data[:n], JPEG, 0)
		if !errors.Is(err, ErrDecode) || img != nil {
			t.Errorf("cut at %d: %v", n, err)
		}
		if cfg != (Config{JPEG, 480, 360}) {
			t.Errorf("cut at %d: cfg %+v", n, cfg)
		}
	}
}

func TestGarbage(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("not an image at all"), make([]byte, 4096)} {
		if _, _, err := Decode(data, Unknown, 0); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("Decode(%.20q) = %v", data, err)
		}
		if _, err := DecodeConfig(data, Unknown); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("DecodeConfig(%.20q) = %v", data, err)
		}
	}
	// Right magic, garbage after it.
	for _, f := range []Format{JPEG, PNG, GIF, WebP, TIFF, BMP} {
		var data []byte
		switch f {
		case JPEG:
			data = []byte("\xff\xd8\xff\xe0garbage")
		case PNG:
			data = []byte("\x89PNG\r\n\x1a\ngarbage")
		case GIF:
			data = []byte("GIF89a\x01")
		case WebP:
			data = []byte("RIFF\x10\x00\x00\x00WEBPVP8 garbage")
		case TIFF:
			data = []byte("II*\x00\xff\xff\xff\xff")
		case BMP:
			data = bmpHead(40)
		}
		if Sniff(data) != f {
			t.Fatalf("test data for %s sniffs as %q", f, Sniff(data))
		}
		if _, _, err := Decode(data, f, 0); !errors.Is(err, ErrDecode) {
			t.Errorf("%s garbage: %v", f, err)
		}
	}
}

func TestHEIFNoDecoder(t *testing.T) {
	data := readTestdata(t, "samplefilehub.heif")
	img, cfg, err := Decode(data, HEIC, 0)
	if img != nil || !errors.Is(err, ErrNoDecoder) || cfg != (Config{HEIC, 640, 426}) {
		t.Errorf("got %v %+v %v", img != nil, cfg, err)
	}
	// Cut anywhere, the box walker must not panic and gives some size or 0x0.
	for n := 0; n < len(data); n += 97 {
		if _, err := DecodeConfig(data[:n], HEIC); err != nil {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
}

func TestDecoderPanicRecovered(t *testing.T) {
	saved := codecs[PNG]
	t.Cleanup(func() { codecs[PNG] = saved })
	data := pngHeader(4, 4, 8, 6)

	codecs[PNG] = codec{saved.config, func(io.Reader) (image.Image, error) { panic("boom") }}
	img, _, err := Decode(data, PNG, 0)
	if img != nil || !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("decode panic: %v", err)
	}
	codecs[PNG] = codec{func(io.Reader) (image.Config, error) { var s []int; _ = s[3]; return image.Config{}, nil }, saved.decode}
	if _, err := DecodeConfig(data, PNG); !errors.Is(err, ErrDecode) {
		t.Errorf("config panic: %v", err)
	}
	if _, _, err := Decode(data, PNG, 0); !errors.Is(err, ErrDecode) {
		t.Errorf("config panic in Decode: %v", err)
	}
}

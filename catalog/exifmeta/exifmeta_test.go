package exifmeta

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustMarshal checks the invariants every Meta must keep.
func mustMarshal(t testing.TB, m Meta) {
	t.Helper()
	if _, err := json.Marshal(m); err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if g := m.GPS; g != nil {
		if math.IsNaN(g.Lat) || math.IsNaN(g.Lon) || math.Abs(g.Lat) > 90 || math.Abs(g.Lon) > 180 || (g.Lat == 0 && g.Lon == 0) {
			t.Fatalf("invalid GPS stored: %+v", *g)
		}
	}
	if m.Orientation < 0 || m.Orientation > 8 {
		t.Fatalf("orientation %d", m.Orientation)
	}
	for k, v := range m.Raw {
		if len(v) > MaxRawValue+64 {
			t.Fatalf("raw %s has %d bytes", k, len(v))
		}
	}
	for _, w := range m.Warnings {
		if strings.Contains(w, "panic") {
			t.Fatalf("panic recovered: %s", w)
		}
	}
}

func hasWarning(m Meta, sub string) bool {
	for _, w := range m.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestTestdataFiles(t *testing.T) {
	tests := []struct {
		file, format           string
		make_, model, software string
		date                   string
		orientation            int
		lat, lon               float64 // 0,0: no GPS expected
		warn                   string
		width, height          int
	}{
		{file: "Kodak_CX7530.jpg", format: "jpeg", make_: "EASTMAN KODAK COMPANY", model: "KODAK CX7530 ZOOM DIGITAL CAMERA",
			software: "GIMP 2.4.5", date: "2005-08-13T09:47:23", orientation: 1, lat: -0.3713, lon: 36.056417, width: 100, height: 78},
		{file: "Kodak DC210.jpg", format: "jpeg", make_: "Eastman Kodak Company", model: "DC210 Zoom (V05.00)",
			date: "2000-10-26T16:46:51", orientation: 1, warn: "entry 0x010e has count 0, skipped"},
		{file: "Issue 609.jpg", format: "jpeg", make_: "OLYMPUS OPTICAL CO.,LTD", model: "C750UZ", software: "GIMP 2.10.30",
			orientation: 1, warn: `datetime_original: impossible date "0000:00:00 00:00:00"`, width: 2288, height: 1712},
		{file: "geodegrees_as_string.jpg", format: "jpeg", make_: "HTC", model: "HTC One_M8", date: "2014-04-26T19:09:19",
			lat: 52.842781, lon: 11.182857},
		{file: "infinite_loop_exif.jpg", format: "jpeg", software: "Adobe Photoshop CS2 Macintosh", orientation: 1,
			warn: "IFD loop", width: 699, height: 702},
		{file: "sampleWithExifData.png", format: "png", software: "Acme-software: 1.0.0.0"},
		{file: "HTC Desire.webp", format: "webp", make_: "HTC", model: "HTC Desire", date: "2011-05-06T09:59:48",
			orientation: 1, lat: 45.500667, lon: 9.110333, width: 776, height: 909},
		{file: "samplefilehub.heif", format: "heif", orientation: 1},
		{file: "32Bit-72dpi-sRGB-800x600.avif", format: "avif", software: "paint.net 5.0.11", orientation: 1, width: 800, height: 600},
		{file: "Arbitro.tiff", format: "tiff", orientation: 1},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			for _, format := range []string{tc.format, ""} {
				m := Read(readTestdata(t, tc.file), format)
				mustMarshal(t, m)
				if !m.Found || m.Stripped() {
					t.Fatalf("EXIF not found (warnings %q)", m.Warnings)
				}
				if m.Make != tc.make_ || m.Model != tc.model || m.Software != tc.software {
					t.Errorf("make/model/software = %q/%q/%q, want %q/%q/%q", m.Make, m.Model, m.Software, tc.make_, tc.model, tc.software)
				}
				if m.DateTimeOriginal != tc.date {
					t.Errorf("datetime_original = %q, want %q", m.DateTimeOriginal, tc.date)
				}
				if m.Orientation != tc.orientation {
					t.Errorf("orientation = %d, want %d", m.Orientation, tc.orientation)
				}
				if m.Width != tc.width || m.Height != tc.height {
					t.Errorf("size = %dx%d, want %dx%d", m.Width, m.Height, tc.width, tc.height)
				}
				switch {
				case tc.lat == 0 && tc.lon == 0 && m.GPS != nil:
					t.Errorf("gps = %+v, want none", *m.GPS)
				case tc.lat != 0 && m.GPS == nil:
					t.Errorf("gps missing, want %v,%v (warnings %q)", tc.lat, tc.lon, m.Warnings)
				case m.GPS != nil && (math.Abs(m.GPS.Lat-tc.lat) > 1e-5 || math.Abs(m.GPS.Lon-tc.lon) > 1e-5):
					t.Errorf("gps = %+v, want %v,%v", *m.GPS, tc.lat, tc.lon)
				}
				if tc.warn != "" && !hasWarning(m, tc.warn) {
					t.Errorf("warnings %q lack %q", m.Warnings, tc.warn)
				}
				if len(m.Raw) == 0 {
					t.Errorf("no raw tags")
				}
			}
		})
	}
}

func TestRawKeys(t *testing.T) {
	m := Read(readTestdata(t, "Kodak_CX7530.jpg"), "jpeg")
	for k, want := range map[string]string{
		"IFD0.Make":             "EASTMAN KODAK COMPANY",
		"IFD0.Orientation":      "1",
		"Exif.DateTimeOriginal": "2005:08:13 09:47:23",
		"GPS.GPSLatitudeRef":    "S",
	} {
		if got := m.Raw[k]; got != want {
			t.Errorf("Raw[%q] = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(m.Raw["GPS.GPSLatitude"], "/") {
		t.Errorf("GPS.GPSLatitude raw = %q, want rationals", m.Raw["GPS.GPSLatitude"])
	}
}

func TestStripped(t *testing.T) {
	for _, data := range [][]byte{nil, {}, []byte("not an image"), {0xff, 0xd8, 0xff, 0xd9}, []byte("GIF89a\x01\x00\x01\x00")} {
		m := Read(data, "")
		mustMarshal(t, m)
		if m.Found || !m.Stripped() {
			t.Errorf("%q: Found = true", data)
		}
	}
	b, _ := json.Marshal(Read(nil, "gif"))
	if string(b) != `{"found":false}` {
		t.Errorf("stripped JSON = %s", b)
	}
}

// normal returns a plain valid block in the given byte order.
func normal(bo order) []byte {
	b := newTIFF(bo)
	return block(bo,
		[]ent{b.ascii(0x010f, "Canon"), b.ascii(0x0110, "EOS 5D  "), b.short(0x0112, 6), b.ascii(0x0131, "fw 1.0\x00\x00  ")},
		[]ent{b.ascii(0x9003, "2019:11:02 07:30:00"), b.ascii(0x9011, "+02:00"), b.long(0xa002, 4000), b.short(0xa003, 3000),
			b.ascii(0xa431, "SN123 "), b.ascii(0xa434, "EF 50mm f/1.8")},
		gpsEnts(bo, "S", []uint32{33, 1, 52, 1, 3000, 100}, "W", []uint32{70, 1, 40, 1, 0, 1}),
	)
}

func TestContainersAndByteOrders(t *testing.T) {
	for _, bo := range []order{le, be} {
		tiff := normal(bo)
		for name, data := range map[string][]byte{
			"tiff":         tiff,
			"jpeg":         wrapJPEG(tiff),
			"png":          wrapPNG(tiff),
			"png-zTXt":     wrapPNGRawProfile(tiff),
			"webp":         wrapWebP(tiff, false),
			"webp-prefix":  wrapWebP(tiff, true),
			"heif":         wrapHEIF(tiff),
			"exif-payload": append(append([]byte(nil), exifPrefix...), tiff...),
		} {
			t.Run(bo.String()+"/"+name, func(t *testing.T) {
				m := Read(data, "")
				mustMarshal(t, m)
				want := Meta{
					Found: true, Make: "Canon", Model: "EOS 5D", Software: "fw 1.0", Serial: "SN123", Lens: "EF 50mm f/1.8",
					DateTimeOriginal: "2019-11-02T07:30:00+02:00", Offset: "+02:00", Orientation: 6,
					Width: 4000, Height: 3000,
				}
				got := m
				got.Raw, got.Warnings, got.GPS = nil, nil, nil
				if !equalMeta(got, want) {
					t.Errorf("got %+v\nwant %+v", got, want)
				}
				if m.GPS == nil || math.Abs(m.GPS.Lat-(-(33+52.0/60+30.0/3600))) > 1e-9 || math.Abs(m.GPS.Lon-(-(70+40.0/60))) > 1e-9 {
					t.Errorf("gps = %+v", m.GPS)
				}
				if len(m.Warnings) != 0 {
					t.Errorf("warnings on a clean block: %q", m.Warnings)
				}
			})
		}
	}
}

func equalMeta(a, b Meta) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestHostileBlocks(t *testing.T) {
	b := newTIFF(le)
	big := strings.Repeat("A", 60*1024)
	hostileStr := "<script>alert(1)</script>\x1b[31mred\x1b[0m\a"
	type tc struct {
		name  string
		data  []byte
		check func(t *testing.T, m Meta)
	}
	selfLoop := func() []byte { // IFD0's next pointer is IFD0
		x := newTIFF(le)
		x.setFirst(8)
		x.ifd([]ent{x.ascii(0x010f, "Loop")}, 8)
		return x.buf
	}
	twoCycle := func() []byte { // IFD0 -> IFD1 -> IFD0, Exif pointer to IFD0
		x := newTIFF(le)
		x.setFirst(8)
		// IFD0 at 8 with 2 entries: 2+24+4 = 30 bytes, IFD1 at 38.
		x.ifd([]ent{x.ascii(0x010f, "Cyc"), x.long(tagExifIFD, 8)}, 38)
		if len(x.buf) != 38 {
			panic("layout")
		}
		x.ifd([]ent{x.short(0x0112, 3)}, 8)
		return x.buf
	}
	manyEntries := func() []byte { // IFD declares 65535 entries in a tiny block
		x := newTIFF(be)
		x.setFirst(8)
		x.buf = append(x.buf, 0xff, 0xff)
		x.buf = append(x.buf, make([]byte, 24)...)
		return x.buf
	}
	cases := []tc{
		{"offset past end", block(le, []ent{
			{tag: 0x010f, typ: tASCII, count: 20, rawOff: off32(0xffffff00)}, b.ascii(0x0110, "Model OK")}, nil, nil),
			func(t *testing.T, m Meta) {
				if m.Make != "" || m.Model != "Model OK" || !hasWarning(m, "points past the end") {
					t.Errorf("make %q model %q warnings %q", m.Make, m.Model, m.Warnings)
				}
			}},
		{"first IFD past end", func() []byte { x := newTIFF(le); x.setFirst(1 << 30); return x.buf }(),
			func(t *testing.T, m Meta) {
				if !m.Found || !hasWarning(m, "past the end") {
					t.Errorf("found %v warnings %q", m.Found, m.Warnings)
				}
			}},
		{"IFD pointing to itself", selfLoop(), func(t *testing.T, m Meta) {
			if m.Make != "Loop" || !hasWarning(m, "IFD loop") {
				t.Errorf("make %q warnings %q", m.Make, m.Warnings)
			}
		}},
		{"IFD two-cycle", twoCycle(), func(t *testing.T, m Meta) {
			// The IFD1 orientation belongs to the thumbnail: not taken.
			if m.Make != "Cyc" || m.Orientation != 0 || !hasWarning(m, "IFD loop") || m.Raw["IFD1.Orientation"] != "3" {
				t.Errorf("make %q orientation %d warnings %q raw %q", m.Make, m.Orientation, m.Warnings, m.Raw)
			}
		}},
		{"65535 entries", manyEntries(), func(t *testing.T, m Meta) {
			if !hasWarning(m, "declares 65535 entries, only 2 fit") {
				t.Errorf("warnings %q", m.Warnings)
			}
		}},
		{"count 2^31-1", block(le, []ent{
			{tag: 0x010f, typ: tASCII, count: 1<<31 - 1, rawOff: off32(8)},
			{tag: 0x0111, typ: tShort, count: 1<<31 - 1, rawOff: off32(8)},
			{tag: 0x011a, typ: tRational, count: 1<<31 - 1, rawOff: off32(8)},
			{tag: 0x011b, typ: tRational, count: 1<<29 + 1, rawOff: off32(8)}, // count*8 wraps in 32 bits
			{tag: 0x0100, typ: tLong, count: 0xffffffff, rawOff: off32(0)},
			b.ascii(0x0110, "still here")}, nil, nil),
			func(t *testing.T, m Meta) {
				if m.Model != "still here" || len(m.Warnings) < 5 {
					t.Errorf("model %q warnings %q", m.Model, m.Warnings)
				}
			}},
		{"count 0 and unknown type", block(le, []ent{
			{tag: 0x010e, typ: tASCII, setCount: true}, {tag: 0x9999, typ: 99, count: 1}, b.ascii(0x010f, "Kept")}, nil, nil),
			func(t *testing.T, m Meta) {
				if m.Make != "Kept" || !hasWarning(m, "entry 0x010e has count 0, skipped") || !hasWarning(m, "unknown type 99") {
					t.Errorf("make %q warnings %q", m.Make, m.Warnings)
				}
			}},
		{"GPS zero denominators", block(le, nil, nil, gpsEnts(le, "N", []uint32{0, 0, 0, 0, 0, 0}, "E", []uint32{5, 0, 1, 1, 1, 1})),
			func(t *testing.T, m Meta) {
				if m.GPS != nil || !hasWarning(m, "not a number (0/0)") {
					t.Errorf("gps %+v warnings %q", m.GPS, m.Warnings)
				}
			}},
		{"GPS infinite longitude", block(le, nil, nil, gpsEnts(le, "N", []uint32{10, 1}, "E", []uint32{5, 0})),
			func(t *testing.T, m Meta) {
				if m.GPS != nil || !hasWarning(m, "longitude is infinite (5/0)") {
					t.Errorf("gps %+v warnings %q", m.GPS, m.Warnings)
				}
			}},
		{"GPS 123 N 200 E", block(le, nil, nil, gpsEnts(le, "N", []uint32{123, 1, 0, 1, 0, 1}, "E", []uint32{200, 1, 0, 1, 0, 1})),
			func(t *testing.T, m Meta) {
				if m.GPS != nil || !hasWarning(m, "gps: latitude 123 out of range") {
					t.Errorf("gps %+v warnings %q", m.GPS, m.Warnings)
				}
			}},
		{"GPS 10 N 200 E", block(le, nil, nil, gpsEnts(le, "N", []uint32{10, 1}, "E", []uint32{200, 1})),
			func(t *testing.T, m Meta) {
				if m.GPS != nil || !hasWarning(m, "gps: longitude 200 out of range") {
					t.Errorf("gps %+v warnings %q", m.GPS, m.Warnings)
				}
			}},
		{"GPS null island", block(le, nil, nil, gpsEnts(le, "N", []uint32{0, 1, 0, 1, 0, 1}, "E", []uint32{0, 1, 0, 1, 0, 1})),
			func(t *testing.T, m Meta) {
				if m.GPS != nil || !hasWarning(m, "gps: position 0,0 (null island) ignored") {
					t.Errorf("gps %+v warnings %q", m.GPS, m.Warnings)
				}
			}},
		{"GPS as text", block(le, nil, nil, []ent{b.ascii(1, "N"), b.ascii(2, "52,00000,50,00000,34,01180"), b.ascii(3, "W"), b.ascii(4, "11.5")}),
			func(t *testing.T, m Meta) {
				if m.GPS == nil || math.Abs(m.GPS.Lat-52.842781) > 1e-6 || m.GPS.Lon != -11.5 {
					t.Errorf("gps %+v warnings %q", m.GPS, m.Warnings)
				}
			}},
		{"hostile strings", block(le, []ent{b.ascii(0x010f, hostileStr), b.ascii(0x0131, big), b.ascii(0x0110, "bad\xff\xfeutf8")}, nil, nil),
			func(t *testing.T, m Meta) {
				if m.Make != hostileStr {
					t.Errorf("make %q, want it kept as data", m.Make)
				}
				if len(m.Software) != MaxRawValue || !hasWarning(m, "software: value of 61440 bytes cut to 4096") {
					t.Errorf("software %d bytes, warnings %q", len(m.Software), m.Warnings)
				}
				if !strings.HasSuffix(m.Raw["IFD0.Software"], "…(truncated, 61440 bytes)") || !hasWarning(m, "raw: IFD0.Software value of 61440 bytes cut") {
					t.Errorf("raw software not marked as cut: %q…", m.Raw["IFD0.Software"][:10])
				}
				if m.Model != "bad\uFFFDutf8" && m.Model != "bad\uFFFD\uFFFDutf8" {
					t.Errorf("model %q", m.Model)
				}
			}},
		{"orientation out of range", block(le, []ent{b.short(0x0112, 9)}, nil, nil),
			func(t *testing.T, m Meta) {
				if m.Orientation != 0 || !hasWarning(m, "orientation: invalid value 9") {
					t.Errorf("orientation %d warnings %q", m.Orientation, m.Warnings)
				}
			}},
		{"huge numeric array", block(le, []ent{b.long(0x0111, make([]uint32, 5000)...)}, nil, nil),
			func(t *testing.T, m Meta) {
				if v := m.Raw["IFD0.StripOffsets"]; !strings.HasSuffix(v, "(truncated, 5000 values)") {
					t.Errorf("raw StripOffsets not cut: %d bytes", len(v))
				}
			}},
	}
	sharedValue := func() []byte { // 2000 entries all pointing at one 4000-byte string
		x := newTIFF(le)
		x.buf = append(x.buf, bytes.Repeat([]byte("A"), 4000)...)
		var ents []ent
		for i := 0; i < 2000; i++ {
			ents = append(ents, ent{tag: uint16(0x1000 + i), typ: tASCII, count: 4000, rawOff: off32(8)})
		}
		x.setFirst(x.ifd(ents, 0))
		return x.buf
	}
	cases = append(cases,
		tc{"raw budget", sharedValue(), func(t *testing.T, m Meta) {
			total := 0
			for k, v := range m.Raw {
				total += len(k) + len(v)
			}
			// The aliases are kept as references to the first entry, all
			// within MaxRaw. Without the cap: 8 MB.
			if total > MaxRaw || !hasWarning(m, "omitted") {
				t.Errorf("raw total %d bytes (limit %d), warnings %q", total, MaxRaw, m.Warnings)
			}
			if v := m.Raw["IFD0.0x1001"]; v != "(same value as IFD0.0x1000)" {
				t.Errorf("alias kept as %.80q", v)
			}
		}},
		tc{"UTF-16 comments", block(le,
			[]ent{{tag: 0x9c9c, typ: tByte, val: []byte("h\x00\xe9\x00l\x00l\x00o\x00\x00\x00")}},
			[]ent{{tag: 0x9286, typ: tUndefined, val: []byte("UNICODE\x00\xfc\x00n\x00\xef\x00")}}, nil),
			func(t *testing.T, m Meta) {
				if m.Raw["IFD0.XPComment"] != "héllo" || m.Raw["Exif.UserComment"] != "ünï" {
					t.Errorf("raw %q", m.Raw)
				}
			}},
		tc{"long bad date quoted short", block(le, nil, []ent{b.ascii(0x9003, strings.Repeat("9", 3000))}, nil),
			func(t *testing.T, m Meta) {
				if m.DateTimeOriginal != "" || len(m.Warnings) != 1 || len(m.Warnings[0]) > 120 {
					t.Errorf("warnings %q", m.Warnings)
				}
			}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, data := range [][]byte{c.data, wrapJPEG(c.data)} {
				if len(data) > 65000 && data[0] == 0xff {
					continue // does not fit one APP1 segment
				}
				m := Read(data, "")
				mustMarshal(t, m)
				if !m.Found {
					t.Fatalf("not found: %q", m.Warnings)
				}
				c.check(t, m)
			}
		})
	}
}

func TestDates(t *testing.T) {
	b := newTIFF(le)
	cases := []struct{ dt, off, want, warn string }{
		{"2019:11:02 07:30:00", "", "2019-11-02T07:30:00", ""},
		{"2019:11:02 07:30:00", "+02:00", "2019-11-02T07:30:00+02:00", ""},
		{"2019:11:02 07:30:00", "-05:30", "2019-11-02T07:30:00-05:30", ""},
		{"2019:11:02 07:30:00", "+00:00", "2019-11-02T07:30:00Z", ""},
		{"2019:11:02 07:30:00", "+2:00", "2019-11-02T07:30:00", "is not ±HH:MM"},
		{"2019:13:01 00:00:00", "", "", "impossible date"},
		{"0000:00:00 00:00:00", "", "", `impossible date "0000:00:00 00:00:00"`},
		{"2019:02:30 10:00:00", "", "", "impossible date"},
		{"2019:02:29 10:00:00", "", "", "impossible date"},
		{"2020:02:29 10:00:00", "", "2020-02-29T10:00:00", ""},
		{"1900:02:29 10:00:00", "", "", "impossible date"},
		{"2000:02:29 10:00:00", "", "2000-02-29T10:00:00", ""},
		{"2019:11:02 24:00:00", "", "", "impossible date"},
		{"2019:11:02 07:60:00", "", "", "impossible date"},
		{"    :  :     :  :  ", "", "", "impossible date"},
		{"yesterday", "", "", "impossible date"},
		{"2019-11-02 07:30:00", "", "2019-11-02T07:30:00", ""},
	}
	for _, c := range cases {
		exifEnts := []ent{b.ascii(0x9003, c.dt)}
		if c.off != "" {
			exifEnts = append(exifEnts, b.ascii(0x9011, c.off))
		}
		m := Read(block(le, nil, exifEnts, nil), "tiff")
		mustMarshal(t, m)
		if m.DateTimeOriginal != c.want {
			t.Errorf("%q %q: got %q, want %q", c.dt, c.off, m.DateTimeOriginal, c.want)
		}
		if c.warn != "" && !hasWarning(m, c.warn) {
			t.Errorf("%q %q: warnings %q lack %q", c.dt, c.off, m.Warnings, c.warn)
		}
		if c.warn == "" && len(m.Warnings) > 0 {
			t.Errorf("%q %q: unexpected warnings %q", c.dt, c.off, m.Warnings)
		}
	}
}

// TestAllocationBound checks that hostile counts do not turn into large
// allocations: total allocation stays within a fixed multiple of the input.
func TestAllocationBound(t *testing.T) {
	b := newTIFF(le)
	data := block(le, []ent{
		{tag: 0x010f, typ: tASCII, count: 1<<31 - 1, rawOff: off32(8)},
		{tag: 0x011a, typ: tRational, count: 1<<29 + 1, rawOff: off32(8)},
		{tag: 0x0111, typ: tShort, count: 1<<31 - 1, rawOff: off32(8)},
		b.long(0x0100, 1),
	}, nil, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		mustMarshal(t, Read(data, ""))
	}
	runtime.ReadMemStats(&after)
	if got := (after.TotalAlloc - before.TotalAlloc) / 10; got > 1<<20 {
		t.Errorf("Read allocated %d bytes per call on a %d-byte input", got, len(data))
	}
}

func TestTruncatedContainers(t *testing.T) {
	// Every prefix of every container must be handled without panic.
	tiff := normal(be)
	for _, data := range [][]byte{wrapJPEG(tiff), wrapPNG(tiff), wrapPNGRawProfile(tiff), wrapWebP(tiff, true), wrapHEIF(tiff), tiff} {
		for n := 0; n <= len(data); n++ {
			mustMarshal(t, Read(data[:n], ""))
		}
	}
}

// TestGoexifGuard checks that goexif only runs on blocks the walker fully
// validated: goexif allocates by declared counts (count*size wraps in 32
// bits) and follows pointer tags wherever it finds them.
func TestGoexifGuard(t *testing.T) {
	b := newTIFF(le)
	hostileDir := func(ptrTag uint16, ptrType uint16) []byte {
		x := newTIFF(le)
		sub := x.ifd([]ent{{tag: 0x0001, typ: tRational, count: 1<<29 + 1, rawOff: off32(8)}}, 0)
		p := x.long(ptrTag, sub)
		if ptrType == tShort {
			p = x.short(ptrTag, uint16(sub), 0)
		}
		x.setFirst(x.ifd([]ent{x.ascii(0x010f, "M"), p}, 0))
		return x.buf
	}
	cases := []struct {
		name string
		data []byte
		safe bool
	}{
		{"normal", normal(le), true},
		{"count 0 entry", block(le, []ent{{tag: 0x010e, typ: tASCII, setCount: true}, b.ascii(0x010f, "K")}, nil, nil), true},
		{"wrapping count", block(le, []ent{{tag: 0x011a, typ: tRational, count: 1<<29 + 1, rawOff: off32(8)}}, nil, nil), false},
		{"Interop pointer in IFD0", hostileDir(tagInteropIFD, tLong), false},
		{"SHORT Exif pointer", hostileDir(tagExifIFD, tShort), false},
		{"Exif pointer", hostileDir(tagExifIFD, tLong), false},
	}
	for _, c := range cases {
		w, ok := walkTIFF(c.data, func(string, ...any) {})
		if !ok {
			t.Fatalf("%s: no TIFF header", c.name)
		}
		if w.goexifSafe != c.safe {
			t.Errorf("%s: goexifSafe = %v, want %v", c.name, w.goexifSafe, c.safe)
		}
		mustMarshal(t, Read(c.data, ""))
	}
}

package exifmeta

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rwcarlsen/goexif/exif"
)

// GPS is a position in signed decimal degrees (south and west negative).
// Only finite, in-range positions other than 0,0 are ever stored.
type GPS struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Meta is the normalised EXIF metadata of one file.
type Meta struct {
	Found            bool              `json:"found"`                       // an EXIF block was found
	Make             string            `json:"make,omitempty"`              // IFD0 Make, else the first other IFD with one
	Model            string            `json:"model,omitempty"`             // likewise
	Serial           string            `json:"serial,omitempty"`            // BodySerialNumber (0xa431), else CameraSerialNumber (0xc62f)
	Lens             string            `json:"lens,omitempty"`              // LensModel (0xa434), else LensMake (0xa433)
	Software         string            `json:"software,omitempty"`          // IFD0 Software, else the first other IFD with one
	DateTimeOriginal string            `json:"datetime_original,omitempty"` // "2019-11-02T07:30:00", plus "+02:00" or "Z" only when the file gives OffsetTimeOriginal
	Offset           string            `json:"offset,omitempty"`            // OffsetTimeOriginal as given ("+02:00"); "" means the zone is unknown (never local time)
	Orientation      int               `json:"orientation,omitempty"`       // 1..8, 0 = absent or invalid
	GPS              *GPS              `json:"gps,omitempty"`               // nil unless finite, in range and not 0,0
	Width            int               `json:"width,omitempty"`             // EXIF PixelXDimension (untrusted, informative)
	Height           int               `json:"height,omitempty"`            // EXIF PixelYDimension
	Raw              map[string]string `json:"raw,omitempty"`               // every tag: "IFD0.Make", "Exif.DateTimeOriginal", "GPS.GPSLatitude", "IFD1.0x1234" -> printable text, capped at MaxRawValue bytes each and MaxRaw in all
	Warnings         []string          `json:"warnings,omitempty"`          // what was odd, skipped or rejected
}

// Stripped reports that the file carries no EXIF block. That is a finding
// about the file, not an error.
func (m Meta) Stripped() bool { return !m.Found }

const (
	// MaxRawValue caps each value in Meta.Raw and each normalised string
	// field, in bytes. Longer values are cut, marked and warned about.
	MaxRawValue = 4096
	// maxWarnings caps Meta.Warnings; a last entry counts the rest.
	maxWarnings = 64
	// maxBinaryShown is the longest binary value rendered as hex in Raw.
	maxBinaryShown = 64
	// maxCrossCheck is the largest block goexif is run on (it copies the
	// block and expands arrays to int64; TIFF files can be large).
	maxCrossCheck = 256 << 10
)

// reader carries the state of one Read.
type reader struct {
	m       *Meta
	dropped int
	w       *walker
	budget  int // bytes Raw may still take (MaxRaw in all)
}

func (r *reader) warn(format string, args ...any) {
	msg := clean(fmt.Sprintf(format, args...))
	for _, w := range r.m.Warnings {
		if w == msg {
			return
		}
	}
	if len(r.m.Warnings) >= maxWarnings {
		r.dropped++
		return
	}
	r.m.Warnings = append(r.m.Warnings, msg)
}

// quote quotes a value from the file for a warning, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(clean(s[:64])) + "…"
	}
	return strconv.Quote(s)
}

// Read extracts EXIF metadata from the bytes of an image file. format is
// the sniffed content type ("jpeg", "png", "webp", "tiff", "heic", "heif",
// "avif", "gif", "bmp" or ""); it is a hint only, the magic bytes decide.
// Read never panics and never trusts counts or offsets from the file.
func Read(data []byte, format string) Meta {
	var m Meta
	r := &reader{m: &m}
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.warn("exif: parser panic: %v", p)
			}
		}()
		r.read(data, format)
	}()
	if r.dropped > 0 {
		m.Warnings = append(m.Warnings, fmt.Sprintf("exif: %d more warnings dropped", r.dropped))
	}
	return m
}

func (r *reader) read(data []byte, format string) {
	block := findBlock(data, format, r.warn)
	if block == nil {
		return
	}
	w, ok := walkTIFF(block, r.warn)
	if !ok {
		r.warn("exif: EXIF block found but it has no valid TIFF header")
		return
	}
	r.m.Found = true
	r.w = w
	r.fields()
	r.raw()
	if w.goexifSafe && len(block) <= maxCrossCheck {
		r.crossCheck()
	}
}

// find returns the first entry with tag in one of the IFDs, trying the
// IFDs in the given order; "*" matches any IFD.
func (r *reader) find(tag uint16, ifds ...string) (entry, bool) {
	for _, ifd := range ifds {
		for _, e := range r.w.entries {
			if e.tag == tag && (ifd == "*" || e.ifd == ifd) {
				return e, true
			}
		}
	}
	return entry{}, false
}

// str returns the first non-empty text of a string-like entry in the
// given IFDs, tried in order ("*" is any IFD). An empty IFD0 value does not
// hide a real one elsewhere (geodegrees_as_string.jpg has Make "\0\0\0"
// in IFD0 and "HTC" in the Exif IFD).
func (r *reader) str(field string, tag uint16, ifds ...string) string {
	for _, ifd := range ifds {
		for _, e := range r.w.entries {
			if e.tag == tag && (ifd == "*" || e.ifd == ifd) {
				if s := r.text(field, e); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// text returns the trimmed, capped, valid UTF-8 text of an entry.
func (r *reader) text(field string, e entry) string {
	tag := e.tag
	switch e.typ {
	case tASCII, tByte, tUndefined:
	default:
		r.warn("%s: tag 0x%04x has type %d, not text; ignored", field, tag, e.typ)
		return ""
	}
	s := e.val
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	s = bytes.TrimRight(s, " \x00")
	if len(s) > MaxRawValue {
		r.warn("%s: value of %d bytes cut to %d", field, len(s), MaxRawValue)
		s = s[:MaxRawValue]
	}
	return clean(string(s))
}

// clean replaces invalid UTF-8.
func clean(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// num returns the first unsigned integer value of an entry.
func (r *reader) num(tag uint16, ifds ...string) (uint64, bool) {
	e, ok := r.find(tag, ifds...)
	if !ok {
		return 0, false
	}
	v := r.w.uints(e, 1)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

func (r *reader) fields() {
	m := r.m
	m.Make = r.str("make", 0x010f, "IFD0", "*")
	m.Model = r.str("model", 0x0110, "IFD0", "*")
	m.Software = r.str("software", 0x0131, "IFD0", "*")
	if m.Serial = r.str("serial", 0xa431, "Exif", "*"); m.Serial == "" {
		m.Serial = r.str("serial", 0xc62f, "IFD0", "*")
	}
	if m.Lens = r.str("lens", 0xa434, "Exif", "*"); m.Lens == "" {
		m.Lens = r.str("lens", 0xa433, "Exif", "*")
	}
	if v, ok := r.num(0x0112, "IFD0"); ok {
		if v >= 1 && v <= 8 {
			m.Orientation = int(v)
		} else {
			r.warn("orientation: invalid value %d ignored", v)
		}
	}
	if v, ok := r.num(0xa002, "Exif"); ok && v <= math.MaxInt32 {
		m.Width = int(v)
	}
	if v, ok := r.num(0xa003, "Exif"); ok && v <= math.MaxInt32 {
		m.Height = int(v)
	}
	if off := r.str("offset", 0x9011, "Exif", "*"); off != "" {
		if validOffset(off) {
			m.Offset = off
		} else {
			r.warn("offset: OffsetTimeOriginal %s is not ±HH:MM, zone unknown", quote(off))
		}
	}
	if dt := r.str("datetime_original", 0x9003, "Exif", "*"); dt != "" {
		if s, ok := normDate(dt); ok {
			switch {
			case m.Offset == "+00:00" || m.Offset == "-00:00":
				s += "Z"
			case m.Offset != "":
				s += m.Offset
			}
			m.DateTimeOriginal = s
		} else {
			r.warn("datetime_original: impossible date %s", quote(dt))
		}
	}
	r.gps()
}

// validOffset checks "+HH:MM" / "-HH:MM".
func validOffset(s string) bool {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	h, err1 := strconv.Atoi(s[1:3])
	mi, err2 := strconv.Atoi(s[4:6])
	return err1 == nil && err2 == nil && isDigits(s[1:3]) && isDigits(s[4:6]) && h <= 23 && mi <= 59
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normDate turns "2019:11:02 07:30:00" into "2019-11-02T07:30:00",
// rejecting impossible calendar dates and times.
func normDate(s string) (string, bool) {
	if len(s) < 19 || strings.TrimSpace(s[19:]) != "" && s[19] != '.' && s[19] != '+' && s[19] != '-' && s[19] != 'Z' {
		return "", false
	}
	s = s[:19]
	if (s[4] != ':' && s[4] != '-') || s[7] != s[4] || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return "", false
	}
	parts := []string{s[0:4], s[5:7], s[8:10], s[11:13], s[14:16], s[17:19]}
	var v [6]int
	for i, p := range parts {
		if !isDigits(p) {
			return "", false
		}
		v[i], _ = strconv.Atoi(p)
	}
	y, mo, d, h, mi, se := v[0], v[1], v[2], v[3], v[4], v[5]
	if y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || se > 59 {
		return "", false
	}
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, se), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// gps sets m.GPS from the GPS IFD when the position is usable.
func (r *reader) gps() {
	latE, okLat := r.find(0x0002, "GPS")
	lonE, okLon := r.find(0x0004, "GPS")
	if !okLat && !okLon {
		return
	}
	if !okLat || !okLon {
		r.warn("gps: latitude or longitude missing, position ignored")
		return
	}
	lat, ok1 := r.coord("latitude", latE, r.str("gps", 0x0001, "GPS"), "S")
	lon, ok2 := r.coord("longitude", lonE, r.str("gps", 0x0003, "GPS"), "W")
	if !ok1 || !ok2 {
		return
	}
	switch {
	case math.Abs(lat) > 90:
		r.warn("gps: latitude %s out of range, position ignored", fmtDeg(lat))
	case math.Abs(lon) > 180:
		r.warn("gps: longitude %s out of range, position ignored", fmtDeg(lon))
	case lat == 0 && lon == 0:
		r.warn("gps: position 0,0 (null island) ignored")
	default:
		r.m.GPS = &GPS{Lat: lat, Lon: lon}
	}
}

func fmtDeg(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// coord converts a GPSLatitude/GPSLongitude entry to signed degrees.
// neg is the reference letter that makes the value negative.
func (r *reader) coord(what string, e entry, ref, neg string) (float64, bool) {
	var v float64
	switch e.typ {
	case tRational, tSRational:
		rs := r.w.rationals(e, 3)
		div := []float64{1, 60, 3600}
		for i, q := range rs {
			if q[1] == 0 {
				if q[0] == 0 {
					r.warn("gps: %s is not a number (0/0), position ignored", what)
				} else {
					r.warn("gps: %s is infinite (%d/0), position ignored", what, q[0])
				}
				return 0, false
			}
			v += float64(q[0]) / float64(q[1]) / div[i]
		}
	case tASCII:
		s := r.text("gps", e)
		f, ok := parseDegreesText(s)
		if !ok {
			r.warn("gps: %s text %s not understood, position ignored", what, quote(s))
			return 0, false
		}
		v = f
	default:
		r.warn("gps: %s has type %d, position ignored", what, e.typ)
		return 0, false
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		r.warn("gps: %s is not finite, position ignored", what)
		return 0, false
	}
	switch strings.ToUpper(strings.TrimSpace(ref)) {
	case neg:
		v = -v
	case "N", "E", "":
	default:
		r.warn("gps: %s reference %s unknown, taken as positive", what, quote(ref))
	}
	return v, true
}

// parseDegreesText reads degrees written as text: "52,00000,50,00000,34,01180"
// (comma decimal marks, as some HTC phones write), "52.0,50.0,34.0118",
// "52,50,34.0118" or a single decimal number.
func parseDegreesText(s string) (float64, bool) {
	parts := strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ';' || c == ' ' })
	var nums []string
	switch len(parts) {
	case 1, 3:
		nums = parts
	case 6:
		nums = []string{parts[0] + "." + parts[1], parts[2] + "." + parts[3], parts[4] + "." + parts[5]}
	case 2:
		nums = []string{parts[0] + "." + parts[1]}
	default:
		return 0, false
	}
	var v float64
	div := []float64{1, 60, 3600}
	for i, p := range nums {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		if i > 0 {
			f = math.Copysign(f, v)
		}
		v += f / div[i]
	}
	return v, true
}

// crossCheck decodes with goexif a small block rebuilt from entries the
// walker already validated (Make and Model of IFD0, the GPS position), and
// warns where goexif disagrees. goexif never sees the file's own block: it
// expands every value of every entry (a BYTE as an int64), so 1,024 entries
// of 200,000 bytes sharing one value cost it 1.6 GB from a 212 KB file.
func (r *reader) crossCheck() {
	defer func() {
		if p := recover(); p != nil {
			r.warn("exif: goexif panic: %v", p)
		}
	}()
	block := r.crossCheckBlock()
	if block == nil {
		return
	}
	x, _ := exif.Decode(bytes.NewReader(block))
	if x == nil {
		return // goexif gave up (count-0 entry, unknown type...); the walker did not
	}
	check := func(field string, name exif.FieldName, mine string) {
		t, err := x.Get(name)
		if err != nil {
			return
		}
		s, err := t.StringVal()
		if err != nil {
			return
		}
		s = clean(strings.TrimRight(s, " \x00"))
		if len(s) > MaxRawValue {
			s = s[:MaxRawValue]
		}
		if s != mine && clean(s) != mine {
			r.warn("exif: goexif reads %s %s, walker %s", field, quote(s), quote(mine))
		}
	}
	// The block carries IFD0's entries only: where IFD0's value is blank the walker took the value
	// of another IFD (a misplaced Make in the Exif IFD), which goexif is not shown.
	blank := func(e entry) bool { return strings.Trim(string(e.val), " \x00") == "" }
	if e, ok := r.find(0x010f, "IFD0"); ok && !blank(e) {
		check("make", exif.Make, r.m.Make)
	}
	if e, ok := r.find(0x0110, "IFD0"); ok && !blank(e) {
		check("model", exif.Model, r.m.Model)
	}
	if r.m.GPS != nil {
		lat, lon, err := x.LatLong()
		if err == nil && (math.Abs(lat-r.m.GPS.Lat) > 1e-6 || math.Abs(lon-r.m.GPS.Lon) > 1e-6) {
			r.warn("exif: goexif reads gps %s,%s, walker %s,%s", fmtDeg(lat), fmtDeg(lon), fmtDeg(r.m.GPS.Lat), fmtDeg(r.m.GPS.Lon))
		}
	}
}

// crossCheckBlock serialises, in the walker's byte order, IFD0 with its
// Make and Model entries (values cut to MaxRawValue) and a GPS IFD with the
// four position entries when Meta has a position: at most about 9 KB.
func (r *reader) crossCheckBlock() []byte {
	bo, _ := r.w.order.(binary.AppendByteOrder)
	if bo == nil {
		return nil
	}
	var ifd0, gps []entry
	for _, tag := range []uint16{0x010f, 0x0110} {
		if e, ok := r.find(tag, "IFD0"); ok {
			ifd0 = append(ifd0, e)
		}
	}
	if r.m.GPS != nil {
		for _, tag := range []uint16{1, 2, 3, 4} {
			if e, ok := r.find(tag, "GPS"); ok {
				gps = append(gps, e)
			}
		}
	}
	if len(ifd0) == 0 && len(gps) == 0 {
		return nil
	}
	n0 := len(ifd0)
	if len(gps) > 0 {
		n0++
	}
	gpsAt := 8 + 2 + 12*n0 + 4
	dataAt := gpsAt
	if len(gps) > 0 {
		dataAt += 2 + 12*len(gps) + 4
	}
	var data []byte
	put := func(b []byte, e entry) []byte {
		val, count := e.val, e.count
		if size := typeSizes[e.typ]; len(val) > MaxRawValue {
			count = uint32(MaxRawValue / size)
			val = val[:uint64(count)*size]
		}
		b = bo.AppendUint16(b, e.tag)
		b = bo.AppendUint16(b, e.typ)
		b = bo.AppendUint32(b, count)
		if len(val) <= 4 {
			return append(b, append(append([]byte(nil), val...), make([]byte, 4-len(val))...)...)
		}
		b = bo.AppendUint32(b, uint32(dataAt+len(data)))
		data = append(data, val...)
		if len(data)%2 == 1 {
			data = append(data, 0)
		}
		return b
	}
	var b []byte
	if r.w.order == binary.ByteOrder(binary.LittleEndian) {
		b = []byte("II*\x00\x08\x00\x00\x00")
	} else {
		b = []byte("MM\x00*\x00\x00\x00\x08")
	}
	b = bo.AppendUint16(b, uint16(n0))
	for _, e := range ifd0 {
		b = put(b, e)
	}
	if len(gps) > 0 {
		b = bo.AppendUint16(b, tagGPSIFD)
		b = bo.AppendUint16(b, tLong)
		b = bo.AppendUint32(b, 1)
		b = bo.AppendUint32(b, uint32(gpsAt))
	}
	b = bo.AppendUint32(b, 0)
	if len(gps) > 0 {
		b = bo.AppendUint16(b, uint16(len(gps)))
		for _, e := range gps {
			b = put(b, e)
		}
		b = bo.AppendUint32(b, 0)
	}
	return append(b, data...)
}

package catalog

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/relcat/relcat/catalog/pdq"
	"github.com/relcat/relcat/catalog/textsafe"
)

// Export formats (ExportWriterOptions.Format).
const (
	FormatJSON     = "json"     // JSON lines: one object per image, every field, both PDQ variants
	FormatCSV      = "csv"      // one row per image, RFC 4180, formula cells neutralised
	FormatExiftool = "exiftool" // a JSON array as `exiftool -json -n -G` prints it, for `exiftool -j=`
	FormatPDQList  = "pdq-list" // "pdq <hex>" lines (python-threatexchange local file bank)
	FormatPDQCSV   = "pdq-csv"  // "hex,quality,name" (Meta's pdq-photo-hasher output)
	FormatTATJSON  = "tat-json" // a JSON array of {hash_digest, algorithm, file_type, created_on, id}
	FormatHMACSV   = "hma-csv"  // signal_type,signal_str,collab,category,tags (Hasher-Matcher-Actioner)
)

// ExportFormats lists every export format.
var ExportFormats = []string{FormatJSON, FormatCSV, FormatExiftool, FormatPDQList, FormatPDQCSV, FormatTATJSON, FormatHMACSV}

// ExportWriterOptions configure an ExportWriter.
type ExportWriterOptions struct {
	Format   string
	Collab   string // hma-csv: the collaboration (bank) name; default "relcat"
	Category string // hma-csv: the category column
}

// ExportStats say what an export wrote.
type ExportStats struct {
	Format  string `json:"format"`
	Images  int    `json:"images"`  // images in the selection
	Written int    `json:"written"` // records written (hash lists: hashes)
	// PDQVariant is the PDQ variant the export holds: pdq-full for hash lists (images without the
	// reference hash are left out and counted in NoReference); "per row" for json and csv, which
	// name the variant of each row; "" for exiftool (no PDQ).
	PDQVariant  string `json:"pdq_variant,omitempty"`
	NoReference int    `json:"no_reference,omitempty"` // hash lists: images left out for lack of the reference PDQ
	NoPDQ       int    `json:"no_pdq,omitempty"`       // images without any perceptual hash
}

// ExportWriter renders export rows in one format.
type ExportWriter struct {
	o     ExportWriterOptions
	w     io.Writer
	csv   *csv.Writer
	first bool
	Stats ExportStats
}

// NewExportWriter starts an export in format o.Format on w (writing any header).
func NewExportWriter(w io.Writer, o ExportWriterOptions) (*ExportWriter, error) {
	if o.Collab == "" {
		o.Collab = "relcat"
	}
	e := &ExportWriter{o: o, w: w, first: true, Stats: ExportStats{Format: o.Format}}
	switch o.Format {
	case FormatJSON, FormatCSV:
		e.Stats.PDQVariant = "per row"
	case FormatExiftool:
	case FormatPDQList, FormatPDQCSV, FormatTATJSON, FormatHMACSV:
		e.Stats.PDQVariant = pdq.VariantFull
	default:
		return nil, fmt.Errorf("%w: export format %q: want one of %s", ErrBadArgument, o.Format, strings.Join(ExportFormats, ", "))
	}
	switch o.Format {
	case FormatCSV:
		e.csv = csv.NewWriter(w)
		return e, e.csvRow(csvHeader)
	case FormatHMACSV:
		e.csv = csv.NewWriter(w)
		return e, e.csvRow([]string{"signal_type", "signal_str", "collab", "category", "tags"})
	case FormatPDQCSV:
		e.csv = csv.NewWriter(w)
	case FormatExiftool, FormatTATJSON:
		_, err := io.WriteString(w, "[")
		return e, err
	}
	return e, nil
}

// Close ends the export (closing a JSON array, flushing CSV).
func (e *ExportWriter) Close() error {
	switch e.o.Format {
	case FormatExiftool, FormatTATJSON:
		end := "]\n"
		if !e.first {
			end = "\n]\n"
		}
		if _, err := io.WriteString(e.w, end); err != nil {
			return err
		}
	}
	if e.csv != nil {
		e.csv.Flush()
		return e.csv.Error()
	}
	return nil
}

// Write renders one row.
func (e *ExportWriter) Write(r ExportRow) error {
	img := r.Image
	e.Stats.Images++
	if img.PDQ == nil && img.PDQRef == nil {
		e.Stats.NoPDQ++
	}
	switch e.o.Format {
	case FormatJSON:
		data, err := json.Marshal(jsonExportRecord(r))
		if err != nil {
			return err
		}
		e.Stats.Written++
		_, err = e.w.Write(append(data, '\n'))
		return err
	case FormatCSV:
		e.Stats.Written++
		return e.csvRow(csvExportRow(r))
	case FormatExiftool:
		e.Stats.Written++
		return e.arrayItem(exiftoolRecord(r))
	}
	// Hash lists: the reference variant only.
	ref := img.PDQRef
	if ref == nil && img.PDQ != nil {
		e.Stats.NoReference++
	}
	switch e.o.Format {
	case FormatPDQList:
		if ref == nil {
			return nil
		}
		e.Stats.Written++
		_, err := fmt.Fprintf(e.w, "pdq %s\n", ref.Hash)
		return err
	case FormatPDQCSV:
		if ref == nil {
			return nil
		}
		e.Stats.Written++
		return e.csvRow([]string{ref.Hash.String(), strconv.Itoa(ref.Quality), oneLine(exportName(r))})
	case FormatTATJSON:
		created := exportTime(img.Ingested)
		items := []tatItem{
			{HashDigest: img.SHA256.String(), Algorithm: "SHA256", FileType: img.Format, CreatedOn: created, ID: "relcat:" + img.SHA256.String() + ":sha256"},
			{HashDigest: img.MD5.String(), Algorithm: "MD5", FileType: img.Format, CreatedOn: created, ID: "relcat:" + img.SHA256.String() + ":md5"},
		}
		if ref != nil {
			items = append(items, tatItem{HashDigest: ref.Hash.String(), Algorithm: "PDQ", FileType: img.Format, CreatedOn: created,
				ID: "relcat:" + img.SHA256.String() + ":pdq", PDQVariant: ref.Variant, PDQQuality: &ref.Quality})
		}
		for _, it := range items {
			e.Stats.Written++
			if err := e.arrayItem(it); err != nil {
				return err
			}
		}
		return nil
	case FormatHMACSV:
		if ref == nil {
			return nil
		}
		e.Stats.Written++
		tags := []string{ref.Variant, "quality-" + strconv.Itoa(ref.Quality)}
		for _, a := range affiliatesOf(r.Sightings) {
			tags = append(tags, "affiliate-"+a)
		}
		return e.csvRow([]string{"pdq", ref.Hash.String(), oneLine(e.o.Collab), oneLine(e.o.Category), oneLine(strings.Join(tags, ","))})
	}
	return nil
}

func (e *ExportWriter) arrayItem(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	sep := ",\n"
	if e.first {
		sep = "\n"
		e.first = false
	}
	_, err = io.WriteString(e.w, sep+string(data))
	return err
}

// csvRow writes one CSV record, every cell neutralised for spreadsheets (csvCell).
func (e *ExportWriter) csvRow(cells []string) error {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = csvCell(c)
	}
	return e.csv.Write(out)
}

// csvCell makes a cell safe to open in a spreadsheet and to print on a terminal, as OWASP's CSV
// injection advice says: a cell starting with = + - @ or a tab or carriage return gets a leading
// "'" so that no spreadsheet evaluates it as a formula (this also applies to negative numbers, which
// then read as text); control characters other than newline and tab, bidirectional overrides and
// invalid UTF-8 are written as visible escapes (\x1b, \u202e). encoding/csv then quotes as
// RFC 4180 says.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	return textsafe.Clean(s, "\n\t")
}

var csvHeader = []string{"sha256", "md5", "size", "format", "width", "height",
	"pdq", "pdq_quality", "pdq_variant", "pdq_work", "pdq_work_quality", "pdq_work_variant",
	"make", "model", "serial", "lens", "software", "datetime_original", "gps_lat", "gps_lon", "orientation",
	"sightings", "first_affiliate", "first_released", "first_batch", "first_name", "affiliates", "batches", "ingested"}

func csvExportRow(r ExportRow) []string {
	img := r.Image
	row := []string{img.SHA256.String(), img.MD5.String(), strconv.FormatInt(img.Size, 10), img.Format, itoaNZ(img.Width), itoaNZ(img.Height)}
	if p := img.SharedPDQ(); p != nil {
		row = append(row, p.Hash.String(), strconv.Itoa(p.Quality), p.Variant)
	} else {
		row = append(row, "", "", "")
	}
	if p := img.PDQ; p != nil {
		row = append(row, p.Hash.String(), strconv.Itoa(p.Quality), p.Variant)
	} else {
		row = append(row, "", "", "")
	}
	m := img.EXIF
	lat, lon := "", ""
	if m.GPS != nil {
		lat, lon = strconv.FormatFloat(m.GPS.Lat, 'f', -1, 64), strconv.FormatFloat(m.GPS.Lon, 'f', -1, 64)
	}
	row = append(row, m.Make, m.Model, m.Serial, m.Lens, m.Software, m.DateTimeOriginal, lat, lon, itoaNZ(m.Orientation))
	row = append(row, strconv.Itoa(len(r.Sightings)))
	if len(r.Sightings) > 0 {
		f := r.Sightings[0]
		row = append(row, f.Affiliate, f.Released.String(), f.Batch.String(), f.Name)
	} else {
		row = append(row, "", "", "", "")
	}
	var batches []string
	seen := map[BatchID]bool{}
	for _, s := range r.Sightings {
		if !seen[s.Batch] {
			seen[s.Batch] = true
			batches = append(batches, s.Batch.String())
		}
	}
	row = append(row, strings.Join(affiliatesOf(r.Sightings), ";"), strings.Join(batches, ";"), exportTime(img.Ingested))
	return row
}

func itoaNZ(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// affiliatesOf lists the distinct affiliates of the sightings, in first-seen order.
func affiliatesOf(ss []Sighting) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s.Affiliate] {
			seen[s.Affiliate] = true
			out = append(out, s.Affiliate)
		}
	}
	return out
}

// exportName is the name an image is listed under: the folder and file name of its first sighting
// ("2019-11-02-sinai/03.jpg"), or its SHA-256 when it has none.
func exportName(r ExportRow) string {
	if len(r.Sightings) == 0 {
		return r.Image.SHA256.String()
	}
	name := r.Sightings[0].Name
	if b := r.Batches[r.Sightings[0].Batch]; b != nil && b.Folder != "" {
		name = b.Folder + "/" + name
	}
	return name
}

type jsonPDQ struct {
	Hash    pdq.Hash `json:"hash"`
	Quality int      `json:"quality"`
	Variant string   `json:"variant"`
}

type jsonSighting struct {
	Batch     BatchID  `json:"batch"`
	Affiliate string   `json:"affiliate"`
	Released  Released `json:"released"`
	Name      string   `json:"name"`
	Position  int      `json:"position"`
}

// jsonExport is one line of the json export. pdq is the shared variant (the reference when stored,
// see pdq_variant); pdq_work is relcat's matching variant.
type jsonExport struct {
	SHA256     SHA256         `json:"sha256"`
	MD5        MD5            `json:"md5"`
	Size       int64          `json:"size"`
	Format     string         `json:"format"`
	Width      int            `json:"width,omitempty"`
	Height     int            `json:"height,omitempty"`
	PDQ        *pdq.Hash      `json:"pdq,omitempty"`
	PDQQuality *int           `json:"pdq_quality,omitempty"`
	PDQVariant string         `json:"pdq_variant,omitempty"`
	PDQWork    *jsonPDQ       `json:"pdq_work,omitempty"`
	EXIF       any            `json:"exif"`
	Sightings  []jsonSighting `json:"sightings"`
	Ingested   string         `json:"ingested"`
	Warnings   []string       `json:"warnings,omitempty"`
}

func jsonExportRecord(r ExportRow) jsonExport {
	img := r.Image
	j := jsonExport{SHA256: img.SHA256, MD5: img.MD5, Size: img.Size, Format: img.Format, Width: img.Width, Height: img.Height,
		EXIF: img.EXIF, Ingested: exportTime(img.Ingested), Warnings: img.Warnings, Sightings: []jsonSighting{}}
	if p := img.SharedPDQ(); p != nil {
		h, q := p.Hash, p.Quality
		j.PDQ, j.PDQQuality, j.PDQVariant = &h, &q, p.Variant
	}
	if p := img.PDQ; p != nil {
		j.PDQWork = &jsonPDQ{p.Hash, p.Quality, p.Variant}
	}
	for _, s := range r.Sightings {
		j.Sightings = append(j.Sightings, jsonSighting{s.Batch, s.Affiliate, s.Released, s.Name, s.Position})
	}
	return j
}

type tatItem struct {
	HashDigest string `json:"hash_digest"`
	Algorithm  string `json:"algorithm"`
	FileType   string `json:"file_type"`
	CreatedOn  string `json:"created_on"`
	ID         string `json:"id"`
	PDQVariant string `json:"pdq_variant,omitempty"` // relcat's addition: which PDQ variant
	PDQQuality *int   `json:"pdq_quality,omitempty"`
}

// exiftoolNumber is what exiftool -json prints as a bare number: an optional minus, an integer
// part without a leading zero (a lone 0 is fine), an optional fraction and exponent.
var exiftoolNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,16})?([eE][-+]?[0-9]{1,3})?$`)

// exiftoolValue gives a text value as exiftool -json does: a bare number when it looks like one
// (exiftool prints "1.00" and "456" unquoted, whatever the tag's type), a string otherwise.
func exiftoolValue(s string) any {
	s = strings.TrimRight(s, " \x00")
	if exiftoolNumber.MatchString(s) {
		return json.Number(s)
	}
	return s
}

// exiftoolRecord is one object of the exiftool export: SourceFile (the folder and name of the first
// sighting, so that `exiftool -j=FILE DIR` run in a folder holding the release folders finds each
// file) and the EXIF group's tags relcat normalises, named and valued as `exiftool -json -n -G`.
func exiftoolRecord(r ExportRow) orderedObject {
	img := r.Image
	src := exportName(r)
	m := img.EXIF
	rec := orderedObject{{"SourceFile", src}}
	put := func(tag string, v any) { rec = append(rec, keyValue{"EXIF:" + tag, v}) }
	set := func(tag, v string) {
		if v != "" {
			put(tag, exiftoolValue(v))
		}
	}
	set("Make", m.Make)
	set("Model", m.Model)
	set("Software", m.Software)
	// exiftool names a tag by its number whatever IFD holds it (a Canon puts 0xa431 in IFD0).
	if m.Serial != "" {
		if rawHasTag(m.Raw, "BodySerialNumber", "0xa431") {
			set("SerialNumber", m.Serial)
		} else {
			set("CameraSerialNumber", m.Serial)
		}
	}
	if m.Lens != "" {
		if rawHasTag(m.Raw, "LensModel", "0xa434") {
			set("LensModel", m.Lens)
		} else {
			set("LensMake", m.Lens)
		}
	}
	if d := m.DateTimeOriginal; len(d) >= 19 {
		set("DateTimeOriginal", strings.ReplaceAll(d[:10], "-", ":")+" "+d[11:19])
	}
	set("OffsetTimeOriginal", m.Offset)
	if m.Orientation > 0 {
		put("Orientation", m.Orientation)
	}
	if m.Width > 0 {
		put("ExifImageWidth", m.Width)
	}
	if m.Height > 0 {
		put("ExifImageHeight", m.Height)
	}
	if g := m.GPS; g != nil {
		latRef, lonRef := "N", "E"
		lat, lon := g.Lat, g.Lon
		if lat < 0 {
			latRef, lat = "S", -lat
		}
		if lon < 0 {
			lonRef, lon = "W", -lon
		}
		put("GPSLatitudeRef", latRef)
		put("GPSLatitude", json.Number(strconv.FormatFloat(lat, 'f', -1, 64)))
		put("GPSLongitudeRef", lonRef)
		put("GPSLongitude", json.Number(strconv.FormatFloat(lon, 'f', -1, 64)))
	}
	return rec
}

type keyValue struct {
	Key   string
	Value any
}

// orderedObject is a JSON object whose keys keep their order (SourceFile first, as exiftool).
type orderedObject []keyValue

// MarshalJSON writes the members in order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	for i, kv := range o {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, err := json.Marshal(kv.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, err
		}
		buf = append(append(append(buf, k...), ':'), v...)
	}
	return append(buf, '}'), nil
}

// rawHasTag reports whether any IFD of raw holds the tag, under its name or its number.
func rawHasTag(raw map[string]string, name, number string) bool {
	for k := range raw {
		if strings.HasSuffix(k, "."+name) || strings.HasSuffix(k, "."+number) {
			return true
		}
	}
	return false
}

// oneLine keeps a hash-list cell on one line (line-oriented readers, Meta's and relcat's, read a
// record per line): a newline is written as a visible \x0a.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", `\x0a`), "\r", `\x0d`)
}

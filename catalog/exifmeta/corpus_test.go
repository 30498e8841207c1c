package exifmeta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// corpusDir returns the shared corpus folder from RELCAT_CORPUS (absolute,
// or relative to the repository root), skipping when it is unset and
// failing when it is set but missing.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RELCAT_CORPUS")
	if dir == "" {
		t.Skip("RELCAT_CORPUS not set")
	}
	if !filepath.IsAbs(dir) {
		root, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatalf("RELCAT_CORPUS=%q is relative but no go.mod found above the test", dir)
			}
			root = parent
		}
		dir = filepath.Join(root, dir)
	}
	if fi, err := os.Stat(filepath.Join(dir, "real")); err != nil || !fi.IsDir() {
		t.Fatalf("RELCAT_CORPUS=%q: corpus folder missing (%v)", dir, err)
	}
	return dir
}

// exceptions lists, per corpus file (relative to corpus/real) and field,
// why exiftool's value is not the truth there.
var exceptions = map[string]map[string]string{}

func init() {
	sep := "goexif sample JPEG cut off right after the EXIF segment; exiftool gives up (JPEG format error) and prints no tags, goexif and we read the EXIF"
	for _, f := range []string{
		"goexif/exif/samples/2004-01-11-22-45-15-sep-2004-01-11-22-45-15a.jpg",
		"goexif/exif/samples/2011-05-07-13-02-49-sep-2011-05-07-13-02-49a.jpg",
		"goexif/exif/samples/2012-12-19-21-38-40-sep-temple_square1.jpg",
		"goexif/exif/samples/2099-08-12-19-59-29-sep-2099-08-12-19-59-29a.jpg",
		"goexif/exif/samples/2216-11-15-11-46-51-sep-2216-11-15-11-46-51a.jpg",
		"goexif/exif/samples/FailedHash-NoDate-sep-remembory.jpg",
	} {
		exceptions[f] = map[string]string{"*": sep}
	}
	cut := "goexif corrupt sample cut at 65536 bytes; exiftool gives up (JPEG format error) and prints no EXIF, we read the intact IFD0/GPS and skip the bad entries with warnings"
	exceptions["goexif/exif/corrupt/huge_tag_exif.jpg"] = map[string]string{"*": cut}
	exceptions["goexif/exif/corrupt/max_uint32_exif.jpg"] = map[string]string{"*": cut}
	exceptions["metadata-extractor-images/jpg/Nikon D5000.jpg"] = map[string]string{
		"orientation": "Orientation is only in IFD1, the thumbnail's IFD; exiftool shows it as EXIF:Orientation, but it does not describe the main image (MANIFEST.tsv also leaves it blank)",
	}
	exceptions["goexif/exif/samples/geodegrees_as_string.jpg"] = map[string]string{
		"make": "IFD0 Make is three NULs and the Exif IFD carries Make \"HTC\" (misplaced); exiftool shows the empty IFD0 one, we take the first non-empty value (goexif and MANIFEST.tsv also give HTC)",
		"gps":  "GPS written as ASCII with comma decimals (52,00000,50,00000,34,01180): exiftool reads 52.013889, the text means 52.842781",
	}
}

func loadExifTool(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reference missing: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var recs []map[string]any
	if err := dec.Decode(&recs); err != nil || len(recs) != 1 {
		t.Fatalf("%s: %v (%d records)", path, err, len(recs))
	}
	return recs[0]
}

// literal returns exiftool's value as text (numbers keep their literal
// form thanks to UseNumber), trimmed like Meta's strings.
func literal(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return strings.TrimRight(x, " \x00"), true
	case json.Number:
		return x.String(), true
	default:
		return fmt.Sprint(x), true
	}
}

// wantDate converts exiftool's DateTimeOriginal to Meta's form, or "" when
// the date is impossible (so Meta must omit it).
func wantDate(s, offset string) string {
	tm, err := time.Parse("2006:01:02 15:04:05", s)
	if err != nil || tm.Year() < 1 {
		return ""
	}
	out := tm.Format("2006-01-02T15:04:05")
	switch offset {
	case "":
	case "+00:00", "-00:00":
		out += "Z"
	default:
		out += offset
	}
	return out
}

func TestCorpusConformance(t *testing.T) {
	dir := corpusDir(t)
	realDir := filepath.Join(dir, "real")
	var files []string
	err := filepath.WalkDir(realDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files under %s", realDir)
	}
	sort.Strings(files)
	var compared, matched, excepted, mismatched, nullIslands, containers, crossChecked int
	for _, p := range files {
		rel, _ := filepath.Rel(realDir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := Read(data, "")
		if _, err := json.Marshal(m); err != nil {
			t.Errorf("%s: Meta does not marshal: %v", rel, err)
		}
		for _, w := range m.Warnings {
			// goexif runs as a cross-check; on this corpus it must agree.
			if strings.Contains(w, "panic") || strings.Contains(w, "goexif reads") {
				t.Errorf("%s: %s", rel, w)
			}
		}
		if blk := findBlock(data, "", func(string, ...any) {}); blk != nil {
			if w, ok := walkTIFF(blk, func(string, ...any) {}); ok && w.goexifSafe && len(blk) <= maxCrossCheck {
				crossChecked++
			}
		}
		ref := loadExifTool(t, filepath.Join(dir, "exiftool", rel+".json"))
		exc := exceptions[rel]
		if exc["*"] != "" {
			excepted++
			if !m.Found || len(m.Raw) == 0 {
				t.Errorf("%s: EXIF not read (warnings %q)", rel, m.Warnings)
			}
			t.Logf("exception %s: %s (we read make=%q found=%v)", rel, exc["*"], m.Make, m.Found)
			continue
		}
		compared++
		hasExif := false
		for k := range ref {
			if strings.HasPrefix(k, "EXIF:") {
				hasExif = true
			}
		}
		str := func(k string) string { s, _ := literal(ref[k]); return s }
		offset := str("EXIF:OffsetTimeOriginal")
		wantOrient := str("EXIF:Orientation")
		if wantOrient == "" {
			wantOrient = "0"
		}
		var wantGPS, gotGPS string
		nullIsland := false
		if la, ok := literal(ref["Composite:GPSLatitude"]); ok {
			lo, _ := literal(ref["Composite:GPSLongitude"])
			var lat, lon float64
			fmt.Sscan(la, &lat)
			fmt.Sscan(lo, &lon)
			nullIsland = lat == 0 && lon == 0
			if !nullIsland {
				wantGPS = fmt.Sprintf("%.5f,%.5f", lat, lon)
			}
		}
		if m.GPS != nil {
			gotGPS = fmt.Sprintf("%.5f,%.5f", m.GPS.Lat, m.GPS.Lon)
			if wantGPS != "" {
				var lat, lon float64
				fmt.Sscanf(wantGPS, "%f,%f", &lat, &lon)
				if math.Abs(lat-m.GPS.Lat) <= 1e-5 && math.Abs(lon-m.GPS.Lon) <= 1e-5 {
					gotGPS = wantGPS
				}
			}
		}
		checks := []struct{ field, want, got string }{
			{"found", fmt.Sprint(hasExif), fmt.Sprint(m.Found)},
			{"make", str("EXIF:Make"), m.Make},
			{"model", str("EXIF:Model"), m.Model},
			{"software", str("EXIF:Software"), m.Software},
			{"orientation", wantOrient, fmt.Sprint(m.Orientation)},
			{"datetime_original", wantDate(str("EXIF:DateTimeOriginal"), offset), m.DateTimeOriginal},
			{"gps", wantGPS, gotGPS},
			{"lens", firstOf(str("EXIF:LensModel"), str("EXIF:LensMake")), m.Lens},
			{"serial", str("EXIF:SerialNumber"), m.Serial},
			{"offset", offset, m.Offset},
			// Kodak_CX7530.jpg stores PixelXDimension with count 2 ("100 0"): the first value counts.
			{"width", firstField(str("EXIF:ExifImageWidth")), fmt.Sprint(m.Width)},
			{"height", firstField(str("EXIF:ExifImageHeight")), fmt.Sprint(m.Height)},
		}
		if nullIsland {
			found := false
			for _, w := range m.Warnings {
				// exiftool turns 0/0 rationals into 0 (Nikon D5000.jpg); we say NaN
				found = found || strings.HasPrefix(w, "gps: ")
			}
			if !found {
				t.Errorf("%s: exiftool gives 0,0 but no gps warning: %q", rel, m.Warnings)
			}
			nullIslands++
		}
		if ext := strings.ToLower(filepath.Ext(rel)); ext != ".jpg" && ext != ".jpeg" && str("EXIF:Make") != "" {
			if !m.Found || m.Make != str("EXIF:Make") {
				t.Errorf("%s: EXIF in a %s container not found (found=%v make=%q)", rel, ext, m.Found, m.Make)
			} else {
				containers++
			}
		}
		for _, c := range checks {
			if c.want == c.got {
				matched++
				continue
			}
			if why := exc[c.field]; why != "" {
				excepted++
				t.Logf("exception %s %s: exiftool %q, we %q: %s", rel, c.field, c.want, c.got, why)
				continue
			}
			mismatched++
			w := m.Warnings
			if len(w) > 3 {
				w = w[:3]
			}
			t.Errorf("%s %s: exiftool %q, we %q (first warnings %q)", rel, c.field, c.want, c.got, w)
		}
	}
	t.Logf("corpus: %d files compared (12 fields each), %d fields matched, %d mismatched, %d exceptions; %d null-island files flagged; %d non-JPEG files with EXIF Make found", compared, matched, mismatched, excepted, nullIslands, containers)
	t.Logf("goexif cross-checked %d of %d files with no disagreement", crossChecked, len(files))
	if containers < 4 { // two HEIC, two WebP in the corpus
		t.Errorf("only %d PNG/WebP/HEIF/TIFF files with EXIF Make found, want 4", containers)
	}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// firstField returns the first blank-separated value, "0" for none.
func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return "0"
}

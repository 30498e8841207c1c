package catalog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog/exifmeta"
)

func flagCodes(f Forensics) string {
	var cs []string
	for _, fl := range f.Flags {
		cs = append(cs, fl.Code)
	}
	return strings.Join(cs, ",")
}

// TestForensicCuesOnSamples checks the cues of the demo releases against what samples/README.md
// says was done to each file.
func TestForensicCuesOnSamples(t *testing.T) {
	c := openTest(t)
	sums := ingestSamples(t, c)
	got := map[string]Forensics{}
	for dir, s := range sums {
		for _, f := range s.Files {
			d, err := c.Image(*f.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			got[dir+"/"+f.Name] = ForensicCues(d.Image, d.Sightings)
		}
	}
	for name, want := range map[string]string{
		"2019-11-02-sinai/01-receipt.jpg":        "",
		"2019-11-02-sinai/02-antennas.jpg":       "resized,edited",                 // EXIF 2400x1600, pixels 600x400; Photoshop 7.0
		"2019-11-02-sinai/07-railway.jpg":        "resized,edited,gps_implausible", // Adobe Bridge CS5, empty GPS rationals
		"2019-11-02-sinai/11-throne.jpg":         "edited",                         // Opanda PowerExif
		"2019-11-05-khorasan/07-ship.jpg":        "stripped",
		"2020-01-14-west-africa/06-parking.webp": "",
	} {
		if g := flagCodes(got[name]); g != want {
			t.Errorf("%s: flags %q, want %q (%+v)", name, g, want, got[name])
		}
	}
	a := got["2019-11-02-sinai/02-antennas.jpg"]
	if a.Artist != "Ian Britton" || a.Copyright != "ian Britton - FreeFoto.com" || a.Description != "Communications" {
		t.Errorf("antennas: %+v", a)
	}
	if a.Taken != "2002-07-13T15:58:28" || a.Zone != "unknown" {
		t.Errorf("antennas taken %q zone %q", a.Taken, a.Zone)
	}
	if th := got["2019-11-02-sinai/11-throne.jpg"]; th.UserComment != "taken at basilica of chinese" {
		t.Errorf("throne user comment %q", th.UserComment)
	}
}

// TestForensicDateAfterRelease: a photo taken after its first release is flagged, with the
// allowances for an unknown zone and a bare release date.
func TestForensicDateAfterRelease(t *testing.T) {
	day := func(s string) Released {
		r, err := ParseReleased(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	img := func(taken, off string) *Image {
		return &Image{EXIF: exifmeta.Meta{Found: true, DateTimeOriginal: taken, Offset: off}}
	}
	for _, tc := range []struct {
		taken, off, released string
		want                 bool
	}{
		{"2019-11-03T10:00:00", "", "2019-11-02", false},        // unknown zone: could be 2019-11-02T20:00Z, inside the release day
		{"2019-11-03T15:00:00", "", "2019-11-02", true},         // even at UTC+14 it is 2019-11-03T01:00Z
		{"2019-11-02T23:00:00Z", "+00:00", "2019-11-02", false}, // same day as a bare release date
		{"2019-11-02T08:00:00Z", "+00:00", "2019-11-02T07:30:00Z", true},
		{"2019-11-02T09:00:00+03:00", "+03:00", "2019-11-02T07:30:00Z", false}, // 06:00Z
		{"2018-01-01T00:00:00", "", "2019-11-02", false},
	} {
		f := ForensicCues(img(tc.taken, tc.off), []Sighting{{Affiliate: "is-x", Released: day(tc.released)}})
		if f.Has(FlagDateAfterRelease) != tc.want {
			t.Errorf("taken %s released %s: flagged %v, want %v (%+v)", tc.taken, tc.released, !tc.want, tc.want, f.Flags)
		}
	}
	// The earliest sighting counts, whatever the order given.
	f := ForensicCues(img("2019-12-01T00:00:00", ""), []Sighting{
		{Affiliate: "late", Released: day("2020-01-01"), Ingested: time.Unix(1, 0)},
		{Affiliate: "early", Released: day("2019-11-02"), Ingested: time.Unix(2, 0)},
	})
	if !f.Has(FlagDateAfterRelease) || !strings.Contains(f.Flags[0].Detail, "early") {
		t.Errorf("earliest sighting not used: %+v", f.Flags)
	}
}

// TestForensicCuesOnCorpus holds the cues against exiftool's reading of every corpus file: Artist,
// Copyright and ImageDescription agree, "edited" follows the Software tag, "stripped" follows the
// presence of EXIF, and the GPS traps (0,0 and empty GPS IFDs) are flagged implausible.
func TestForensicCuesOnCorpus(t *testing.T) {
	corpus := corpusDir(t)
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan()
	gpsTraps := map[string]bool{} // 0,0 by exiftool's reading
	flagged := map[string]bool{}
	n := 0
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		rel := strings.TrimPrefix(cols[0], "corpus/")
		data, err := os.ReadFile(filepath.Join(corpus, rel))
		if err != nil {
			t.Fatal(err)
		}
		ref := exiftoolTags(t, filepath.Join(corpus, "exiftool", strings.TrimPrefix(rel, "real/")+".json"))
		m := exifmeta.Read(data, "")
		img := &Image{EXIF: m}
		fc := ForensicCues(img, nil)
		n++
		for _, kv := range []struct{ tag, got string }{{"EXIF:Artist", fc.Artist}, {"EXIF:Copyright", fc.Copyright}, {"EXIF:ImageDescription", fc.Description}} {
			if want := strings.TrimSpace(ref[kv.tag]); want != "" && want != kv.got {
				t.Errorf("%s: %s %q, exiftool %q", rel, kv.tag, kv.got, want)
			}
		}
		if sw := ref["EXIF:Software"]; sw != "" {
			if wantEd := editorIn(sw) != ""; wantEd != fc.Has(FlagEdited) {
				t.Errorf("%s: software %q: edited %v", rel, sw, fc.Has(FlagEdited))
			}
		}
		if fc.Has(FlagGPSImplausible) {
			flagged[filepath.Base(rel)] = true
		}
		if ref["Composite:GPSLatitude"] == "0" && ref["Composite:GPSLongitude"] == "0" {
			gpsTraps[filepath.Base(rel)] = true
		}
		if fc.Has(FlagStripped) && (ref["EXIF:Make"] != "" || ref["EXIF:Software"] != "" || ref["EXIF:DateTimeOriginal"] != "") {
			t.Errorf("%s: flagged stripped, exiftool reads EXIF tags", rel)
		}
	}
	if n != 118 {
		t.Fatalf("read %d corpus files, want 118", n)
	}
	// Nikon D5000.jpg has empty GPS rationals (0/0); the -sep- file is cut after its EXIF, so
	// exiftool reads nothing there, but its GPS IFD holds 0/1 0/1 0/100 twice: 0,0 again.
	// 45-gps_ifd.jpg has an empty GPS IFD: no position is claimed, so nothing is implausible.
	gpsTraps["Nikon D5000.jpg"] = true
	gpsTraps["2011-05-07-13-02-49-sep-2011-05-07-13-02-49a.jpg"] = true
	for name := range gpsTraps {
		if !flagged[name] {
			t.Errorf("%s: GPS trap not flagged implausible", name)
		}
	}
	for name := range flagged {
		if !gpsTraps[name] {
			t.Errorf("%s: flagged GPS implausible, not a known trap", name)
		}
	}
	if flagged["45-gps_ifd.jpg"] {
		t.Errorf("45-gps_ifd.jpg: an empty GPS IFD claims no position")
	}
}

// exiftoolTags reads one exiftool JSON file as literal text values (exiftool writes numbers bare).
func exiftoolTags(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]json.RawMessage
	if err := json.Unmarshal(data, &recs); err != nil || len(recs) != 1 {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	for k, v := range recs[0] {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		out[k] = string(bytes.TrimSpace(v))
	}
	return out
}

package catalog

import (
	"fmt"
	"strings"
	"time"
)

// Forensic flag codes (Flag.Code). Each is a cue for an investigator, not a verdict.
const (
	// FlagResized: the EXIF pixel size (PixelXDimension x PixelYDimension) differs from the real
	// pixel size (a swap of the two counts as the same size: some tools rotate the pixels).
	FlagResized = "resized"
	// FlagEdited: the Software tag names an image editor or a metadata editor (see Editors).
	FlagEdited = "edited"
	// FlagStripped: the file carries no EXIF block at all.
	FlagStripped = "stripped"
	// FlagGPSImplausible: the file has GPS latitude/longitude tags but no usable position:
	// 0,0 ("null island"), out of range, not a number, empty or unreadable.
	FlagGPSImplausible = "gps_implausible"
	// FlagDateAfterRelease: the photo was taken (DateTimeOriginal) after the first release that
	// published it, with every allowance made for an unknown zone (±14 h) and for a release given as
	// a bare date (the whole day counts).
	FlagDateAfterRelease = "date_after_release"
)

// Editors are the lowercase name fragments that make a Software tag count as "edited". Camera
// firmware versions ("Ver.1.00", "4.1"), phone operating systems and camera makers' own tools are
// not in the list.
var Editors = []string{
	"photoshop", "adobe", "lightroom", "gimp", "snapseed", "picsart", "paint.net", "pixelmator",
	"affinity photo", "capture one", "acdsee", "picasa", "canva", "facetune", "vsco", "photoscape",
	"irfanview", "fotor", "luminar", "darktable", "rawtherapee", "photodirector", "powerexif",
	"exiftool", "exifpro", "photofiltre", "corel", "paintshop", "inpixio", "photopea", "meitu",
}

// Flag is one forensic cue.
type Flag struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Forensics is what an image's metadata gives away: who made or owns it, what it says about itself,
// when it was taken, and the cues that the file was altered or its metadata is not to be trusted.
type Forensics struct {
	Artist      string `json:"artist,omitempty"`
	Copyright   string `json:"copyright,omitempty"`
	Description string `json:"image_description,omitempty"`
	UserComment string `json:"user_comment,omitempty"`
	// Taken is DateTimeOriginal as normalised by exifmeta, with its offset when the file gives one.
	Taken string `json:"taken,omitempty"`
	// Zone is OffsetTimeOriginal ("+02:00") or "unknown" when Taken has no zone.
	Zone  string `json:"zone,omitempty"`
	Flags []Flag `json:"flags"`
}

// Has reports whether the flag code is set.
func (f Forensics) Has(code string) bool {
	for _, fl := range f.Flags {
		if fl.Code == code {
			return true
		}
	}
	return false
}

// ForensicCues computes the forensic cues of an image from its stored record and its sightings (for
// "date after release": the earliest sighting is its first release). It reads nothing else.
func ForensicCues(img *Image, sightings []Sighting) Forensics {
	m := img.EXIF
	f := Forensics{Flags: []Flag{}}
	f.Artist = rawText(m.Raw, "IFD0.Artist", "IFD0.XPAuthor")
	f.Copyright = rawText(m.Raw, "IFD0.Copyright")
	f.Description = rawText(m.Raw, "IFD0.ImageDescription", "IFD0.XPTitle")
	f.UserComment = rawText(m.Raw, "Exif.UserComment", "IFD0.XPComment")
	if m.DateTimeOriginal != "" {
		f.Taken = m.DateTimeOriginal
		f.Zone = m.Offset
		if f.Zone == "" {
			f.Zone = "unknown"
		}
	}
	if m.Stripped() {
		f.Flags = append(f.Flags, Flag{FlagStripped, "no EXIF metadata in the file"})
	}
	if m.Width > 0 && m.Height > 0 && img.Width > 0 && img.Height > 0 &&
		!(m.Width == img.Width && m.Height == img.Height) && !(m.Width == img.Height && m.Height == img.Width) {
		f.Flags = append(f.Flags, Flag{FlagResized, fmt.Sprintf("EXIF says %dx%d, the pixels are %dx%d", m.Width, m.Height, img.Width, img.Height)})
	}
	if ed := editorIn(m.Software); ed != "" {
		f.Flags = append(f.Flags, Flag{FlagEdited, fmt.Sprintf("software %q names an editor (%s)", m.Software, ed)})
	}
	if m.GPS == nil && (m.Raw["GPS.GPSLatitude"] != "" || m.Raw["GPS.GPSLongitude"] != "") {
		why := "GPS tags present but no usable position"
		for _, w := range m.Warnings {
			if strings.HasPrefix(w, "gps: ") {
				why = strings.TrimPrefix(w, "gps: ")
				break
			}
		}
		f.Flags = append(f.Flags, Flag{FlagGPSImplausible, why})
	}
	if len(sightings) > 0 && f.Taken != "" {
		first := sightings[0]
		for _, s := range sightings[1:] {
			if s.Before(first) {
				first = s
			}
		}
		if taken, exact, ok := parseTaken(m.DateTimeOriginal); ok && !first.Released.IsZero() {
			earliest := taken
			if !exact {
				earliest = taken.Add(-14 * time.Hour) // the easternmost zone, UTC+14
			}
			latest := first.Released.Time
			if first.Released.DateOnly {
				latest = latest.Add(24 * time.Hour)
			}
			if earliest.After(latest) {
				zone := ""
				if !exact {
					zone = " (zone unknown)"
				}
				f.Flags = append(f.Flags, Flag{FlagDateAfterRelease, fmt.Sprintf("taken %s%s, after its first release %s by %s",
					m.DateTimeOriginal, zone, first.Released, first.Affiliate)})
			}
		}
	}
	return f
}

// rawText returns the first usable text among the raw EXIF keys: binary renderings are left out.
func rawText(raw map[string]string, keys ...string) string {
	for _, k := range keys {
		v := strings.TrimSpace(raw[k])
		if v == "" || strings.HasPrefix(v, "hex:") || strings.HasPrefix(v, "(binary") || v == "(omitted)" {
			continue
		}
		return v
	}
	return ""
}

// editorIn returns the editor fragment found in a Software value, or "".
func editorIn(software string) string {
	s := strings.ToLower(software)
	for _, e := range Editors {
		if strings.Contains(s, e) {
			return e
		}
	}
	return ""
}

// parseTaken reads exifmeta's normalised DateTimeOriginal ("2019-11-02T07:30:00", plus "Z" or an
// offset when the file gives one). exact is false when the zone is unknown (the time is then the wall
// time read as UTC).
func parseTaken(s string) (t time.Time, exact bool, ok bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return t, false, true
	}
	return time.Time{}, false, false
}

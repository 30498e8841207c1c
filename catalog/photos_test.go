package catalog

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/relcat/relcat/internal/hostile"
)

// photoMeta is the EXIF written into a generated test photo.
type photoMeta struct {
	Make, Model, Serial, Lens, Software, Taken, Offset string
	GPS                                                *[2]float64 // lat, lon
	NoEXIF                                             bool
}

// photoBytes makes a distinct small JPEG (by seed) carrying the given EXIF.
func photoBytes(seed int, m photoMeta) []byte {
	jpg := hostile.JPEG(64, 48, seed)
	if m.NoEXIF {
		return jpg
	}
	var ifd0, exif hostile.IFD
	exif.Exif = true
	add := func(d *hostile.IFD, tag uint16, v string) {
		if v != "" {
			d.Entries = append(d.Entries, hostile.ASCII(tag, v))
		}
	}
	add(&ifd0, 0x010f, m.Make)
	add(&ifd0, 0x0110, m.Model)
	add(&ifd0, 0x0131, m.Software)
	add(&exif, 0x9003, m.Taken)
	add(&exif, 0x9011, m.Offset)
	add(&exif, 0xa431, m.Serial)
	add(&exif, 0xa434, m.Lens)
	subs := []hostile.IFD{exif}
	if m.GPS != nil {
		dms := func(v float64) []uint32 {
			v = math.Abs(v)
			d := math.Floor(v)
			mi := math.Floor((v - d) * 60)
			s := (v - d - mi/60) * 3600
			return []uint32{uint32(d), 1, uint32(mi), 1, uint32(math.Round(s * 1000)), 1000}
		}
		ns, ew := "N", "E"
		if m.GPS[0] < 0 {
			ns = "S"
		}
		if m.GPS[1] < 0 {
			ew = "W"
		}
		subs = append(subs, hostile.IFD{Entries: []hostile.Entry{
			hostile.ASCII(0x0001, ns), hostile.Rationals(0x0002, dms(m.GPS[0])...),
			hostile.ASCII(0x0003, ew), hostile.Rationals(0x0004, dms(m.GPS[1])...),
		}})
	}
	return hostile.Splice(jpg, hostile.TIFF(ifd0, subs...))
}

// writeRelease writes a release folder with a release.json and the given photos (name -> bytes).
func writeRelease(t testing.TB, root, folder, affiliate, released string, photos map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(root, folder)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rj := fmt.Sprintf(`{"affiliate":%q,"released":%q}`, affiliate, released)
	if err := os.WriteFile(filepath.Join(dir, ReleaseFileName), []byte(rj), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range photos {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

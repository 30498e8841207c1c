package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/relcat/relcat/internal/hostile"
)

// cameraPhoto is a distinct small JPEG (by seed) whose EXIF names a camera body (and optionally a
// DateTimeOriginal).
func cameraPhoto(seed int, make, model, serial, taken string) []byte {
	ifd0 := hostile.IFD{Entries: []hostile.Entry{hostile.ASCII(0x010f, make), hostile.ASCII(0x0110, model)}}
	exif := hostile.IFD{Exif: true}
	if serial != "" {
		exif.Entries = append(exif.Entries, hostile.ASCII(0xa431, serial))
	}
	if taken != "" {
		exif.Entries = append(exif.Entries, hostile.ASCII(0x9003, taken))
	}
	return hostile.Splice(hostile.JPEG(64, 48, seed), hostile.TIFF(ifd0, exif))
}

// release writes a release folder with a release.json and the given files.
func release(t testing.TB, root, folder, affiliate, released string, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(root, folder)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rj := fmt.Sprintf(`{"affiliate":%q,"released":%q}`, affiliate, released)
	if err := os.WriteFile(filepath.Join(dir, "release.json"), []byte(rj), 0o644); err != nil {
		t.Fatal(err)
	}
	for n, d := range files {
		if err := os.WriteFile(filepath.Join(dir, n), d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

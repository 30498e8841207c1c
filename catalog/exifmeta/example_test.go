package exifmeta_test

import (
	"fmt"
	"os"

	"github.com/relcat/relcat/catalog/exifmeta"
)

func ExampleRead() {
	data, err := os.ReadFile("testdata/Kodak_CX7530.jpg")
	if err != nil {
		panic(err)
	}
	m := exifmeta.Read(data, "jpeg")
	fmt.Println(m.Make, "/", m.Model)
	fmt.Println("taken:", m.DateTimeOriginal, "zone known:", m.Offset != "")
	fmt.Printf("gps: %.5f, %.5f\n", m.GPS.Lat, m.GPS.Lon)
	fmt.Println("stripped:", m.Stripped(), "raw make:", m.Raw["IFD0.Make"])
	// Output:
	// EASTMAN KODAK COMPANY / KODAK CX7530 ZOOM DIGITAL CAMERA
	// taken: 2005-08-13T09:47:23 zone known: false
	// gps: -0.37130, 36.05642
	// stripped: false raw make: EASTMAN KODAK COMPANY
}

func ExampleMeta_Stripped() {
	m := exifmeta.Read([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "gif")
	fmt.Println(m.Stripped())
	// Output: true
}

package pdq_test

import (
	"fmt"
	"image"
	_ "image/png"
	"log"
	"os"

	"github.com/relcat/relcat/catalog/pdq"
)

func ExampleFromImage() {
	f, err := os.Open("testdata/pdq-ref/reg-test-input/pen-and-coaster.png")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	res, err := pdq.FromImage(img)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Hash, res.Quality) // the reference implementation prints the same
	// A mirrored copy of the picture is found through the dihedral hashes.
	t, d := pdq.Nearest(res.Dihedral[pdq.FlipY], &res.Dihedral)
	fmt.Println(t, t.Describe(), d)
	// Output:
	// 1f811b9d267fbc6693c0c7f30e041f9df49b836303e10f067fcdfc12c02d01f9 100
	// flipy mirrored left-right 0
}

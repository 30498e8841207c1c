package thumbs_test

import (
	"fmt"
	"image"

	"github.com/relcat/relcat/thumbs"
)

func ExampleMake() {
	work := image.NewNRGBA(image.Rect(0, 0, 1024, 768)) // from media.Shrink
	thumb := thumbs.Make(work, 6)                       // EXIF: rotate 90° clockwise
	fmt.Println(thumb.Bounds().Dx(), thumb.Bounds().Dy())
	// Output: 240 320
}

func ExampleRelPath() {
	fmt.Println(thumbs.RelPath("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
	// Output: thumbs/e3/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.jpg
}

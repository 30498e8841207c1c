package media_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/relcat/relcat/catalog/media"
)

func Example() {
	// A PNG, whatever the file is called.
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2000, 1000)))
	data := buf.Bytes()

	f := media.Sniff(data)
	img, cfg, err := media.Decode(data, f, media.DefaultMaxPixels)
	if err != nil {
		fmt.Println(err)
		return
	}
	work := media.Shrink(img, 1024)
	fmt.Println(f, cfg.Width, cfg.Height, work.Bounds().Dx(), work.Bounds().Dy())
	// Output: png 2000 1000 1024 512
}

func ExampleDecode_limit() {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3000, 2000)))
	_, _, err := media.Decode(buf.Bytes(), media.PNG, 4_000_000)
	fmt.Println(errors.Is(err, media.ErrTooManyPixels))
	fmt.Println(err)
	// Output:
	// true
	// PNG header claims 3000x2000 pixels (6.0 MP), over the limit of 4.0 MP
}

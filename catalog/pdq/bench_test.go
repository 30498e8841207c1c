package pdq

import (
	"bytes"
	"image"
	"image/jpeg"
	"path/filepath"
	"sync"
	"testing"

	"github.com/disintegration/imaging"
)

var big struct {
	once sync.Once
	jpg  []byte      // 4000x3000 JPEG, quality 90
	img  image.Image // its decoded *image.YCbCr (4:2:0)
	err  error
}

// BigImage12MP builds, once, a 12 MP photo: the bridge photo upscaled to 4000x3000, JPEG-encoded at
// quality 90 and decoded again (so it is the *image.YCbCr a camera JPEG decodes to).
func BigImage12MP(b testing.TB) ([]byte, image.Image) {
	b.Helper()
	big.once.Do(func() {
		src, err := DecodeFile(filepath.Join("testdata", "pdq-ref", "bridge-mods", "aaa-orig.jpg"))
		if err != nil {
			big.err = err
			return
		}
		up := imaging.Resize(src, 4000, 3000, imaging.Linear)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, up, &jpeg.Options{Quality: 90}); err != nil {
			big.err = err
			return
		}
		big.jpg = buf.Bytes()
		big.img, big.err = jpeg.Decode(bytes.NewReader(big.jpg))
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.jpg, big.img
}

func BenchmarkFromImage12MP(b *testing.B) {
	_, img := BigImage12MP(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := FromImage(img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJPEG12MP(b *testing.B) {
	data, _ := BigImage12MP(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromImage1024(b *testing.B) {
	_, img := BigImage12MP(b)
	small := imaging.Resize(img, 1024, 768, imaging.Box) // *image.NRGBA, as a work image would be
	b.ResetTimer()
	for b.Loop() {
		if _, err := FromImage(small); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromLuma12MP(b *testing.B) {
	luma := testLuma(3000, 4000, 1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := FromLuma(luma, 3000, 4000); err != nil {
			b.Fatal(err)
		}
	}
}

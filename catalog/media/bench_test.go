package media

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// photo12MP is a 4000x3000 4:2:0 YCbCr image with smooth content.
func photo12MP() *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for y := 0; y < 3000; y++ {
		row := m.Y[y*m.YStride:]
		for x := 0; x < 4000; x++ {
			row[x] = uint8((x/7 + y/5 + (x*y)%13) & 0xff)
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(100+i%37), uint8(150-i%29)
	}
	return m
}

func BenchmarkShrink12MP(b *testing.B) {
	benchShrink(b, photo12MP())
}

func BenchmarkShrink12MPGeneric(b *testing.B) {
	m := hidden{photo12MP()}
	b.ReportAllocs()
	for b.Loop() {
		Shrink(m, 1024)
	}
}

func BenchmarkDecodeJPEG12MP(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo12MP(), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(data, JPEG, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// photo1600 is a 1600x1200 4:2:0 YCbCr image with smooth content, the size
// of a typical web or older camera photo.
func photo1600() *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, 1600, 1200), image.YCbCrSubsampleRatio420)
	for y := 0; y < 1200; y++ {
		row := m.Y[y*m.YStride:]
		for x := 0; x < 1600; x++ {
			row[x] = uint8((x/7 + y/5 + (x*y)%13) & 0xff)
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(100+i%37), uint8(150-i%29)
	}
	return m
}

func BenchmarkShrink1600(b *testing.B) {
	benchShrink(b, photo1600())
}

// benchShrink times Shrink(m, 1024), the ingest work image, and reports
// the process CPU time per call next to the wall time.
func benchShrink(b *testing.B, m image.Image) {
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		Shrink(m, 1024)
	}
	b.ReportMetric(float64(processCPU()-c0)/1e6/float64(b.N), "cpu-ms/op")
}

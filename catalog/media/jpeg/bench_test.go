package jpeg

import (
	"bytes"
	"context"
	"fmt"
	"image"
	stdjpeg "image/jpeg"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/disintegration/imaging"
)

var benchPhotos = map[string][]byte{}
var benchMu sync.Mutex

// benchPhoto is a w x h q90 JPEG (image/jpeg's encoder: baseline 4:2:0) made from the demo
// release photos, upscaled, with a second photo pasted into a quarter and seeded noise, so
// that it has photo-like detail and a realistic compressed size.
func benchPhoto(b testing.TB, w, h int) []byte {
	benchMu.Lock()
	defer benchMu.Unlock()
	key := fmt.Sprint(w, "x", h)
	if data, ok := benchPhotos[key]; ok {
		return data
	}
	paths, _ := filepath.Glob(filepath.Join("..", "..", "..", "samples", "releases", "*", "*.jpg"))
	sort.Strings(paths)
	if len(paths) < 2 {
		b.Fatalf("no sample photos under samples/releases")
	}
	base, err := imaging.Open(paths[0])
	if err != nil {
		b.Fatal(err)
	}
	inset, err := imaging.Open(paths[len(paths)/2])
	if err != nil {
		b.Fatal(err)
	}
	img := imaging.Fill(base, w, h, imaging.Center, imaging.Linear)
	img = imaging.Paste(img, imaging.Fill(inset, w/2, h/2, imaging.Center, imaging.Linear), image.Pt(w/2, 0))
	rng := rand.New(rand.NewPCG(1, 2))
	for j := 0; j < len(img.Pix); j += 4 {
		d := rng.IntN(13) - 6
		for k := range 3 {
			img.Pix[j+k] = uint8(max(0, min(255, int(img.Pix[j+k])+d)))
		}
	}
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, img, &stdjpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	benchPhotos[key] = buf.Bytes()
	return buf.Bytes()
}

// BenchmarkDecode compares image/jpeg with this decoder at every scale:
//
//	go test ./catalog/media/jpeg -run '^$' -bench BenchmarkDecode
func BenchmarkDecode(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"12MP", 4000, 3000}, {"1600px", 1600, 1200}} {
		data := benchPhoto(b, size.w, size.h)
		b.Run(size.name+"/image-jpeg", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, err := stdjpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
		for _, s := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("%s/scale1-%d", size.name, s), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				cpu0 := cpuTime(b)
				for b.Loop() {
					if _, err := Decode(context.Background(), data, Options{Scale: s}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

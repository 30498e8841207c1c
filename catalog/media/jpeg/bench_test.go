package jpeg

import (
	"bytes"
	"context"
	"fmt"
	"image"
	stdjpeg "image/jpeg"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/disintegration/imaging"
)

var benchPhotos = map[string][]byte{}
var benchImages = map[string]*image.NRGBA{}
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
	benchImages[key] = img
	return buf.Bytes()
}

// cjpegPhoto is benchPhoto's w x h image encoded by libjpeg-turbo's cjpeg -quality 90 with the
// given options (a progressive file, 4:2:2 sampling), or nil when cjpeg is not installed.
func cjpegPhoto(b testing.TB, w, h int, opts ...string) []byte {
	benchPhoto(b, w, h)
	path, err := exec.LookPath("cjpeg")
	if err != nil {
		return nil
	}
	benchMu.Lock()
	img := benchImages[fmt.Sprint(w, "x", h)]
	benchMu.Unlock()
	var ppm bytes.Buffer
	fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", w, h)
	for y := range h {
		p := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			ppm.Write(p[4*x : 4*x+3])
		}
	}
	cmd := exec.Command(path, append([]string{"-quality", "90"}, opts...)...)
	cmd.Stdin = &ppm
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("cjpeg %v: %v", opts, err)
	}
	return out
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
		benchScales(b, size.name, data, []int{1, 2, 4, 8})
	}
	// cjpeg's progressive files (libjpeg's default script: refinement scans), as half of
	// bench/ingest-vs-peers.sh's photos are, at the reductions ingest uses.
	for _, mode := range []struct {
		name string
		opts []string
	}{{"prog420", []string{"-sample", "2x2", "-progressive"}}, {"prog422", []string{"-sample", "2x1", "-progressive"}}} {
		data := cjpegPhoto(b, 4000, 3000, mode.opts...)
		if data == nil {
			b.Logf("cjpeg not installed: no progressive benchmarks")
			return
		}
		benchScales(b, "12MP-"+mode.name, data, []int{1, 4})
		// As ingest decodes: each worker lends its decodes the same Buffers.
		b.Run("12MP-"+mode.name+"/scale1-4-reused", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var bufs Buffers
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, err := Decode(context.Background(), data, Options{Scale: 4, Buffers: &bufs}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// benchScales benchmarks Decode of data at each scale.
func benchScales(b *testing.B, name string, data []byte, scales []int) {
	for _, s := range scales {
		b.Run(fmt.Sprintf("%s/scale1-%d", name, s), func(b *testing.B) {
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

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

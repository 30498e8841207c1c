// Command genphotos writes one synthetic photo as a binary PPM (P6) on standard output, for
// bench/ingest-vs-peers.sh: a demo-release photo (samples/releases) upscaled to fill the frame,
// another one pasted into a quarter, and seeded noise, so that every file has photo-like detail
// and compresses like a photo. -i picks the photos and the crop; the same -i gives the same image.
//
//	go run ./bench/genphotos -w 4000 -h 3000 -i 7 | cjpeg -quality 90 > 7.jpg
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/disintegration/imaging"
)

func main() {
	w := flag.Int("w", 4000, "width")
	h := flag.Int("h", 3000, "height")
	i := flag.Int("i", 0, "photo index")
	samples := flag.String("samples", "samples/releases", "folder of release folders of JPEG photos")
	flag.Parse()
	if err := run(*w, *h, *i, *samples); err != nil {
		fmt.Fprintln(os.Stderr, "genphotos:", err)
		os.Exit(1)
	}
}

func run(w, h, i int, samples string) error {
	paths, err := filepath.Glob(filepath.Join(samples, "*", "*.jpg"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	if len(paths) < 2 {
		return fmt.Errorf("no photos under %s", samples)
	}
	base, err := imaging.Open(paths[i%len(paths)])
	if err != nil {
		return err
	}
	inset, err := imaging.Open(paths[(i*7+3)%len(paths)])
	if err != nil {
		return err
	}
	bb := base.Bounds()
	round := (i / len(paths)) % 8
	cw, ch := bb.Dx()-bb.Dx()*round/10, bb.Dy()-bb.Dy()*round/10
	base = imaging.Crop(base, image.Rect(bb.Dx()-cw, 0, bb.Dx(), ch))
	img := imaging.Fill(base, w, h, imaging.Center, imaging.Linear)
	img = imaging.Paste(img, imaging.Fill(inset, w/2, h/2, imaging.Center, imaging.Linear), image.Pt(w/2*(i%2), h/2*(i/2%2)))
	rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	fmt.Fprintf(out, "P6\n%d %d\n255\n", w, h)
	row := make([]byte, 3*w)
	for y := range h {
		p := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			d := rng.IntN(13) - 6
			for k := range 3 {
				row[3*x+k] = uint8(max(0, min(255, int(p[4*x+k])+d)))
			}
		}
		if _, err := out.Write(row); err != nil {
			return err
		}
	}
	return out.Flush()
}

//go:build ignore

// Command mksamples builds the demo releases in samples/releases from the shared test corpus.
//
// Run it from the repository root:
//
//	go run samples/mksamples.go [-corpus ../shared/corpus/real] [-out samples]
//
// It writes samples/releases/<release>/{release.json, photos}, samples/expected.tsv and
// samples/NOTICE.md. The output is deterministic: the same corpus and the same Go toolchain give
// the same bytes on every run (fixed JPEG qualities, no timestamps, a fixed order). The plan below
// is the single source of truth; README.md describes it for people.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/disintegration/imaging"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	_ "golang.org/x/image/webp"
)

// maxTotal is the size budget of everything under samples/releases.
const maxTotal = 6 << 20

// release is one demo release folder and its release.json.
type release struct {
	Dir      string `json:"-"`
	Affil    string `json:"affiliate"`
	Released string `json:"released"`
	Source   string `json:"source"`
	Title    string `json:"title"`
	Notes    string `json:"notes"`
}

var releases = []release{
	{
		Dir: "2019-11-02-sinai", Affil: "is-sinai", Released: "2019-11-02",
		Source: "demo: relcat samples/mksamples.go, public sample photos (see samples/NOTICE.md)",
		Title:  "DEMO 1 - is-sinai - eleven harmless public sample photos",
		Notes:  "Demo data, not real propaganda. All eleven photos are new here: byte-identical copies of public camera sample photos with their EXIF (four carry GPS, three name editing software).",
	},
	{
		Dir: "2019-11-05-khorasan", Affil: "is-khorasan", Released: "2019-11-05",
		Source: "demo: relcat samples/mksamples.go, public sample photos (see samples/NOTICE.md)",
		Title:  "DEMO 2 - is-khorasan - recycles demo 1 three days later",
		Notes:  "Demo data, not real propaganda. Three photos of demo 1 reposted byte-identical, seven edited copies (re-encoded, resized, cropped, mirrored, rotated, watermarked, brightened), two new photos.",
	},
	{
		Dir: "2020-01-14-west-africa", Affil: "is-west-africa", Released: "2020-01-14",
		Source: "demo: relcat samples/mksamples.go, public sample photos (see samples/NOTICE.md)",
		Title:  "DEMO 3 - is-west-africa - new photos plus a few recycled ones",
		Notes:  "Demo data, not real propaganda. Four new photos, a PNG and a WebP copy of demo-1 photos, a brightened and shrunk copy of a demo-2 photo, one demo-2 file reposted byte-identical.",
	},
	{
		Dir: "2020-03-09-sinai", Affil: "is-sinai", Released: "2020-03-09T07:30:00Z",
		Source: "demo: relcat samples/mksamples.go, public sample photos (see samples/NOTICE.md)",
		Title:  "DEMO 4 - is-sinai - the same affiliate four months later",
		Notes:  "Demo data, not real propaganda. Release time given to the minute (UTC). Reposts one of its own demo-1 photos byte-identical, re-encodes another, reuses files of the other affiliates, and adds three new photos.",
	},
	{
		Dir: "2020-04-18-repost", Affil: "repost-channel", Released: "2020-04-18",
		Source: "demo: relcat samples/mksamples.go, public sample photos (see samples/NOTICE.md)",
		Title:  "DEMO 5 - repost-channel - reframed reposts of demo-1 photos",
		Notes:  "Demo data, not real propaganda. A channel reposting demo-1 photos the way channels do: a centred 10 % crop, a shrunk copy with a caption band and the channel's name burnt in, a letterboxed copy.",
	},
}

// Collections and their terms (see /work/shared/corpus/NOTICE.md).
const (
	colMEI    = "metadata-extractor-images"
	colGoexif = "goexif"
	colExifS  = "exif-samples"
)

var licences = map[string]string{
	colMEI:    "\"You are free to use these however you wish\" (drewnoakes/metadata-extractor-images README)",
	colGoexif: "BSD 2-Clause, Copyright (c) 2012 Robert Carlsen & Contributors (rwcarlsen/goexif LICENSE)",
	colExifS:  "CC BY-SA 4.0 (contribution to ianare/exif-samples, README.rst); derived files here are CC BY-SA 4.0 too",
}

// item is one sample file: where its pixels or bytes come from and what was done to them.
type item struct {
	rel, file string // output: release dir and file name
	// Exactly one of corpus (a path under -corpus) or origin ("release/file" of an earlier item).
	corpus string
	origin string
	// relation is the expected.tsv relation to origin (or "new").
	relation string
	// steps are applied in order to the decoded image; nil with enc == "" means a byte copy.
	steps []step
	enc   string // "", "jpeg", "png"
	q     int    // JPEG quality
}

type step struct {
	name string // for NOTICE.md
	fn   func(image.Image) image.Image
}

var (
	mirror     = step{"mirrored left-right", func(m image.Image) image.Image { return imaging.FlipH(m) }}
	rot90      = step{"rotated 90° clockwise", func(m image.Image) image.Image { return imaging.Rotate270(m) }}
	half       = step{"resized 50%", scaleStep(1, 2)}
	quarter    = step{"resized 25%", scaleStep(1, 4)}
	cropTop    = step{"cropped 10% off the top", cropStep('t', 10)}
	cropBot2   = step{"cropped 2% off the bottom", cropStep('b', 2)}
	brighter   = step{"brightness +10%", brightness(110)}
	upright    = step{"turned upright as its EXIF Orientation 6 says", func(m image.Image) image.Image { return imaging.Rotate270(m) }}
	watermarkS = step{"watermarked (semi-transparent box + text, bottom-right corner)", watermark}
	// Release 5's reframings.
	cropCentre90 = step{"cropped to its centred 90% (5% off each side)", cropCentre(90)}
	sixty        = step{"resized 60%", scaleStep(3, 5)}
	captioned    = step{"black caption band added below, 12% of the height, with white text", captionBand(12, "DEMO caption - relcat samples")}
	channel      = step{"channel name burnt into the top-left corner", channelName("@demo_channel")}
	letterboxed  = step{"letterboxed: black bars of 10% of the height above and below", letterbox(10)}
)

const (
	r1 = "2019-11-02-sinai"
	r2 = "2019-11-05-khorasan"
	r3 = "2020-01-14-west-africa"
	r4 = "2020-03-09-sinai"
	r5 = "2020-04-18-repost"
)

func ref(rel, file string) string { return rel + "/" + file }

var plan = []item{
	// Release 1: eleven originals, byte-identical, EXIF kept.
	{rel: r1, file: "01-receipt.jpg", corpus: "metadata-extractor-images/jpg/Apple iPhone 4.jpg", relation: "new"},
	{rel: r1, file: "02-antennas.jpg", corpus: "metadata-extractor-images/jpg/FujiFilm FinePixS1Pro (1).jpg", relation: "new"},
	{rel: r1, file: "03-dog.jpg", corpus: "metadata-extractor-images/jpg/FujiFilm FinePix40i.jpg", relation: "new"},
	{rel: r1, file: "04-parking.jpg", corpus: "metadata-extractor-images/jpg/HTC Desire.jpg", relation: "new"},
	{rel: r1, file: "05-tractor.jpg", corpus: "metadata-extractor-images/jpg/Issue 242.jpg", relation: "new"},
	{rel: r1, file: "06-church.jpg", corpus: "metadata-extractor-images/jpg/Kodak ProBack.jpg", relation: "new"},
	{rel: r1, file: "07-railway.jpg", corpus: "metadata-extractor-images/jpg/Nikon D5000.jpg", relation: "new"},
	{rel: r1, file: "08-camera-box.jpg", corpus: "metadata-extractor-images/jpg/Olympus PEN E-P3.jpg", relation: "new"},
	{rel: r1, file: "09-ship.jpg", corpus: "metadata-extractor-images/jpg/Olympus μ Digital 800.JPG", relation: "new"},
	{rel: r1, file: "10-signpost.jpg", corpus: "metadata-extractor-images/jpg/Sony DSC-HX5V (2).jpg", relation: "new"},
	{rel: r1, file: "11-throne.jpg", corpus: "goexif/exif/sample1.jpg", relation: "new"},

	// Release 2: another affiliate recycles release 1.
	{rel: r2, file: "01-signpost.jpg", origin: ref(r1, "10-signpost.jpg"), relation: "exact"},
	{rel: r2, file: "02-dog.jpg", origin: ref(r1, "03-dog.jpg"), relation: "exact"},
	{rel: r2, file: "03-throne.jpg", origin: ref(r1, "11-throne.jpg"), relation: "exact"},
	{rel: r2, file: "04-railway.jpg", origin: ref(r1, "07-railway.jpg"), relation: "reencode", enc: "jpeg", q: 65},
	{rel: r2, file: "05-church.jpg", origin: ref(r1, "06-church.jpg"), relation: "resize", steps: []step{half}, enc: "jpeg", q: 80},
	{rel: r2, file: "06-tractor.jpg", origin: ref(r1, "05-tractor.jpg"), relation: "crop", steps: []step{cropTop}, enc: "jpeg", q: 80},
	{rel: r2, file: "07-ship.jpg", origin: ref(r1, "09-ship.jpg"), relation: "mirror", steps: []step{mirror}, enc: "jpeg", q: 80},
	{rel: r2, file: "08-camera-box.jpg", origin: ref(r1, "08-camera-box.jpg"), relation: "rot90", steps: []step{rot90}, enc: "jpeg", q: 80},
	{rel: r2, file: "09-parking.jpg", origin: ref(r1, "04-parking.jpg"), relation: "watermark", steps: []step{watermarkS}, enc: "jpeg", q: 80},
	{rel: r2, file: "10-antennas.jpg", origin: ref(r1, "02-antennas.jpg"), relation: "brightness", steps: []step{brighter}, enc: "jpeg", q: 80},
	{rel: r2, file: "11-flowers.jpg", corpus: "metadata-extractor-images/jpg/Panasonic DMC-LC40.jpg", relation: "new"},
	{rel: r2, file: "12-night.jpg", corpus: "metadata-extractor-images/jpg/Casio EX-S1.jpg", relation: "new"},

	// Release 3: a third affiliate, mostly new, some recycling in other formats.
	{rel: r3, file: "01-sunrise.jpg", corpus: "metadata-extractor-images/jpg/HP PhotoSmart 735.jpg", relation: "new"},
	{rel: r3, file: "02-skyline.jpg", corpus: "metadata-extractor-images/jpg/Sanyo SR662.jpg", relation: "new"},
	{rel: r3, file: "03-leaf.jpg", corpus: "metadata-extractor-images/jpg/Nikon D3100.jpg", relation: "new", steps: []step{quarter}, enc: "jpeg", q: 80},
	{rel: r3, file: "04-jungle.jpg", corpus: "metadata-extractor-images/jpg/Issue 308.jpg", relation: "new", steps: []step{half}, enc: "jpeg", q: 80},
	{rel: r3, file: "05-antennas.png", origin: ref(r1, "02-antennas.jpg"), relation: "reencode", enc: "png"},
	// The WebP is the collection's own WebP of the same HTC Desire photo (x/image has no encoder).
	{rel: r3, file: "06-parking.webp", corpus: "metadata-extractor-images/webp/HTC Desire.webp", origin: ref(r1, "04-parking.jpg"), relation: "reencode"},
	{rel: r3, file: "07-flowers.jpg", origin: ref(r2, "11-flowers.jpg"), relation: "combined", steps: []step{brighter, half}, enc: "jpeg", q: 70},
	{rel: r3, file: "08-church.jpg", origin: ref(r2, "05-church.jpg"), relation: "exact"},

	// Release 4: the first affiliate again, four months later.
	{rel: r4, file: "01-antennas.jpg", origin: ref(r1, "02-antennas.jpg"), relation: "exact"},
	{rel: r4, file: "02-receipt.jpg", origin: ref(r1, "01-receipt.jpg"), relation: "reencode", enc: "jpeg", q: 60},
	{rel: r4, file: "03-leaf.jpg", origin: ref(r3, "03-leaf.jpg"), relation: "crop", steps: []step{cropBot2}, enc: "jpeg", q: 80},
	{rel: r4, file: "04-parking.jpg", origin: ref(r2, "09-parking.jpg"), relation: "exact"},
	{rel: r4, file: "05-food.jpg", corpus: "metadata-extractor-images/jpg/Issue 525.jpg", relation: "new", steps: []step{quarter}, enc: "jpeg", q: 80},
	{rel: r4, file: "06-wisteria.jpg", corpus: "exif-samples/jpg/hdr/iphone_hdr_YES.jpg", relation: "new", steps: []step{quarter}, enc: "jpeg", q: 80},
	{rel: r4, file: "07-lamp.jpg", corpus: "exif-samples/jpg/hdr/canon_hdr_YES.jpg", relation: "new", steps: []step{upright, quarter}, enc: "jpeg", q: 80},
	{rel: r4, file: "08-ship.jpg", origin: ref(r1, "09-ship.jpg"), relation: "combined", steps: []step{half, mirror}, enc: "jpeg", q: 70},

	// Release 5: reframed reposts, found through region hashes (issue 10).
	{rel: r5, file: "01-ship.jpg", origin: ref(r1, "09-ship.jpg"), relation: "crop", steps: []step{cropCentre90}, enc: "jpeg", q: 80},
	{rel: r5, file: "02-church.jpg", origin: ref(r1, "06-church.jpg"), relation: "caption", steps: []step{sixty, captioned, channel}, enc: "jpeg", q: 70},
	{rel: r5, file: "03-dog.jpg", origin: ref(r1, "03-dog.jpg"), relation: "letterbox", steps: []step{letterboxed}, enc: "jpeg", q: 80},
}

func main() {
	corpus := flag.String("corpus", "../shared/corpus/real", "folder of the shared corpus's real/ photos")
	out := flag.String("out", "samples", "samples folder to write (releases/, expected.tsv, NOTICE.md)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*corpus, *out); err != nil {
		log.Fatalf("mksamples: %v", err)
	}
}

// made records one written sample.
type made struct {
	it   item
	data []byte
	src  string // corpus path the pixels ultimately come from
	col  string // its collection
	done string // what was done, for NOTICE.md
	w, h int
}

func run(corpus, out string) error {
	relDir := filepath.Join(out, "releases")
	if err := os.RemoveAll(relDir); err != nil {
		return err
	}
	byRef := map[string]*made{}
	var all []*made
	total := 0
	for _, rl := range releases {
		if err := os.MkdirAll(filepath.Join(relDir, rl.Dir), 0o755); err != nil {
			return err
		}
		js, err := json.MarshalIndent(rl, "", "  ")
		if err != nil {
			return err
		}
		js = append(js, '\n')
		if err := os.WriteFile(filepath.Join(relDir, rl.Dir, "release.json"), js, 0o644); err != nil {
			return err
		}
		total += len(js)
	}
	for _, it := range plan {
		m, err := build(corpus, it, byRef)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", it.rel, it.file, err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(m.data))
		if err != nil {
			return fmt.Errorf("%s/%s: output does not decode: %w", it.rel, it.file, err)
		}
		if _, _, err := image.Decode(bytes.NewReader(m.data)); err != nil {
			return fmt.Errorf("%s/%s: output does not decode (%s): %w", it.rel, it.file, format, err)
		}
		m.w, m.h = cfg.Width, cfg.Height
		if err := os.WriteFile(filepath.Join(relDir, it.rel, it.file), m.data, 0o644); err != nil {
			return err
		}
		byRef[ref(it.rel, it.file)] = m
		all = append(all, m)
		total += len(m.data)
	}
	if total > maxTotal {
		return fmt.Errorf("releases total %d bytes, over the %d budget", total, maxTotal)
	}
	if err := writeExpected(filepath.Join(out, "expected.tsv"), all, byRef); err != nil {
		return err
	}
	if err := writeNotice(filepath.Join(out, "NOTICE.md"), all, total); err != nil {
		return err
	}
	log.Printf("wrote %d files in %d releases, %d bytes", len(all), len(releases), total)
	return nil
}

func collectionOf(p string) string {
	col, _, _ := strings.Cut(p, "/")
	if _, ok := licences[col]; !ok {
		log.Fatalf("mksamples: %s is not in a licence-cleared collection", p)
	}
	return col
}

func build(corpus string, it item, byRef map[string]*made) (*made, error) {
	m := &made{it: it}
	var input []byte
	switch {
	case it.corpus != "":
		b, err := os.ReadFile(filepath.Join(corpus, filepath.FromSlash(it.corpus)))
		if err != nil {
			return nil, err
		}
		input, m.src, m.col = b, it.corpus, collectionOf(it.corpus)
	case it.origin != "":
		o, ok := byRef[it.origin]
		if !ok {
			return nil, fmt.Errorf("origin %s is not made yet (order of the plan)", it.origin)
		}
		input, m.src, m.col = o.data, o.src, o.col
	default:
		return nil, errors.New("neither corpus nor origin")
	}
	if it.enc == "" {
		m.data = input
		m.done = "copied byte-identical"
		if it.corpus == "" {
			m.done += " from " + it.origin
		} else if it.origin != "" {
			m.done += " (the collection's own WebP of the photo in " + it.origin + ")"
		}
		return m, nil
	}
	img, _, err := image.Decode(bytes.NewReader(input))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	var done []string
	if it.corpus == "" {
		done = append(done, "made from "+it.origin+":")
	}
	for _, s := range it.steps {
		img = s.fn(img)
		done = append(done, s.name)
	}
	var buf bytes.Buffer
	switch it.enc {
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: it.q})
		done = append(done, fmt.Sprintf("re-encoded JPEG q%d", it.q))
	case "png":
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
		done = append(done, "re-encoded as PNG")
	default:
		err = fmt.Errorf("unknown encoding %q", it.enc)
	}
	if err != nil {
		return nil, err
	}
	done = append(done, "EXIF stripped")
	m.data = buf.Bytes()
	m.done = strings.Join(done, ", ")
	m.done = strings.Replace(m.done, ":,", ":", 1)
	return m, nil
}

// scaleStep shrinks an image to num/den of its size (Lanczos, via imaging).
func scaleStep(num, den int) func(image.Image) image.Image {
	return func(m image.Image) image.Image {
		b := m.Bounds()
		return imaging.Resize(m, b.Dx()*num/den, b.Dy()*num/den, imaging.Lanczos)
	}
}

// cropStep removes pct percent of the image at the 't'op or the 'b'ottom.
func cropStep(side byte, pct int) func(image.Image) image.Image {
	return func(m image.Image) image.Image {
		b := m.Bounds()
		r := b
		switch side {
		case 't':
			r.Min.Y += b.Dy() * pct / 100
		case 'b':
			r.Max.Y -= b.Dy() * pct / 100
		}
		dst := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		draw.Draw(dst, dst.Bounds(), m, r.Min, draw.Src)
		return dst
	}
}

// cropCentre keeps the centred pct percent of each side.
func cropCentre(pct int) func(image.Image) image.Image {
	return func(m image.Image) image.Image {
		b := m.Bounds()
		w, h := b.Dx()*pct/100, b.Dy()*pct/100
		at := image.Pt(b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2)
		dst := image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), m, at, draw.Src)
		return dst
	}
}

// label renders text in white with basicfont, scaled by nearest neighbour to height px tall.
func label(text string, height int) *image.NRGBA {
	face := basicfont.Face7x13
	tw := font.MeasureString(face, text).Ceil()
	l := image.NewNRGBA(image.Rect(0, 0, tw+2, 15))
	d := font.Drawer{Dst: l, Src: image.NewUniform(color.White), Face: face, Dot: fixed.P(1, 12)}
	d.DrawString(text)
	scale := max(1, height/15)
	out := image.NewNRGBA(image.Rect(0, 0, l.Bounds().Dx()*scale, l.Bounds().Dy()*scale))
	xdraw.NearestNeighbor.Scale(out, out.Bounds(), l, l.Bounds(), xdraw.Src, nil)
	return out
}

// captionBand adds a black band of pct percent of the height below the picture, with text.
func captionBand(pct int, text string) func(image.Image) image.Image {
	return func(m image.Image) image.Image {
		b := m.Bounds()
		bh := b.Dy() * pct / 100
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+bh))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
		draw.Draw(dst, image.Rect(0, 0, b.Dx(), b.Dy()), m, b.Min, draw.Src)
		l := label(text, bh/2)
		at := image.Pt(bh/2, b.Dy()+(bh-l.Bounds().Dy())/2)
		draw.Draw(dst, l.Bounds().Add(at), l, image.Point{}, draw.Over)
		return dst
	}
}

// channelName burns a channel name into the top-left corner (white text with a black outline).
func channelName(name string) func(image.Image) image.Image {
	return func(m image.Image) image.Image {
		b := m.Bounds()
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)
		l := label(name, max(15, b.Dy()/20))
		shadow := image.NewNRGBA(l.Bounds())
		for i := 0; i < len(l.Pix); i += 4 {
			shadow.Pix[i+3] = l.Pix[i+3]
		}
		at := image.Pt(b.Dx()/40, b.Dx()/40)
		for _, o := range []image.Point{{-2, 0}, {2, 0}, {0, -2}, {0, 2}} {
			draw.Draw(dst, l.Bounds().Add(at.Add(o)), shadow, image.Point{}, draw.Over)
		}
		draw.Draw(dst, l.Bounds().Add(at), l, image.Point{}, draw.Over)
		return dst
	}
}

// letterbox adds black bars of pct percent of the height above and below the picture.
func letterbox(pct int) func(image.Image) image.Image {
	return func(m image.Image) image.Image {
		b := m.Bounds()
		bh := b.Dy() * pct / 100
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+2*bh))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
		draw.Draw(dst, image.Rect(0, bh, b.Dx(), bh+b.Dy()), m, b.Min, draw.Src)
		return dst
	}
}

// brightness multiplies every colour channel by pct/100, clamped to 255.
func brightness(pct int) func(image.Image) image.Image {
	return func(m image.Image) image.Image {
		b := m.Bounds()
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)
		for i := 0; i < len(dst.Pix); i += 4 {
			for c := range 3 {
				v := (int(dst.Pix[i+c])*pct + 50) / 100
				dst.Pix[i+c] = uint8(min(v, 255))
			}
		}
		return dst
	}
}

// watermark draws a semi-transparent dark box with white text in the bottom-right corner, the box
// about a third of the width wide, the text scaled up from basicfont with nearest neighbour.
func watermark(m image.Image) image.Image {
	b := m.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)

	const text = "DEMO relcat"
	face := basicfont.Face7x13
	tw := font.MeasureString(face, text).Ceil()
	label := image.NewNRGBA(image.Rect(0, 0, tw+4, 15))
	d := font.Drawer{Dst: label, Src: image.NewUniform(color.White), Face: face,
		Dot: fixed.P(2, 12)}
	d.DrawString(text)

	scale := max(1, dst.Bounds().Dx()/3/label.Bounds().Dx())
	lw, lh := label.Bounds().Dx()*scale, label.Bounds().Dy()*scale
	pad := 2 * scale
	box := image.Rect(dst.Bounds().Dx()-lw-3*pad, dst.Bounds().Dy()-lh-3*pad,
		dst.Bounds().Dx()-pad, dst.Bounds().Dy()-pad)
	draw.Draw(dst, box, image.NewUniform(color.NRGBA{0, 0, 0, 140}), image.Point{}, draw.Over)
	at := image.Rect(box.Min.X+pad, box.Min.Y+pad, box.Min.X+pad+lw, box.Min.Y+pad+lh)
	xdraw.NearestNeighbor.Scale(dst, at, label, label.Bounds(), xdraw.Over, nil)
	return dst
}

func writeExpected(path string, all []*made, byRef map[string]*made) error {
	var b strings.Builder
	b.WriteString("release_dir\tfile\torigin_release_dir\torigin_file\trelation\n")
	for _, m := range all {
		or, of := "", ""
		if m.it.origin != "" {
			or, of, _ = strings.Cut(m.it.origin, "/")
		}
		if m.it.relation == "new" {
			or, of = "", ""
		}
		if m.it.relation == "exact" {
			// Point at the earliest file with these bytes.
			o := byRef[m.it.origin]
			for o.it.relation == "exact" {
				o = byRef[o.it.origin]
			}
			or, of = o.it.rel, o.it.file
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", m.it.rel, m.it.file, or, of, m.it.relation)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func writeNotice(path string, all []*made, total int) error {
	var b strings.Builder
	b.WriteString(`# NOTICE: where the sample photos come from

Generated by ` + "`go run samples/mksamples.go`" + ` (do not edit by hand).

These are DEMO releases: harmless public sample photos (receipts, dogs, churches, trains, flowers)
arranged to look like recycled releases. None of them is real propaganda, and the affiliate names in
release.json are labels for the demo only.

Every photo comes from the project's test corpus (` + "`../shared/corpus/real/`" + `), which holds
unmodified copies of files from three public GitHub repositories. Only files whose terms allow
redistribution were used:

| collection | source repository | terms |
| --- | --- | --- |
| metadata-extractor-images | https://github.com/drewnoakes/metadata-extractor-images (4beba640) | ` + licences[colMEI] + ` |
| goexif | https://github.com/rwcarlsen/goexif (9e8deecb) | ` + licences[colGoexif] + ` |
| exif-samples | https://github.com/ianare/exif-samples (5332a9cf) | ` + licences[colExifS] + ` |

The exif-samples files used are user contributions to that repository (not its Wikimedia Commons,
exif.org or gps/ files), released under CC BY-SA 4.0 by its README: ` + "`jpg/hdr/canon_hdr_YES.jpg`" + ` and
` + "`jpg/hdr/iphone_hdr_YES.jpg`" + ` were contributed by Jesus Cea. The derived (rotated, resized)
copies here are offered under the same licence, CC BY-SA 4.0. Nothing from exif-org/, gps/ or ImageTestSuite/ is used.

"EXIF stripped" means Go's image/jpeg or image/png wrote the file: the encoders keep no metadata.

| sample file | bytes | pixels | sha256 (first 12) | source file (collection) | what was done |
| --- | ---: | --- | --- | --- | --- |
`)
	for _, m := range all {
		sum := sha256.Sum256(m.data)
		fmt.Fprintf(&b, "| `%s/%s` | %d | %dx%d | %s | `%s` (%s) | %s |\n",
			m.it.rel, m.it.file, len(m.data), m.w, m.h, hex.EncodeToString(sum[:6]), m.src, m.col, m.done)
	}
	fmt.Fprintf(&b, "\nTotal of the photos and release.json files: %d bytes.\n", total)
	b.WriteString(goexifLicence)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// goexifLicence is the licence of rwcarlsen/goexif, whose terms require it to travel with copies of
// its files (11-throne.jpg and its reuses come from goexif's exif/sample1.jpg).
const goexifLicence = `
## Licence of the goexif files (rwcarlsen/goexif LICENSE)

` + "```" + `
Copyright (c) 2012, Robert Carlsen & Contributors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

  * Redistributions of source code must retain the above copyright notice, this
    list of conditions and the following disclaimer.

  * Redistributions in binary form must reproduce the above copyright notice,
    this list of conditions and the following disclaimer in the documentation
    and/or other materials provided with the distribution.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
` + "```" + `
`

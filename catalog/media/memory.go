package media

import (
	"encoding/binary"
	"math/bits"
)

// DecodeMemory estimates the bytes Decode will allocate for data's pixels (the decoded image plus
// the decoder's working buffers), from the header alone, so that a caller can bound the memory of
// concurrent decodes before starting one. It returns 0 when the header cannot be read.
//
// A progressive JPEG is the expensive case: Go's decoder keeps every DCT coefficient (256 bytes per
// 8x8 block per component) besides the image, about 6 bytes per pixel at 4:2:0 and 15 at 4:4:4, so a
// 100 MP progressive file needs about 1.5 GB while a baseline one needs 150-300 MB.
func DecodeMemory(data []byte, f Format) int64 {
	cfg, ic, err := decodeConfig(data, f)
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0
	}
	hi, px := bits.Mul64(uint64(cfg.Width), uint64(cfg.Height))
	if hi != 0 || px > 1<<40 {
		return 1 << 62
	}
	n := int64(px)
	img := n * bytesPerPixel(ic.ColorModel)
	switch cfg.Format {
	case JPEG:
		if est, ok := jpegMemory(data, cfg.Width, cfg.Height); ok {
			return withOverhead(est)
		}
	case TIFF:
		// x/image/tiff reads each strip (or tile) whole into one growing buffer: up to the
		// declared size (checkStrips refuses more when it matters), with the doubling growth of
		// a bytes.Buffer (the old and the new array at once: 3 times). Without a readable
		// layout, the decoder's own cap: 8 bytes a pixel of the whole image.
		block := 8 * n
		if l, ok := parseTIFF(data); ok {
			block = min(l.blockBytes(), 8*l.bw*l.bh)
			if 8*l.bw*l.bh <= checkedStrip {
				block = 8 * l.bw * l.bh
			}
		}
		return withOverhead(img + 3*block)
	case PNG:
		// An interlaced PNG is decoded pass by pass into images of its own, each copied into
		// the final one: the passes add up to one more image.
		if len(data) > 28 && data[28] == 1 {
			return withOverhead(2 * img)
		}
	}
	return withOverhead(img)
}

// jpegMemory reads the frame header (SOF) and estimates the decoder's allocations.
func jpegMemory(data []byte, w, h int) (int64, bool) {
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return 0, false
		}
		m := data[i+1]
		if m == 0xff { // fill byte
			i++
			continue
		}
		if m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01 {
			i += 2
			continue
		}
		l := int(binary.BigEndian.Uint16(data[i+2:]))
		if l < 2 || i+2+l > len(data) {
			return 0, false
		}
		seg := data[i+4 : i+2+l]
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc {
			return sofMemory(seg, m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce, w, h)
		}
		if m == 0xda { // start of scan before any frame header
			return 0, false
		}
		i += 2 + l
	}
	return 0, false
}

func sofMemory(seg []byte, progressive bool, w, h int) (int64, bool) {
	if len(seg) < 6 {
		return 0, false
	}
	nc := int(seg[5])
	if nc < 1 || len(seg) < 6+3*nc {
		return 0, false
	}
	hmax, vmax := 1, 1
	type samp struct{ h, v int }
	cs := make([]samp, nc)
	for c := 0; c < nc; c++ {
		hv := seg[6+3*c+1]
		cs[c] = samp{max(int(hv>>4), 1), max(int(hv&0x0f), 1)}
		hmax, vmax = max(hmax, cs[c].h), max(vmax, cs[c].v)
	}
	// Blocks per component: the MCU grid covers the image rounded up to whole MCUs.
	mcuX := (int64(w) + 8*int64(hmax) - 1) / (8 * int64(hmax))
	mcuY := (int64(h) + 8*int64(vmax) - 1) / (8 * int64(vmax))
	var samples, blocks int64
	for _, c := range cs {
		b := mcuX * int64(c.h) * mcuY * int64(c.v)
		blocks += b
		samples += 64 * b
	}
	est := samples // the decoded planes (Gray or YCbCr) hold one byte per sample
	if nc == 4 {
		est += 4 * int64(w) * int64(h) // CMYK output on top of the planes
	}
	if progressive {
		est += 256 * blocks // [64]int32 coefficients per block
	}
	return est, true
}

// withOverhead adds the decoders' fixed tables and row buffers.
func withOverhead(n int64) int64 { return n + n/16 + 64<<10 }

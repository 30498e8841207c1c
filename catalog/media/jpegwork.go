package media

import (
	"bytes"
	"encoding/binary"
)

// MaxScanWork bounds the work of decoding a progressive JPEG, in units per 8x8 block of the image:
// every scan costs each block it covers 64 units (Go's decoder copies the block's 64 coefficients
// in and out) plus one per coefficient of its spectral band. The standard progressive script
// (libjpeg's, six scans over a luma block and four over a chroma one) costs about 575 units for a
// luma block and 385 for a chroma block (the progressive files of catalog/media/jpeg/testdata cost
// 447 to 575); a file needing more than MaxScanWork units per block (1.8 times that, or 15 scans of
// one coefficient) is refused with ErrTooMuchWork before decoding. A visit costs Go's decoder about
// 0.5 µs on the loaded 2-core CI machine, so the largest progressive file the default budget lets
// through (100 MP grey) stays under 15 s. Without the bound, 3,000 scans of a few bytes each made a
// 570 KB file take 100 s.
const MaxScanWork = 1024

// scanVisit is the cost of visiting one block in one scan, in MaxScanWork units.
const scanVisit = 64

// checkScans walks a JPEG's markers (skipping entropy-coded data) and refuses a progressive file
// whose scans would cost more than MaxScanWork units per block. Baseline files cost a bounded
// amount per byte of scan data and pass; so do files it cannot parse (the decoder reports those).
func checkScans(data []byte, w, h int) error {
	_, err := scanWork(data, w, h)
	return err
}

// scanWork returns the work of a progressive JPEG's scans in units per block (0 for a baseline or
// unparsable file), or ErrTooMuchWork as soon as it is over MaxScanWork.
func scanWork(data []byte, w, h int) (int64, error) {
	type comp struct{ id, h, v int }
	var (
		comps       []comp
		progressive bool
		mcuX, mcuY  int64
		total, work int64
		scans       int
	)
	perBlock := func() int64 {
		if total == 0 {
			return 0
		}
		return work / total
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return perBlock(), nil
		}
		m := data[i+1]
		switch {
		case m == 0xff:
			i++
			continue
		case m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01:
			i += 2
			continue
		case m == 0xd9:
			return perBlock(), nil
		}
		l := int(binary.BigEndian.Uint16(data[i+2:]))
		if l < 2 || i+2+l > len(data) {
			return perBlock(), nil
		}
		seg := data[i+4 : i+2+l]
		switch {
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			progressive = m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce
			if !progressive {
				return perBlock(), nil
			}
			if len(seg) < 6 || len(seg) < 6+3*int(seg[5]) {
				return perBlock(), nil
			}
			hmax, vmax := 1, 1
			comps = comps[:0]
			for c := 0; c < int(seg[5]); c++ {
				hv := seg[6+3*c+1]
				cp := comp{int(seg[6+3*c]), max(int(hv>>4), 1), max(int(hv&15), 1)}
				hmax, vmax = max(hmax, cp.h), max(vmax, cp.v)
				comps = append(comps, cp)
			}
			mcuX = (int64(w) + 8*int64(hmax) - 1) / (8 * int64(hmax))
			mcuY = (int64(h) + 8*int64(vmax) - 1) / (8 * int64(vmax))
			for _, c := range comps {
				total += mcuX * int64(c.h) * mcuY * int64(c.v)
			}
		case m == 0xda:
			if !progressive || total == 0 || len(seg) < 1 || len(seg) < 1+2*int(seg[0])+3 {
				return perBlock(), nil
			}
			scans++
			ns := int(seg[0])
			ss, se := int64(seg[1+2*ns]), int64(seg[2+2*ns])
			band := max(se-ss+1, 1)
			for k := 0; k < ns; k++ {
				id := int(seg[1+2*k])
				for _, c := range comps {
					if c.id == id {
						work += mcuX * int64(c.h) * mcuY * int64(c.v) * (scanVisit + band)
					}
				}
			}
			if work > MaxScanWork*total {
				return perBlock(), newError(ErrTooMuchWork, nil, "progressive JPEG scans would cost over %d units per block (%d scans seen so far): too much work for %d bytes",
					MaxScanWork, scans, len(data))
			}
			// Skip the entropy-coded data to the next marker (0xff followed by neither a
			// stuffed zero, a fill byte nor a restart marker).
			j := i + 2 + l
			for j+1 < len(data) {
				k := bytes.IndexByte(data[j:len(data)-1], 0xff)
				if k < 0 {
					j = len(data) - 1
					break
				}
				j += k
				if c := data[j+1]; c != 0 && c != 0xff && (c < 0xd0 || c > 0xd7) {
					break
				}
				j++
			}
			i = j
			continue
		}
		i += 2 + l
	}
	return perBlock(), nil
}

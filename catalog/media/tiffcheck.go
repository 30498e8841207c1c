package media

import (
	"bufio"
	"compress/zlib"
	"context"
	"encoding/binary"
	"io"

	"golang.org/x/image/tiff/lzw"
)

// tiffLayout is what the first IFD of a TIFF says about its strips or tiles.
type tiffLayout struct {
	w, h        int64
	spp, bps    int64
	compression uint64
	bw, bh      int64 // block (strip or tile) size in pixels
	offsets     []uint64
	counts      []uint64
}

// blockBytes is the decompressed size of one full block, as the header declares it.
func (l *tiffLayout) blockBytes() int64 {
	return l.bh * ((l.bw*l.spp*l.bps + 7) / 8)
}

// parseTIFF reads the first IFD. ok is false when it cannot be read; the decoder then reports why.
func parseTIFF(data []byte) (l tiffLayout, ok bool) {
	if len(data) < 8 {
		return l, false
	}
	var bo binary.ByteOrder
	switch string(data[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return l, false
	}
	off := uint64(bo.Uint32(data[4:]))
	if off+2 > uint64(len(data)) {
		return l, false
	}
	n := uint64(bo.Uint16(data[off:]))
	if off+2+12*n > uint64(len(data)) {
		return l, false
	}
	// values returns the entry's values (SHORT or LONG), at most len(data)/2 of them.
	values := func(e []byte) ([]uint64, bool) {
		typ, count := bo.Uint16(e[2:]), uint64(bo.Uint32(e[4:]))
		size := uint64(0)
		switch typ {
		case 3:
			size = 2
		case 4:
			size = 4
		default:
			return nil, false
		}
		p := e[8:12]
		if count*size > 4 {
			o := uint64(bo.Uint32(e[8:]))
			if o+count*size > uint64(len(data)) {
				return nil, false
			}
			p = data[o : o+count*size]
		}
		out := make([]uint64, count)
		for i := range out {
			if size == 2 {
				out[i] = uint64(bo.Uint16(p[2*i:]))
			} else {
				out[i] = uint64(bo.Uint32(p[4*i:]))
			}
		}
		return out, true
	}
	first := func(v []uint64) int64 {
		if len(v) == 0 {
			return 0
		}
		return int64(v[0])
	}
	l.spp, l.bps, l.compression = 1, 1, 1
	var rows, tw, th int64
	var tileOff, tileCnt []uint64
	for i := uint64(0); i < n; i++ {
		e := data[off+2+12*i : off+2+12*i+12]
		v, ok := values(e)
		if !ok {
			continue
		}
		switch bo.Uint16(e) {
		case 256:
			l.w = first(v)
		case 257:
			l.h = first(v)
		case 258:
			l.bps = first(v)
		case 259:
			l.compression = uint64(first(v))
		case 273:
			l.offsets = v
		case 277:
			l.spp = first(v)
		case 278:
			rows = first(v)
		case 279:
			l.counts = v
		case 322:
			tw = first(v)
		case 323:
			th = first(v)
		case 324:
			tileOff = v
		case 325:
			tileCnt = v
		}
	}
	if l.w <= 0 || l.h <= 0 || l.spp <= 0 || l.bps <= 0 || l.spp > 16 || l.bps > 64 {
		return l, false
	}
	l.bw, l.bh = l.w, l.h
	if tw > 0 {
		l.bw, l.bh, l.offsets, l.counts = tw, th, tileOff, tileCnt
		if th <= 0 {
			return l, false
		}
	} else if rows > 0 && rows < l.h {
		l.bh = rows
	}
	if len(l.offsets) != len(l.counts) {
		return l, false
	}
	return l, true
}

// checkedStrip is the largest block that checkStrips leaves to the decoder unchecked: x/image/tiff
// buffers at most 8 bytes a pixel of a block, so a small block cannot hold a large bomb.
const checkedStrip = 1 << 20

// checkStrips decompresses, without keeping them, the large compressed blocks (strips or tiles) of
// a TIFF and refuses with ErrTooMuchWork one that inflates past its declared size. x/image/tiff
// reads every block into one buffer of up to 8 bytes a pixel of the block whatever the header
// declares, so a 760 KB single-strip file made it allocate 800 MB (and grow a buffer to twice that).
// After this check, the decoder's buffer holds at most the declared size, which DecodeMemory counts.
func checkStrips(ctx context.Context, data []byte) error {
	l, ok := parseTIFF(data)
	if !ok {
		return nil
	}
	switch l.compression {
	case 5, 8, 32946, 32773: // LZW, deflate, old deflate, PackBits
	default:
		return nil
	}
	want := l.blockBytes()
	if 8*l.bw*l.bh <= checkedStrip {
		return nil
	}
	r := newCtxReader(ctx, data)
	for i, off := range l.offsets {
		cnt := l.counts[i]
		if off > uint64(len(data)) || cnt > uint64(len(data))-off {
			return nil // the decoder reports it
		}
		sec := io.NewSectionReader(r, int64(off), int64(cnt))
		var dec io.Reader
		switch l.compression {
		case 5:
			dec = lzw.NewReader(sec, lzw.MSB, 8)
		case 8, 32946:
			zr, err := zlib.NewReader(sec)
			if err != nil {
				return nil
			}
			dec = zr
		case 32773:
			dec = &packBits{r: bufio.NewReader(sec)}
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(dec, want+1))
		if c, ok := dec.(io.Closer); ok {
			c.Close()
		}
		if err := ctx.Err(); err != nil {
			return newError(err, nil, "TIFF decoding interrupted")
		}
		if n > want {
			return newError(ErrTooMuchWork, nil, "TIFF strip %d of %d inflates past its declared %d bytes (%dx%d pixels): a decompression bomb",
				i+1, len(l.offsets), want, l.bw, l.bh)
		}
	}
	return nil
}

// packBits decodes PackBits (TIFF compression 32773).
type packBits struct {
	r   *bufio.Reader
	lit int  // literal bytes still to copy
	rep int  // repeats of b still to emit
	b   byte // the repeated byte
}

func (p *packBits) Read(out []byte) (int, error) {
	n := 0
	for n < len(out) {
		switch {
		case p.lit > 0:
			c, err := p.r.ReadByte()
			if err != nil {
				return n, io.EOF
			}
			out[n] = c
			n++
			p.lit--
		case p.rep > 0:
			out[n] = p.b
			n++
			p.rep--
		default:
			c, err := p.r.ReadByte()
			if err != nil {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			code := int(int8(c))
			switch {
			case code >= 0:
				p.lit = code + 1
			case code != -128:
				b, err := p.r.ReadByte()
				if err != nil {
					return n, io.EOF
				}
				p.b, p.rep = b, 1-code
			}
		}
	}
	return n, nil
}

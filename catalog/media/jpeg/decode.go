package jpeg

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
)

// Options configure Decode.
type Options struct {
	// Scale is the reduction: 1 (full size, also for 0), 2, 4 or 8. The image comes back
	// ceil(W/Scale) x ceil(H/Scale), each sample the mean of the Scale x Scale samples it
	// replaces.
	Scale int
	// MaxMemory, when positive, refuses (ErrMemory, before allocating) a decode whose pixel
	// planes and coefficient buffers would take more bytes; see Config.Memory.
	MaxMemory int64
	// Buffers, when not nil, lend a progressive decode its coefficient buffers and keep them
	// for the next decode given the same Buffers (see Buffers).
	Buffers *Buffers
}

// Buffers hold a progressive decode's coefficient buffers for reuse by the next Decode given
// them, so that a series of decodes (one goroutine's, one at a time) does not allocate, clear
// and fault in tens of megabytes per 12 MP photo. A decode grows them to what it needs
// (Config.Memory counts that as for a fresh allocation) and never reads what an earlier decode
// left in them. The decoded image does not refer to them. The zero value is ready to use.
type Buffers struct {
	coef []int16
	nz   []uint64
	dc   []int16
}

// Size is the number of bytes the buffers hold.
func (b *Buffers) Size() int64 {
	return int64(2*cap(b.coef) + 8*cap(b.nz) + 2*cap(b.dc))
}

// Release lets go of the buffers (the next decode allocates new ones).
func (b *Buffers) Release() { *b = Buffers{} }

// Config is what the header says.
type Config struct {
	Width, Height int
	Components    int  // 1, 3 or 4
	Progressive   bool // SOF2; otherwise sequential (SOF0 or SOF1)
	// H and V are the sampling factors of each component (1 component: always 1).
	H, V [4]int
}

// Memory is the number of bytes Decode allocates (pixel planes, coefficients of a
// progressive file, the converted output of CMYK and RGB files) at the given scale.
func (c Config) Memory(scale int) int64 {
	n := int64(8 / normScale(scale))
	hmax, vmax := 1, 1
	for i := 0; i < c.Components; i++ {
		hmax, vmax = max(hmax, c.H[i]), max(vmax, c.V[i])
	}
	mx := (int64(c.Width) + 8*int64(hmax) - 1) / (8 * int64(hmax))
	my := (int64(c.Height) + 8*int64(vmax) - 1) / (8 * int64(vmax))
	var total int64
	for i := 0; i < c.Components; i++ {
		blocks := mx * int64(c.H[i]) * my * int64(c.V[i])
		total += blocks * n * n
		if c.Progressive {
			// The AC coefficients the output needs (acLayouts), the DC term, the mask.
			total += blocks*int64(2*acLayouts[n].stride+2+8) + 2*64
		}
	}
	if c.Components == 4 || c.Components == 3 {
		// CMYK and RGB files are converted to an interleaved image besides the planes.
		w := (int64(c.Width) + int64(8/n) - 1) / int64(8/n)
		h := (int64(c.Height) + int64(8/n) - 1) / int64(8/n)
		if c.Components == 4 {
			total += 4 * w * h
		}
	}
	return total + 8<<10
}

func normScale(s int) int {
	switch s {
	case 2, 4, 8:
		return s
	}
	return 1
}

// Marker codes (T.81 table B.1).
const (
	mSOF0 = 0xc0
	mSOF1 = 0xc1
	mSOF2 = 0xc2
	mDHT  = 0xc4
	mRST0 = 0xd0
	mRST7 = 0xd7
	mSOI  = 0xd8
	mEOI  = 0xd9
	mSOS  = 0xda
	mDQT  = 0xdb
	mDNL  = 0xdc
	mDRI  = 0xdd
	mAPP0 = 0xe0
	mAPPE = 0xee
	mAPPF = 0xef
	mCOM  = 0xfe
)

// maxScans bounds the work per file: each scan visits every block of its components.
const maxScans = 1000

type component struct {
	id     uint8
	h, v   int
	tq     uint8
	bw, bh int // blocks per row and per column of the component's MCU-padded grid
	// Set by the scan header.
	td, ta  uint8
	scanned bool // a scan has covered the component
	pred    int32
	// Output: n x n samples per block.
	plane  []uint8
	stride int
	// Progressive files, per block, not dequantized: the DC coefficient (dc), the AC ones in
	// the slots of the decode's acLayout (coef, layout.stride per block; slots a decode has
	// not written hold anything), and a mask of the non-zero coefficients (nz, bit k:
	// zig-zag index k), so that refinement scans and the final inverse DCTs visit only those
	// and read only slots they wrote.
	coef []int16
	nz   []uint64
	dc   []int16
}

// acLayout is where a progressive decode keeps each block's AC coefficients: a reduced decode's
// inverse DCT reads only some of them (idct.go: at 1/2 none in row or column 4, at 1/4 only rows
// and columns 0, 1, 3, 5 and 7, at 1/8 none), so the others share one slot whose content is never
// read. The entropy decoding still tracks every coefficient in the non-zero mask. A 12 MP
// progressive photo decoded at 1/4 keeps 50 bytes a block instead of 128.
type acLayout struct {
	slot   [64]uint8 // zig-zag index (1..63) -> slot in the block's stride
	stride int       // slots per block
	keep   uint64    // the zig-zag indices (0 included) the inverse DCT reads
}

// acLayouts is indexed by the output samples per block side (8, 4, 2, 1).
var acLayouts [9]acLayout

func init() {
	for _, n := range []int{8, 4, 2, 1} {
		l := &acLayouts[n]
		needed := func(i int) bool { // row or column index i of the block
			switch n {
			case 8:
				return true
			case 4:
				return i != 4
			case 2:
				return i&1 == 1 || i == 0
			}
			return i == 0
		}
		l.keep = 1
		var sink []int
		for k := 1; k < 64; k++ {
			if needed(int(unzig[k]/8)) && needed(int(unzig[k]%8)) {
				l.slot[k] = uint8(l.stride)
				l.stride++
				l.keep |= 1 << k
			} else {
				sink = append(sink, k)
			}
		}
		for _, k := range sink {
			l.slot[k] = uint8(l.stride)
		}
		if len(sink) > 0 {
			l.stride++
		}
	}
}

type decoder struct {
	data []byte
	pos  int
	done <-chan struct{}
	ctx  context.Context
	opts Options
	n    int // output samples per block side

	width, height int
	ncomp         int
	comp          [4]component
	hmax, vmax    int
	mcusX, mcusY  int
	frame         bool
	baseline      bool // SOF0: Huffman table ids 0 and 1 only (T.81 table B.3)
	progressive   bool
	allocated     bool

	quant  [4][64]uint16 // zig-zag order
	dc, ac [4]huffTable
	ri     int // restart interval in MCUs

	jfif           bool
	adobe          bool
	adobeTransform uint8

	layout *acLayout // progressive files

	br     bitReader
	eobrun int
	scans  int
	wild   bool // a coefficient out of the range of valid data was clamped
}

// DecodeConfig reads the header up to the frame (SOF) segment.
func DecodeConfig(data []byte) (cfg Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = formatError("internal error: %v", r)
		}
	}()
	d := &decoder{data: data}
	if err := d.run(true); err != nil {
		return Config{}, err
	}
	return d.config(), nil
}

func (d *decoder) config() Config {
	c := Config{Width: d.width, Height: d.height, Components: d.ncomp, Progressive: d.progressive}
	for i := 0; i < d.ncomp; i++ {
		c.H[i], c.V[i] = d.comp[i].h, d.comp[i].v
	}
	return c
}

// Decode decodes data at opts.Scale. The result is an *image.Gray (1 component),
// *image.YCbCr (3 components, planar, chroma at its own resolution), *image.RGBA (3
// components stored as RGB: Adobe transform 0, or component ids 'R' 'G' 'B' without JFIF)
// or *image.CMYK (4 components; Adobe YCCK converted). Errors wrap ErrFormat,
// ErrUnsupported, ErrMemory or the context's error; a panic is turned into an ErrFormat
// error.
func Decode(ctx context.Context, data []byte, opts Options) (image.Image, error) {
	img, _, err := decode(ctx, data, opts)
	return img, err
}

func decode(ctx context.Context, data []byte, opts Options) (img image.Image, d *decoder, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, formatError("internal error: %v", r)
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	opts.Scale = normScale(opts.Scale)
	d = &decoder{data: data, ctx: ctx, done: ctx.Done(), opts: opts, n: 8 / opts.Scale}
	if err := d.run(false); err != nil {
		return nil, d, err
	}
	img, err = d.image()
	return img, d, err
}

func (d *decoder) cancelled() error {
	select {
	case <-d.done:
		return d.ctx.Err()
	default:
		return nil
	}
}

// run walks the markers; with configOnly it stops after the frame header.
func (d *decoder) run(configOnly bool) error {
	data := d.data
	if len(data) < 2 || data[0] != 0xff || data[1] != mSOI {
		return formatError("missing SOI marker")
	}
	d.pos = 2
	for {
		// Find the next marker, skipping stray bytes, 0xFF00 pairs and fill bytes.
		if d.pos+2 > len(data) {
			return errEOF
		}
		if data[d.pos] != 0xff {
			d.pos++
			continue
		}
		m := data[d.pos+1]
		if m == 0 {
			d.pos += 2
			continue
		}
		d.pos += 2
		for m == 0xff { // fill bytes; what follows them is the marker, even 0x00
			if d.pos >= len(data) {
				return errEOF
			}
			m = data[d.pos]
			d.pos++
		}
		switch {
		case m == mEOI:
			if configOnly {
				return formatError("missing SOF marker")
			}
			return d.finish()
		case m >= mRST0 && m <= mRST7:
			continue
		case m == mSOI:
			continue
		}
		if d.pos+2 > len(data) {
			return errEOF
		}
		l := int(binary.BigEndian.Uint16(data[d.pos:]))
		if l < 2 {
			return formatError("short segment length")
		}
		if d.pos+l > len(data) {
			return errEOF
		}
		seg := data[d.pos+2 : d.pos+l]
		d.pos += l
		var err error
		switch {
		case m == mSOF0 || m == mSOF1 || m == mSOF2:
			if d.frame {
				return formatError("multiple SOF markers")
			}
			d.baseline = m == mSOF0
			err = d.sof(seg, m == mSOF2)
			if err == nil && configOnly {
				return nil
			}
		case m == mDHT:
			err = d.dht(seg)
		case m == mDQT:
			err = d.dqt(seg)
		case m == mDRI:
			if len(seg) != 2 {
				return formatError("DRI has wrong length")
			}
			d.ri = int(binary.BigEndian.Uint16(seg))
		case m == mSOS:
			if configOnly {
				return formatError("missing SOF marker")
			}
			err = d.sos(seg)
		case m == mAPP0:
			d.jfif = len(seg) >= 5 && string(seg[:5]) == "JFIF\x00"
		case m == mAPPE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe, d.adobeTransform = true, seg[11]
			}
		case m >= mAPP0 && m <= mAPPF || m == mCOM:
		case m == mDNL:
			return unsupported("DNL marker")
		case m >= 0xc0 && m <= 0xcf && m != mDHT && m != 0xc8 && m != 0xcc:
			switch m {
			case 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf:
				return unsupported("arithmetic coding (SOF%d)", m-0xc0)
			case 0xc3, 0xc7:
				return unsupported("lossless JPEG (SOF%d)", m-0xc0)
			}
			return unsupported("JPEG process SOF%d", m-0xc0)
		case m < 0xc0:
			return formatError("unknown marker %#02x", m)
		default:
			return unsupported("marker %#02x", m)
		}
		if err != nil {
			return err
		}
	}
}

func (d *decoder) sof(seg []byte, progressive bool) error {
	if len(seg) < 6 {
		return formatError("short SOF segment")
	}
	if seg[0] != 8 {
		return unsupported("%d-bit precision", seg[0])
	}
	d.height = int(binary.BigEndian.Uint16(seg[1:]))
	d.width = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if nc != 1 && nc != 3 && nc != 4 {
		return unsupported("%d components", nc)
	}
	if len(seg) != 6+3*nc {
		return formatError("SOF has wrong length")
	}
	// A zero height (to be given by a DNL marker, which is unsupported) or width decodes to
	// an empty image, as in image/jpeg; callers refuse empty images before decoding.
	d.ncomp, d.progressive, d.frame = nc, progressive, true
	d.hmax, d.vmax = 1, 1
	for i := range nc {
		c := &d.comp[i]
		c.id = seg[6+3*i]
		for j := range i {
			if d.comp[j].id == c.id {
				return formatError("repeated component identifier")
			}
		}
		c.h, c.v = int(seg[7+3*i]>>4), int(seg[7+3*i]&15)
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return formatError("bad sampling factor")
		}
		c.tq = seg[8+3*i]
		if c.tq > 3 {
			return formatError("bad quantization table selector")
		}
		if nc == 1 {
			c.h, c.v = 1, 1 // one block per MCU whatever the factors say
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	if err := d.checkSampling(); err != nil {
		return err
	}
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range nc {
		c := &d.comp[i]
		c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
	}
	return nil
}

// checkSampling accepts the sampling factors the output images can represent.
func (d *decoder) checkSampling() error {
	c := &d.comp
	switch d.ncomp {
	case 3:
		if c[1].h != c[2].h || c[1].v != c[2].v {
			return unsupported("chroma components with different sampling factors")
		}
		if c[0].h%c[1].h != 0 || c[0].v%c[1].v != 0 {
			return unsupported("luma sampling %dx%d not a multiple of chroma %dx%d", c[0].h, c[0].v, c[1].h, c[1].v)
		}
		if _, ok := subsampleRatio(c[0].h/c[1].h, c[0].v/c[1].v); !ok {
			return unsupported("subsampling ratio %dx%d", c[0].h/c[1].h, c[0].v/c[1].v)
		}
	case 4:
		for i := range 4 {
			if d.hmax%c[i].h != 0 || d.vmax%c[i].v != 0 {
				return unsupported("CMYK sampling factors")
			}
		}
	}
	return nil
}

func subsampleRatio(h, v int) (image.YCbCrSubsampleRatio, bool) {
	switch {
	case h == 1 && v == 1:
		return image.YCbCrSubsampleRatio444, true
	case h == 2 && v == 1:
		return image.YCbCrSubsampleRatio422, true
	case h == 2 && v == 2:
		return image.YCbCrSubsampleRatio420, true
	case h == 1 && v == 2:
		return image.YCbCrSubsampleRatio440, true
	case h == 4 && v == 1:
		return image.YCbCrSubsampleRatio411, true
	case h == 4 && v == 2:
		return image.YCbCrSubsampleRatio410, true
	}
	return 0, false
}

func (d *decoder) dqt(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if pq > 1 {
			return formatError("bad Pq value")
		}
		if tq > 3 {
			return formatError("bad Tq value")
		}
		seg = seg[1:]
		q := &d.quant[tq]
		if pq == 0 {
			if len(seg) < 64 {
				return formatError("DQT has wrong length")
			}
			for k := range 64 {
				q[k] = uint16(seg[k])
			}
			seg = seg[64:]
		} else {
			if len(seg) < 128 {
				return formatError("DQT has wrong length")
			}
			for k := range 64 {
				q[k] = binary.BigEndian.Uint16(seg[2*k:])
			}
			seg = seg[128:]
		}
	}
	return nil
}

func (d *decoder) dht(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return formatError("DHT has wrong length")
		}
		tc, th := seg[0]>>4, seg[0]&15
		if tc > 1 {
			return formatError("bad Tc value")
		}
		if th > 3 || (d.baseline && th > 1) {
			return formatError("bad Th value")
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			total += counts[l]
		}
		if total == 0 {
			return formatError("Huffman table has zero length")
		}
		if total > 256 {
			return formatError("Huffman table has excessive length")
		}
		if len(seg) < 17+total {
			return formatError("DHT has wrong length")
		}
		t := &d.dc[th]
		if tc == 1 {
			t = &d.ac[th]
		}
		t.build(&counts, seg[17:17+total])
		seg = seg[17+total:]
	}
	return nil
}

// allocate makes the output planes (and coefficient buffers) at the first scan.
func (d *decoder) allocate() error {
	cfg := d.config()
	if need := cfg.Memory(d.opts.Scale); d.opts.MaxMemory > 0 && need > d.opts.MaxMemory {
		return &decodeError{ErrMemory, fmt.Sprintf("%dx%d pixels at scale 1/%d need %d MiB, over the limit of %d MiB",
			d.width, d.height, d.opts.Scale, need>>20, d.opts.MaxMemory>>20)}
	}
	n := d.n
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		c.stride = c.bw * n
		c.plane = make([]uint8, c.stride*c.bh*n)
	}
	if d.progressive {
		d.allocateCoefs()
	}
	d.allocated = true
	return nil
}

// allocateCoefs gives each component its coefficient buffers, from opts.Buffers when set. The
// masks and DC terms are cleared; the AC slots are not (only slots written are read). Each
// component's slots are followed by 64 more, so that every block's slots can be addressed as a
// [64]int16.
func (d *decoder) allocateCoefs() {
	d.layout = &acLayouts[d.n]
	var ncoef, nblocks int
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		ncoef += c.bw*c.bh*d.layout.stride + 64
		nblocks += c.bw * c.bh
	}
	b := d.opts.Buffers
	if b == nil {
		b = &Buffers{}
	}
	if cap(b.coef) < ncoef {
		b.coef = nil // let go of the old buffer before making the new one
		b.coef = make([]int16, ncoef)
	}
	if cap(b.nz) < nblocks {
		b.nz = nil
		b.nz = make([]uint64, nblocks)
	}
	if cap(b.dc) < nblocks {
		b.dc = nil
		b.dc = make([]int16, nblocks)
	}
	nz, dc := b.nz[:nblocks], b.dc[:nblocks]
	clear(nz)
	clear(dc)
	coef := b.coef[:ncoef]
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		blocks := c.bw * c.bh
		k := blocks*d.layout.stride + 64
		c.coef, coef = coef[:k:k], coef[k:]
		c.nz, nz = nz[:blocks:blocks], nz[blocks:]
		c.dc, dc = dc[:blocks:blocks], dc[blocks:]
	}
}

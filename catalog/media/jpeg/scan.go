package jpeg

import "math/bits"

// scanInfo is one scan header.
type scanInfo struct {
	comps  []*component
	ss, se int   // spectral selection (zig-zag indices)
	ah, al uint8 // successive approximation
}

func (d *decoder) sos(seg []byte) error {
	if !d.frame {
		return formatError("missing SOF marker")
	}
	if len(seg) < 1 {
		return formatError("SOS has wrong length")
	}
	ns := int(seg[0])
	if ns < 1 || ns > 4 || len(seg) != 4+2*ns {
		return formatError("SOS has wrong length")
	}
	d.scans++
	if d.scans > maxScans {
		return formatError("more than %d scans", maxScans)
	}
	var s scanInfo
	var comps [4]*component
	total := 0
	for i := range ns {
		id := seg[1+2*i]
		var c *component
		for j := 0; j < d.ncomp; j++ {
			if d.comp[j].id == id {
				c = &d.comp[j]
			}
		}
		if c == nil {
			return formatError("unknown component selector")
		}
		for j := range i {
			if comps[j] == c {
				return formatError("repeated component selector")
			}
		}
		comps[i] = c
		c.td, c.ta = seg[2+2*i]>>4, seg[2+2*i]&15
		if c.td > 3 || (d.baseline && c.td > 1) {
			return formatError("bad Td value")
		}
		if c.ta > 3 || (d.baseline && c.ta > 1) {
			return formatError("bad Ta value")
		}
		c.scanned = true
		total += c.h * c.v
	}
	if ns > 1 && total > 10 {
		return formatError("total sampling factors too large")
	}
	s.comps = comps[:ns]
	s.ss, s.se = 0, 63
	if d.progressive {
		s.ss, s.se = int(seg[1+2*ns]), int(seg[2+2*ns])
		s.ah, s.al = seg[3+2*ns]>>4, seg[3+2*ns]&15
		if (s.ss == 0 && s.se != 0) || s.ss > s.se || s.se >= 64 {
			return formatError("bad spectral selection bounds")
		}
		if s.ss != 0 && ns != 1 {
			return formatError("progressive AC coefficients for more than one component")
		}
		if s.ah != 0 && s.ah != s.al+1 {
			return formatError("bad successive approximation values")
		}
		if s.al > 13 {
			return formatError("bad successive approximation values")
		}
	}
	if !d.allocated {
		if err := d.allocate(); err != nil {
			return err
		}
	}
	// A table no DHT defined decodes no code: using it is a "bad Huffman code" error, when
	// (as in image/jpeg) a block actually needs it.
	for _, c := range s.comps {
		c.pred = 0
	}
	// An end-of-band run left over from the previous scan (corrupt data) carries on into
	// this one, as in image/jpeg; restart markers end it.
	d.br.data = d.data
	d.br.reset(d.pos)
	if err := d.scan(&s); err != nil {
		return err
	}
	// Continue the marker search where the entropy-coded data stopped.
	d.pos = d.br.pos
	return nil
}

// scan decodes the entropy-coded data of one scan.
func (d *decoder) scan(s *scanInfo) error {
	// One component: one block per MCU over the component's own size. Several: whole MCUs.
	var mx, my int
	if len(s.comps) == 1 {
		c := s.comps[0]
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		ch := (d.height*c.v + d.vmax - 1) / d.vmax
		mx, my = (cw+7)/8, (ch+7)/8
	} else {
		mx, my = d.mcusX, d.mcusY
	}
	if d.progressive && s.ss > 0 {
		return d.scanAC(s, mx, my)
	}
	var blk [64]int32
	mcu := 0
	n := d.n
	for y := range my {
		if err := d.cancelled(); err != nil {
			return err
		}
		for x := range mx {
			if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
				if err := d.restart(mcu / d.ri); err != nil {
					return err
				}
			}
			mcu++
			for _, c := range s.comps {
				bx0, by0, bh, bv := x, y, 1, 1
				if len(s.comps) > 1 {
					bx0, by0, bh, bv = x*c.h, y*c.v, c.h, c.v
				}
				for j := range bv {
					for i := range bh {
						bx, by := bx0+i, by0+j
						var err error
						switch {
						case !d.progressive:
							var last int
							last, err = d.baselineBlock(c, &blk)
							if err == nil {
								off := by*n*c.stride + bx*n
								idct(&blk, last, n, c.plane[off:], c.stride)
								blk = [64]int32{}
							}
						case s.ss == 0 && s.ah == 0:
							i := by*c.bw + bx
							err = d.dcFirst(c, &c.dc[i], s.al)
							c.nz[i] = c.nz[i]&^1 | nonZero(c.dc[i])
						case s.ss == 0:
							if d.br.bit() {
								i := by*c.bw + bx
								c.dc[i] |= 1 << s.al
								c.nz[i] |= nonZero(c.dc[i])
							}
						case s.ah == 0:
							err = d.acFirst(c, d.coefs(c, bx, by), &c.nz[by*c.bw+bx], s)
						default:
							err = d.acRefine(c, d.coefs(c, bx, by), &c.nz[by*c.bw+bx], s)
						}
						if err != nil {
							return err
						}
					}
				}
			}
			if d.br.overrun() {
				return formatError("entropy-coded data ends early (missing 0xFF00 or truncated)")
			}
		}
	}
	return nil
}

// scanAC decodes an AC scan of a progressive file (one component, mx x my blocks): the loop of
// scan without its per-block dispatch, and a block inside an end-of-band run costs no call
// unless it has coefficients to refine.
func (d *decoder) scanAC(s *scanInfo, mx, my int) error {
	c := s.comps[0]
	stride := d.layout.stride
	refine := s.ah != 0
	band := bandMask(s.ss, s.se)
	mcu := 0
	for y := range my {
		if err := d.cancelled(); err != nil {
			return err
		}
		for i := y * c.bw; i < y*c.bw+mx; i++ {
			if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
				if err := d.restart(mcu / d.ri); err != nil {
					return err
				}
			}
			mcu++
			if d.eobrun > 0 && (!refine || c.nz[i]&band == 0) {
				// Inside an end-of-band run a block reads nothing, unless a refinement
				// scan has non-zero coefficients of the band to correct.
				d.eobrun--
				continue
			}
			b := (*[64]int16)(c.coef[i*stride : i*stride+64])
			var err error
			if refine {
				err = d.acRefine(c, b, &c.nz[i], s)
			} else {
				err = d.acFirst(c, b, &c.nz[i], s)
			}
			if err != nil {
				return err
			}
			if d.br.overrun() {
				return formatError("entropy-coded data ends early (missing 0xFF00 or truncated)")
			}
		}
	}
	return nil
}

// coefs is the AC slots of block (bx, by) of c (the first d.layout.stride are its own).
func (d *decoder) coefs(c *component, bx, by int) *[64]int16 {
	i := d.layout.stride * (by*c.bw + bx)
	return (*[64]int16)(c.coef[i : i+64])
}

// restart consumes the RSTn marker expected after restart interval k (1-based).
func (d *decoder) restart(k int) error {
	r := &d.br
	if r.overrun() {
		return formatError("entropy-coded data ends early (missing 0xFF00 or truncated)")
	}
	// Data left before the marker (more than a partial byte) is skipped, as libjpeg does.
	p := r.pos
	data := d.data
	for p+1 < len(data) && !(data[p] == 0xff && data[p+1] != 0 && data[p+1] != 0xff) {
		p++
	}
	if p+1 >= len(data) {
		return errEOF
	}
	want := byte(mRST0 + (k-1)%8)
	if data[p+1] != want {
		return formatError("bad RST marker")
	}
	r.reset(p + 2)
	for i := 0; i < d.ncomp; i++ {
		d.comp[i].pred = 0
	}
	d.eobrun = 0
	return nil
}

// baselineBlock decodes one block of a sequential scan into blk (natural order,
// dequantized) and returns the zig-zag index of its last coefficient. The bit buffer lives
// in locals; each coefficient needs at most 32 bits (a 16-bit code and 16 magnitude bits).
func (d *decoder) baselineBlock(c *component, blk *[64]int32) (int, error) {
	r := &d.br
	q := &d.quant[c.tq]
	acc, nbits := r.acc, r.nbits
	if nbits < 32 {
		r.fill()
		acc, nbits = r.acc, r.nbits
	}
	// The DC term: a code and up to 16 magnitude bits.
	hd := &d.dc[c.td]
	var t uint8
	var l uint
	if e := hd.lut[acc>>(64-lutBits)]; e != 0 {
		t, l = uint8(e), uint(e>>8)
	} else if t, l = hd.slow(uint32(acc >> 48)); l == 0 {
		return 0, errBadCode
	}
	acc <<= l
	nbits -= l
	if t > 16 {
		r.acc, r.nbits = acc, nbits
		return 0, unsupported("excessive DC component")
	}
	if t > 0 {
		size := uint(t)
		x := int32(acc >> (64 - size))
		acc <<= size
		nbits -= size
		if x < 1<<(size-1) {
			x += -1<<size + 1
		}
		c.pred += x
	}
	blk[0] = c.pred * int32(q[0])
	if uint32(blk[0]+maxCoef) > 2*maxCoef {
		blk[0] = d.wildCoef(blk[0])
	}
	last := 0
	if d.eobrun > 0 {
		// An end-of-band run (symbols 0x10..0xE0, which only progressive files should
		// use) skips the AC terms of the following blocks, as image/jpeg reads them.
		d.eobrun--
		r.acc, r.nbits = acc, nbits
		return 0, nil
	}
	h := &d.ac[c.ta]
	for k := 1; k < 64; k++ {
		if nbits < 32 {
			r.acc, r.nbits = acc, nbits
			r.fill()
			acc, nbits = r.acc, r.nbits
		}
		if f := h.fast[acc>>(64-lutBits)]; f != 0 {
			k += int(f>>12) & 15
			if k > 63 { // a run past the block: stop before the magnitude bits
				n := uint(f>>8) & 15
				acc <<= n
				nbits -= n
				break
			}
			n := uint(f) & 0xff
			acc <<= n
			nbits -= n
			v := (f >> 16) * int32(q[k])
			if uint32(v+maxCoef) > 2*maxCoef {
				v = d.wildCoef(v)
			}
			blk[unzig[k]] = v
			last = k
			continue
		}
		var rs uint8
		var l uint
		if e := h.lut[acc>>(64-lutBits)]; e != 0 {
			rs, l = uint8(e), uint(e>>8)
		} else if rs, l = h.slow(uint32(acc >> 48)); l == 0 {
			return 0, errBadCode
		}
		acc <<= l
		nbits -= l
		run, size := int(rs>>4), uint(rs&15)
		if size == 0 {
			if run != 15 {
				if run > 0 {
					d.eobrun = 1<<run + int(acc>>(64-uint(run))) - 1
					acc <<= uint(run)
					nbits -= uint(run)
				}
				break
			}
			k += 15
			continue
		}
		k += run
		if k > 63 {
			break
		}
		v := int32(acc >> (64 - size))
		acc <<= size
		nbits -= size
		if v < 1<<(size-1) {
			v += -1<<size + 1
		}
		v *= int32(q[k])
		if uint32(v+maxCoef) > 2*maxCoef {
			v = d.wildCoef(v)
		}
		blk[unzig[k]] = v
		last = k
	}
	r.acc, r.nbits = acc, nbits
	return last, nil
}

var errBadCode = formatError("bad Huffman code")

// dcFirst reads the DC difference as baselineBlock does, written out in both: one helper
// (dcDiff(h, acc, nbits) (x, acc, nbits, err)) is not inlined (cost 246, budget 80), and with the
// call per block BenchmarkDecode's medians of three alternating runs went 69.8 -> 73.3 cpu-ms (12MP
// scale 1), 140.5 -> 152.4 (12MP-prog422 scale 1), 78.0 -> 80.4 (12MP-prog420 scale 1/4), 29.6 ->
// 29.2 (12MP scale 1/8).
func (d *decoder) dcFirst(c *component, dc *int16, al uint8) error {
	r := &d.br
	if r.nbits < 32 {
		r.fill()
	}
	acc, nbits := r.acc, r.nbits
	h := &d.dc[c.td]
	var t uint8
	var l uint
	if e := h.lut[acc>>(64-lutBits)]; e != 0 {
		t, l = uint8(e), uint(e>>8)
	} else if t, l = h.slow(uint32(acc >> 48)); l == 0 {
		return errBadCode
	}
	acc <<= l
	nbits -= l
	if t > 16 {
		return unsupported("excessive DC component")
	}
	if t > 0 { // up to 16 magnitude bits: buffered
		size := uint(t)
		x := int32(acc >> (64 - size))
		acc <<= size
		nbits -= size
		if x < 1<<(size-1) {
			x += -1<<size + 1
		}
		c.pred += x
	}
	r.acc, r.nbits = acc, nbits
	*dc = int16(c.pred << al)
	return nil
}

// nonZero is 1 when v is not zero.
func nonZero(v int16) uint64 {
	if v != 0 {
		return 1
	}
	return 0
}

// bandMask has bits lo..hi (0 <= lo <= hi <= 63) set.
func bandMask(lo, hi int) uint64 {
	return (^uint64(0) >> (63 - hi)) &^ (1<<lo - 1)
}

func (d *decoder) acFirst(c *component, b *[64]int16, nz *uint64, s *scanInfo) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	// As baselineBlock: the bit buffer in locals, refilled before each coefficient (which needs
	// at most 31 bits), short codes and their magnitude bits decoded by one lookup (fast).
	r := &d.br
	h := &d.ac[c.ta]
	slot := &d.layout.slot
	al, se := s.al, s.se
	mask := *nz
	acc, nbits := r.acc, r.nbits
	for k := s.ss; k <= se; k++ {
		if nbits < 32 {
			r.acc, r.nbits = acc, nbits
			r.fill()
			acc, nbits = r.acc, r.nbits
		}
		if f := h.fast[acc>>(64-lutBits)]; f != 0 {
			k += int(f>>12) & 15
			if k > se { // a run past the band: stop before the magnitude bits
				n := uint(f>>8) & 15
				acc <<= n
				nbits -= n
				break
			}
			n := uint(f) & 0xff
			acc <<= n
			nbits -= n
			v := int16((f >> 16) << al)
			b[slot[k&63]&63] = v
			mask = mask&^(1<<(k&63)) | nonZero(v)<<(k&63)
			continue
		}
		var rs uint8
		var l uint
		if e := h.lut[acc>>(64-lutBits)]; e != 0 {
			rs, l = uint8(e), uint(e>>8)
		} else if rs, l = h.slow(uint32(acc >> 48)); l == 0 {
			r.acc, r.nbits, *nz = acc, nbits, mask
			return errBadCode
		}
		acc <<= l
		nbits -= l
		run, size := int(rs>>4), uint(rs&15)
		if size != 0 {
			k += run
			if k > se {
				break
			}
			x := int32(acc >> (64 - size))
			acc <<= size
			nbits -= size
			if x < 1<<(size-1) {
				x += -1<<size + 1
			}
			v := int16(x << al)
			b[slot[k&63]&63] = v
			mask = mask&^(1<<(k&63)) | nonZero(v)<<(k&63)
			continue
		}
		if run != 15 {
			d.eobrun = 1 << run
			if run > 0 {
				d.eobrun |= int(acc >> (64 - uint(run)))
				acc <<= uint(run)
				nbits -= uint(run)
			}
			d.eobrun--
			break
		}
		k += 15
	}
	r.acc, r.nbits, *nz = acc, nbits, mask
	return nil
}

// acRefine decodes one block of an AC refinement scan (T.81 G.1.2.3). The bit buffer lives in
// locals; each symbol needs at most 17 bits (a 16-bit code and a sign bit) and an end-of-band
// run at most 30 (code and 14 run bits), so one refill before each symbol suffices. The
// correction bits of the coefficients already non-zero are applied without branching on them
// (they are close to random, and a mispredicted branch per bit was most of this function's time).
func (d *decoder) acRefine(c *component, bp *[64]int16, nz *uint64, s *scanInfo) error {
	r := &d.br
	h := &d.ac[c.ta]
	slot := &d.layout.slot
	p1 := int16(1) << s.al
	mask := *nz
	k, se := s.ss, s.se
	acc, nbits := r.acc, r.nbits
	if d.eobrun == 0 {
		for k <= se {
			if nbits < 32 {
				r.acc, r.nbits = acc, nbits
				r.fill()
				acc, nbits = r.acc, r.nbits
			}
			var rs uint8
			if e := h.lut[acc>>(64-lutBits)]; e != 0 {
				n := uint(e >> 8)
				acc <<= n
				nbits -= n
				rs = uint8(e)
			} else {
				var l uint
				if rs, l = h.slow(uint32(acc >> 48)); l == 0 {
					r.acc, r.nbits, *nz = acc, nbits, mask
					return errBadCode
				}
				acc <<= l
				nbits -= l
			}
			run := uint(rs >> 4)
			var val int16
			switch rs & 15 {
			case 0:
				if run != 15 {
					d.eobrun = 1 << run
					if run > 0 {
						d.eobrun |= int(acc >> (64 - run))
						acc <<= run
						nbits -= run
					}
					goto eob
				}
			case 1:
				val = -p1 // the sign bit: 1 is +2^al, 0 is -2^al
				if int64(acc) < 0 {
					val = p1
				}
				acc <<= 1
				nbits--
			default:
				r.acc, r.nbits, *nz = acc, nbits, mask
				return errUnexpectedCode
			}
			// Refine the non-zero coefficients passed over; place val after run zeros: at the
			// (run+1)-th zero from k, found in the mask (fewer zeros left in the band: an error).
			z := ^mask & bandMask(k, se)
			if uint(bits.OnesCount64(z)) <= run {
				r.acc, r.nbits, *nz = acc, nbits, mask
				return errTooManyCoefs
			}
			// Skip run zeros: the first three without a branch (most runs are 0, 1 or 2),
			// longer runs by selectBit.
			z &= z - uint64(-int64(run))>>63
			z &= z - uint64(1-int64(run))>>63
			z &= z - uint64(2-int64(run))>>63
			var p int
			if run > 3 {
				p = selectBit(z, run-3)
			} else {
				p = bits.TrailingZeros64(z)
			}
			if m := mask & bandMask(k, p); m != 0 {
				if n := uint(bits.OnesCount64(m)); n <= nbits {
					// correct's common case, inlined.
					nbits -= n
					acc = applyBuffered(bp, slot, m, p1, acc)
				} else {
					acc, nbits = r.correct(bp, slot, m, p1, acc, nbits)
				}
			}
			k = p + 1
			if val != 0 {
				bp[slot[p&63]&63] = val
				mask |= 1 << (p & 63)
			}
		}
		r.acc, r.nbits, *nz = acc, nbits, mask
		return nil
	}
eob:
	// Within an end-of-band run only the coefficients already non-zero get a correction bit,
	// in order (a refinement never makes a non-zero coefficient zero: it adds 2^al away from
	// zero, and |b| + 2^13 stays within int16's wrap-around range).
	if k <= se {
		if m := mask & bandMask(k, se); m != 0 {
			if n := uint(bits.OnesCount64(m)); n <= nbits {
				nbits -= n
				acc = applyBuffered(bp, slot, m, p1, acc)
			} else {
				acc, nbits = r.correct(bp, slot, m, p1, acc, nbits)
			}
		}
	}
	d.eobrun--
	r.acc, r.nbits, *nz = acc, nbits, mask
	return nil
}

// selectBit is the position of the set bit of x with n set bits below it (n < OnesCount64(x)),
// without a branch (Vigna's broadword select: the byte holding it from cumulative byte
// counts, then a table). Skipping a zero run one bit at a time mispredicted its loop's exit.
func selectBit(x uint64, n uint) int {
	const ones8, msbs8 = 0x0101010101010101, 0x8080808080808080
	s := x - (x&0xaaaaaaaaaaaaaaaa)>>1
	s = s&0x3333333333333333 + (s>>2)&0x3333333333333333
	s = (s + s>>4) & 0x0f0f0f0f0f0f0f0f
	s *= ones8 // byte i: the set bits in bytes 0..i
	before := ((uint64(n)*ones8 | msbs8) - s) & msbs8
	place := uint(bits.OnesCount64(before)) * 8
	rank := uint64(n) - (s<<8)>>place&0xff
	return int(place) + int(selectInByte[(x>>place&0xff|rank<<8)&2047])
}

// selectInByte[r<<8 | b] is the position of the set bit of b with r set bits below it (8: none).
var selectInByte = func() (t [2048]uint8) {
	for b := range 256 {
		for r := range 8 {
			t[r<<8|b] = 8
			seen := 0
			for i := range 8 {
				if b>>i&1 == 1 {
					if seen == r {
						t[r<<8|b] = uint8(i)
						break
					}
					seen++
				}
			}
		}
	}
	return t
}()

var (
	errUnexpectedCode = formatError("unexpected Huffman code")
	errTooManyCoefs   = formatError("too many coefficients")
)

// correct applies one correction bit (read from acc, refilled when short) to each coefficient
// of b whose bit is set in m, in order: a 1 adds p1 away from zero. It returns the bit buffer.
func (r *bitReader) correct(b *[64]int16, slot *[64]uint8, m uint64, p1 int16, acc uint64, nbits uint) (uint64, uint) {
	if uint(bits.OnesCount64(m)) > nbits {
		r.acc, r.nbits = acc, nbits
		r.fill() // at least 57 bits: enough for all but the rarest blocks
		acc, nbits = r.acc, r.nbits
		if uint(bits.OnesCount64(m)) > nbits {
			for ; m != 0; m &= m - 1 {
				if nbits == 0 {
					r.acc, r.nbits = acc, nbits
					r.fill()
					acc, nbits = r.acc, r.nbits
				}
				j := slot[bits.TrailingZeros64(m)&63] & 63
				v := b[j]
				sg := v >> 15
				b[j] = v + ((p1^sg)-sg)&-int16(acc>>63)
				acc <<= 1
				nbits--
			}
			return acc, nbits
		}
	}
	nbits -= uint(bits.OnesCount64(m))
	return applyBuffered(b, slot, m, p1, acc), nbits
}

// applyBuffered applies one correction bit from the top of acc to each coefficient of mask m (in
// order), all of them buffered: a set bit moves the coefficient p1 further from zero. Small enough
// to be inlined into the refinement loops.
func applyBuffered(b *[64]int16, slot *[64]uint8, m uint64, p1 int16, acc uint64) uint64 {
	for ; m != 0; m &= m - 1 {
		j := slot[bits.TrailingZeros64(m)&63] & 63
		v := b[j]
		sg := v >> 15
		b[j] = v + ((p1^sg)-sg)&-int16(acc>>63)
		acc <<= 1
	}
	return acc
}

// finish turns the coefficients of a progressive file into samples.
func (d *decoder) finish() error {
	if !d.allocated {
		return formatError("missing SOS marker")
	}
	if !d.progressive {
		return nil
	}
	n := d.n
	slot, keep := &d.layout.slot, d.layout.keep
	var blk [64]int32
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		q := &d.quant[c.tq]
		for by := range c.bh {
			if by%16 == 0 {
				if err := d.cancelled(); err != nil {
					return err
				}
			}
			for bx := range c.bw {
				b := d.coefs(c, bx, by)
				// Only the coefficients the inverse DCT at this size reads (the others' slot
				// is shared); last counts them all, as a baseline block's does (a block with
				// AC terms takes the inverse DCT's general path, not its DC-only one).
				nz := c.nz[by*c.bw+bx]
				mask := nz & keep
				v := int32(c.dc[by*c.bw+bx]) * int32(q[0])
				if uint32(v+maxCoef) > 2*maxCoef {
					v = d.wildCoef(v)
				}
				last := max(0, 63-bits.LeadingZeros64(nz))
				if n == 2 && last > 0 && sparseIDCT2 {
					d.idct2Sparse(b, mask, v, q, c.plane[by*2*c.stride+bx*2:], c.stride)
					continue
				}
				blk[0] = v
				for m := mask &^ 1; m != 0; m &= m - 1 {
					k := bits.TrailingZeros64(m) & 63
					v := int32(b[slot[k]&63]) * int32(q[k])
					if uint32(v+maxCoef) > 2*maxCoef {
						v = d.wildCoef(v)
					}
					blk[unzig[k]] = v
				}
				idct(&blk, last, n, c.plane[by*n*c.stride+bx*n:], c.stride)
				for m := mask; m != 0; m &= m - 1 {
					blk[unzig[bits.TrailingZeros64(m)]] = 0
				}
			}
		}
	}
	return nil
}

// sparseIDCT2 selects idct2Sparse for the 1/4 decodes of progressive files (a variable so that
// tests can compare it with idct2).
var sparseIDCT2 = true

// idct2Sparse is idct2 for a block of a progressive file, from its stored coefficients: the
// first pass's column sums (e and o of idct2, per column) are accumulated from the non-zero
// coefficients alone (mask, zig-zag indices; dc dequantized) instead of going through a
// natural-order block that is then cleared. Integer sums in another order: the same samples.
func (d *decoder) idct2Sparse(b *[64]int16, mask uint64, dc int32, q *[64]uint16, dst []uint8, stride int) {
	a := &basis[2][0]
	k0, k1, k3, k5, k7 := a[0], a[1], a[3], a[5], a[7]
	var sum [16]int32 // e of column u at u, o at 8+u
	sum[0] = k0 * dc
	for m := mask &^ 1; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m) & 63
		v := int32(b[d.layout.slot[k]&63]) * int32(q[k])
		if uint32(v+maxCoef) > 2*maxCoef {
			v = d.wildCoef(v)
		}
		sum[sparseSum[k]&15] += sparseWeight[k] * v
	}
	var t0, t1 [8]int32
	for _, u := range [5]int{0, 1, 3, 5, 7} {
		e, o := sum[u], sum[8+u]
		t0[u] = (e + o + r1) >> s1
		t1[u] = (e - o + r1) >> s1
	}
	for m, r := range [2]*[8]int32{&t0, &t1} {
		e := k0*r[0] + r2
		o := k1*r[1] + k3*r[3] + k5*r[5] + k7*r[7]
		dst[m*stride] = clamp8((e + o) >> s2)
		dst[m*stride+1] = clamp8((e - o) >> s2)
	}
}

// sparseSum and sparseWeight say, per zig-zag index read at 1/4, where idct2Sparse adds the
// coefficient (its column, plus 8 for an odd row) and its row's weight (set with basis).
var (
	sparseSum    [64]uint8
	sparseWeight [64]int32
)

// maxCoef bounds a dequantized coefficient: an 8x8 block of 8-bit samples has none beyond
// about 1100 in magnitude, so larger ones come from corrupt data. They are clamped, which
// keeps the inverse DCT's fixed-point sums within 32 bits.
const maxCoef = 4095

func (d *decoder) wildCoef(v int32) int32 {
	d.wild = true
	return max(-maxCoef, min(maxCoef, v))
}

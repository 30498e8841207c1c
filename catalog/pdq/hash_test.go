package pdq

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const sampleHex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

func TestParseStringRoundTrip(t *testing.T) {
	for _, s := range []string{sampleHex, strings.Repeat("0", 64), strings.Repeat("f", 64), "0123456789abcdef" + strings.Repeat("0", 48)} {
		h, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if h.String() != s {
			t.Errorf("String() = %q, want %q", h.String(), s)
		}
		b, _ := h.MarshalText()
		var h2 Hash
		if err := h2.UnmarshalText(b); err != nil || h2 != h {
			t.Errorf("text round trip: %v %v", h2, err)
		}
	}
	h := mustParse(t, sampleHex)
	if h[0] != 0xf8 || h[1] != 0xf8 || h[31] != 0x22 {
		t.Errorf("byte order: % x", h[:])
	}
	// Bit 16*i+j is row i column j: row 0 column 1 of 0x...9b22 is set (0x22 = 0b00100010).
	if !h.bit(1) || h.bit(0) || !h.bit(5) || !h.bit(16*15+15) {
		t.Error("bit layout")
	}
}

func TestParseStrict(t *testing.T) {
	bad := []string{
		"",
		sampleHex[:63],
		sampleHex + "0",
		strings.ToUpper(sampleHex),
		"F" + sampleHex[1:],
		"g" + sampleHex[1:],
		" " + sampleHex[1:],
		sampleHex[:63] + " ",
		sampleHex[:32] + "\n" + sampleHex[33:],
		"0x" + sampleHex[2:],
		"é" + sampleHex[2:],
	}
	for _, s := range bad {
		if _, err := Parse(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", s, err)
		}
	}
	var h Hash
	if err := json.Unmarshal([]byte(`"`+strings.ToUpper(sampleHex)+`"`), &h); !errors.Is(err, ErrSyntax) {
		t.Errorf("json upper case: %v", err)
	}
	if err := json.Unmarshal([]byte(`"`+sampleHex+`"`), &h); err != nil || h.String() != sampleHex {
		t.Errorf("json: %v %v", h, err)
	}
	out, _ := json.Marshal(h)
	if string(out) != `"`+sampleHex+`"` {
		t.Errorf("json marshal %s", out)
	}
}

func TestDistance(t *testing.T) {
	var zero, ones Hash
	for i := range ones {
		ones[i] = 0xff
	}
	if d := Distance(zero, ones); d != 256 {
		t.Errorf("Distance(0, 1s) = %d", d)
	}
	if d := Distance(ones, ones); d != 0 {
		t.Errorf("Distance(x, x) = %d", d)
	}
	var a Hash
	for k := 0; k < 256; k += 3 { // 86 bits spread over all four words
		a.setBit(k)
	}
	if d := Distance(zero, a); d != 86 {
		t.Errorf("Distance = %d, want 86", d)
	}
	b := a
	b[0] ^= 0x81
	b[31] ^= 0x01
	b[15] ^= 0xf0
	if d := Distance(a, b); d != 7 {
		t.Errorf("Distance = %d, want 7", d)
	}
	if Distance(a, b) != Distance(b, a) {
		t.Error("not symmetric")
	}
}

func TestTransformNames(t *testing.T) {
	want := []string{"as-is", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"}
	for i, n := range want {
		tr := Transform(i)
		if tr.String() != n {
			t.Errorf("%d: String %q want %q", i, tr, n)
		}
		p, err := ParseTransform(n)
		if err != nil || p != tr {
			t.Errorf("ParseTransform(%q) = %v, %v", n, p, err)
		}
		if tr.Inverse().Inverse() != tr {
			t.Errorf("%v: Inverse not an involution", tr)
		}
		if tr.Describe() == "" || tr.Describe() == n {
			t.Errorf("%v: no description", tr)
		}
	}
	if Rot90.Inverse() != Rot270 || Rot270.Inverse() != Rot90 || Rot180.Inverse() != Rot180 || FlipPlus1.Inverse() != FlipPlus1 {
		t.Error("Inverse")
	}
	if Rot90.Describe() != "rotated 90° counter-clockwise" || FlipX.Describe() != "flipped upside down" || FlipY.Describe() != "mirrored left-right" {
		t.Error("Describe wording")
	}
	for _, s := range []string{"", "Rot90", "asis", "rot 90", "flip"} {
		if _, err := ParseTransform(s); err == nil {
			t.Errorf("ParseTransform(%q) accepted", s)
		}
	}
	if Transform(9).String() != "Transform(9)" {
		t.Error(Transform(9).String())
	}
}

func TestVariantName(t *testing.T) {
	if VariantName(0) != VariantFull || VariantFull != "pdq-full" {
		t.Error(VariantName(0))
	}
	if VariantName(1024) != "pdq-area1024" {
		t.Error(VariantName(1024))
	}
}

func TestNearest(t *testing.T) {
	var d [8]Hash
	x := uint32(12345)
	for i := range d {
		for j := range d[i] {
			x = x*1664525 + 1013904223 // an LCG: eight unrelated pseudo-random hashes
			d[i][j] = byte(x >> 24)
		}
	}
	for i := range d {
		q := d[i]
		q.setBit(3)
		tr, dist := Nearest(q, &d)
		if tr != Transform(i) || dist > 1 {
			t.Errorf("Nearest(d[%d]) = %v, %d", i, tr, dist)
		}
	}
	same := [8]Hash{}
	if tr, dist := Nearest(Hash{}, &same); tr != AsIs || dist != 0 {
		t.Errorf("tie: %v %d", tr, dist)
	}
}

// FuzzParse checks that Parse never panics and accepts exactly its own String output.
func FuzzParse(f *testing.F) {
	for _, s := range []string{sampleHex, strings.ToUpper(sampleHex), sampleHex[:63], sampleHex + "0", "", "zz", strings.Repeat("0", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error does not wrap ErrSyntax: %v", err)
			}
			return
		}
		if h.String() != s {
			t.Fatalf("String(Parse(%q)) = %q", s, h.String())
		}
	})
}

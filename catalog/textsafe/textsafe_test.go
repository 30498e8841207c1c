package textsafe

import (
	"testing"
	"unicode"
)

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, keep, want string }{
		{"plain name.jpg", "", "plain name.jpg"},
		{"a\x1b[31mred", "", `a\x1b[31mred`},
		{"gpj.\u202eexe", "", `gpj.\u202eexe`},
		{"tag\U000E0041", "", `tag\U000e0041`},
		{"bad\xffbyte", "", `bad\xffbyte`},
		{"line\nbreak\tand\rcr", "\n\t", "line\nbreak\tand\\x0dcr"},
		{"line\nbreak", "", `line\x0abreak`},
		{"sep\u2028x", "", `sep\u2028x`},
		{"\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 👨\u200d👩", "", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 👨\u200d👩"},
		{"bom\ufeff nbsp\u00a0", "", `bom\ufeff nbsp` + "\u00a0"},
		{"real \ufffd kept", "", "real \ufffd kept"},
		{"c1\u0085", "", `c1\x85`},
	} {
		if got := Clean(c.in, c.keep); got != c.want {
			t.Errorf("Clean(%q, %q) = %q, want %q", c.in, c.keep, got, c.want)
		}
	}
}

// Every bidirectional control is unsafe (they are all in Cf, which Unsafe covers).
func TestBidiControlsUnsafe(t *testing.T) {
	n := 0
	for _, rg := range unicode.Bidi_Control.R16 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			n++
			if !Unsafe(r) {
				t.Errorf("U+%04X is a bidi control but not unsafe", r)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d bidi controls checked", n)
	}
}

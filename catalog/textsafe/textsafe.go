// Package textsafe makes text from adversary-made files (file names, EXIF fields, release titles)
// safe to show: on a terminal, in a CSV cell, in an HTML page. It is the one definition of which
// characters can hide or reorder what a reader sees, and of how they are shown instead.
//
// Unsafe characters are the C0, DEL and C1 controls, the line and paragraph separators, and the
// invisible format characters (Unicode category Cf: bidirectional overrides and isolates,
// zero-width space, word joiner, byte-order mark, tag characters). The zero-width non-joiner and
// joiner stay: Persian and Arabic names and emoji need them. Each unsafe character is shown as a
// visible escape (\x1b, \u202e, \U000e0041); a byte that is not UTF-8 as \xNN.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Unsafe reports whether r must not reach a reader as it is.
func Unsafe(r rune) bool {
	switch r {
	case '\u200c', '\u200d':
		return false
	case '\u2028', '\u2029':
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// Escape is the visible escape of r: \xNN below U+0100, \uNNNN in the rest of the basic plane,
// \UNNNNNNNN beyond it.
func Escape(r rune) string {
	switch {
	case r < 0x100:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	default:
		return fmt.Sprintf(`\U%08x`, r)
	}
}

// Clean returns s with every unsafe character escaped, except those listed in keep (a CSV cell
// keeps its newlines and tabs), and every byte that is not UTF-8 shown as \xNN. A safe s is
// returned as it is.
func Clean(s, keep string) string {
	unsafe := func(r rune) bool { return Unsafe(r) && !strings.ContainsRune(keep, r) }
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unsafe(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafe(r):
			b.WriteString(Escape(r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

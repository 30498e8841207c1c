package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes a string from the outside world (a file name, an EXIF field) safe for a terminal: no
// control character, escape sequence, bidirectional override or invalid UTF-8 reaches the screen;
// each is shown escaped (\x1b, \u202e).
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
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
		case unsafeRune(r):
			switch {
			case r < 0x100:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune: C0, DEL and C1 controls; the line and paragraph separators; and the invisible format
// characters (category Cf: bidi overrides and isolates, zero-width space, word joiner, BOM, tag
// characters), which can reorder or hide text. Zero-width (non-)joiners stay: Persian and Arabic
// names and emoji use them.
func unsafeRune(r rune) bool {
	switch r {
	case '\u200c', '\u200d':
		return false
	case '\u2028', '\u2029':
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r)
}

// cut shortens a cleaned value to at most n characters for a table cell (storage keeps the whole
// value). An escape (\x1b) is kept whole or left out, never split.
func cut(s string, n int) string {
	c := clean(s)
	if utf8.RuneCountInString(c) <= n {
		return c
	}
	var b strings.Builder
	width := 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		piece := clean(s[i : i+size])
		w := utf8.RuneCountInString(piece)
		if width+w > n-1 {
			break
		}
		b.WriteString(piece)
		width += w
		i += size
	}
	return b.String() + "…"
}

// printer writes either text for people or JSON lines for scripts, from the same values.
type printer struct {
	w    io.Writer
	json bool
}

func newPrinter(w io.Writer, jsonOut bool) *printer { return &printer{w: w, json: jsonOut} }

// record writes one JSON line: {"type":typ, then the fields of v (a struct or a map) in v's order}.
func (p *printer) record(typ string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(data) < 2 || data[0] != '{' {
		return fmt.Errorf("internal: a %s record is not a JSON object", typ)
	}
	t, _ := json.Marshal(typ)
	line := append([]byte(`{"type":`), t...)
	if len(data) > 2 {
		line = append(line, ',')
	}
	line = append(append(line, data[1:]...), '\n')
	_, err = p.w.Write(line)
	return err
}

func (p *printer) textf(format string, args ...any) {
	if !p.json {
		fmt.Fprintf(p.w, format, args...)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/relcat/relcat/catalog/textsafe"
)

// clean makes a string from the outside world (a file name, an EXIF field) safe for a terminal: no
// control character, escape sequence, bidirectional override or invalid UTF-8 reaches the screen;
// each is shown escaped (\x1b, \u202e) as textsafe says.
func clean(s string) string { return textsafe.Clean(s, "") }

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

// columns prints rows in columns two spaces apart, a batch of rows at a time: each column as wide
// as its widest cell so far (the last column unpadded), so that a listing can print as it goes.
type columns []int

func (w *columns) print(out io.Writer, rows [][]string) error {
	for _, row := range rows {
		for i, cell := range row[:len(row)-1] {
			if i >= len(*w) {
				*w = append(*w, 0)
			}
			(*w)[i] = max((*w)[i], len([]rune(cell)))
		}
	}
	var b, line strings.Builder
	for _, row := range rows {
		line.Reset()
		for i, cell := range row[:len(row)-1] {
			line.WriteString(cell)
			line.WriteString(strings.Repeat(" ", (*w)[i]-len([]rune(cell))+2))
		}
		line.WriteString(row[len(row)-1])
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
	_, err := io.WriteString(out, b.String())
	return err
}

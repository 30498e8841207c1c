package catalog

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/relcat/relcat/catalog/pdq"
)

// Hash-list formats read by ParseHashList (besides the export formats pdq-list, pdq-csv, tat-json
// and hma-csv).
const (
	FormatAuto  = "auto"  // detect
	FormatPlain = "plain" // one SHA-256 (64 hex) or MD5 (32 hex) per line, "sha256:"/"md5:" prefixes allowed
)

// Limits of ParseHashList: a partner's list is input like any other.
const (
	MaxHashListBytes   = 256 << 20 // the whole file
	MaxHashListLine    = 64 << 10  // one line
	MaxHashListEntries = 10_000_000
	maxListErrors      = 20 // bad lines quoted in the error (the rest are counted)
	maxLabel           = 256
)

// Kinds of watchlist entries.
const (
	KindSHA256 = "sha256"
	KindMD5    = "md5"
	KindPDQ    = "pdq"
)

// ListEntry is one hash of a hash list.
type ListEntry struct {
	Kind    string `json:"kind"` // sha256, md5, pdq
	Hash    string `json:"hash"` // lowercase hex
	Quality int    `json:"quality,omitempty"`
	HasQ    bool   `json:"has_quality,omitempty"`
	Label   string `json:"label,omitempty"` // name, id or tags given by the list
	Line    int    `json:"line"`            // where it was read (for tat-json: the line its object starts on)
}

// ErrHashList is wrapped by every error of ParseHashList.
var ErrHashList = errors.New("hash list")

// ListError lists the bad lines of a hash list.
type ListError struct {
	Format string
	Lines  []string // "line 12: …", at most maxListErrors
	More   int      // bad lines not quoted
}

func (e *ListError) Error() string {
	s := fmt.Sprintf("%d bad lines in a %s list, nothing imported:\n  %s", len(e.Lines)+e.More, e.Format, strings.Join(e.Lines, "\n  "))
	if e.More > 0 {
		s += fmt.Sprintf("\n  … and %d more", e.More)
	}
	return s
}

func (e *ListError) Unwrap() error { return ErrHashList }

type listErrors struct {
	e *ListError
}

func (l *listErrors) add(line int, format string, args ...any) {
	if l.e == nil {
		l.e = &ListError{}
	}
	if len(l.e.Lines) < maxListErrors {
		l.e.Lines = append(l.e.Lines, fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...)))
	} else {
		l.e.More++
	}
}

// DetectHashListFormat names the format of a hash list from its first meaningful line.
func DetectHashListFormat(data []byte) (string, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	trimmed = bytes.TrimPrefix(trimmed, []byte("\ufeff"))
	if len(trimmed) == 0 {
		return "", fmt.Errorf("%w: the file is empty", ErrHashList)
	}
	if trimmed[0] == '[' || trimmed[0] == '{' {
		return FormatTATJSON, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 0, 4096), MaxHashListLine)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		low := strings.ToLower(l)
		switch {
		case strings.HasPrefix(low, "signal_type,"):
			return FormatHMACSV, nil
		case strings.HasPrefix(low, "pdq "), strings.HasPrefix(low, "pdq\t"):
			return FormatPDQList, nil
		case strings.Count(l, ",") >= 1 && isHex(strings.TrimSpace(strings.SplitN(l, ",", 2)[0]), 64):
			return FormatPDQCSV, nil
		}
		f := strings.TrimPrefix(strings.TrimPrefix(low, "sha256:"), "md5:")
		if isHex(f, 64) || isHex(f, 32) {
			return FormatPlain, nil
		}
		return "", fmt.Errorf("%w: cannot tell the format from its first line %s: give --format (pdq-list, pdq-csv, tat-json, hma-csv, plain)", ErrHashList, quoteCut(l))
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%w: %v", ErrHashList, err)
	}
	return "", fmt.Errorf("%w: the file holds no hash (only blank or comment lines)", ErrHashList)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// quoteCut quotes a value from a list for an error message, cut to 80 bytes.
func quoteCut(s string) string {
	if len(s) > 80 {
		s = s[:80]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		return strconv.QuoteToASCII(s) + "…"
	}
	return strconv.QuoteToASCII(s)
}

// cleanLabel keeps a list's label printable and bounded (it is shown in summaries).
func cleanLabel(s string) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\ufffd")
	}
	if len(s) > maxLabel {
		s = s[:maxLabel]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// ParseHashList reads a hash list in format (FormatAuto detects it). It is all or nothing: any bad
// line makes the whole list an error (a *ListError naming each bad line by number); an empty list
// is an error too. It never panics and bounds what it reads.
func ParseHashList(data []byte, format string) (entries []ListEntry, detected string, err error) {
	if len(data) > MaxHashListBytes {
		return nil, "", fmt.Errorf("%w: %d bytes is over the limit of %d MiB", ErrHashList, len(data), MaxHashListBytes>>20)
	}
	if format == "" || format == FormatAuto {
		if format, err = DetectHashListFormat(data); err != nil {
			return nil, "", err
		}
	}
	var errs listErrors
	switch format {
	case FormatTATJSON:
		entries = parseTAT(data, &errs)
	case FormatPlain, FormatPDQList, FormatPDQCSV, FormatHMACSV:
		entries, err = parseLines(data, format, &errs)
		if err != nil {
			return nil, format, err
		}
	default:
		return nil, "", fmt.Errorf("%w: list format %q: want auto, plain, pdq-list, pdq-csv, tat-json or hma-csv", ErrBadArgument, format)
	}
	if errs.e != nil {
		errs.e.Format = format
		return nil, format, errs.e
	}
	if len(entries) == 0 {
		return nil, format, fmt.Errorf("%w: the %s list holds no hash", ErrHashList, format)
	}
	return entries, format, nil
}

// parseLines reads the line formats.
func parseLines(data []byte, format string, errs *listErrors) ([]ListEntry, error) {
	var out []ListEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxHashListLine)
	n := 0
	header := format == FormatHMACSV
	for sc.Scan() {
		n++
		l := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if len(out) >= MaxHashListEntries {
			return nil, fmt.Errorf("%w: more than %d hashes", ErrHashList, MaxHashListEntries)
		}
		switch format {
		case FormatPlain:
			low := strings.ToLower(l)
			var e ListEntry
			switch {
			case strings.HasPrefix(low, "sha256:") && isHex(low[7:], 64):
				e = ListEntry{Kind: KindSHA256, Hash: low[7:]}
			case strings.HasPrefix(low, "md5:") && isHex(low[4:], 32):
				e = ListEntry{Kind: KindMD5, Hash: low[4:]}
			case isHex(low, 64):
				e = ListEntry{Kind: KindSHA256, Hash: low}
			case isHex(low, 32):
				e = ListEntry{Kind: KindMD5, Hash: low}
			default:
				errs.add(n, "want a SHA-256 (64 hex digits) or an MD5 (32), got %s", quoteCut(l))
				continue
			}
			e.Line = n
			out = append(out, e)
		case FormatPDQList:
			f := strings.Fields(l)
			if len(f) < 2 || !strings.EqualFold(f[0], "pdq") {
				errs.add(n, "want \"pdq <64 hex digits>\", got %s", quoteCut(l))
				continue
			}
			h, ok := parsePDQText(f[1])
			if !ok {
				errs.add(n, "not a PDQ hash (64 hex digits): %s", quoteCut(f[1]))
				continue
			}
			out = append(out, ListEntry{Kind: KindPDQ, Hash: h, Label: cleanLabel(strings.Join(f[2:], " ")), Line: n})
		case FormatPDQCSV, FormatHMACSV:
			rec, err := csv.NewReader(strings.NewReader(l)).Read()
			if err != nil {
				errs.add(n, "not a CSV record: %v", shortCSVErr(err))
				continue
			}
			if header {
				header = false
				if strings.ToLower(strings.Join(rec, ",")) != "signal_type,signal_str,collab,category,tags" {
					errs.add(n, "want the header signal_type,signal_str,collab,category,tags, got %s", quoteCut(l))
				}
				continue
			}
			if format == FormatPDQCSV {
				if len(rec) < 2 || len(rec) > 3 {
					errs.add(n, "want hex,quality,name (2 or 3 fields), got %d fields", len(rec))
					continue
				}
				h, ok := parsePDQText(rec[0])
				if !ok {
					errs.add(n, "not a PDQ hash (64 hex digits): %s", quoteCut(rec[0]))
					continue
				}
				q, err := strconv.Atoi(strings.TrimSpace(rec[1]))
				if err != nil || q < 0 || q > 100 {
					errs.add(n, "quality must be 0-100, got %s", quoteCut(rec[1]))
					continue
				}
				e := ListEntry{Kind: KindPDQ, Hash: h, Quality: q, HasQ: true, Line: n}
				if len(rec) == 3 {
					e.Label = cleanLabel(rec[2])
				}
				out = append(out, e)
				continue
			}
			if len(rec) != 5 {
				errs.add(n, "want 5 fields (signal_type,signal_str,collab,category,tags), got %d", len(rec))
				continue
			}
			e := ListEntry{Line: n, Label: cleanLabel(strings.Trim(rec[2]+" "+rec[3]+" "+rec[4], " "))}
			switch strings.ToLower(strings.TrimSpace(rec[0])) {
			case "pdq":
				h, ok := parsePDQText(rec[1])
				if !ok {
					errs.add(n, "not a PDQ hash (64 hex digits): %s", quoteCut(rec[1]))
					continue
				}
				e.Kind, e.Hash = KindPDQ, h
			case "md5", "photo_md5", "video_md5":
				h := strings.ToLower(strings.TrimSpace(rec[1]))
				if !isHex(h, 32) {
					errs.add(n, "not an MD5 (32 hex digits): %s", quoteCut(rec[1]))
					continue
				}
				e.Kind, e.Hash = KindMD5, h
			case "sha256":
				h := strings.ToLower(strings.TrimSpace(rec[1]))
				if !isHex(h, 64) {
					errs.add(n, "not a SHA-256 (64 hex digits): %s", quoteCut(rec[1]))
					continue
				}
				e.Kind, e.Hash = KindSHA256, h
			default:
				errs.add(n, "signal type %s: relcat matches pdq, md5 and sha256", quoteCut(rec[0]))
				continue
			}
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			errs.add(n+1, "longer than %d bytes", MaxHashListLine)
			return out, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrHashList, err)
	}
	return out, nil
}

func shortCSVErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// parsePDQText reads 64 hex digits (either case) as a PDQ hash, giving its canonical text.
func parsePDQText(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if _, err := pdq.Parse(s); err != nil {
		return "", false
	}
	return s, true
}

// parseTAT reads a JSON array of objects {hash_digest, algorithm, file_type, created_on, id}
// (one object alone, or JSON lines of objects, are read too).
func parseTAT(data []byte, errs *listErrors) []ListEntry {
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		return 1 + bytes.Count(data[:off], []byte("\n"))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out []ListEntry
	one := func() bool {
		start := dec.InputOffset()
		// Skip the separator and blanks so that the line is where the object starts.
		for start < int64(len(data)) && strings.ContainsRune(" \t\r\n,", rune(data[start])) {
			start++
		}
		var obj struct {
			HashDigest *string `json:"hash_digest"`
			Algorithm  *string `json:"algorithm"`
			ID         any     `json:"id"`
			PDQQuality *int    `json:"pdq_quality"`
			FileType   string  `json:"file_type"`
		}
		if err := dec.Decode(&obj); err != nil {
			errs.add(lineAt(start), "not a JSON object of the list: %v", err)
			return false
		}
		n := lineAt(start)
		if obj.HashDigest == nil || obj.Algorithm == nil {
			errs.add(n, "an object without hash_digest or algorithm")
			return true
		}
		h := strings.ToLower(strings.TrimSpace(*obj.HashDigest))
		e := ListEntry{Hash: h, Line: n}
		if obj.ID != nil {
			e.Label = cleanLabel(fmt.Sprint(obj.ID))
		}
		switch strings.ToUpper(strings.TrimSpace(*obj.Algorithm)) {
		case "PDQ":
			if _, ok := parsePDQText(h); !ok {
				errs.add(n, "not a PDQ hash (64 hex digits): %s", quoteCut(h))
				return true
			}
			e.Kind = KindPDQ
			if obj.PDQQuality != nil && *obj.PDQQuality >= 0 && *obj.PDQQuality <= 100 {
				e.Quality, e.HasQ = *obj.PDQQuality, true
			}
		case "MD5":
			if !isHex(h, 32) {
				errs.add(n, "not an MD5 (32 hex digits): %s", quoteCut(h))
				return true
			}
			e.Kind = KindMD5
		case "SHA256", "SHA-256":
			if !isHex(h, 64) {
				errs.add(n, "not a SHA-256 (64 hex digits): %s", quoteCut(h))
				return true
			}
			e.Kind = KindSHA256
		default:
			errs.add(n, "algorithm %s: relcat matches PDQ, MD5 and SHA256", quoteCut(*obj.Algorithm))
			return true
		}
		if len(out) >= MaxHashListEntries {
			errs.add(n, "more than %d hashes", MaxHashListEntries)
			return false
		}
		out = append(out, e)
		return true
	}
	tok, err := dec.Token()
	if err != nil {
		errs.add(1, "not JSON: %v", err)
		return nil
	}
	if d, ok := tok.(json.Delim); ok && d == '[' {
		for dec.More() {
			if !one() {
				return out
			}
		}
		if _, err := dec.Token(); err != nil {
			errs.add(lineAt(dec.InputOffset()), "the array is not closed: %v", err)
		}
	} else if ok && d == '{' {
		// One object, or JSON lines: start again from the top.
		dec = json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		for dec.More() {
			if !one() {
				return out
			}
		}
	} else {
		errs.add(1, "want a JSON array of objects")
		return nil
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		errs.add(lineAt(dec.InputOffset()), "data after the end of the list")
	}
	return out
}

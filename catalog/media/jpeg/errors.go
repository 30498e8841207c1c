package jpeg

import (
	"errors"
	"fmt"
)

// Sentinels every error of this package wraps (test with errors.Is).
var (
	// ErrFormat: the data is not a well-formed JPEG (or is cut off).
	ErrFormat = errors.New("invalid JPEG")
	// ErrUnsupported: a well-formed JPEG using a feature this decoder does not implement
	// (12-bit samples, arithmetic coding, lossless or hierarchical modes, DNL, unusual
	// sampling factors). A caller may try another decoder.
	ErrUnsupported = errors.New("unsupported JPEG feature")
	// ErrMemory: decoding would allocate more than Options.MaxMemory bytes.
	ErrMemory = errors.New("JPEG decode over the memory limit")
)

type decodeError struct {
	kind error
	msg  string
}

func (e *decodeError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *decodeError) Unwrap() error { return e.kind }

func formatError(format string, a ...any) error {
	return &decodeError{ErrFormat, fmt.Sprintf(format, a...)}
}

func unsupported(format string, a ...any) error {
	return &decodeError{ErrUnsupported, fmt.Sprintf(format, a...)}
}

var errEOF = formatError("unexpected end of data")

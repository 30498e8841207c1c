package media

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap exactly one of
// them (test with errors.Is); their text is a short sentence for people.
var (
	// ErrUnknownFormat: the content matches no known image format.
	ErrUnknownFormat = errors.New("media: unknown image format")
	// ErrTooManyPixels: the header claims more pixels (or a bigger pixel
	// buffer) than the caller allows, or an empty image. Nothing was decoded.
	ErrTooManyPixels = errors.New("media: too many pixels")
	// ErrNoDecoder: the format is recognised but Go cannot decode its pixels
	// (HEIC, HEIF, AVIF).
	ErrNoDecoder = errors.New("media: no decoder for this format")
	// ErrTooMuchWork: decoding (or downscaling) would cost work or memory out of proportion to
	// the file and to its pixels: a progressive JPEG with too many scans, a TIFF strip that
	// inflates past its declared size (a decompression bomb), an aspect ratio over
	// [MaxAspectRatio]. Nothing was decoded, and no limit makes it decodable.
	ErrTooMuchWork = errors.New("media: too much work for the file")
	// ErrDecode: the decoder failed (corrupt or truncated data, unsupported
	// feature, or a recovered decoder panic).
	ErrDecode = errors.New("media: cannot decode")
)

// mediaError carries a readable message, the sentinel kind and, for decode
// failures, the decoder's own error.
type mediaError struct {
	kind  error
	cause error
	msg   string
}

func (e *mediaError) Error() string { return e.msg }

func (e *mediaError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func newError(kind, cause error, format string, args ...any) error {
	return &mediaError{kind: kind, cause: cause, msg: fmt.Sprintf(format, args...)}
}

// decodeError wraps a decoder error as ErrDecode with the format's name;
// what is "header" or "pixels".
func decodeError(f Format, what string, cause error) error {
	return newError(ErrDecode, cause, "cannot read %s %s: %v", f.label(), what, cause)
}

// panicError turns a recovered panic value into an error.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("decoder panic: %v", p.v) }

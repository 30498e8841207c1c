// Package exifmeta reads EXIF metadata from hostile image files and
// normalises it: camera make, model, serial, lens, software, the original
// date-time with its zone when the file states one, GPS position as signed
// decimal degrees, orientation and the EXIF pixel size, plus every raw tag
// as printable text and a list of warnings about what was odd or rejected.
//
// The EXIF block is located in JPEG (APP1), TIFF, PNG (eXIf chunk, or a
// "Raw profile type exif" text chunk), WebP (RIFF EXIF chunk) and
// HEIF/HEIC/AVIF (ISO-BMFF Exif item). It is decoded by a small bounded
// TIFF/IFD walker written for this package: IFD0 and its chain, the Exif,
// GPS and Interoperability sub-IFDs, both byte orders, with loop detection
// and per-entry checks, so that one bad entry (count 0, unknown type,
// offset past the end) is skipped with a warning instead of losing every
// tag. github.com/rwcarlsen/goexif is run as a cross-check on blocks the
// walker has proved safe for it (goexif allocates by the declared count and
// only detects self-referencing IFD chains); disagreements become warnings.
//
// Read never panics (parser panics are recovered and reported as a
// warning) and allocates at most a small multiple of the input size. A
// file without EXIF is not an error: Meta.Stripped reports it as a finding.
//
// String values are kept as data: trailing blanks and NULs are trimmed and
// invalid UTF-8 is replaced, but markup and control characters are kept.
// Callers must escape them for terminals and HTML.
package exifmeta

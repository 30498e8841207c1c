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
// Meta.Raw keys are "<IFD>.<TagName>" ("IFD0.Make", "Exif.DateTimeOriginal",
// "GPS.GPSLatitude", "Interop.InteroperabilityIndex", "IFD1.Compression"),
// or "<IFD>.0xNNNN" for tags without a name here. Values are text: ASCII as
// is, numbers space-separated, rationals as "n/d", UTF-16 Windows XP tags
// and UNICODE UserComments decoded, other binary as "hex:..." up to 64
// bytes or "(binary, N bytes)". Each value is capped at MaxRawValue bytes
// (marked "…(truncated, N bytes)" and warned about) and all values together
// at four times the block size plus 64 KiB.
//
// Normalisation choices: Make, Model and Software come from IFD0, else
// from the first other IFD with a non-empty value; Orientation only from
// IFD0 (IFD1 describes the thumbnail); a DateTimeOriginal gets a zone only
// from a valid OffsetTimeOriginal, "+00:00" written as "Z".
//
// Read never panics (parser panics are recovered and reported as a
// warning) and allocates at most a small multiple of the input size. A
// file without EXIF is not an error: Meta.Stripped reports it as a finding.
//
// String values are kept as data: trailing blanks and NULs are trimmed and
// invalid UTF-8 is replaced, but markup and control characters are kept.
// Callers must escape them for terminals and HTML.
package exifmeta

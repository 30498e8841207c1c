package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relcat/relcat/catalog/exifmeta"
	"github.com/relcat/relcat/catalog/pdq"
)

// SHA256 identifies an image: the SHA-256 of its exact bytes. Its text form is lowercase hex.
type SHA256 [32]byte

func (s SHA256) String() string { return hex.EncodeToString(s[:]) }

// MarshalText gives the lowercase hex form.
func (s SHA256) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses 64 hex digits, with or without a "sha256:" prefix.
func (s *SHA256) UnmarshalText(b []byte) error {
	v, err := ParseSHA256(string(b))
	if err != nil {
		return &recordError{err} // read from a stored record (or a JSON input): not a usage error
	}
	*s = v
	return nil
}

// ParseSHA256 parses 64 hex digits, optionally prefixed by "sha256:".
func ParseSHA256(str string) (SHA256, error) {
	var s SHA256
	str = strings.TrimPrefix(strings.ToLower(str), "sha256:")
	if len(str) != 64 {
		return s, fmt.Errorf("%w: sha256 must be 64 hex digits, got %d characters", ErrBadArgument, len(str))
	}
	if _, err := hex.Decode(s[:], []byte(str)); err != nil {
		return s, fmt.Errorf("%w: sha256 %q is not hex", ErrBadArgument, str)
	}
	return s, nil
}

// MD5 is the MD5 of an image's bytes, kept for partners' hash lists.
type MD5 [16]byte

func (m MD5) String() string { return hex.EncodeToString(m[:]) }

// MarshalText gives the lowercase hex form.
func (m MD5) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses 32 hex digits.
func (m *MD5) UnmarshalText(b []byte) error {
	if len(b) != 32 {
		return &recordError{fmt.Errorf("md5 must be 32 hex digits")}
	}
	if _, err := hex.Decode(m[:], b); err != nil {
		return &recordError{err}
	}
	return nil
}

// BatchID identifies a batch (release). It is derived from the batch identity (see BatchIdentity).
type BatchID [8]byte

func (b BatchID) String() string { return hex.EncodeToString(b[:]) }

// MarshalText gives the lowercase hex form.
func (b BatchID) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses 16 hex digits.
func (b *BatchID) UnmarshalText(t []byte) error {
	if len(t) != 16 {
		return &recordError{fmt.Errorf("batch id must be 16 hex digits")}
	}
	if _, err := hex.Decode(b[:], t); err != nil {
		return &recordError{err}
	}
	return nil
}

// BatchIdentity computes the id of a batch. A batch is identified by its affiliate slug, its release
// time exactly as normalised (a date or an RFC 3339 date-time) and the base name of its folder: ingesting
// the same folder again for the same release adds to (or leaves unchanged) the same batch.
func BatchIdentity(affiliate string, released Released, folder string) BatchID {
	h := sha256.Sum256([]byte("relcat-batch-v1\x00" + affiliate + "\x00" + released.String() + "\x00" + folder))
	var b BatchID
	copy(b[:], h[:8])
	return b
}

// Released is a release time at the precision it was given: a bare date or a date-time with zone.
type Released struct {
	Time     time.Time // UTC; a bare date is the start of that day UTC
	DateOnly bool
}

// MinReleaseYear is the earliest year a release time may have. Earlier years are typos (no release
// relcat tracks is that old), and year 1 is Go's zero time, which would read back as "no date".
const MinReleaseYear = 1900

// ParseReleased accepts YYYY-MM-DD or an RFC 3339 date-time (2019-11-02T07:30:00Z, ...+03:00), from
// MinReleaseYear to 9999 in UTC.
func ParseReleased(s string) (Released, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return checkReleaseYear(s, Released{Time: t.UTC(), DateOnly: true})
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		// The zone can move a time at the edge of year 9999 out of the four-digit years RFC 3339
		// can write in UTC; the stored text would not parse back.
		return checkReleaseYear(s, Released{Time: t.UTC()})
	}
	return Released{}, fmt.Errorf("%w: release time %q: want a date (2019-11-05) or an RFC 3339 date-time (2019-11-05T07:30:00Z)", ErrBadArgument, s)
}

func checkReleaseYear(s string, r Released) (Released, error) {
	if y := r.Time.Year(); y < MinReleaseYear || y > 9999 {
		return Released{}, fmt.Errorf("%w: release time %q is out of range: want a year from %d to 9999 in UTC", ErrBadArgument, s, MinReleaseYear)
	}
	return r, nil
}

// IsZero reports whether no release time is set.
func (r Released) IsZero() bool { return r.Time.IsZero() }

// String gives the canonical text: a date, or an RFC 3339 date-time in UTC.
func (r Released) String() string {
	if r.Time.IsZero() {
		return ""
	}
	if r.DateOnly {
		return r.Time.Format("2006-01-02")
	}
	return r.Time.UTC().Format(time.RFC3339)
}

// MarshalText gives the canonical text.
func (r Released) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a date or an RFC 3339 date-time.
func (r *Released) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = Released{}
		return nil
	}
	v, err := ParseReleased(string(b))
	if err != nil {
		return &recordError{err} // read from a stored record: damage, not the user's argument
	}
	*r = v
	return nil
}

// Affiliate is who a release is credited to.
type Affiliate struct {
	Slug    string    `json:"slug"`
	Name    string    `json:"name,omitempty"`
	Aliases []string  `json:"aliases,omitempty"`
	Created time.Time `json:"created"`
}

// Batch is one release: a set of files published together.
type Batch struct {
	ID        BatchID   `json:"id"`
	Affiliate string    `json:"affiliate"`
	Released  Released  `json:"released"`
	Source    string    `json:"source,omitempty"`
	Title     string    `json:"title,omitempty"`
	Notes     string    `json:"notes,omitempty"`
	Operator  string    `json:"operator,omitempty"`
	Folder    string    `json:"folder"`           // base name of the origin folder (part of the identity)
	Origin    string    `json:"origin,omitempty"` // absolute path of the origin folder at first ingest
	Ingested  time.Time `json:"ingested"`         // first ingest, UTC
	Files     int       `json:"files"`            // sightings stored in this batch
	// Incomplete: an ingest of this batch was interrupted (or is running) before all its files were
	// committed; re-running it completes the batch.
	Incomplete bool `json:"incomplete,omitempty"`
	// Aka: the identities this batch also answers to after an affiliate rename or merge or a batch
	// edit (BatchIdentity of its new affiliate, release time and folder): re-ingesting the folder
	// with either the old or the new values adds to this batch.
	Aka []BatchID `json:"aka,omitempty"`
}

// PDQInfo is an image's perceptual hash with its quality, its 8 dihedral variants and the
// variant of the algorithm that computed it (e.g. "pdq-area1024").
type PDQInfo struct {
	Hash     pdq.Hash    `json:"hash"`
	Quality  int         `json:"quality"`
	Variant  string      `json:"variant"`
	Dihedral [8]pdq.Hash `json:"-"`
}

// Image is one distinct content, identified by the SHA-256 of its bytes.
type Image struct {
	SHA256      SHA256 `json:"sha256"`
	MD5         MD5    `json:"md5"`
	Size        int64  `json:"size"`
	Format      string `json:"format"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Pixels      bool   `json:"pixels"`                 // pixels were decoded (thumbnail and PDQ exist)
	PixelsError string `json:"pixels_error,omitempty"` // why not
	// PixelsLimited: not decoded because of the pixel limit or the decode-memory budget; a later
	// ingest of the same bytes with larger limits decodes it.
	PixelsLimited bool          `json:"pixels_limited,omitempty"`
	EXIF          exifmeta.Meta `json:"exif"`
	PDQ           *PDQInfo      `json:"-"` // stored in the pdq bucket, the one source of truth
	// PDQRef is the reference full-resolution PDQ (variant pdq-full) from the same decode, stored in
	// the pdq_ref bucket; nil when the image has no pixels or was decoded by a schema-1 build.
	PDQRef       *PDQInfo  `json:"-"`
	Thumb        string    `json:"thumb,omitempty"` // relative path in the catalog
	ThumbVersion int       `json:"thumb_version,omitempty"`
	ThumbSHA256  *SHA256   `json:"thumb_sha256,omitempty"`
	Object       string    `json:"object,omitempty"` // relative path of the preserved original, "" with --no-copy
	Warnings     []string  `json:"warnings,omitempty"`
	Ingested     time.Time `json:"ingested"`

	// regions are the region hashes of the work image (issue 10), computed at ingest (hasRegions)
	// and stored in the regions bucket, not in the image record.
	regions    []RegionHash
	hasRegions bool
	// pre is what the near indexes held for it when a worker searched them (presearch), or nil.
	pre *preSearch
}

// Sighting is "image X appeared in batch B as file F at position P".
type Sighting struct {
	SHA256    SHA256    `json:"sha256"`
	Batch     BatchID   `json:"batch"`
	Affiliate string    `json:"affiliate"`
	Released  Released  `json:"released"`
	Name      string    `json:"name"`
	Position  int       `json:"position"`
	Ingested  time.Time `json:"-"`
}

// sightingRecord is what batch_images stores. Name is the file name as text (textName); RawName holds
// its exact bytes when they are not valid UTF-8 (JSON text cannot carry them). The exact bytes
// identify the sighting.
type sightingRecord struct {
	SHA256  SHA256 `json:"sha256"`
	Name    string `json:"name"`
	RawName []byte `json:"raw_name,omitempty"`
}

// raw is the exact file name bytes of the sighting.
func (r sightingRecord) raw() string {
	if r.RawName != nil {
		return string(r.RawName)
	}
	return r.Name
}

// rawName is what RawName stores for a name: nil when the name is valid UTF-8 (then the text is the name).
func rawName(raw string) []byte {
	if textName(raw) == raw {
		return nil
	}
	return []byte(raw)
}

// Before orders sightings by first-seen: release time, then ingest time, then batch, then position.
func (s Sighting) Before(o Sighting) bool {
	if !s.Released.Time.Equal(o.Released.Time) {
		return s.Released.Time.Before(o.Released.Time)
	}
	if !s.Ingested.Equal(o.Ingested) {
		return s.Ingested.Before(o.Ingested)
	}
	if s.Batch != o.Batch {
		return s.Batch.String() < o.Batch.String()
	}
	return s.Position < o.Position
}

// Sentinel errors. Callers test them with errors.Is; messages carry the details.
var (
	ErrBadArgument = errors.New("catalog: bad argument")
	ErrLocked      = errors.New("catalog is in use by another relcat process")
	ErrSchema      = errors.New("catalog: unsupported schema version")
	ErrNotFound    = errors.New("catalog: not found")
	ErrAmbiguous   = errors.New("catalog: ambiguous reference")
	ErrInterrupted = errors.New("interrupted")
	ErrReadOnly    = errors.New("catalog: opened read-only")
)

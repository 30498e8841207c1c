package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ReleaseFileName is the optional per-folder description of a release.
const ReleaseFileName = "release.json"

// maxReleaseFile bounds release.json; it is a few hundred bytes in practice.
const maxReleaseFile = 1 << 20

// ReleaseInfo describes a batch: from release.json, overridden by flags.
type ReleaseInfo struct {
	Affiliate string `json:"affiliate,omitempty"`
	Released  string `json:"released,omitempty"`
	Source    string `json:"source,omitempty"`
	Title     string `json:"title,omitempty"`
	Notes     string `json:"notes,omitempty"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidSlug reports whether s is a valid affiliate slug: lowercase letters, digits and dashes.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// ParseReleaseInfo parses the bytes of a release.json strictly: unknown fields, a key given twice, a
// key in another case ("Affiliate": Go's JSON matches names case-insensitively, and the last of two
// keys would silently win) and trailing data are errors, so that a typo ("afiliate") or a second,
// contradicting value is not silently ignored.
func ParseReleaseInfo(data []byte) (ReleaseInfo, error) {
	var ri ReleaseInfo
	if len(data) > maxReleaseFile {
		return ri, fmt.Errorf("%w: %d bytes, more than %d", ErrBadArgument, len(data), maxReleaseFile)
	}
	if err := checkReleaseKeys(data); err != nil {
		return ri, fmt.Errorf("%w: %v", ErrBadArgument, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ri); err != nil {
		return ReleaseInfo{}, fmt.Errorf("%w: %v", ErrBadArgument, err)
	}
	if dec.More() {
		return ReleaseInfo{}, fmt.Errorf("%w: trailing data after the JSON object", ErrBadArgument)
	}
	return ri, nil
}

// releaseKeys are the keys of a release.json, exactly as written.
var releaseKeys = map[string]bool{"affiliate": true, "released": true, "source": true, "title": true, "notes": true}

// checkReleaseKeys requires a top-level JSON object whose keys are release.json's own names, in their
// exact case, each at most once. Values are left to the decoder (which also rejects trailing data).
func checkReleaseKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("release.json must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch {
		case !releaseKeys[key]:
			return fmt.Errorf("unknown field %q (the fields are affiliate, released, source, title, notes, in lowercase)", key)
		case seen[key]:
			return fmt.Errorf("field %q given twice", key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// readReleaseInfo reads dir/release.json if present.
func readReleaseInfo(dir string) (ReleaseInfo, bool, error) {
	p := filepath.Join(dir, ReleaseFileName)
	fi, err := os.Lstat(p)
	if os.IsNotExist(err) {
		return ReleaseInfo{}, false, nil
	}
	if err != nil {
		return ReleaseInfo{}, false, fmt.Errorf("%w: %s: %s", ErrBadArgument, p, shortErr(err))
	}
	if !fi.Mode().IsRegular() {
		return ReleaseInfo{}, false, fmt.Errorf("%w: %s: not a regular file", ErrBadArgument, p)
	}
	if fi.Size() > maxReleaseFile {
		return ReleaseInfo{}, false, fmt.Errorf("%w: %s: %d bytes, more than %d", ErrBadArgument, p, fi.Size(), maxReleaseFile)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return ReleaseInfo{}, false, fmt.Errorf("%w: %s: %s", ErrBadArgument, p, shortErr(err))
	}
	ri, err := ParseReleaseInfo(data)
	if err != nil {
		// One "bad argument" prefix, then the file, then what is wrong with it.
		return ReleaseInfo{}, false, fmt.Errorf("%w: %s: %s", ErrBadArgument, p, strings.TrimPrefix(err.Error(), ErrBadArgument.Error()+": "))
	}
	return ri, true, nil
}

// merge returns ri with the non-empty fields of over replacing its own.
func (ri ReleaseInfo) merge(over ReleaseInfo) ReleaseInfo {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&ri.Affiliate, over.Affiliate)
	set(&ri.Released, over.Released)
	set(&ri.Source, over.Source)
	set(&ri.Title, over.Title)
	set(&ri.Notes, over.Notes)
	return ri
}

// normalise validates the release info and returns the affiliate slug and the release time.
func (ri ReleaseInfo) normalise(dir string) (string, Released, error) {
	aff := asciiLower(strings.TrimSpace(ri.Affiliate))
	if aff == "" {
		return "", Released{}, fmt.Errorf("%w: %s: no affiliate: pass --affiliate SLUG or put \"affiliate\" in %s", ErrBadArgument, dir, ReleaseFileName)
	}
	if !ValidSlug(aff) {
		return "", Released{}, fmt.Errorf("%w: %s: affiliate %q is not a slug (lowercase letters, digits, dashes, e.g. is-khorasan)", ErrBadArgument, dir, ri.Affiliate)
	}
	if strings.TrimSpace(ri.Released) == "" {
		return "", Released{}, fmt.Errorf("%w: %s: no release date: pass --released 2019-11-05 (or a date-time) or put \"released\" in %s", ErrBadArgument, dir, ReleaseFileName)
	}
	rel, err := ParseReleased(ri.Released)
	if err != nil {
		return "", Released{}, fmt.Errorf("%s: %w", dir, err)
	}
	return aff, rel, nil
}

// asciiLower lowercases only A-Z. Unicode case folding would turn the Kelvin sign (U+212A) into "k"
// and a dotted capital I (U+0130) into "i", so "is-\u212Ahorasan" would become another affiliate's
// slug "is-khorasan"; with ASCII-only lowering such a name stays invalid and is refused.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

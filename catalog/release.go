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

// ParseReleaseInfo parses the bytes of a release.json strictly: unknown fields and trailing data are
// errors, so that a typo ("afiliate") is not silently ignored.
func ParseReleaseInfo(data []byte) (ReleaseInfo, error) {
	var ri ReleaseInfo
	if len(data) > maxReleaseFile {
		return ri, fmt.Errorf("%w: %d bytes, more than %d", ErrBadArgument, len(data), maxReleaseFile)
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

// readReleaseInfo reads dir/release.json if present.
func readReleaseInfo(dir string) (ReleaseInfo, bool, error) {
	p := filepath.Join(dir, ReleaseFileName)
	fi, err := os.Lstat(p)
	if os.IsNotExist(err) {
		return ReleaseInfo{}, false, nil
	}
	if err != nil {
		return ReleaseInfo{}, false, fmt.Errorf("%s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return ReleaseInfo{}, false, fmt.Errorf("%s: not a regular file", p)
	}
	if fi.Size() > maxReleaseFile {
		return ReleaseInfo{}, false, fmt.Errorf("%s: %d bytes, more than %d", p, fi.Size(), maxReleaseFile)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return ReleaseInfo{}, false, fmt.Errorf("%s: %w", p, err)
	}
	ri, err := ParseReleaseInfo(data)
	if err != nil {
		return ReleaseInfo{}, false, fmt.Errorf("%s: %w", p, err)
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
	aff := strings.ToLower(strings.TrimSpace(ri.Affiliate))
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

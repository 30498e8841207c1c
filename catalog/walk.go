package catalog

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// candidate is one directory entry of a release folder.
type candidate struct {
	rel    string // path relative to the release folder, slash-separated, as text (see textName)
	raw    string // the same path with the exact bytes of the names: the sighting's identity
	abs    string // what to read (for a symbolic link, its resolved target)
	reject string // non-empty: rejected before reading, with this reason
}

// listFolder returns the files of a release folder in a stable order (by the bytes of the relative
// path). Only the top level is read unless recursive. Directory symlinks are never followed; links to
// regular files are read only when the target is inside the release folder, unless followLinks.
// Hidden files (".*") and release.json are not part of the release. Entries that are not regular
// files are returned with a rejection reason, so that the summary accounts for them.
func listFolder(dir string, recursive, followLinks bool) ([]candidate, []string, error) {
	var out []candidate
	var notes []string
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadArgument, dir, err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("%w: %s is not a folder (ingest takes release folders)", ErrBadArgument, dir)
	}
	root, err := filepath.Abs(dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadArgument, dir, err)
	}
	skippedDirs := 0
	var walk func(abs, rel, raw string) error
	walk = func(abs, rel, raw string) error {
		entries, err := os.ReadDir(abs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			a := filepath.Join(abs, name)
			if strings.HasPrefix(name, ".") || (rel == "" && name == ReleaseFileName) {
				continue
			}
			// Names are shown as text: bytes that are not UTF-8 are written as \xNN escapes. The
			// sighting is identified by the exact bytes (raw), never by that text: a file named
			// "p\xff.jpg" literally and one whose name holds the byte 0xff are two files.
			tn := textName(name)
			if tn != name {
				notes = append(notes, fmt.Sprintf("%s: file name is not valid UTF-8, shown with \\x escapes", tn))
			}
			r, rw := tn, name
			if rel != "" {
				r, rw = rel+"/"+tn, raw+"/"+name
			}
			mode := e.Type()
			switch {
			case mode.IsDir():
				if recursive {
					if err := walk(a, r, rw); err != nil {
						out = append(out, candidate{rel: r, raw: rw, abs: a, reject: "folder not readable: " + err.Error()})
					}
				} else {
					skippedDirs++
				}
			case mode&fs.ModeSymlink != 0:
				c := candidate{rel: r, raw: rw, abs: a}
				target, err := os.Stat(a)
				switch {
				case err != nil:
					c.reject = "broken or looping symbolic link: " + shortErr(err)
				case target.IsDir():
					notes = append(notes, fmt.Sprintf("%s: symbolic link to a folder, not followed", r))
					continue
				case !target.Mode().IsRegular():
					c.reject = "symbolic link to " + kindOf(target.Mode())
				default:
					c.abs, c.reject = linkTarget(root, a, followLinks)
				}
				out = append(out, c)
			case mode.IsRegular():
				out = append(out, candidate{rel: r, raw: rw, abs: a})
			default:
				out = append(out, candidate{rel: r, raw: rw, abs: a, reject: "not a regular file: " + kindOf(mode)})
			}
		}
		return nil
	}
	if err := walk(dir, "", ""); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if skippedDirs > 0 {
		notes = append(notes, fmt.Sprintf("%d subfolder(s) skipped (use --recursive)", skippedDirs))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].raw < out[j].raw })
	return out, notes, nil
}

// linkTarget resolves a symbolic link to a regular file. It is read (through its resolved path) when
// the target lies inside the release folder root (itself resolved), or anywhere with followLinks;
// otherwise it is rejected: a link to /etc/passwd or to another case's files is not a member of the
// release.
func linkTarget(root, link string, followLinks bool) (abs, reject string) {
	real, err := filepath.EvalSymlinks(link)
	if err != nil {
		return link, "broken or looping symbolic link: " + shortErr(err)
	}
	if !followLinks {
		rel, err := filepath.Rel(root, real)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			return link, fmt.Sprintf("symbolic link to a file outside the release folder (%s): not read (--follow-links reads it)", textName(real))
		}
	}
	return real, ""
}

func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}

// textName returns name with each byte that is not part of valid UTF-8 written as \xNN.
func textName(name string) string {
	if utf8.ValidString(name) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "\\x%02x", name[i])
		} else {
			b.WriteString(name[i : i+n])
		}
		i += n
	}
	return b.String()
}

// shortErr drops the repeated path from *PathError messages.
func shortErr(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

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
	rel    string // path relative to the release folder, slash-separated
	abs    string
	reject string // non-empty: rejected before reading, with this reason
}

// listFolder returns the files of a release folder in a stable order (by relative path). Only the
// top level is read unless recursive. Directory symlinks are never followed; hidden files (".*") and
// release.json are not part of the release. Entries that are not regular files are returned with a
// rejection reason, so that the summary accounts for them.
func listFolder(dir string, recursive bool) ([]candidate, []string, error) {
	var out []candidate
	var notes []string
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadArgument, dir, err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("%w: %s is not a folder (ingest takes release folders)", ErrBadArgument, dir)
	}
	skippedDirs := 0
	var walk func(abs, rel string) error
	walk = func(abs, rel string) error {
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
			// Names are recorded as text (JSON): bytes that are not UTF-8 would be replaced and the
			// record would no longer name the file, so they are recorded as \xNN escapes.
			if tn := textName(name); tn != name {
				notes = append(notes, fmt.Sprintf("%s: file name is not valid UTF-8, recorded with \\x escapes", tn))
				name = tn
			}
			r := name
			if rel != "" {
				r = rel + "/" + name
			}
			mode := e.Type()
			switch {
			case mode.IsDir():
				if recursive {
					if err := walk(a, r); err != nil {
						out = append(out, candidate{rel: r, abs: a, reject: "folder not readable: " + err.Error()})
					}
				} else {
					skippedDirs++
				}
			case mode&fs.ModeSymlink != 0:
				target, err := os.Stat(a)
				switch {
				case err != nil:
					out = append(out, candidate{rel: r, abs: a, reject: "broken or looping symbolic link: " + shortErr(err)})
				case target.IsDir():
					notes = append(notes, fmt.Sprintf("%s: symbolic link to a folder, not followed", r))
				case !target.Mode().IsRegular():
					out = append(out, candidate{rel: r, abs: a, reject: "symbolic link to " + kindOf(target.Mode())})
				default:
					out = append(out, candidate{rel: r, abs: a})
				}
			case mode.IsRegular():
				out = append(out, candidate{rel: r, abs: a})
			default:
				out = append(out, candidate{rel: r, abs: a, reject: "not a regular file: " + kindOf(mode)})
			}
		}
		return nil
	}
	if err := walk(dir, ""); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if skippedDirs > 0 {
		notes = append(notes, fmt.Sprintf("%d subfolder(s) skipped (use --recursive)", skippedDirs))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, notes, nil
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

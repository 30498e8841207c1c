package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"

	"golang.org/x/sync/semaphore"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/thumbs"

	bolt "go.etcd.io/bbolt"
)

// ActionRepair is the log action of Repair.
const ActionRepair = "repair"

// RepairOptions configure Repair.
type RepairOptions struct {
	// From lists folders (read recursively, links not followed) that may hold the same bytes as
	// damaged or missing originals; a file whose SHA-256 is the image's restores its original.
	From     []string
	Operator string
	Command  string
}

// RepairItem is one stored file repaired, or one that could not be.
type RepairItem struct {
	Kind   string `json:"kind"` // "object" (preserved original) or "thumbnail"
	SHA256 SHA256 `json:"sha256"`
	Path   string `json:"path"`   // relative to the catalog
	Detail string `json:"detail"` // what was done, or what is wrong and how to fix it
}

// RepairReport is what Repair did.
type RepairReport struct {
	Checked    int          `json:"checked"` // originals and thumbnails checked
	Scanned    int          `json:"scanned"` // files of --from folders hashed
	Repaired   []RepairItem `json:"repaired"`
	Unrepaired []RepairItem `json:"unrepaired"`
}

// Repair checks every preserved original and thumbnail against its recorded SHA-256 and repairs
// what it can: a missing or damaged original from a file with the same bytes found under
// o.From; a missing or damaged thumbnail by making it again from the (sound) original. One log entry
// records every repair. What cannot be repaired is listed with the way to fix it.
func (c *Catalog) Repair(ctx context.Context, o RepairOptions) (*RepairReport, error) {
	if c.readOnly {
		return nil, ErrReadOnly
	}
	r := &RepairReport{Repaired: []RepairItem{}, Unrepaired: []RepairItem{}}
	var imgs []Image
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketImages).ForEach(func(k, v []byte) error {
			var img Image
			if err := json.Unmarshal(v, &img); err != nil {
				return nil // verify reports unreadable records; nothing to repair from them
			}
			if img.Object != "" || img.Thumb != "" {
				imgs = append(imgs, img)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	badObject := map[SHA256]*Image{} // originals missing or damaged
	badThumb := map[SHA256]*Image{}
	for i := range imgs {
		img := &imgs[i]
		if err := ctx.Err(); err != nil {
			return r, ErrInterrupted
		}
		if img.Object != "" {
			r.Checked++
			if sum, err := hashStored(ctx, filepath.Join(c.dir, filepath.FromSlash(img.Object)), img.Size); err != nil || sum != img.SHA256 {
				badObject[img.SHA256] = img
			}
		}
		if img.Thumb != "" {
			r.Checked++
			sum, err := hashStored(ctx, filepath.Join(c.dir, filepath.FromSlash(img.Thumb)), -1)
			if err != nil || img.ThumbSHA256 == nil || sum != *img.ThumbSHA256 {
				badThumb[img.SHA256] = img
			}
		}
	}
	// Originals from the --from folders: only files of a wanted size are hashed.
	found := map[SHA256][]byte{}
	if len(badObject) > 0 && len(o.From) > 0 {
		sizes := map[int64]bool{}
		for _, img := range badObject {
			sizes[img.Size] = true
		}
		for _, dir := range o.From {
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return fmt.Errorf("repair --from %s: %w", dir, err)
				}
				if err := ctx.Err(); err != nil {
					return ErrInterrupted
				}
				if !d.Type().IsRegular() {
					return nil // folders are walked; links, devices and FIFOs are never read
				}
				fi, err := d.Info()
				if err != nil || !sizes[fi.Size()] {
					return nil
				}
				data, err := readStored(ctx, path, fi.Size())
				if err != nil {
					return nil
				}
				r.Scanned++
				s := SHA256(sha256.Sum256(data))
				if _, want := badObject[s]; want {
					found[s] = data
				}
				return nil
			})
			if err != nil {
				return r, err
			}
		}
	}
	var notes []string
	for _, s := range sortedSHAs(badObject) {
		img := badObject[s]
		item := RepairItem{Kind: "object", SHA256: s, Path: img.Object}
		data, ok := found[s]
		if !ok {
			item.Detail = "original missing or damaged: give the same file again with `relcat repair --from DIR`"
			if len(o.From) > 0 {
				item.Detail = "original missing or damaged, and no file with its SHA-256 under --from: give a folder holding the same bytes with `relcat repair --from DIR`"
			}
			r.Unrepaired = append(r.Unrepaired, item)
			continue
		}
		if _, err := writeContentFile(c.dir, img.Object, data, 0o444); err != nil {
			item.Detail = "could not write the original: " + err.Error()
			r.Unrepaired = append(r.Unrepaired, item)
			continue
		}
		item.Detail = "original restored from a file with the same SHA-256"
		r.Repaired = append(r.Repaired, item)
		notes = append(notes, fmt.Sprintf("original of %s restored (%s)", s, img.Object))
		delete(badObject, s)
	}
	updated := map[SHA256]*Image{} // thumbnails whose bytes (and so recorded hash) changed
	for _, s := range sortedSHAs(badThumb) {
		img := badThumb[s]
		item := RepairItem{Kind: "thumbnail", SHA256: s, Path: img.Thumb}
		if img.Object == "" || badObject[s] != nil {
			item.Detail = "thumbnail missing or damaged, and no sound original to make it from: restore the original first (`relcat repair --from DIR`)"
			if img.Object == "" {
				item.Detail = "thumbnail missing or damaged, and the original was not preserved (--no-copy): ingest the file again without --no-copy, then run `relcat repair`"
			}
			r.Unrepaired = append(r.Unrepaired, item)
			continue
		}
		thumb, err := c.remakeThumb(ctx, img)
		if err != nil {
			item.Detail = "could not make the thumbnail again: " + err.Error()
			r.Unrepaired = append(r.Unrepaired, item)
			continue
		}
		if _, err := writeContentFile(c.dir, img.Thumb, thumb, 0o444); err != nil {
			item.Detail = "could not write the thumbnail: " + err.Error()
			r.Unrepaired = append(r.Unrepaired, item)
			continue
		}
		ts := SHA256(sha256.Sum256(thumb))
		item.Detail = "thumbnail made again from the original"
		if img.ThumbSHA256 == nil || ts != *img.ThumbSHA256 || img.ThumbVersion != thumbs.Version {
			item.Detail += " (new bytes: its recorded hash is updated)"
			img.ThumbSHA256, img.ThumbVersion = &ts, thumbs.Version
			updated[s] = img
		}
		r.Repaired = append(r.Repaired, item)
		notes = append(notes, fmt.Sprintf("thumbnail of %s made again (sha256 %s)", s, ts))
	}
	if len(notes) == 0 {
		return r, nil
	}
	if err := syncContent(c.dir); err != nil {
		return r, fmt.Errorf("catalog: sync repaired files: %w", err)
	}
	err = c.update(func(tx *bolt.Tx) error {
		for s, img := range updated {
			var cur Image
			if err := json.Unmarshal(tx.Bucket(bucketImages).Get(s[:]), &cur); err != nil {
				return fmt.Errorf("image %s record: %w", s, err)
			}
			cur.ThumbSHA256, cur.ThumbVersion = img.ThumbSHA256, img.ThumbVersion
			if err := putJSON(tx.Bucket(bucketImages), s[:], &cur); err != nil {
				return err
			}
		}
		return c.logChange(tx, HousekeepingOptions{Operator: o.Operator, Command: o.Command}, LogEntry{Action: ActionRepair, Notes: notes})
	})
	return r, err
}

// remakeThumb makes an image's thumbnail again from its preserved original, exactly as ingest does
// (one bounded decode, the work image, the thumbnail's area average: thumbSource, the orientation).
func (c *Catalog) remakeThumb(ctx context.Context, img *Image) ([]byte, error) {
	data, err := readStored(ctx, filepath.Join(c.dir, filepath.FromSlash(img.Object)), img.Size)
	if err != nil {
		return nil, err
	}
	if SHA256(sha256.Sum256(data)) != img.SHA256 {
		return nil, fmt.Errorf("the original does not match its SHA-256")
	}
	_, small, _, err := workAndThumb(ctx, data, media.Format(img.Format), DefaultMaxPixels, DefaultDecodeMemory, semaphore.NewWeighted(DefaultDecodeMemory))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := thumbs.Encode(&buf, thumbs.Make(small, img.EXIF.Orientation)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortedSHAs(m map[SHA256]*Image) []SHA256 {
	out := make([]SHA256, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

// repairHint is the fix verify names for a bad stored file.
func repairHint(kind string) string {
	switch kind {
	case "object":
		return " (fix: `relcat repair --from DIR`, DIR holding the original file)"
	case "thumbnail":
		return " (fix: `relcat repair` makes it again from the original)"
	}
	return ""
}

package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/relcat/relcat/thumbs"

	bolt "go.etcd.io/bbolt"
)

// What a viewer (the HTML report, the local web UI) needs besides the queries: thumbnail and
// original bytes by content address, the log head, and a lookup of bytes held in memory.

// MaxThumbnailSize bounds what Thumbnail reads: a thumbnail is a 320 px JPEG of a few tens of KB;
// anything much larger in thumbs/ is damage, not a thumbnail.
const MaxThumbnailSize = 1 << 20

// Thumbnail returns the stored thumbnail (JPEG) of image s, checked against the SHA-256 its record
// holds. ErrNotFound when the image has none (not decoded, or unknown). The path is derived from s,
// never from stored text.
func (c *Catalog) Thumbnail(s SHA256) ([]byte, error) {
	var want *SHA256
	err := c.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketImages).Get(s[:])
		if v == nil {
			return fmt.Errorf("%w: image %s", ErrNotFound, s)
		}
		var img struct {
			Thumb       string  `json:"thumb"`
			ThumbSHA256 *SHA256 `json:"thumb_sha256"`
		}
		if err := json.Unmarshal(v, &img); err != nil {
			return fmt.Errorf("image %s record: %w", s, err)
		}
		if img.Thumb == "" {
			return fmt.Errorf("%w: image %s has no thumbnail", ErrNotFound, s)
		}
		want = img.ThumbSHA256
		return nil
	})
	if err != nil {
		return nil, err
	}
	data, err := readRegular(filepath.Join(c.dir, filepath.FromSlash(thumbs.RelPath(s.String()))), MaxThumbnailSize)
	if err != nil {
		return nil, fmt.Errorf("thumbnail of %s: %s (run `relcat verify`)", s, err)
	}
	if want != nil && sha256.Sum256(data) != *want {
		return nil, fmt.Errorf("thumbnail of %s: its content does not match its record (run `relcat verify`)", s)
	}
	return data, nil
}

// OpenOriginal opens the preserved original of image s for reading, with its size. ErrNotFound when
// the catalog keeps none (--no-copy). The caller closes the file. The path is derived from s.
func (c *Catalog) OpenOriginal(s SHA256) (*os.File, int64, error) {
	var has bool
	err := c.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketImages).Get(s[:])
		if v == nil {
			return fmt.Errorf("%w: image %s", ErrNotFound, s)
		}
		var img struct {
			Object string `json:"object"`
		}
		if err := json.Unmarshal(v, &img); err != nil {
			return fmt.Errorf("image %s record: %w", s, err)
		}
		has = img.Object != ""
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if !has {
		return nil, 0, fmt.Errorf("%w: the original of %s was not kept (ingested with --no-copy)", ErrNotFound, s)
	}
	f, err := os.OpenFile(filepath.Join(c.dir, filepath.FromSlash(objectRelPath(s))), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("original of %s: %s (run `relcat verify`)", s, shortErr(err))
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("original of %s: not a regular file (run `relcat verify`)", s)
	}
	return f, fi.Size(), nil
}

// ImageRecord returns the stored record of image s alone (no sightings, no near search): what a
// view needs to show a thumbnail of a match.
func (c *Catalog) ImageRecord(s SHA256) (*Image, error) {
	var img *Image
	err := c.view(func(tx *bolt.Tx) error {
		var err error
		img, err = getImage(tx, s)
		return err
	})
	return img, err
}

// LogHead is the last log entry: the catalog state a report or a page was made from. ok is false
// for an empty catalog.
func (c *Catalog) LogHead() (e LogEntry, ok bool, err error) {
	err = c.view(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketLog).Cursor().Last()
		if k == nil {
			return nil
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("log entry %x: %w", k, err)
		}
		ok = true
		return nil
	})
	return e, ok, err
}

// LookupReader looks up the bytes read from r (at most the file-size limit of ho) exactly as Lookup
// looks up a file: the bytes are hashed in memory and never stored. name is what the result and
// its errors call the input (an uploaded file's name).
func (c *Catalog) LookupReader(ctx context.Context, name string, r io.Reader, o MatchOptions, ho HashOptions) (*LookupResult, error) {
	ho = ho.withDefaults()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, ho.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read: %w", name, err)
	}
	if n > ho.MaxFileSize {
		return nil, fmt.Errorf("%w: %s: over the limit of %d bytes", ErrBadArgument, name, ho.MaxFileSize)
	}
	ho.Full = false
	ho.Regions = !o.NoRegions
	h, err := hashBytes(ctx, name, buf.Bytes(), ho)
	if err != nil {
		return nil, err
	}
	return c.lookupHashes(name, h, o)
}

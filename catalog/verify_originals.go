package catalog

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/json"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/relcat/relcat/catalog/exifmeta"
	"github.com/relcat/relcat/catalog/media"
)

// recordFacts is what verify holds an image record to when it re-reads the original: small enough to
// keep for every image of a large catalog (the EXIF as a digest of its stored JSON).
type recordFacts struct {
	md5      MD5
	format   string
	exif     [32]byte // SHA-256 of the record's EXIF as JSON
	streamed bool     // ingested by streaming: EXIF read from the first MiB only
}

func factsOf(img *Image) *recordFacts {
	data, _ := json.Marshal(img.EXIF)
	return &recordFacts{md5: img.MD5, format: img.Format, exif: sha256.Sum256(data),
		streamed: strings.Contains(img.PixelsError, "hashed by streaming")}
}

// checkOriginal re-reads a preserved original once and holds the image record to it: SHA-256 (the
// identity), size, MD5, sniffed format and the EXIF read again by the same reader ingest used (from
// the whole file, or from its first MiB for a file ingested by streaming). It returns the SHA-256 and
// reports what else differs: a record altered in catalog.db, with its index, is found here.
func (c *Catalog) checkOriginal(ctx context.Context, path string, s SHA256, size int64, want *recordFacts, add func(kind, subject, format string, args ...any)) (SHA256, error) {
	var sum SHA256
	var m MD5
	var exifData []byte
	if want.streamed {
		f, _, err := openRegular(path, true)
		if err != nil {
			return sum, err
		}
		defer f.Close()
		st, err := streamFile(ctx, f, size)
		if err != nil {
			return sum, err
		}
		sum, m, exifData = st.sum, st.md5, st.head
	} else {
		data, err := readStored(ctx, path, size)
		if err != nil {
			return sum, err
		}
		sum, m, exifData = SHA256(sha256.Sum256(data)), MD5(md5.Sum(data)), data
	}
	if sum != s {
		return sum, nil // the caller reports the content; the rest follows from it
	}
	subject := s.String()
	if m != want.md5 {
		add("record", subject, "md5 %s recorded, the original's is %s (record altered)", want.md5, m)
	}
	format := media.Sniff(exifData)
	if string(format) != want.format {
		add("record", subject, "format %q recorded, the original is %q (record altered)", want.format, format)
	}
	meta := readEXIF(exifData, format)
	data, _ := json.Marshal(meta)
	if sha256.Sum256(data) != want.exif {
		add("record", subject, "EXIF differs from the original's: %s (record altered)", c.exifDiff(s, meta))
	}
	return sum, nil
}

// exifDiff names the normalised EXIF fields of image s's record that differ from those read again.
func (c *Catalog) exifDiff(s SHA256, again exifmeta.Meta) string {
	var rec exifmeta.Meta
	_ = c.view(func(tx *bolt.Tx) error {
		var img Image
		if v := tx.Bucket(bucketImages).Get(s[:]); v != nil && json.Unmarshal(v, &img) == nil {
			rec = img.EXIF
		}
		return nil
	})
	a, _ := json.Marshal(rec)
	b, _ := json.Marshal(again)
	if d := recordDiff(b, a); d != "" {
		return strings.ReplaceAll(d, "(log:", "(original:")
	}
	if bytes.Equal(a, b) {
		return "only in a form the record does not keep"
	}
	return "raw tags differ"
}

package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/relcat/relcat/catalog/exifmeta"

	bolt "go.etcd.io/bbolt"
)

// The search bucket indexes image metadata for `relcat search` and `relcat cameras` (format in
// keys.go). The writer adds an image's entries in the transaction that stores the image record, so the
// index is never behind the records; UpgradeSearchIndex recomputes it from the records (reindex).

// Camera body identification: make + model + body serial; make + model + lens when there is no
// usable serial. Without either there is no body (a model alone is not one camera).
const (
	BodyBySerial = "serial"
	BodyByLens   = "lens"
)

// usableSerial reports whether a serial names one camera: not empty and not a placeholder made of
// zeros, blanks, dashes or "unknown" (cameras write those when they have no serial).
func usableSerial(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "unknown" || s == "none" || s == "n/a" {
		return false
	}
	return strings.Trim(s, "0 -.x") != ""
}

// cameraBody returns the identity key of the camera body that took a photo ("" when the metadata
// names none) and how it was identified.
func cameraBody(m exifmeta.Meta) (key, by string) {
	mk, md := strings.ToLower(strings.TrimSpace(m.Make)), strings.ToLower(strings.TrimSpace(m.Model))
	if mk == "" && md == "" {
		return "", ""
	}
	switch {
	case usableSerial(m.Serial):
		return BodyBySerial + "\x1f" + mk + "\x1f" + md + "\x1f" + strings.ToLower(strings.TrimSpace(m.Serial)), BodyBySerial
	case strings.TrimSpace(m.Lens) != "":
		return BodyByLens + "\x1f" + mk + "\x1f" + md + "\x1f" + strings.ToLower(strings.TrimSpace(m.Lens)), BodyByLens
	}
	return "", ""
}

// searchEntries lists the search keys of an image record.
func searchEntries(img *Image) [][]byte {
	s := img.SHA256
	m := img.EXIF
	var ks [][]byte
	text := func(field byte, v string) {
		if strings.TrimSpace(v) != "" {
			ks = append(ks, searchKey(field, searchText(v), s))
		}
	}
	text(searchMake, m.Make)
	text(searchModel, m.Model)
	if usableSerial(m.Serial) {
		text(searchSerial, m.Serial)
	}
	text(searchLens, m.Lens)
	text(searchSoftware, m.Software)
	text(searchFormat, img.Format)
	if body, _ := cameraBody(m); body != "" {
		text(searchBody, body)
	}
	if m.Stripped() {
		ks = append(ks, searchKey(searchStripped, nil, s))
	}
	if img.PDQ != nil && img.PDQ.Quality < DefaultMinQuality {
		ks = append(ks, searchKey(searchLowQual, nil, s))
	}
	if t, _, ok := parseTaken(m.DateTimeOriginal); ok {
		ks = append(ks, searchKey(searchTaken, searchTimeValue(t), s))
	}
	if m.GPS != nil {
		ks = append(ks, searchKey(searchGPS, searchGPSValue(m.GPS.Lat, m.GPS.Lon), s))
	}
	return ks
}

// indexSearch adds an image's search entries (idempotent).
func indexSearch(tx *bolt.Tx, img *Image) error {
	b := tx.Bucket(bucketSearch)
	for _, k := range searchEntries(img) {
		if err := b.Put(k, []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// unindexSearch removes an image's search entries.
func unindexSearch(tx *bolt.Tx, img *Image) error {
	b := tx.Bucket(bucketSearch)
	for _, k := range searchEntries(img) {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// searchRebuildChunk is how many image records one transaction of UpgradeSearchIndex indexes.
const searchRebuildChunk = 20_000

// UpgradeSearchIndex rebuilds the metadata search index (the search bucket) from the image records
// and the pdq bucket's qualities: the schema-2 upgrade step of `relcat search` and `relcat cameras`,
// which `relcat reindex` runs. It is idempotent and commits in chunks, so an interrupted run is
// simply run again. It returns the number of images indexed.
func (c *Catalog) UpgradeSearchIndex(ctx context.Context) (int, error) {
	if c.readOnly {
		return 0, ErrReadOnly
	}
	err := c.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSearch) != nil {
			if err := tx.DeleteBucket(bucketSearch); err != nil {
				return err
			}
		}
		_, err := tx.CreateBucket(bucketSearch)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return n, ErrInterrupted
		}
		done := false
		err := c.update(func(tx *bolt.Tx) error {
			cur := tx.Bucket(bucketImages).Cursor()
			k, v := cur.First()
			if after != nil {
				k, v = cur.Seek(after)
				if k != nil && bytes.Equal(k, after) {
					k, v = cur.Next()
				}
			}
			for i := 0; i < searchRebuildChunk; i++ {
				if k == nil {
					done = true
					return nil
				}
				var img Image
				if err := json.Unmarshal(v, &img); err != nil {
					return fmt.Errorf("image %x record: %w (run `relcat verify`)", k, err)
				}
				if pv := tx.Bucket(bucketPDQ).Get(k); len(pv) > 0 {
					img.PDQ = &PDQInfo{Quality: int(pv[0])}
				}
				if err := indexSearch(tx, &img); err != nil {
					return err
				}
				n++
				after = bytes.Clone(k)
				k, v = cur.Next()
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		if done {
			return n, nil
		}
	}
}

// Verify holds the search bucket against the image records in constant memory (searchCheck): every
// entry an image record gives must be stored, and the bucket must hold no other entry.

// searchCheck sums, image by image, the search entries the records give (setSum, verifysums.go);
// strays then sums the stored entries: equal sums prove the bucket holds exactly those. Otherwise
// each record's entries are looked up, and the entries no record gives are named. Verify calls
// image as it reads each record (one decode of each), in chunks.
type searchCheck struct {
	want, missing int
	sums          []*setSum // the entries the records give; the entries stored
	lookedUp      bool      // strays looked each record's entries up (the sums differed)
}

// image sums the entries of one image record (pv: its pdq value, nil when none).
func (sc *searchCheck) image(img *Image, pv []byte) {
	if sc.sums == nil {
		sc.sums = newSetSums(2)
	}
	si := *img
	if len(pv) > 0 {
		si.PDQ = &PDQInfo{Quality: int(pv[0])}
	}
	for _, e := range searchEntries(&si) {
		sc.want++
		sc.sums[0].add(e)
	}
}

// strays holds the stored entries against the sum of those the records gave; when they differ, it
// names each entry a readable image record gives that is missing, and the entries that no readable
// image record gives (one problem per image). tick is called once per record read and stops the
// check when it returns true.
func (sc *searchCheck) strays(tx *bolt.Tx, tick func() bool, add func(kind, subject, format string, args ...any)) {
	sb := tx.Bucket(bucketSearch)
	pdqs := tx.Bucket(bucketPDQ)
	images := tx.Bucket(bucketImages)
	if sc.sums == nil {
		sc.sums = newSetSums(2)
	}
	n := 0
	scur := sb.Cursor()
	for k, _ := scur.First(); k != nil; k, _ = scur.Next() {
		if tick() {
			return
		}
		n++
		sc.sums[1].add(k)
	}
	if sc.sums[0].same(sc.sums[1]) {
		return
	}
	recordOf := func(k []byte) (*Image, bool) {
		var img Image
		if json.Unmarshal(images.Get(k), &img) != nil {
			return nil, false
		}
		if pv := pdqs.Get(k); len(pv) > 0 {
			img.PDQ = &PDQInfo{Quality: int(pv[0])}
		}
		return &img, true
	}
	// Every entry of every readable image record, looked up.
	sc.lookedUp = true
	sc.want, sc.missing = 0, 0
	_ = images.ForEach(func(k, v []byte) error {
		if tick() {
			return ErrInterrupted
		}
		img, ok := recordOf(k)
		if !ok || len(k) != 32 || !bytes.Equal(img.SHA256[:], k) {
			return nil // reported with the images
		}
		for _, e := range searchEntries(img) {
			sc.want++
			if sb.Get(e) == nil {
				sc.missing++
				add("index", img.SHA256.String(), "metadata search index lacks entry %q: run `relcat reindex`", e[:len(e)-32])
			}
		}
		return nil
	})
	wantN, missing := sc.want, sc.missing
	// Every stored key the records give was found; any further key is a stray one.
	if n > wantN-missing {
		// Name the images whose entries no readable image record gives (one problem per image).
		var order []string
		count := map[string]int{}
		_ = sb.ForEach(func(k, _ []byte) error {
			if tick() {
				return ErrInterrupted
			}
			if len(k) < 33 {
				add("index", "search", "malformed metadata index entry %x: run `relcat reindex`", k)
				return nil
			}
			sha := k[len(k)-32:]
			if v := images.Get(sha); v != nil && !json.Valid(v) {
				return nil // an unreadable record is reported with the records
			}
			if img, ok := recordOf(sha); ok {
				for _, e := range searchEntries(img) {
					if bytes.Equal(e, k) {
						return nil
					}
				}
			}
			key := fmt.Sprintf("%x", sha)
			if count[key] == 0 {
				order = append(order, key)
			}
			count[key]++
			return nil
		})
		for _, key := range order {
			add("index", key, "%d metadata search index entries match no image record or a different value: run `relcat reindex`", count[key])
		}
	}
}

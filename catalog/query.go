package catalog

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// getBatch reads one batch record.
func getBatch(tx *bolt.Tx, id BatchID) (*Batch, error) {
	v := tx.Bucket(bucketBatches).Get(id[:])
	if v == nil {
		return nil, fmt.Errorf("%w: batch %s", ErrNotFound, id)
	}
	var b Batch
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, fmt.Errorf("batch %s record: %w", id, err)
	}
	return &b, nil
}

func getImage(tx *bolt.Tx, s SHA256) (*Image, error) {
	v := tx.Bucket(bucketImages).Get(s[:])
	if v == nil {
		return nil, fmt.Errorf("%w: image %s", ErrNotFound, s)
	}
	var img Image
	if err := json.Unmarshal(v, &img); err != nil {
		return nil, fmt.Errorf("image %s record: %w", s, err)
	}
	if v := tx.Bucket(bucketPDQ).Get(s[:]); v != nil {
		p, err := parsePDQValue(v)
		if err != nil {
			return nil, fmt.Errorf("image %s pdq record: %w", s, err)
		}
		img.PDQ = p
	}
	if b := tx.Bucket(bucketPDQRef); b != nil {
		if v := b.Get(s[:]); v != nil {
			p, err := parsePDQValue(v)
			if err != nil {
				return nil, fmt.Errorf("image %s pdq_ref record: %w", s, err)
			}
			img.PDQRef = p
		}
	}
	return &img, nil
}

// sightingsOf lists every sighting of s, earliest first.
func sightingsOf(tx *bolt.Tx, s SHA256, cache map[BatchID]*Batch) ([]Sighting, error) {
	var out []Sighting
	cur := tx.Bucket(bucketImageBatches).Cursor()
	for k, v := cur.Seek(s[:]); k != nil && bytes.HasPrefix(k, s[:]); k, v = cur.Next() {
		_, bid, pos, err := parseImageBatchKey(k)
		if err != nil {
			return nil, err
		}
		b := cache[bid]
		if b == nil {
			if b, err = getBatch(tx, bid); errors.Is(err, ErrNotFound) {
				// Damage: the sighting's batch has no record. Leave it out of the answer and name it.
				noteDamage(tx, "batch %s has no record: its sightings are left out of the answers", bid)
				continue
			} else if err != nil {
				noteDamage(tx, "%v: its sightings are left out of the answers", err)
				continue
			}
			if cache != nil {
				cache[bid] = b
			}
		}
		out = append(out, Sighting{SHA256: s, Batch: bid, Affiliate: b.Affiliate, Released: b.Released,
			Name: textName(string(v)), Position: pos, Ingested: b.Ingested})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

// Batches lists the batches, earliest release first; affiliate (slug, alias or name) filters when
// not empty, and an unknown one is ErrNotFound.
func (c *Catalog) Batches(affiliate string) ([]Batch, error) {
	if affiliate != "" {
		slug, err := c.ResolveAffiliate(affiliate)
		if err != nil {
			return nil, err
		}
		affiliate = slug
	}
	var out []Batch
	err := c.BatchesEach(BatchListOptions{Affiliate: affiliate}, func(b Batch) error {
		out = append(out, b)
		return nil
	})
	return out, err
}

// BatchListOptions select the batches BatchesEach lists.
type BatchListOptions struct {
	Affiliate string   // only this affiliate's batches
	Since     Released // only batches released at or after this time
	Limit     int      // only the first this many (0: all)
}

// batchKey is what ordering and filtering batches needs of a record.
type batchKey struct {
	Affiliate string    `json:"affiliate"`
	Released  Released  `json:"released"`
	Ingested  time.Time `json:"ingested"`
}

// batchKeyOf reads what ordering needs of a stored batch record: directly from the fields
// json.Marshal writes for a Batch (affiliate and released early, before any free text; ingested
// later), else, for any record that does not read plainly (an escape in a value, another order),
// with json.Unmarshal. A key cannot be matched inside a string value: its quotes would be escaped.
func batchKeyOf(v []byte) (batchKey, error) {
	if k, ok := scanBatchKey(v); ok {
		return k, nil
	}
	var k batchKey
	err := json.Unmarshal(v, &k)
	return k, err
}

func scanBatchKey(v []byte) (k batchKey, ok bool) {
	if len(v) == 0 || v[0] != '{' {
		return k, false
	}
	aff, rest, ok := scanJSONString(v, `"affiliate":"`)
	if !ok {
		return k, false
	}
	rel, rest, ok := scanJSONString(rest, `"released":"`)
	if !ok {
		return k, false
	}
	ing, _, ok := scanJSONString(rest, `"ingested":"`)
	if !ok {
		return k, false
	}
	r, err := ParseReleased(string(rel))
	if err != nil || rel == nil {
		return k, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(ing))
	if err != nil {
		return k, false
	}
	return batchKey{Affiliate: string(aff), Released: r, Ingested: t}, true
}

// scanJSONString finds key (`"name":"`) in v and returns the string value after it, without escapes
// (ok false when it has one), and what follows.
func scanJSONString(v []byte, key string) (val, rest []byte, ok bool) {
	i := bytes.Index(v, []byte(key))
	if i < 0 {
		return nil, nil, false
	}
	v = v[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 || bytes.IndexByte(v[:j], '\\') >= 0 {
		return nil, nil, false
	}
	return v[:j], v[j+1:], true
}

// BatchesEach calls fn for the batches, earliest release first (then ingest time). It reads each
// record once in full only for the batches it hands to fn: ordering needs just the release and
// ingest times (a few dozen bytes per batch kept), so --limit 50 over a million images decodes 50
// records.
func (c *Catalog) BatchesEach(o BatchListOptions, fn func(Batch) error) error {
	if o.Affiliate != "" {
		slug, err := c.ResolveAffiliate(o.Affiliate)
		if err != nil {
			return err
		}
		o.Affiliate = slug
	}
	type ref struct {
		key      [8]byte
		released time.Time
		ingested time.Time
	}
	return c.view(func(tx *bolt.Tx) error {
		var refs []ref
		bb := tx.Bucket(bucketBatches)
		err := bb.ForEach(func(k, v []byte) error {
			b, err := batchKeyOf(v)
			if err != nil || len(k) != 8 {
				return fmt.Errorf("batch %x record: %v", k, err)
			}
			if (o.Affiliate != "" && b.Affiliate != o.Affiliate) || (!o.Since.IsZero() && b.Released.Time.Before(o.Since.Time)) {
				return nil
			}
			r := ref{released: b.Released.Time, ingested: b.Ingested}
			copy(r.key[:], k)
			refs = append(refs, r)
			return nil
		})
		if err != nil {
			return err
		}
		less := func(a, b ref) int {
			if c := a.released.Compare(b.released); c != 0 {
				return c
			}
			return a.ingested.Compare(b.ingested)
		}
		if o.Limit > 0 && o.Limit < len(refs) {
			// Only the first Limit need ordering.
			slices.SortFunc(refs, less)
			refs = refs[:o.Limit]
		} else {
			slices.SortStableFunc(refs, less)
		}
		for _, r := range refs {
			var b Batch
			if err := json.Unmarshal(bb.Get(r.key[:]), &b); err != nil {
				return fmt.Errorf("batch %x record: %w", r.key, err)
			}
			if err := fn(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// AffiliateInfo is an affiliate with counts.
type AffiliateInfo struct {
	Affiliate
	Batches int    `json:"batches"`
	Files   int    `json:"files"`
	First   string `json:"first_release,omitempty"`
	Last    string `json:"last_release,omitempty"`
}

// Affiliates lists the affiliates by slug.
func (c *Catalog) Affiliates() ([]AffiliateInfo, error) {
	batches, err := c.Batches("")
	if err != nil {
		return nil, err
	}
	var out []AffiliateInfo
	err = c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAffiliates).ForEach(func(k, v []byte) error {
			var a AffiliateInfo
			if err := json.Unmarshal(v, &a.Affiliate); err != nil {
				return fmt.Errorf("affiliate %q record: %w", k, err)
			}
			for _, b := range batches {
				if b.Affiliate != a.Slug {
					continue
				}
				a.Batches++
				a.Files += b.Files
				if a.First == "" {
					a.First = b.Released.String()
				}
				a.Last = b.Released.String()
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// BatchImage is one file of a batch, in file order.
type BatchImage struct {
	Position int       `json:"position"`
	Name     string    `json:"name"`
	Image    *Image    `json:"image"`
	Earlier  *Sighting `json:"earlier,omitempty"` // the earliest sighting of these bytes in an earlier release, if any
	// Near: the near-duplicate holding the origin, when the origin is an earlier release and a
	// near-duplicate of this photo.
	Near *Match `json:"near,omitempty"`
	// Origin is the photo's origin over its family (OriginOf): this batch when it released it first.
	Origin *Origin `json:"origin,omitempty"`
}

// BatchDetail is a batch with its images.
type BatchDetail struct {
	Batch  Batch        `json:"batch"`
	Images []BatchImage `json:"images"`
}

// Batch returns a batch and its images in file order, each with its origin.
func (c *Catalog) Batch(id BatchID) (*BatchDetail, error) {
	var d *BatchDetail
	var pending []int
	err := c.view(func(tx *bolt.Tx) (err error) {
		d, pending, err = batchDetailTx(tx, id, map[BatchID]*Batch{})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := c.finishBatchDetail(d, pending); err != nil {
		return nil, err
	}
	return d, nil
}

// batchDetailTx reads batch id and its images in tx, and relates each image to its family where
// the stored edges answer (familyFromEdges: no search, in the same transaction; cache is shared by
// the families read in tx); pending lists the images whose family needs a search
// (finishBatchDetail).
func batchDetailTx(tx *bolt.Tx, id BatchID, cache map[BatchID]*Batch) (*BatchDetail, []int, error) {
	var d BatchDetail
	b, err := getBatch(tx, id)
	if err != nil {
		return nil, nil, err
	}
	d.Batch = *b
	cur := tx.Bucket(bucketBatchImages).Cursor()
	for k, v := cur.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, v = cur.Next() {
		_, pos, err := parseBatchImageKey(k)
		if err != nil {
			return nil, nil, err
		}
		var rec sightingRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, nil, fmt.Errorf("batch %s position %d: %w", id, pos, err)
		}
		img, err := getImage(tx, rec.SHA256)
		if err != nil {
			// Damage: the sighting names an image without a (readable) record. Show the rest.
			noteDamage(tx, "batch %s #%d: %v: left out", id, pos, err)
			continue
		}
		d.Images = append(d.Images, BatchImage{Position: pos, Name: rec.Name, Image: img})
	}
	o, err := MatchOptions{}.norm()
	if err != nil {
		return nil, nil, err
	}
	var pending []int
	for i := range d.Images {
		bi := &d.Images[i]
		f, ok, err := familyFromEdges(tx, bi.Image.SHA256, bi.Image.PDQ, o, cache)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			pending = append(pending, i)
			continue
		}
		d.relate(bi, f)
	}
	return &d, pending, nil
}

// finishBatchDetail relates the images batchDetailTx left pending to their families (a search each).
func (c *Catalog) finishBatchDetail(d *BatchDetail, pending []int) error {
	for _, i := range pending {
		bi := &d.Images[i]
		f, err := c.Family(bi.Image.SHA256, bi.Image.PDQ, MatchOptions{})
		if err != nil {
			return err
		}
		d.relate(bi, f)
	}
	return nil
}

// relate records how image bi of the batch stands in its family: its origin, and whether the same
// bytes or a near-duplicate holding the origin were released before.
func (d *BatchDetail) relate(bi *BatchImage, f *Family) {
	bi.Origin = f.Origin
	self := Sighting{SHA256: bi.Image.SHA256, Batch: d.Batch.ID, Released: d.Batch.Released, Ingested: d.Batch.Ingested, Position: bi.Position}
	bi.Earlier, bi.Near = seenBefore(f, self)
}

// seenBefore relates the sighting self of a photo to its family: earlier is the earliest sighting of
// the same bytes in another batch released before self; near is the near-duplicate holding the
// origin, when the origin is another batch's, released before self.
func seenBefore(f *Family, self Sighting) (earlier *Sighting, near *Match) {
	for _, s := range f.Sightings {
		if s.Batch != self.Batch && s.Before(self) {
			s := s
			earlier = &s
			break
		}
	}
	if o := f.Origin; o != nil && o.Near && o.Sighting.Batch != self.Batch && o.Sighting.Before(self) {
		for i := range f.Near {
			if f.Near[i].SHA256 == o.Sighting.SHA256 {
				m := f.Near[i]
				near = &m
			}
		}
	}
	return earlier, near
}

// ImageDetail is an image with every sighting, earliest first, its near matches (earliest release
// first) and its origin over all of them.
type ImageDetail struct {
	Image     *Image     `json:"image"`
	Sightings []Sighting `json:"sightings"`
	Near      []Match    `json:"near"`
	Origin    *Origin    `json:"origin,omitempty"`
}

// Image returns an image, its sightings, its near matches and its origin (Catalog.Family).
func (c *Catalog) Image(s SHA256) (*ImageDetail, error) {
	var img *Image
	err := c.view(func(tx *bolt.Tx) error {
		var err error
		img, err = getImage(tx, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	f, err := c.Family(s, img.PDQ, MatchOptions{})
	if err != nil {
		return nil, err
	}
	return &ImageDetail{Image: img, Sightings: f.Sightings, Near: f.Near, Origin: f.Origin}, nil
}

// Resolved is what a user's reference names: a batch or an image.
type Resolved struct {
	Batch *BatchID
	Image *SHA256
}

// Resolve turns a batch id, a sha256 (optionally "sha256:"-prefixed), an md5 ("md5:" prefix, or 32
// hex digits that prefix no batch or image) or a unique hex prefix of at least 4 digits into a batch
// or an image.
func (c *Catalog) Resolve(ref string) (Resolved, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if rest, ok := strings.CutPrefix(ref, "md5:"); ok {
		var m MD5
		if err := m.UnmarshalText([]byte(rest)); err != nil {
			return Resolved{}, fmt.Errorf("%w: %q is not an md5", ErrBadArgument, ref)
		}
		var shas []string
		var out Resolved
		err := c.view(func(tx *bolt.Tx) error {
			cur := tx.Bucket(bucketMD5).Cursor()
			for k, _ := cur.Seek(m[:]); k != nil && bytes.HasPrefix(k, m[:]); k, _ = cur.Next() {
				var s SHA256
				copy(s[:], k[16:])
				out.Image = &s
				shas = append(shas, s.String())
			}
			return nil
		})
		switch {
		case err != nil:
			return Resolved{}, err
		case len(shas) == 0:
			return Resolved{}, fmt.Errorf("%w: no image with md5 %s", ErrNotFound, m)
		case len(shas) > 1:
			return Resolved{}, fmt.Errorf("%w: md5 %s is shared by %d different images (an MD5 collision): %s; give the sha256",
				ErrAmbiguous, m, len(shas), strings.Join(shas, ", "))
		}
		return out, nil
	}
	ref = strings.TrimPrefix(ref, "sha256:")
	if len(ref) < 4 || len(ref) > 64 {
		return Resolved{}, fmt.Errorf("%w: %q: give a batch id, a sha256 or a unique prefix of at least 4 hex digits", ErrBadArgument, ref)
	}
	if _, err := hex.DecodeString(ref + strings.Repeat("0", len(ref)%2)); err != nil {
		return Resolved{}, fmt.Errorf("%w: %q is not hex", ErrBadArgument, ref)
	}
	var found []Resolved
	err := c.view(func(tx *bolt.Tx) error {
		scan := func(bucket []byte, mk func(k []byte) Resolved) {
			// Seek to the first key with this hex prefix (rounded down to whole bytes).
			pb, _ := hex.DecodeString(ref[:len(ref)/2*2])
			cur := tx.Bucket(bucket).Cursor()
			for k, _ := cur.Seek(pb); k != nil && bytes.HasPrefix(k, pb); k, _ = cur.Next() {
				if strings.HasPrefix(hex.EncodeToString(k), ref) {
					found = append(found, mk(k))
					if len(found) > 1 {
						return
					}
				}
			}
		}
		scan(bucketBatches, func(k []byte) Resolved { var b BatchID; copy(b[:], k); return Resolved{Batch: &b} })
		scan(bucketImages, func(k []byte) Resolved { var s SHA256; copy(s[:], k); return Resolved{Image: &s} })
		return nil
	})
	if err != nil {
		return Resolved{}, err
	}
	switch len(found) {
	case 0:
		if len(ref) == 32 {
			// 32 hex digits that prefix no batch or image: an MD5.
			return c.Resolve("md5:" + ref)
		}
		return Resolved{}, fmt.Errorf("%w: no batch or image matches %q (list them with `relcat batches`)", ErrNotFound, ref)
	case 1:
		return found[0], nil
	}
	return Resolved{}, fmt.Errorf("%w: %q names more than one batch or image: give more digits", ErrAmbiguous, ref)
}

// LookupResult answers "have we seen this file?".
type LookupResult struct {
	Path     string      `json:"path"`
	Hashes   *FileHashes `json:"-"`
	Exact    []Sighting  `json:"exact"`
	Near     []Match     `json:"near"`                  // earliest release first
	Origin   *Origin     `json:"origin,omitempty"`      // over exact and near sightings (OriginOf)
	LowQual  bool        `json:"low_quality,omitempty"` // its perceptual hash is below the quality floor: no near search
	Warnings []string    `json:"warnings,omitempty"`
}

// Lookup looks one file up: every sighting of its exact bytes (SHA-256) and its near matches by PDQ
// over all 8 rotations and mirrors, with the origin over both (Catalog.Family).
func (c *Catalog) Lookup(ctx context.Context, path string, o MatchOptions, ho HashOptions) (*LookupResult, error) {
	o, err := o.norm()
	if err != nil {
		return nil, err
	}
	ho.Full = false
	ho.Regions = !o.NoRegions
	h, err := HashFile(ctx, path, ho)
	if err != nil {
		return nil, err
	}
	return c.lookupHashes(path, h, o)
}

// lookupHashes answers a lookup from a file's hashes (Lookup and LookupReader share it).
func (c *Catalog) lookupHashes(path string, h *FileHashes, o MatchOptions) (*LookupResult, error) {
	o, err := o.norm()
	if err != nil {
		return nil, err
	}
	r := &LookupResult{Path: path, Hashes: h, Exact: []Sighting{}, Near: []Match{}, Warnings: h.Warnings}
	r.LowQual = h.PDQ != nil && h.PDQ.Quality < o.MinQuality
	var regions *[]RegionHash
	if h.hasRegions {
		regions = &h.regions
	}
	f, err := c.family(h.SHA256, h.PDQ, regions, o)
	if err != nil {
		return nil, err
	}
	r.Exact, r.Near, r.Origin = f.Sightings, f.Near, f.Origin
	return r, nil
}

// annotate fills, after a folder is ingested, each file's provenance from its family (Catalog.Family):
// the origin, whether it was released before this batch byte-identical or as a near-duplicate, and
// its near matches in other batches; and the summary's counts of those.
func (c *Catalog) annotate(sum *BatchSummary) error {
	id := sum.Batch.ID
	for i := range sum.Files {
		f := &sum.Files[i]
		if f.SHA256 == nil || f.Status == StatusRejected {
			continue
		}
		var img *Image
		err := c.view(func(tx *bolt.Tx) error {
			var err error
			img, err = getImage(tx, *f.SHA256)
			return err
		})
		if err != nil {
			return err
		}
		fam, err := c.Family(img.SHA256, img.PDQ, MatchOptions{})
		if err != nil {
			return err
		}
		f.Near = f.Near[:0]
		for _, m := range fam.Near {
			for _, s := range m.Sightings {
				if s.Batch != id {
					f.Near = append(f.Near, m)
					break
				}
			}
		}
		if len(f.Near) == 0 {
			f.Near = nil
		}
		f.Origin = fam.Origin
		f.FirstUncertain = fam.Origin != nil && fam.Origin.Uncertain
		self := Sighting{SHA256: img.SHA256, Batch: id, Released: sum.Batch.Released, Ingested: sum.Batch.Ingested, Position: f.Position}
		earlier, _ := seenBefore(fam, self)
		f.Earlier = earlier
		switch o := fam.Origin; {
		case o == nil || o.Sighting.Batch == id || !o.Sighting.Before(self):
			sum.FirstHere++
		case earlier != nil:
			f.First, f.Seen = &o.Sighting, SeenIdentical
			sum.Reused++
		default:
			f.First, f.Seen = &o.Sighting, SeenNear
			sum.NearCount++
		}
	}
	return nil
}

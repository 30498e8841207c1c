package catalog

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/relcat/relcat/catalog/exifmeta"

	bolt "go.etcd.io/bbolt"
)

// SearchQuery selects images by metadata and by release. Every filter given must hold (they
// combine with AND); text filters compare without case and surrounding blanks, exactly, or as a
// prefix when the value ends in "*" ("canon*").
type SearchQuery struct {
	Make, Model, Serial, Lens, Software string
	Format                              string // sniffed format: jpeg, png, gif, webp, tiff, bmp, heic, heif, avif
	// TakenFrom/TakenTo bound DateTimeOriginal (inclusive; a bare date as TakenTo covers its whole
	// day). A photo without a zone is compared by its wall time read as UTC.
	TakenFrom, TakenTo Released
	// ReleasedFrom/ReleasedTo bound the release time of a sighting (inclusive, same rule).
	ReleasedFrom, ReleasedTo Released
	Affiliates               []string // a sighting by one of these (slug, alias or name)
	Box                      *GeoBox
	Near                     *GeoCircle
	Stripped                 bool // only files without EXIF
	LowQuality               bool // only images whose perceptual hash is below the quality floor
	Limit                    int  // at most this many hits in Hits (0: all); Total counts them all
}

// GeoBox is a latitude/longitude box; West > East crosses the antimeridian.
type GeoBox struct {
	South, West, North, East float64
}

// GeoCircle is a point and a radius in kilometres (great-circle distance).
type GeoCircle struct {
	Lat, Lon, RadiusKm float64
}

// SearchHit is one image found.
type SearchHit struct {
	SHA256     SHA256        `json:"sha256"`
	Format     string        `json:"format"`
	Make       string        `json:"make,omitempty"`
	Model      string        `json:"model,omitempty"`
	Serial     string        `json:"serial,omitempty"`
	Lens       string        `json:"lens,omitempty"`
	Software   string        `json:"software,omitempty"`
	Taken      string        `json:"taken,omitempty"` // DateTimeOriginal, with its offset when known
	GPS        *exifmeta.GPS `json:"gps,omitempty"`
	Stripped   bool          `json:"stripped"`
	LowQuality bool          `json:"low_quality,omitempty"`
	First      Sighting      `json:"first_seen"` // the image's earliest sighting
	Sightings  int           `json:"sightings"`
}

// SearchResult is the hits, earliest first release first.
type SearchResult struct {
	Total int         `json:"total"`
	Hits  []SearchHit `json:"hits"`
}

func (q SearchQuery) empty() bool {
	return q.Make == "" && q.Model == "" && q.Serial == "" && q.Lens == "" && q.Software == "" && q.Format == "" &&
		q.TakenFrom.IsZero() && q.TakenTo.IsZero() && q.ReleasedFrom.IsZero() && q.ReleasedTo.IsZero() &&
		len(q.Affiliates) == 0 && q.Box == nil && q.Near == nil && !q.Stripped && !q.LowQuality
}

// rangeEnd is the last instant a bound covers: the end of the day for a bare date.
func rangeEnd(r Released) time.Time {
	if r.DateOnly {
		return r.Time.Add(24*time.Hour - time.Second)
	}
	return r.Time
}

func (b GeoBox) valid() error {
	for _, v := range []float64{b.South, b.North} {
		if math.IsNaN(v) || v < -90 || v > 90 {
			return fmt.Errorf("%w: latitude %v: must be -90..90", ErrBadArgument, v)
		}
	}
	for _, v := range []float64{b.West, b.East} {
		if math.IsNaN(v) || v < -180 || v > 180 {
			return fmt.Errorf("%w: longitude %v: must be -180..180", ErrBadArgument, v)
		}
	}
	if b.South > b.North {
		return fmt.Errorf("%w: box south %v is north of its north %v", ErrBadArgument, b.South, b.North)
	}
	return nil
}

func (b GeoBox) hasLon(lon float64) bool {
	if b.West <= b.East {
		return lon >= b.West && lon <= b.East
	}
	return lon >= b.West || lon <= b.East
}

// box is the bounding box of the circle (the whole longitude range near a pole).
func (g GeoCircle) box() GeoBox {
	dlat := g.RadiusKm / 111.2
	b := GeoBox{South: math.Max(-90, g.Lat-dlat), North: math.Min(90, g.Lat+dlat), West: -180, East: 180}
	if cos := math.Cos(math.Max(math.Abs(b.South), math.Abs(b.North)) * math.Pi / 180); cos > 1e-6 {
		dlon := g.RadiusKm / (111.2 * cos)
		if dlon < 180 {
			b.West, b.East = g.Lon-dlon, g.Lon+dlon
			if b.West < -180 {
				b.West += 360
			}
			if b.East > 180 {
				b.East -= 360
			}
		}
	}
	return b
}

// haversineKm is the great-circle distance on a sphere of the Earth's mean radius.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := (lat2-lat1)*math.Pi/180, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// shaList is a sorted list of distinct image hashes: the images one filter selects, 32 bytes each
// (a map of them took about ten times that, and the hits' sightings were all held at once).
type shaList []SHA256

// distinctSHAs sorts s and drops repeats.
func distinctSHAs(s []SHA256) shaList {
	slices.SortFunc(s, func(a, b SHA256) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(s)
}

// intersect keeps, in place, the hashes of a that b holds too.
func (a shaList) intersect(b shaList) shaList {
	out := a[:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch c := bytes.Compare(a[i][:], b[j][:]); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// searchHitRef is a hit as SearchEach sorts it: the image, how many sightings it has, and its first
// sighting as batch and position, the batch's order fields in the search's batch table (the
// sighting's name is read with the hit's record). About 56 bytes a hit: a listing of every hit
// holds these, not the hits.
type searchHitRef struct {
	sha   SHA256
	batch BatchID
	pos   int32
	n     int32
	order uint32 // the first sighting's batch in searchBatches.list
}

// searchBatches is what ordering a sighting needs of the batches the hits' sightings name, each
// read once.
type searchBatches struct {
	list []batchOrder
	at   map[BatchID]uint32
}

// batchOrder is what ordering a sighting needs of its batch.
type batchOrder struct {
	affiliate string
	released  Released
	ingested  time.Time
}

func (sb *searchBatches) of(tx *bolt.Tx, id BatchID) (uint32, error) {
	if i, ok := sb.at[id]; ok {
		return i, nil
	}
	rec, err := getBatch(tx, id)
	if err != nil {
		return 0, err
	}
	i := uint32(len(sb.list))
	sb.list = append(sb.list, batchOrder{rec.Affiliate, rec.Released, rec.Ingested})
	sb.at[id] = i
	return i, nil
}

// sighting is the first sighting of h but for its name.
func (sb *searchBatches) sighting(h *searchHitRef) Sighting {
	b := sb.list[h.order]
	return Sighting{SHA256: h.sha, Batch: h.batch, Affiliate: b.affiliate, Released: b.released, Position: int(h.pos), Ingested: b.ingested}
}

// before orders hits: earliest first sighting first (Sighting.Before), then by hash.
func (sb *searchBatches) before(h, o *searchHitRef) bool {
	if h.batch != o.batch || h.pos != o.pos {
		return sb.sighting(h).Before(sb.sighting(o))
	}
	return bytes.Compare(h.sha[:], o.sha[:]) < 0
}

// topHits keeps the first limit hits in hit order (all of them when limit is 0), in bounded memory:
// a buffer of 2*limit is cut back to the best limit whenever it fills.
type topHits struct {
	limit   int
	hits    []searchHitRef
	total   int
	batches *searchBatches
}

func (t *topHits) add(h searchHitRef) {
	t.total++
	t.hits = append(t.hits, h)
	if t.limit > 0 && len(t.hits) >= 2*t.limit {
		t.cut()
	}
}

// cut sorts the hits kept and drops those past the limit.
func (t *topHits) cut() {
	slices.SortFunc(t.hits, func(a, b searchHitRef) int {
		if t.batches.before(&a, &b) {
			return -1
		}
		if t.batches.before(&b, &a) {
			return 1
		}
		return 0
	})
	if t.limit > 0 && len(t.hits) > t.limit {
		t.hits = t.hits[:t.limit]
	}
}

// firstSightings calls fn with the earliest sighting and the number of sightings of each image of
// set, in hash order (images without a sighting are left out). A large set is served by one
// sequential pass over the image->batches index, a small one by a seek per image; either way in
// hash order, so the index is read forward once.
func firstSightings(tx *bolt.Tx, set shaList, sb *searchBatches, fn func(searchHitRef)) error {
	ibat := tx.Bucket(bucketImageBatches)
	watch := mapWatch{tx: tx}
	// The last near id stands for the number of images (Bucket.Stats would read every page of the
	// index to count it); a catalog without near ids (images without pixels) seeks.
	var images uint64
	if k, _ := tx.Bucket(bucketNearIDs).Cursor().Last(); len(k) == 8 {
		images = binary.BigEndian.Uint64(k)
	}
	dense := images > 0 && uint64(len(set)) > images/32
	cur := ibat.Cursor()
	var k []byte
	if dense {
		k, _ = cur.First()
	}
	for _, s := range set {
		if dense {
			for k != nil && bytes.Compare(k[:min(len(k), len(s))], s[:]) < 0 {
				watch.step()
				k, _ = cur.Next()
			}
		} else {
			k, _ = cur.Seek(s[:])
		}
		h := searchHitRef{sha: s}
		for ; k != nil && bytes.HasPrefix(k, s[:]); k, _ = cur.Next() {
			watch.step()
			_, id, pos, err := parseImageBatchKey(k)
			if err != nil {
				return err
			}
			i, err := sb.of(tx, id)
			if err != nil {
				return err
			}
			si := searchHitRef{sha: s, batch: id, pos: int32(pos), order: i}
			if h.n++; h.n == 1 || sb.before(&si, &h) {
				h.batch, h.pos, h.order = si.batch, si.pos, si.order
			}
		}
		if h.n > 0 {
			fn(h)
		}
	}
	return nil
}

// Search finds the images that match every filter of q, from the search index and the batch
// records: each filter is one index range (or one scan of the selected batches' sightings), the
// sets are intersected, and only the hits' records are read.
func (c *Catalog) Search(q SearchQuery) (*SearchResult, error) {
	res := &SearchResult{Hits: []SearchHit{}}
	err := c.SearchEach(context.Background(), q, func(total int, hits []SearchHit) error {
		res.Total = total
		res.Hits = append(res.Hits, hits...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// searchChunk is how many hits' records SearchEach reads in one read transaction (tests lower it).
var searchChunk = 4096

// SearchEach is Search handing the hits to fn in order, up to searchChunk at a time, with the
// number of images that match. Each chunk's records are read in a read transaction of its own. A
// listing of every hit (--limit 0: hundreds of thousands at a million images) holds only the hits'
// order keys, not their records, and a writer can commit between chunks. fn is called once with no
// hits when nothing matches. It stops when fn returns an error, or with ErrInterrupted when ctx is
// done (between chunks).
func (c *Catalog) SearchEach(ctx context.Context, q SearchQuery, fn func(total int, hits []SearchHit) error) error {
	if q.empty() {
		return fmt.Errorf("%w: search needs at least one filter (see relcat search --help)", ErrBadArgument)
	}
	if q.Box != nil {
		if err := q.Box.valid(); err != nil {
			return err
		}
	}
	if g := q.Near; g != nil {
		if err := (GeoBox{South: g.Lat, North: g.Lat, West: g.Lon, East: g.Lon}).valid(); err != nil {
			return err
		}
		if !(g.RadiusKm > 0) || g.RadiusKm > 20100 {
			return fmt.Errorf("%w: radius %v km: must be above 0 and at most 20100", ErrBadArgument, g.RadiusKm)
		}
	}
	affs := map[string]bool{}
	for _, a := range q.Affiliates {
		slug, err := c.ResolveAffiliate(a)
		if err != nil {
			return err
		}
		affs[slug] = true
	}
	var total int
	var refs []searchHitRef
	sb := &searchBatches{at: map[BatchID]uint32{}}
	err := c.view(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketSearch)
		var sets []shaList
		watch := mapWatch{tx: tx}
		collect := func(prefix []byte) shaList {
			var s []SHA256
			cur := idx.Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
				watch.step()
				if len(k) < 33 {
					continue
				}
				s = append(s, SHA256(k[len(k)-32:]))
			}
			return distinctSHAs(s)
		}
		for _, f := range []struct {
			field byte
			v     string
		}{{searchMake, q.Make}, {searchModel, q.Model}, {searchSerial, q.Serial}, {searchLens, q.Lens},
			{searchSoftware, q.Software}, {searchFormat, q.Format}} {
			if strings.TrimSpace(f.v) == "" {
				continue
			}
			v := strings.TrimSpace(f.v)
			var prefix []byte
			if p, ok := strings.CutSuffix(v, "*"); ok {
				t := searchText(p)
				prefix = append([]byte{f.field}, t[:len(t)-1]...)
			} else {
				prefix = append([]byte{f.field}, searchText(v)...)
			}
			sets = append(sets, collect(prefix))
		}
		if q.Stripped {
			sets = append(sets, collect([]byte{searchStripped}))
		}
		if q.LowQuality {
			sets = append(sets, collect([]byte{searchLowQual}))
		}
		if !q.TakenFrom.IsZero() || !q.TakenTo.IsZero() {
			lo, hi := uint64(0), uint64(math.MaxUint64)
			if !q.TakenFrom.IsZero() {
				lo = binary.BigEndian.Uint64(searchTimeValue(q.TakenFrom.Time))
			}
			if !q.TakenTo.IsZero() {
				hi = binary.BigEndian.Uint64(searchTimeValue(rangeEnd(q.TakenTo)))
			}
			var s []SHA256
			cur := idx.Cursor()
			start := append([]byte{searchTaken}, binary.BigEndian.AppendUint64(nil, lo)...)
			for k, _ := cur.Seek(start); k != nil && k[0] == searchTaken && len(k) == 41; k, _ = cur.Next() {
				if binary.BigEndian.Uint64(k[1:9]) > hi {
					break
				}
				s = append(s, SHA256(k[9:]))
			}
			sets = append(sets, distinctSHAs(s))
		}
		geo := func(b GeoBox, keep func(lat, lon float64) bool) shaList {
			var s []SHA256
			cur := idx.Cursor()
			start := append([]byte{searchGPS}, searchGPSValue(b.South, -180)[:4]...)
			for k, _ := cur.Seek(start); k != nil && k[0] == searchGPS && len(k) == 41; k, _ = cur.Next() {
				lat, lon := parseSearchGPS(k[1:9])
				if lat > b.North+1e-7 {
					break
				}
				if lat < b.South-1e-7 || !b.hasLon(lon) || (keep != nil && !keep(lat, lon)) {
					continue
				}
				s = append(s, SHA256(k[9:]))
			}
			return distinctSHAs(s)
		}
		if q.Box != nil {
			sets = append(sets, geo(*q.Box, nil))
		}
		if g := q.Near; g != nil {
			sets = append(sets, geo(g.box(), func(lat, lon float64) bool { return haversineKm(g.Lat, g.Lon, lat, lon) <= g.RadiusKm }))
		}
		if len(affs) > 0 || !q.ReleasedFrom.IsZero() || !q.ReleasedTo.IsZero() {
			var s []SHA256
			bimg := tx.Bucket(bucketBatchImages)
			err := forEachBatch(tx, func(b *Batch) error {
				if len(affs) > 0 && !affs[b.Affiliate] {
					return nil
				}
				if !q.ReleasedFrom.IsZero() && b.Released.Time.Before(q.ReleasedFrom.Time) {
					return nil
				}
				if !q.ReleasedTo.IsZero() && b.Released.Time.After(rangeEnd(q.ReleasedTo)) {
					return nil
				}
				cur := bimg.Cursor()
				for k, v := cur.Seek(b.ID[:]); k != nil && bytes.HasPrefix(k, b.ID[:]); k, v = cur.Next() {
					var rec sightingRecord
					if err := json.Unmarshal(v, &rec); err != nil {
						return fmt.Errorf("batch %s sighting %x: %w", b.ID, k, err)
					}
					s = append(s, rec.SHA256)
				}
				return nil
			})
			if err != nil {
				return err
			}
			sets = append(sets, distinctSHAs(s))
		}
		slices.SortFunc(sets, func(a, b shaList) int { return len(a) - len(b) })
		matched := sets[0]
		for _, s := range sets[1:] {
			matched = matched.intersect(s)
		}
		top := topHits{limit: q.Limit, batches: sb}
		if err := firstSightings(tx, matched, sb, top.add); err != nil {
			return err
		}
		top.cut()
		total, refs = top.total, top.hits
		return nil
	})
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return fn(total, nil)
	}
	for start := 0; start < len(refs); start += searchChunk {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		chunk := refs[start:min(start+searchChunk, len(refs))]
		hits := make([]SearchHit, 0, len(chunk))
		err := c.view(func(tx *bolt.Tx) error {
			watch := mapWatch{tx: tx}
			ibat := tx.Bucket(bucketImageBatches)
			for i := range chunk {
				h := &chunk[i]
				watch.step()
				img, err := getImage(tx, h.sha)
				name := ibat.Get(imageBatchKey(h.sha, h.batch, int(h.pos)))
				if (errors.Is(err, ErrNotFound) || err == nil && name == nil) && start > 0 {
					continue // removed by a commit since the first chunk
				}
				if err != nil {
					return err
				}
				first := sb.sighting(h)
				first.Name = string(name)
				m := img.EXIF
				hits = append(hits, SearchHit{SHA256: h.sha, Format: img.Format, Make: m.Make, Model: m.Model,
					Serial: m.Serial, Lens: m.Lens, Software: m.Software, Taken: m.DateTimeOriginal, GPS: m.GPS,
					Stripped: m.Stripped(), LowQuality: img.PDQ != nil && img.PDQ.Quality < DefaultMinQuality,
					First: first, Sightings: int(h.n)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := fn(total, hits); err != nil {
			return err
		}
	}
	return nil
}

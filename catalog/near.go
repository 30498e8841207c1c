package catalog

import (
	"fmt"
	"slices"
	"sync"

	"github.com/relcat/relcat/catalog/hindex"
	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// Matching defaults: Meta's published convention for PDQ.
const (
	DefaultMaxDistance = 31
	DefaultMinQuality  = 50
	// MaxSearchDistance is the largest distance the index answers exactly.
	MaxSearchDistance = 63
)

// Match is a near-duplicate: another image whose perceptual hash is within the threshold.
type Match struct {
	SHA256    SHA256     `json:"sha256"`
	Distance  int        `json:"distance"`
	Transform string     `json:"transform"` // how the queried image relates to this one: as-is, rot90, flipy, ...
	Quality   int        `json:"quality"`   // this image's PDQ quality
	Query     int        `json:"query_quality"`
	Sightings []Sighting `json:"sightings,omitempty"`
	// Region: found through region hashes (issue 10; a crop, a caption band, a repost): which regions
	// matched and what that means for the photo asked about. Distance is then the RegionDistance of
	// that pair of regions, Transform as-is or flipy, Quality and Query the two regions' qualities.
	Region *RegionMatch `json:"region,omitempty"`
}

// TransformDescription is the transform in the user's words ("mirrored left-right").
func (m Match) TransformDescription() string {
	t, err := pdq.ParseTransform(m.Transform)
	if err != nil {
		return m.Transform
	}
	return t.Describe()
}

// nearIndex is the in-memory index of every stored primary PDQ hash, by near id (the pdq bucket's
// arrival order). It is built on first use (from the persisted index file when it is current, else
// from the pdq bucket) and kept up to date by the writer. Writes happen only from the writer
// goroutine while no search runs (searches run after a folder's writes have finished).
type nearIndex struct {
	mu   sync.RWMutex
	ix   *hindex.Index
	shas []SHA256 // by id; zero where no image has the id
	qual []uint8  // by id
	top  uint64   // largest id present (0: none)
}

func (c *Catalog) index() (*nearIndex, error) {
	c.idxMu.Lock()
	defer c.idxMu.Unlock()
	if c.idx != nil {
		return c.idx, nil
	}
	n, err := c.loadIndex()
	if err != nil {
		return nil, err
	}
	c.idx = n
	return n, nil
}

// dropIndex forgets the in-memory index: the next search loads it again (after images left the
// pdq bucket, which an index can only learn by a rebuild).
func (c *Catalog) dropIndex() {
	c.idxMu.Lock()
	c.idx = nil
	c.ridx = nil
	c.idxMu.Unlock()
}

// buildIndex reads the pdq bucket and builds the index in memory (of the near ids up to top when
// top is not 0).
func buildIndex(tx *bolt.Tx, top uint64) (*nearIndex, error) {
	n := &nearIndex{ix: hindex.New(0)}
	var ids []uint32
	var hashes [][32]byte
	watch := mapWatch{tx: tx}
	err := tx.Bucket(bucketPDQ).ForEach(func(k, v []byte) error {
		watch.step()
		// Only the quality, the primary hash and the id are needed: read them in place.
		id, ok := pdqNearID(v)
		if !ok || len(k) != 32 || id == 0 || id > maxNearID {
			return fmt.Errorf("pdq record %x: %d bytes, malformed or without a near id (run `relcat verify`, then `relcat reindex`)", k, len(v))
		}
		if top != 0 && id > top {
			return nil
		}
		var s SHA256
		copy(s[:], k)
		var h [32]byte
		copy(h[:], v[2+int(v[1]):])
		n.grow(id)
		if n.shas[id] != (SHA256{}) {
			return fmt.Errorf("pdq records %x and %x share near id %d (run `relcat reindex`)", n.shas[id], k, id)
		}
		n.shas[id] = s
		n.qual[id] = v[0]
		ids = append(ids, uint32(id))
		hashes = append(hashes, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// One bulk load: much cheaper than an Add per hash at a million images.
	n.ix.AddBatch(ids, hashes)
	return n, nil
}

// maxNearID bounds near ids: the index's memory grows with the largest id.
const maxNearID = 1<<32 - 2

func (n *nearIndex) grow(id uint64) {
	if int(id) >= len(n.shas) {
		need := int(id) + 1
		n.shas = slices.Grow(n.shas, need-len(n.shas))[:need]
		n.qual = slices.Grow(n.qual, need-len(n.qual))[:need]
	}
	n.top = max(n.top, id)
}

func (n *nearIndex) add(s SHA256, p *PDQInfo, id uint64) {
	n.grow(id)
	n.shas[id] = s
	n.qual[id] = uint8(p.Quality)
	n.ix.Add(uint32(id), p.Hash)
}

// newImage is an image whose hash a commit stored, with its near id.
type newImage struct {
	sha SHA256
	pdq *PDQInfo
	id  uint64
}

// nearChanged records that a commit changed the stored hashes (the persisted index may need
// rewriting when the catalog closes).
func (c *Catalog) nearChanged(changed bool) {
	if changed {
		c.idxMu.Lock()
		c.idxDirty = true
		c.idxMu.Unlock()
	}
}

// MatchOptions tune near matching.
type MatchOptions struct {
	MaxDistance int // default DefaultMaxDistance (when 0 and MaxDistanceSet is false); at most MaxSearchDistance
	// MaxDistanceSet makes MaxDistance count as given, 0 included (0: only hashes identical under
	// some rotation or mirror). Without it a zero MaxDistance means the default.
	MaxDistanceSet bool
	MinQuality     int // default DefaultMinQuality (when 0); both hashes must reach it; -1 accepts every quality
	// NoRegions leaves out matches found through region hashes (crops, bands): whole-image PDQ only.
	NoRegions bool
}

func (o MatchOptions) norm() (MatchOptions, error) {
	if o.MaxDistance == 0 && !o.MaxDistanceSet {
		o.MaxDistance = DefaultMaxDistance
	}
	o.MaxDistanceSet = true
	if o.MinQuality == 0 {
		o.MinQuality = DefaultMinQuality
	}
	if o.MaxDistance < 0 || o.MaxDistance > MaxSearchDistance {
		return o, fmt.Errorf("%w: max distance %d: must be 0..%d", ErrBadArgument, o.MaxDistance, MaxSearchDistance)
	}
	if o.MinQuality < -1 || o.MinQuality > 100 {
		return o, fmt.Errorf("%w: min quality %d: must be 0..100", ErrBadArgument, o.MinQuality)
	}
	return o, nil
}

// candidates returns the stored images (other than self) whose as-is hash is within o.MaxDistance of
// one of the query's 8 dihedral hashes and whose quality reaches o.MinQuality: a superset of the
// query's near matches, since PairDistance is never smaller than this one-way distance. Callers
// decide with matchPair.
func (n *nearIndex) candidates(d *[8]pdq.Hash, self SHA256, o MatchOptions) []SHA256 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	seen := map[uint32]bool{}
	var out []SHA256
	var buf []hindex.Match
	for t := range d {
		buf = n.ix.Search(d[t], o.MaxDistance, buf[:0])
		for _, m := range buf {
			if seen[m.ID] || int(m.ID) >= len(n.shas) {
				continue
			}
			seen[m.ID] = true
			if s := n.shas[m.ID]; s != self && s != (SHA256{}) && int(n.qual[m.ID]) >= o.MinQuality {
				out = append(out, s)
			}
		}
	}
	return out
}

// loadIndex returns the index of the catalog's current hashes: the persisted file (mapped in place)
// with the images added since, when it is current, else built from the pdq bucket.
func (c *Catalog) loadIndex() (*nearIndex, error) {
	var n *nearIndex
	err := c.view(func(tx *bolt.Tx) error {
		f, why := c.openNearFile(tx)
		if f != nil {
			n = f
			return nil
		}
		c.idxWhy = why
		var err error
		n, err = buildIndex(tx, 0)
		return err
	})
	return n, err
}

package catalog

import (
	"fmt"
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
}

// TransformDescription is the transform in the user's words ("mirrored left-right").
func (m Match) TransformDescription() string {
	t, err := pdq.ParseTransform(m.Transform)
	if err != nil {
		return m.Transform
	}
	return t.Describe()
}

// nearIndex is the in-memory index of every stored primary PDQ hash. It is built on first use from
// the pdq bucket and kept up to date by the writer. Writes happen only from the writer goroutine
// while no search runs (searches run after a folder's writes have finished).
type nearIndex struct {
	mu   sync.RWMutex
	ix   *hindex.Index
	shas []SHA256
	qual []uint8
}

func (c *Catalog) index() (*nearIndex, error) {
	c.idxOnce.Do(func() {
		n := &nearIndex{ix: hindex.New(0)}
		var ids []uint32
		var hashes [][32]byte
		c.idxErr = c.view(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketPDQ).ForEach(func(k, v []byte) error {
				// Only the quality and the primary hash are needed: read them in place.
				if len(v) < 2 || len(v) != 2+int(v[1])+8*32 || len(k) != 32 {
					return fmt.Errorf("pdq record %x: %d bytes, malformed (run `relcat verify`)", k, len(v))
				}
				var s SHA256
				copy(s[:], k)
				var h [32]byte
				copy(h[:], v[2+int(v[1]):])
				ids = append(ids, uint32(len(n.shas)))
				n.shas = append(n.shas, s)
				n.qual = append(n.qual, v[0])
				hashes = append(hashes, h)
				return nil
			})
		})
		// One bulk load: much cheaper than an Add per hash at a million images.
		n.ix.AddBatch(ids, hashes)
		c.idx = n
	})
	return c.idx, c.idxErr
}

func (n *nearIndex) add(s SHA256, p *PDQInfo) {
	id := uint32(len(n.shas))
	n.shas = append(n.shas, s)
	n.qual = append(n.qual, uint8(p.Quality))
	n.ix.Add(id, p.Hash)
}

// indexAdd adds newly committed images to the index if it has been built.
func (c *Catalog) indexAdd(imgs []*Image) {
	if c.idx == nil || len(imgs) == 0 {
		return
	}
	c.idx.mu.Lock()
	defer c.idx.mu.Unlock()
	for _, img := range imgs {
		c.idx.add(img.SHA256, img.PDQ)
	}
}

// MatchOptions tune near matching.
type MatchOptions struct {
	MaxDistance int // default DefaultMaxDistance (when 0 and MaxDistanceSet is false); at most MaxSearchDistance
	// MaxDistanceSet makes MaxDistance count as given, 0 included (0: only hashes identical under
	// some rotation or mirror). Without it a zero MaxDistance means the default.
	MaxDistanceSet bool
	MinQuality     int // default DefaultMinQuality (when 0); both hashes must reach it; -1 accepts every quality
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
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			if s := n.shas[m.ID]; s != self && int(n.qual[m.ID]) >= o.MinQuality {
				out = append(out, s)
			}
		}
	}
	return out
}

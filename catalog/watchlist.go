package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/relcat/relcat/catalog/hindex"
	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// Watchlist is an imported hash list.
type Watchlist struct {
	Name     string    `json:"name"`
	Format   string    `json:"format"`
	File     string    `json:"file"`        // base name of the imported file
	FileSHA  string    `json:"file_sha256"` // SHA-256 of the imported file's bytes
	Imported time.Time `json:"imported"`
	Operator string    `json:"operator,omitempty"`
	SHA256s  int       `json:"sha256"`
	MD5s     int       `json:"md5"`
	PDQs     int       `json:"pdq"`
}

// Entries is the number of hashes in the list.
func (w Watchlist) Entries() int { return w.SHA256s + w.MD5s + w.PDQs }

// WatchImportOptions configure ImportWatchlist.
type WatchImportOptions struct {
	Format   string // FormatAuto (default), FormatPlain, FormatPDQList, FormatPDQCSV, FormatTATJSON, FormatHMACSV
	Operator string
	Command  string
}

// ImportWatchlist parses data (the bytes of file) as a hash list and stores it as watchlist name,
// all or nothing, with a log entry naming the file and its SHA-256. A list of that name must not
// exist (remove it first).
func (c *Catalog) ImportWatchlist(name, file string, data []byte, o WatchImportOptions) (*Watchlist, error) {
	if c.readOnly {
		return nil, ErrReadOnly
	}
	if !ValidSlug(name) {
		return nil, fmt.Errorf("%w: watchlist name %q: use lowercase letters, digits and hyphens (like an affiliate slug)", ErrBadArgument, name)
	}
	entries, format, err := ParseHashList(data, o.Format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	fs := sha256.Sum256(data)
	w := &Watchlist{Name: name, Format: format, File: filepath.Base(file), FileSHA: hex.EncodeToString(fs[:]), Operator: o.Operator}
	for _, e := range entries {
		switch e.Kind {
		case KindSHA256:
			w.SHA256s++
		case KindMD5:
			w.MD5s++
		case KindPDQ:
			w.PDQs++
		}
	}
	err = c.update(func(tx *bolt.Tx) error {
		lists, err := tx.CreateBucketIfNotExists(bucketWatchlists)
		if err != nil {
			return err
		}
		ents, err := tx.CreateBucketIfNotExists(bucketWatchEntries)
		if err != nil {
			return err
		}
		if lists.Get([]byte(name)) != nil {
			return fmt.Errorf("%w: watchlist %q exists: remove it first (relcat watchlist rm %s)", ErrBadArgument, name, name)
		}
		w.Imported = c.now().UTC()
		if err := putJSON(lists, []byte(name), w); err != nil {
			return err
		}
		for i, e := range entries {
			if err := putJSON(ents, watchEntryKey(name, i), e); err != nil {
				return err
			}
		}
		entry := LogEntry{Time: w.Imported, Operator: o.Operator, Command: o.Command, Tool: c.version, Action: "watchlist-import",
			Notes: []string{fmt.Sprintf("watchlist %s imported from %s (sha256 %s, format %s): %d sha256, %d md5, %d pdq",
				name, w.File, w.FileSHA, format, w.SHA256s, w.MD5s, w.PDQs)}}
		return appendLog(tx, &entry)
	})
	if err != nil {
		return nil, err
	}
	c.dropWatchCache()
	return w, nil
}

// Watchlists lists the watchlists by name.
func (c *Catalog) Watchlists() ([]Watchlist, error) {
	var out []Watchlist
	err := c.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWatchlists)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var w Watchlist
			if err := json.Unmarshal(v, &w); err != nil {
				return fmt.Errorf("watchlist %q record: %w", k, err)
			}
			out = append(out, w)
			return nil
		})
	})
	return out, err
}

// WatchlistEntries returns a watchlist and calls fn for each of its entries in list order.
func (c *Catalog) WatchlistEntries(name string, fn func(ListEntry) error) (*Watchlist, error) {
	var w Watchlist
	err := c.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWatchlists)
		var v []byte
		if b != nil {
			v = b.Get([]byte(name))
		}
		if v == nil {
			return fmt.Errorf("%w: no watchlist %q (list them with `relcat watchlist ls`)", ErrNotFound, name)
		}
		if err := json.Unmarshal(v, &w); err != nil {
			return fmt.Errorf("watchlist %q record: %w", name, err)
		}
		if fn == nil {
			return nil
		}
		prefix := watchEntryPrefix(name)
		cur := tx.Bucket(bucketWatchEntries).Cursor()
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			var e ListEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("watchlist %q entry %x: %w", name, k, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// RemoveWatchlist deletes a watchlist, with a log entry.
func (c *Catalog) RemoveWatchlist(name string, operator, command string) error {
	err := c.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWatchlists)
		var v []byte
		if b != nil {
			v = b.Get([]byte(name))
		}
		if v == nil {
			return fmt.Errorf("%w: no watchlist %q (list them with `relcat watchlist ls`)", ErrNotFound, name)
		}
		var w Watchlist
		_ = json.Unmarshal(v, &w)
		if err := b.Delete([]byte(name)); err != nil {
			return err
		}
		prefix := watchEntryPrefix(name)
		ents := tx.Bucket(bucketWatchEntries)
		cur := ents.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Seek(prefix) {
			if err := ents.Delete(k); err != nil {
				return err
			}
		}
		e := LogEntry{Time: c.now(), Operator: operator, Command: command, Tool: c.version, Action: "watchlist-rm",
			Notes: []string{fmt.Sprintf("watchlist %s removed (imported from %s, sha256 %s, %d hashes)", name, w.File, w.FileSHA, w.Entries())}}
		return appendLog(tx, &e)
	})
	if err == nil {
		c.dropWatchCache()
	}
	return err
}

// WatchHit is one watchlist entry an image matches.
type WatchHit struct {
	List  string `json:"list"`
	Kind  string `json:"kind"` // sha256, md5 (exact) or pdq (near)
	Hash  string `json:"hash"` // the list's hash
	Label string `json:"label,omitempty"`
	Line  int    `json:"line"` // in the imported file
	// PDQ hits: the distance, how the file relates to the listed image (as-is, rot90, flipy, …: the
	// same convention as near matches) and the PDQ variant of the file's hash that was compared.
	Distance  int    `json:"distance,omitempty"`
	Transform string `json:"transform,omitempty"`
	Variant   string `json:"variant,omitempty"`
}

// WatchSubject is what is checked against the watchlists: an image's hashes.
type WatchSubject struct {
	SHA256 SHA256
	MD5    MD5
	PDQ    *PDQInfo // the reference variant when known (lists hold it), else the work variant
}

// SubjectOf gives the watchlist subject of a stored image.
func SubjectOf(img *Image) WatchSubject {
	return WatchSubject{SHA256: img.SHA256, MD5: img.MD5, PDQ: img.SharedPDQ()}
}

// watchCache holds every watchlist in memory for matching: exact hashes by value, PDQ hashes in a
// near-duplicate index.
type watchCache struct {
	exact map[string][]watchRef // kind + ":" + hash -> entries
	pdqs  []watchRef
	ix    *hindex.Index
	count int
}

type watchRef struct {
	list string
	e    ListEntry
	h    pdq.Hash
}

type watchState struct {
	mu    sync.Mutex
	cache *watchCache
}

func (c *Catalog) dropWatchCache() {
	c.watch.mu.Lock()
	c.watch.cache = nil
	c.watch.mu.Unlock()
}

func (c *Catalog) watchlistCache() (*watchCache, error) {
	c.watch.mu.Lock()
	defer c.watch.mu.Unlock()
	if c.watch.cache != nil {
		return c.watch.cache, nil
	}
	wc := &watchCache{exact: map[string][]watchRef{}, ix: hindex.New(0)}
	err := c.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWatchEntries)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				return fmt.Errorf("watch_entries key %x: malformed", k)
			}
			var e ListEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("watchlist entry %x: %w", k, err)
			}
			r := watchRef{list: string(k[:i]), e: e}
			wc.count++
			if e.Kind == KindPDQ {
				h, err := pdq.Parse(e.Hash)
				if err != nil {
					return fmt.Errorf("watchlist entry %x: %w", k, err)
				}
				r.h = h
				wc.ix.Add(uint32(len(wc.pdqs)), h)
				wc.pdqs = append(wc.pdqs, r)
				return nil
			}
			wc.exact[e.Kind+":"+e.Hash] = append(wc.exact[e.Kind+":"+e.Hash], r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	wc.ix.Compact()
	c.watch.cache = wc
	return wc, nil
}

// HasWatchlists reports whether any watchlist holds a hash (commands skip the check otherwise).
func (c *Catalog) HasWatchlists() (bool, error) {
	wc, err := c.watchlistCache()
	if err != nil {
		return false, err
	}
	return wc.count > 0, nil
}

// WatchlistMatch checks one subject against every watchlist: exact for SHA-256 and MD5; for PDQ
// the subject's 8 rotations and mirrors against each listed hash, a hit when the distance is within
// o.MaxDistance (default 31) and the subject's quality (and the listed one, when the list gives it)
// is at least o.MinQuality (default 50). Hits are ordered by list, exact first, then distance.
func (c *Catalog) WatchlistMatch(s WatchSubject, o MatchOptions) ([]WatchHit, error) {
	wc, err := c.watchlistCache()
	if err != nil || wc.count == 0 {
		return nil, err
	}
	o, err = o.norm()
	if err != nil {
		return nil, err
	}
	var hits []WatchHit
	add := func(r watchRef) WatchHit {
		return WatchHit{List: r.list, Kind: r.e.Kind, Hash: r.e.Hash, Label: r.e.Label, Line: r.e.Line}
	}
	for _, r := range wc.exact[KindSHA256+":"+s.SHA256.String()] {
		hits = append(hits, add(r))
	}
	for _, r := range wc.exact[KindMD5+":"+s.MD5.String()] {
		hits = append(hits, add(r))
	}
	if p := s.PDQ; p != nil && len(wc.pdqs) > 0 && p.Quality >= o.MinQuality {
		best := map[uint32]WatchHit{}
		var buf []hindex.Match
		for t := range p.Dihedral {
			buf = wc.ix.Search(p.Dihedral[t], o.MaxDistance, buf[:0])
			for _, m := range buf {
				r := wc.pdqs[m.ID]
				if r.e.HasQ && r.e.Quality < o.MinQuality {
					continue
				}
				if h, ok := best[m.ID]; ok && h.Distance <= m.Distance {
					continue
				}
				// As in near matching: d[t] ≈ listed hash means the file is the listed image
				// transformed by the inverse of t.
				h := add(r)
				h.Distance, h.Transform, h.Variant = m.Distance, pdq.Transform(t).Inverse().String(), p.Variant
				best[m.ID] = h
			}
		}
		for _, h := range best {
			hits = append(hits, h)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.List != b.List {
			return a.List < b.List
		}
		if (a.Kind == KindPDQ) != (b.Kind == KindPDQ) {
			return b.Kind == KindPDQ
		}
		if a.Distance != b.Distance {
			return a.Distance < b.Distance
		}
		return a.Line < b.Line
	})
	return hits, nil
}

// ImageWatchHits checks stored images against the watchlists (for an ingest summary).
func (c *Catalog) ImageWatchHits(shas []SHA256, o MatchOptions) (map[SHA256][]WatchHit, error) {
	if ok, err := c.HasWatchlists(); err != nil || !ok {
		return nil, err
	}
	out := map[SHA256][]WatchHit{}
	for _, s := range shas {
		var img *Image
		err := c.view(func(tx *bolt.Tx) error {
			var err error
			img, err = getImage(tx, s)
			return err
		})
		if err != nil {
			return nil, err
		}
		hits, err := c.WatchlistMatch(SubjectOf(img), o)
		if err != nil {
			return nil, err
		}
		if len(hits) > 0 {
			out[s] = hits
		}
	}
	return out, nil
}

// WatchlistImageHit is a catalogued image that hits a watchlist.
type WatchlistImageHit struct {
	SHA256    SHA256     `json:"sha256"`
	Hits      []WatchHit `json:"hits"`
	Sightings []Sighting `json:"sightings"`
}

// WatchlistHits lists the catalogued images that hit watchlist name, in SHA-256 order.
func (c *Catalog) WatchlistHits(ctx context.Context, name string, o MatchOptions, fn func(WatchlistImageHit) error) error {
	if _, err := c.WatchlistEntries(name, nil); err != nil {
		return err
	}
	return c.Export(ctx, Selection{}, func(r ExportRow) error {
		hits, err := c.WatchlistMatch(SubjectOf(r.Image), o)
		if err != nil {
			return err
		}
		var mine []WatchHit
		for _, h := range hits {
			if h.List == name {
				mine = append(mine, h)
			}
		}
		if len(mine) == 0 {
			return nil
		}
		return fn(WatchlistImageHit{SHA256: r.Image.SHA256, Hits: mine, Sightings: r.Sightings})
	})
}

// DescribeHit says a hit in words: "exact sha256" or "pdq d=12 (mirrored left-right), pdq-full".
func (h WatchHit) Describe() string {
	if h.Kind != KindPDQ {
		return "exact " + h.Kind
	}
	t, err := pdq.ParseTransform(h.Transform)
	desc := h.Transform
	if err == nil && t != pdq.AsIs {
		desc = t.Describe()
	}
	return fmt.Sprintf("pdq d=%d %s, %s", h.Distance, strings.TrimSpace(desc), h.Variant)
}

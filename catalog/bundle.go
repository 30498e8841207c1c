package catalog

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/relcat/relcat/thumbs"

	bolt "go.etcd.io/bbolt"
)

// A bundle is a tar file that carries batches from one catalog to another:
//
//	relcat-bundle/manifest.json        first: format, version, exporting catalog id and log head,
//	                                   and the checksum list (path, size, SHA-256 of every other entry)
//	relcat-bundle/batches/<id>.json    a batch record, its sightings and its log entries
//	relcat-bundle/images/<sha256>.json an image record with both PDQ variants
//	relcat-bundle/objects/<sha256>     a preserved original
//	relcat-bundle/thumbs/<sha256>.jpg  its thumbnail
//
// Import reads the file twice: the first pass checks everything (names, types, sizes, checksums,
// records) without writing; the second writes the content files (each checked again) and then every
// record in one transaction with one log entry.

// BundleFormat and BundleVersion identify the bundle format in its manifest.
const (
	BundleFormat  = "relcat-bundle"
	BundleVersion = 1
	bundleRoot    = "relcat-bundle/"
	manifestPath  = bundleRoot + "manifest.json"
)

// Limits of a bundle import (BundleImportOptions override the size).
const (
	DefaultMaxBundleSize = 64 << 30 // bytes of the bundle file
	maxManifestSize      = 512 << 20
	maxRecordSize        = 16 << 20 // one batch or image JSON record
	maxBundleEntries     = 20_000_000
)

// ErrBundle is wrapped by every refusal of a bundle.
var ErrBundle = errors.New("bundle refused")

// BundleEntry is one line of the manifest's checksum list.
type BundleEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// BundleManifest is the first entry of a bundle.
type BundleManifest struct {
	Format    string        `json:"format"`
	Version   int           `json:"version"`
	Catalog   string        `json:"catalog"` // id of the exporting catalog
	LogHead   LogHead       `json:"log_head"`
	Created   time.Time     `json:"created"`
	Tool      string        `json:"tool"`
	Operator  string        `json:"operator,omitempty"`
	Batches   []BatchID     `json:"batches"`
	Images    int           `json:"images"`
	Entries   []BundleEntry `json:"entries"`
	TotalSize int64         `json:"total_size"` // sum of the entries' sizes
}

// LogHead is the last entry of a log: its sequence number and hash.
type LogHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// bundleBatch is a batch file of a bundle.
type bundleBatch struct {
	Batch     Batch            `json:"batch"`
	Sightings []bundleSighting `json:"sightings"`
	Log       []LogEntry       `json:"log"` // the exporting catalog's log entries about this batch
}

type bundleSighting struct {
	Position int `json:"position"`
	sightingRecord
}

// bundleImage is an image file of a bundle.
type bundleImage struct {
	Image  Image    `json:"image"`
	PDQ    *pdqWire `json:"pdq,omitempty"`
	PDQRef *pdqWire `json:"pdq_ref,omitempty"`
}

// pdqWire carries a PDQInfo with its dihedral hashes.
type pdqWire struct {
	Quality  int      `json:"quality"`
	Variant  string   `json:"variant"`
	Dihedral []string `json:"dihedral"`
}

func toWire(p *PDQInfo) *pdqWire {
	if p == nil {
		return nil
	}
	w := &pdqWire{Quality: p.Quality, Variant: p.Variant}
	for _, h := range p.Dihedral {
		w.Dihedral = append(w.Dihedral, h.String())
	}
	return w
}

func fromWire(w *pdqWire) (*PDQInfo, error) {
	if w == nil {
		return nil, nil
	}
	if len(w.Dihedral) != 8 || w.Quality < 0 || w.Quality > 100 || len(w.Variant) > 64 {
		return nil, fmt.Errorf("malformed pdq (want 8 dihedral hashes, quality 0-100)")
	}
	p := &PDQInfo{Quality: w.Quality, Variant: w.Variant}
	for i, s := range w.Dihedral {
		if err := p.Dihedral[i].UnmarshalText([]byte(s)); err != nil {
			return nil, err
		}
	}
	p.Hash = p.Dihedral[0]
	return p, nil
}

// CatalogID is the catalog's identity, written in the bundles it exports.
func (c *Catalog) CatalogID() (string, error) {
	var id string
	err := c.view(func(tx *bolt.Tx) error {
		id = catalogID(tx)
		return nil
	})
	return id, err
}

// catalogID is meta "id" (random, set when the catalog is created), or for a catalog created
// before that existed, derived from its creation time.
func catalogID(tx *bolt.Tx) string {
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyCatalogID); len(v) > 0 {
		return string(v)
	}
	h := sha256.Sum256(append([]byte("relcat-catalog\x00"), meta.Get(keyCreated)...))
	return hex.EncodeToString(h[:8])
}

func newCatalogID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func bundleLogHead(tx *bolt.Tx) (LogHead, error) {
	k, v := tx.Bucket(bucketLog).Cursor().Last()
	if k == nil {
		return LogHead{}, nil
	}
	var e LogEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return LogHead{}, fmt.Errorf("log entry %x: %w", k, err)
	}
	return LogHead{Seq: e.Seq, Hash: e.Hash}, nil
}

// BundleExportOptions configure ExportBundle.
type BundleExportOptions struct {
	Operator string
}

// BundleStats say what a bundle holds or what an import did.
type BundleStats struct {
	Batches     int   `json:"batches"`
	Images      int   `json:"images"`
	Sightings   int   `json:"sightings"`
	Objects     int   `json:"objects"`
	Thumbs      int   `json:"thumbnails"`
	Bytes       int64 `json:"bytes"`
	NewBatches  int   `json:"new_batches,omitempty"`
	NewImages   int   `json:"new_images,omitempty"`
	NewSighting int   `json:"new_sightings,omitempty"`
	Unchanged   bool  `json:"unchanged,omitempty"`
}

// ExportBundle writes the batches s selects (every batch when s is zero), their images, originals,
// thumbnails, sightings and log entries as a bundle to w.
func (c *Catalog) ExportBundle(ctx context.Context, w io.Writer, s Selection, o BundleExportOptions) (*BundleStats, error) {
	m := BundleManifest{Format: BundleFormat, Version: BundleVersion, Created: c.now().UTC(), Tool: c.version, Operator: o.Operator}
	type file struct {
		path string
		data []byte // records
		src  string // content files: absolute path
		size int64
		sha  string
	}
	var files []file
	st := &BundleStats{}
	err := c.view(func(tx *bolt.Tx) error {
		m.Catalog = catalogID(tx)
		var err error
		if m.LogHead, err = bundleLogHead(tx); err != nil {
			return err
		}
		batches, err := selectedBatches(tx, s)
		if err != nil {
			return err
		}
		ids := make([]BatchID, 0, len(batches))
		for id := range batches {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
		m.Batches = ids
		logs := map[BatchID][]LogEntry{}
		err = tx.Bucket(bucketLog).ForEach(func(k, v []byte) error {
			var e LogEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("log entry %x: %w", k, err)
			}
			var id BatchID
			if id.UnmarshalText([]byte(e.Batch)) == nil && batches[id] != nil {
				logs[id] = append(logs[id], e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		shas := map[SHA256]bool{}
		for _, id := range ids {
			bb := bundleBatch{Batch: *batches[id], Log: logs[id], Sightings: []bundleSighting{}}
			cur := tx.Bucket(bucketBatchImages).Cursor()
			for k, v := cur.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, v = cur.Next() {
				_, pos, err := parseBatchImageKey(k)
				if err != nil {
					return err
				}
				var r sightingRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("batch_images %x: %w", k, err)
				}
				bb.Sightings = append(bb.Sightings, bundleSighting{pos, r})
				shas[r.SHA256] = true
			}
			data, err := json.Marshal(bb)
			if err != nil {
				return err
			}
			files = append(files, file{path: bundleRoot + "batches/" + id.String() + ".json", data: data})
			st.Sightings += len(bb.Sightings)
		}
		st.Batches = len(ids)
		list := make([]SHA256, 0, len(shas))
		for sha := range shas {
			list = append(list, sha)
		}
		sort.Slice(list, func(i, j int) bool { return bytes.Compare(list[i][:], list[j][:]) < 0 })
		var content []file
		for _, sha := range list {
			if err := ctx.Err(); err != nil {
				return ErrInterrupted
			}
			img, err := getImage(tx, sha)
			if err != nil {
				return err
			}
			data, err := json.Marshal(bundleImage{Image: *img, PDQ: toWire(img.PDQ), PDQRef: toWire(img.PDQRef)})
			if err != nil {
				return err
			}
			files = append(files, file{path: bundleRoot + "images/" + sha.String() + ".json", data: data})
			if img.Object != "" {
				content = append(content, file{path: bundleRoot + "objects/" + sha.String(), src: filepath.Join(c.dir, filepath.FromSlash(img.Object)), size: img.Size, sha: sha.String()})
				st.Objects++
			}
			if img.Thumb != "" && img.ThumbSHA256 != nil {
				fi, err := os.Stat(filepath.Join(c.dir, filepath.FromSlash(img.Thumb)))
				if err != nil {
					return fmt.Errorf("thumbnail of %s: %w (run `relcat verify`)", sha, err)
				}
				content = append(content, file{path: bundleRoot + "thumbs/" + sha.String() + ".jpg", src: filepath.Join(c.dir, filepath.FromSlash(img.Thumb)), size: fi.Size(), sha: img.ThumbSHA256.String()})
				st.Thumbs++
			}
		}
		st.Images = len(list)
		files = append(files, content...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.Images = st.Images
	for i := range files {
		f := &files[i]
		if f.data != nil {
			h := sha256.Sum256(f.data)
			f.size, f.sha = int64(len(f.data)), hex.EncodeToString(h[:])
		}
		m.Entries = append(m.Entries, BundleEntry{Path: f.path, Size: f.size, SHA256: f.sha})
		m.TotalSize += f.size
	}
	mdata, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	put := func(name string, size int64, r io.Reader) error {
		hdr := &tar.Header{Name: name, Mode: 0o444, Size: size, ModTime: m.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("%s: %d bytes, expected %d", name, n, size)
		}
		return err
	}
	if err := put(manifestPath, int64(len(mdata)), bytes.NewReader(mdata)); err != nil {
		return nil, err
	}
	st.Bytes = int64(len(mdata))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, ErrInterrupted
		}
		if f.data != nil {
			if err := put(f.path, f.size, bytes.NewReader(f.data)); err != nil {
				return nil, err
			}
		} else if err := copyVerified(put, f.path, f.src, f.size, f.sha); err != nil {
			return nil, err
		}
		st.Bytes += f.size
	}
	return st, tw.Close()
}

// copyVerified writes a content file into the bundle, checking it still has the size and hash the
// catalog recorded (a damaged original never leaves as if it were good).
func copyVerified(put func(string, int64, io.Reader) error, name, src string, size int64, want string) error {
	f, _, err := openRegular(src, true) // a FIFO or a link planted under objects/ must not hang the export
	if err != nil {
		return fmt.Errorf("%s: %w (run `relcat verify`)", src, err)
	}
	defer f.Close()
	h := sha256.New()
	if err := put(name, size, io.TeeReader(io.LimitReader(f, size), h)); err != nil {
		return fmt.Errorf("%s: %w (run `relcat verify`)", src, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: its content no longer hashes to %s: the catalog is damaged (run `relcat verify`)", src, want)
	}
	return nil
}

// BundleImportOptions configure ImportBundle.
type BundleImportOptions struct {
	Operator string
	Command  string
	MaxSize  int64 // refuse a bundle file larger than this (default DefaultMaxBundleSize)
}

// checkedBundle is what the first pass learned.
type checkedBundle struct {
	m       BundleManifest
	sha     string // of the bundle file
	entries map[string]BundleEntry
	batches []bundleBatch
	images  map[SHA256]*bundleImage
	md5s    map[SHA256]MD5 // of the objects, computed
}

func bundleErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBundle, fmt.Sprintf(format, args...))
}

// checkEntryName refuses names that could leave the bundle's tree or be read two ways.
func checkEntryName(name string) error {
	switch {
	case name == "":
		return bundleErr("an entry without a name")
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || (len(name) > 1 && name[1] == ':'):
		return bundleErr("entry %q has an absolute path", name)
	case strings.Contains(name, "\\"):
		return bundleErr("entry %q has a backslash in its path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return bundleErr("entry %q climbs out of the bundle (..)", name)
		}
	}
	if path.Clean(name) != name || !strings.HasPrefix(name, bundleRoot) {
		return bundleErr("entry %q is not a clean path under %s", name, bundleRoot)
	}
	return nil
}

// readBundle makes one pass over the bundle: every entry's name, type and size are checked and its
// content passed to fn (bounded by its declared size) after the manifest, which must come first.
func readBundle(r io.Reader, maxEntries int, manifest func([]byte) (map[string]BundleEntry, error), fn func(e BundleEntry, r io.Reader) error) error {
	tr := tar.NewReader(r)
	var declared map[string]BundleEntry
	seen := map[string]bool{}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bundleErr("not a readable tar file: %v", err)
		}
		if n >= maxEntries {
			return bundleErr("more than %d entries", maxEntries)
		}
		name := hdr.Name
		if err := checkEntryName(name); err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return bundleErr("entry %q is a link (to %q): bundles hold regular files only", name, hdr.Linkname)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return bundleErr("entry %q is a device or FIFO: bundles hold regular files only", name)
		default:
			return bundleErr("entry %q has type %q: bundles hold regular files only", name, string(hdr.Typeflag))
		}
		if seen[name] {
			return bundleErr("entry %q appears twice", name)
		}
		seen[name] = true
		if n == 0 {
			if name != manifestPath {
				return bundleErr("the first entry is %q, not %s: not a relcat bundle", name, manifestPath)
			}
			if hdr.Size > maxManifestSize {
				return bundleErr("the manifest is %d bytes, over the limit of %d MiB", hdr.Size, maxManifestSize>>20)
			}
			data, err := io.ReadAll(io.LimitReader(tr, maxManifestSize+1))
			if err != nil {
				return bundleErr("reading the manifest: %v", err)
			}
			if declared, err = manifest(data); err != nil {
				return err
			}
			continue
		}
		e, ok := declared[name]
		if !ok {
			return bundleErr("entry %q is not in the manifest", name)
		}
		if hdr.Size > e.Size {
			return bundleErr("entry %q is %d bytes, over its declared size of %d", name, hdr.Size, e.Size)
		}
		if hdr.Size != e.Size {
			return bundleErr("entry %q is %d bytes, its declared size is %d", name, hdr.Size, e.Size)
		}
		if err := fn(e, io.LimitReader(tr, e.Size)); err != nil {
			return err
		}
	}
	if declared == nil {
		return bundleErr("no manifest: not a relcat bundle")
	}
	for p := range declared {
		if !seen[p] {
			return bundleErr("entry %q is in the manifest but not in the bundle", p)
		}
	}
	return nil
}

// hashingReader hashes what is read through it.
type hashingReader struct {
	r    io.Reader
	hs   []hash.Hash
	n    int64
	data *bytes.Buffer // kept when not nil
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	for _, x := range h.hs {
		x.Write(p[:n])
	}
	if h.data != nil {
		h.data.Write(p[:n])
	}
	h.n += int64(n)
	return n, err
}

// parseManifest checks the manifest and indexes its entries.
func parseManifest(data []byte, m *BundleManifest) (map[string]BundleEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(m); err != nil {
		return nil, bundleErr("the manifest is not valid JSON: %v", err)
	}
	if m.Format != BundleFormat {
		return nil, bundleErr("the manifest's format is %q, not %q", m.Format, BundleFormat)
	}
	if m.Version != BundleVersion {
		return nil, bundleErr("bundle format version %d: this relcat reads version %d (use a relcat that knows it)", m.Version, BundleVersion)
	}
	if len(m.Entries) > maxBundleEntries {
		return nil, bundleErr("the manifest lists %d entries, over the limit of %d", len(m.Entries), maxBundleEntries)
	}
	out := make(map[string]BundleEntry, len(m.Entries))
	var total int64
	for _, e := range m.Entries {
		if err := checkEntryName(e.Path); err != nil {
			return nil, err
		}
		if e.Path == manifestPath {
			return nil, bundleErr("the manifest lists itself")
		}
		if _, dup := out[e.Path]; dup {
			return nil, bundleErr("the manifest lists %q twice", e.Path)
		}
		if e.Size < 0 || !isHex(e.SHA256, 64) {
			return nil, bundleErr("the manifest's entry %q has a bad size or checksum", e.Path)
		}
		total += e.Size
		out[e.Path] = e
	}
	if total != m.TotalSize {
		return nil, bundleErr("the manifest's entries add up to %d bytes, it declares %d", total, m.TotalSize)
	}
	return out, nil
}

// checkBundle is the first pass: nothing is written.
func checkBundle(ctx context.Context, f *os.File, maxSize int64) (*checkedBundle, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, bundleErr("%s is not a regular file", f.Name())
	}
	return checkBundleReader(ctx, f, fi.Size(), maxSize)
}

// checkBundleReader is checkBundle over the bundle's bytes (size of them).
func checkBundleReader(ctx context.Context, f io.Reader, size, maxSize int64) (*checkedBundle, error) {
	if size > maxSize {
		return nil, bundleErr("the bundle is %d bytes, over the limit of %d bytes (--max-size)", size, maxSize)
	}
	cb := &checkedBundle{images: map[SHA256]*bundleImage{}, md5s: map[SHA256]MD5{}}
	whole := sha256.New()
	err := readBundle(io.TeeReader(io.LimitReader(f, maxSize+1), whole), maxBundleEntries, func(data []byte) (map[string]BundleEntry, error) {
		var err error
		cb.entries, err = parseManifest(data, &cb.m)
		if err == nil && cb.m.TotalSize > maxSize {
			err = bundleErr("the manifest declares %d bytes of entries, over the limit of %d bytes", cb.m.TotalSize, maxSize)
		}
		return cb.entries, err
	}, func(e BundleEntry, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return ErrInterrupted
		}
		sh, m5 := sha256.New(), md5.New()
		hr := &hashingReader{r: r, hs: []hash.Hash{sh, m5}}
		kind, name := bundleKind(e.Path)
		if kind == "batches" || kind == "images" {
			if e.Size > maxRecordSize {
				return bundleErr("record %q is %d bytes, over the limit of %d MiB", e.Path, e.Size, maxRecordSize>>20)
			}
			hr.data = &bytes.Buffer{}
		}
		if _, err := io.Copy(io.Discard, hr); err != nil {
			return bundleErr("reading %q: %v", e.Path, err)
		}
		if hr.n != e.Size {
			return bundleErr("entry %q is cut short: %d of %d bytes", e.Path, hr.n, e.Size)
		}
		if got := hex.EncodeToString(sh.Sum(nil)); got != e.SHA256 {
			return bundleErr("entry %q does not match its checksum (sha256 %s, manifest says %s)", e.Path, got, e.SHA256)
		}
		switch kind {
		case "batches":
			return cb.addBatch(e.Path, name, hr.data.Bytes())
		case "images":
			return cb.addImage(e.Path, name, hr.data.Bytes())
		case "objects":
			s, err := ParseSHA256(name)
			if err != nil || s.String() != name {
				return bundleErr("entry %q: not named by a SHA-256", e.Path)
			}
			if e.SHA256 != name {
				return bundleErr("original %q does not hash to its name", e.Path)
			}
			var m MD5
			copy(m[:], m5.Sum(nil))
			cb.md5s[s] = m
		case "thumbs":
			s, err := ParseSHA256(strings.TrimSuffix(name, ".jpg"))
			if err != nil || !strings.HasSuffix(name, ".jpg") || s.String()+".jpg" != name {
				return bundleErr("entry %q: not a thumbnail name (<sha256>.jpg)", e.Path)
			}
		default:
			return bundleErr("entry %q: unknown kind of entry", e.Path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cb.sha = hex.EncodeToString(whole.Sum(nil))
	return cb, cb.crossCheck()
}

// bundleKind splits "relcat-bundle/images/x.json" into "images" and "x.json".
func bundleKind(p string) (string, string) {
	rest := strings.TrimPrefix(p, bundleRoot)
	kind, name, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(name, "/") {
		return "", rest
	}
	if kind == "batches" || kind == "images" {
		if !strings.HasSuffix(name, ".json") {
			return "", rest
		}
		name = strings.TrimSuffix(name, ".json")
	}
	return kind, name
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the record")
	}
	return nil
}

func (cb *checkedBundle) addBatch(p, name string, data []byte) error {
	var b bundleBatch
	if err := strictJSON(data, &b); err != nil {
		return bundleErr("batch record %q: %v", p, err)
	}
	bt := &b.Batch
	if bt.ID.String() != name {
		return bundleErr("batch record %q holds batch %s", p, bt.ID)
	}
	if !ValidSlug(bt.Affiliate) || bt.Released.IsZero() || bt.Folder == "" || strings.ContainsAny(bt.Folder, "/\x00") {
		return bundleErr("batch record %q: affiliate, release time or folder missing or malformed", p)
	}
	if !bt.identityHolds() {
		return bundleErr("batch record %q: its id is not the identity of its affiliate, release time and folder", p)
	}
	pos := map[int]bool{}
	for _, s := range b.Sightings {
		if s.Position < 0 || pos[s.Position] || s.raw() == "" {
			return bundleErr("batch record %q: a sighting with a bad or repeated position, or no name", p)
		}
		pos[s.Position] = true
	}
	for _, e := range b.Log {
		if h, err := entryHash(e); err != nil || h != e.Hash {
			return bundleErr("batch record %q: log entry %d does not hash to its recorded hash", p, e.Seq)
		}
	}
	cb.batches = append(cb.batches, b)
	return nil
}

func (cb *checkedBundle) addImage(p, name string, data []byte) error {
	var bi bundleImage
	if err := strictJSON(data, &bi); err != nil {
		return bundleErr("image record %q: %v", p, err)
	}
	if bi.Image.SHA256.String() != name {
		return bundleErr("image record %q holds image %s", p, bi.Image.SHA256)
	}
	var err error
	if bi.Image.PDQ, err = fromWire(bi.PDQ); err != nil {
		return bundleErr("image record %q: pdq: %v", p, err)
	}
	if bi.Image.PDQRef, err = fromWire(bi.PDQRef); err != nil {
		return bundleErr("image record %q: pdq_ref: %v", p, err)
	}
	cb.images[bi.Image.SHA256] = &bi
	return nil
}

// crossCheck: every sighting names an image of the bundle; every original and thumbnail belongs to
// an image record that names it, with the MD5 and thumbnail hash it records.
func (cb *checkedBundle) crossCheck() error {
	for _, b := range cb.batches {
		for _, s := range b.Sightings {
			if cb.images[s.SHA256] == nil {
				return bundleErr("batch %s sights image %s, which the bundle does not carry", b.Batch.ID, s.SHA256)
			}
		}
	}
	if len(cb.batches) != len(cb.m.Batches) {
		return bundleErr("the manifest names %d batches, the bundle carries %d", len(cb.m.Batches), len(cb.batches))
	}
	for sha, bi := range cb.images {
		img := &bi.Image
		obj := bundleRoot + "objects/" + sha.String()
		if _, ok := cb.entries[obj]; ok {
			if m := cb.md5s[sha]; m != img.MD5 {
				return bundleErr("image %s: its record's MD5 is not the MD5 of its original", sha)
			}
			if cb.entries[obj].Size != img.Size {
				return bundleErr("image %s: its record's size is not its original's", sha)
			}
		}
		th := bundleRoot + "thumbs/" + sha.String() + ".jpg"
		if e, ok := cb.entries[th]; ok {
			if img.ThumbSHA256 == nil || img.ThumbSHA256.String() != e.SHA256 {
				return bundleErr("image %s: its thumbnail is not the one its record names", sha)
			}
		}
	}
	for p := range cb.entries {
		kind, name := bundleKind(p)
		if kind == "objects" || kind == "thumbs" {
			s, _ := ParseSHA256(strings.TrimSuffix(name, ".jpg"))
			if cb.images[s] == nil {
				return bundleErr("entry %q belongs to no image of the bundle", p)
			}
		}
	}
	return nil
}

// BundleProvenance is what an import entry of the log records about where the batches came from.
type BundleProvenance struct {
	Bundle  string          `json:"bundle_sha256"`
	Catalog string          `json:"catalog"`
	LogHead LogHead         `json:"log_head"`
	Created time.Time       `json:"created"`
	Tool    string          `json:"tool"`
	Batches []BatchOrigin   `json:"batches"`
	Entries []OriginLogLink `json:"log_entries,omitempty"`
}

// BatchOrigin is a batch as the exporting catalog had it.
type BatchOrigin struct {
	ID       BatchID   `json:"id"`
	Ingested time.Time `json:"ingested"`
	Operator string    `json:"operator,omitempty"`
	Origin   string    `json:"origin,omitempty"`
}

// OriginLogLink names one of the exporting catalog's log entries.
type OriginLogLink struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// ImportBundle verifies the bundle at path completely, then merges it: images by SHA-256, batches
// by identity, sightings by (image, batch, file name). It is idempotent (importing it again changes
// nothing) and order-free: for a batch both catalogs hold, the earlier ingest time and its record's
// text fields win, so two catalogs that import each other's bundles give the same answers. One log
// entry records the import with the origin's provenance.
func (c *Catalog) ImportBundle(ctx context.Context, bundlePath string, o BundleImportOptions) (*BundleStats, error) {
	if c.readOnly {
		return nil, ErrReadOnly
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxBundleSize
	}
	f, err := os.OpenFile(bundlePath, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cb, err := checkBundle(ctx, f, o.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (the catalog was not changed)", bundlePath, err)
	}
	st := &BundleStats{Batches: len(cb.batches), Images: len(cb.images), Bytes: cb.m.TotalSize}
	// Second pass: write the content files, each checked again against the manifest (the file
	// could have changed since the first pass).
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var contentWritten bool
	err = readBundle(io.LimitReader(f, o.MaxSize+1), maxBundleEntries, func(data []byte) (map[string]BundleEntry, error) {
		var m BundleManifest
		entries, err := parseManifest(data, &m)
		if err == nil && len(entries) != len(cb.entries) {
			err = bundleErr("the bundle changed while it was read")
		}
		return entries, err
	}, func(e BundleEntry, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return ErrInterrupted
		}
		if want, ok := cb.entries[e.Path]; !ok || want != e {
			return bundleErr("the bundle changed while it was read (%s)", e.Path)
		}
		kind, name := bundleKind(e.Path)
		if kind != "objects" && kind != "thumbs" {
			_, err := io.Copy(io.Discard, r)
			return err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != e.SHA256 {
			return bundleErr("the bundle changed while it was read (%s)", e.Path)
		}
		rel := objectRelPath(mustSHA(name))
		mode := os.FileMode(0o444)
		if kind == "thumbs" {
			rel = thumbs.RelPath(strings.TrimSuffix(name, ".jpg"))
			st.Thumbs++
		} else {
			st.Objects++
		}
		if _, err := writeContentFile(c.dir, rel, data, mode); err != nil {
			return err
		}
		contentWritten = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bundlePath, err)
	}
	if contentWritten {
		if err := syncContent(c.dir); err != nil {
			return nil, err
		}
	}
	if err := c.mergeBundle(cb, st, o); err != nil {
		return nil, fmt.Errorf("%s: %w", bundlePath, err)
	}
	return st, nil
}

func mustSHA(s string) SHA256 {
	v, _ := ParseSHA256(s)
	return v
}

// mergeBundle writes the records of a checked bundle in one transaction.
func (c *Catalog) mergeBundle(cb *checkedBundle, st *BundleStats, o BundleImportOptions) error {
	var near *nearTx
	err := c.update(func(tx *bolt.Tx) error {
		near = c.beginNear(tx)
		now := c.now().UTC()
		prov := BundleProvenance{Bundle: cb.sha, Catalog: cb.m.Catalog, LogHead: cb.m.LogHead, Created: cb.m.Created, Tool: cb.m.Tool}
		entry := LogEntry{Time: now, Operator: o.Operator, Command: o.Command, Tool: c.version, Action: "bundle-import"}
		changed := false
		images := tx.Bucket(bucketImages)
		// Images, in SHA-256 order.
		shas := make([]SHA256, 0, len(cb.images))
		for s := range cb.images {
			shas = append(shas, s)
		}
		sort.Slice(shas, func(i, j int) bool { return bytes.Compare(shas[i][:], shas[j][:]) < 0 })
		for _, s := range shas {
			bi := cb.images[s]
			img := bi.Image
			obj := cb.entries[bundleRoot+"objects/"+s.String()].SHA256 != ""
			th := cb.entries[bundleRoot+"thumbs/"+s.String()+".jpg"].SHA256 != ""
			if v := images.Get(s[:]); v != nil {
				// Known: it may gain its original, or its pixels (thumbnail and hashes).
				var have Image
				if err := json.Unmarshal(v, &have); err != nil {
					return fmt.Errorf("image %s record: %w", s, err)
				}
				dirty := false
				if have.Object == "" && obj {
					have.Object = objectRelPath(s)
					dirty = true
				}
				if !have.Pixels && img.Pixels && th && img.PDQ != nil {
					have.Width, have.Height, have.Pixels, have.PixelsError, have.PixelsLimited = img.Width, img.Height, true, "", false
					have.Thumb, have.ThumbVersion, have.ThumbSHA256 = thumbs.RelPath(s.String()), img.ThumbVersion, img.ThumbSHA256
					if err := near.put(s, img.PDQ); err != nil {
						return err
					}
					have.PDQ = img.PDQ
					dirty = true
				}
				if img.PDQRef != nil && tx.Bucket(bucketPDQRef).Get(s[:]) == nil && have.Pixels {
					if err := putPDQRef(tx, s, img.PDQRef); err != nil {
						return err
					}
					dirty = true
				}
				if !img.Ingested.IsZero() && img.Ingested.Before(have.Ingested) {
					have.Ingested = img.Ingested
					dirty = true
				}
				if dirty {
					if err := putJSON(images, s[:], &have); err != nil {
						return err
					}
					if err := indexSearch(tx, &have); err != nil {
						return err
					}
					entry.Notes = append(entry.Notes, "image "+s.String()+" completed from the bundle")
					changed = true
				}
				continue
			}
			// New: stored as the origin catalogued it, pointing at the files just written.
			img.Object, img.Thumb = "", ""
			if obj {
				img.Object = objectRelPath(s)
			}
			if th && img.Pixels {
				img.Thumb = thumbs.RelPath(s.String())
			} else {
				img.Thumb, img.ThumbVersion, img.ThumbSHA256 = "", 0, nil
				if img.Pixels {
					img.Pixels = false
					img.PixelsError = "the bundle carried no thumbnail"
				}
			}
			if img.Ingested.IsZero() {
				img.Ingested = now
			}
			if err := putJSON(images, s[:], &img); err != nil {
				return err
			}
			if err := indexSearch(tx, &img); err != nil {
				return err
			}
			if err := tx.Bucket(bucketMD5).Put(md5Key(img.MD5, s), []byte{}); err != nil {
				return err
			}
			if img.Pixels && img.PDQ != nil {
				if err := near.put(s, img.PDQ); err != nil {
					return err
				}
				if err := putPDQRef(tx, s, img.PDQRef); err != nil {
					return err
				}
			}
			st.NewImages++
			changed = true
		}
		// Batches and their sightings.
		affs := tx.Bucket(bucketAffiliates)
		batches := tx.Bucket(bucketBatches)
		bimg := tx.Bucket(bucketBatchImages)
		ibat := tx.Bucket(bucketImageBatches)
		sort.Slice(cb.batches, func(i, j int) bool { return bytes.Compare(cb.batches[i].Batch.ID[:], cb.batches[j].Batch.ID[:]) < 0 })
		var batchEntries []LogEntry
		for _, bb := range cb.batches {
			in := bb.Batch
			prov.Batches = append(prov.Batches, BatchOrigin{ID: in.ID, Ingested: in.Ingested, Operator: in.Operator, Origin: in.Origin})
			var links []string
			for _, e := range bb.Log {
				prov.Entries = append(prov.Entries, OriginLogLink{Seq: e.Seq, Hash: e.Hash})
				links = append(links, fmt.Sprintf("%d:%s", e.Seq, e.Hash))
			}
			be := LogEntry{Time: now, Operator: o.Operator, Command: o.Command, Tool: c.version, Action: "bundle-import",
				Batch: in.ID.String(), Affiliate: in.Affiliate, Released: in.Released.String(),
				Notes: []string{fmt.Sprintf("from bundle %s of catalog %s: first ingested there %s by %q from %q; its log entries %s",
					cb.sha, cb.m.Catalog, in.Ingested.UTC().Format(time.RFC3339), in.Operator, in.Origin, strings.Join(links, " "))}}
			bchanged := false
			if affs.Get([]byte(in.Affiliate)) == nil {
				if err := putJSON(affs, []byte(in.Affiliate), Affiliate{Slug: in.Affiliate, Created: in.Ingested}); err != nil {
					return err
				}
				be.Notes = append(be.Notes, "affiliate "+in.Affiliate+" created")
				bchanged = true
			}
			var b Batch
			if v := batches.Get(in.ID[:]); v != nil {
				if err := json.Unmarshal(v, &b); err != nil {
					return fmt.Errorf("batch %s record: %w", in.ID, err)
				}
				merged := mergeBatch(b, in)
				if !sameJSON(merged, b) {
					b = merged
					be.Notes = append(be.Notes, "batch record merged: the earlier ingest and its fields kept")
					bchanged = true
				}
			} else {
				b = in
				b.Files = 0
				st.NewBatches++
				be.Notes = append(be.Notes, "batch created")
				bchanged = true
			}
			for _, s := range bb.Sightings {
				st.Sightings++
				if hasSighting(ibat, s.SHA256, b.ID, s.raw()) {
					continue
				}
				pos := s.Position
				if bimg.Get(batchImageKey(b.ID, pos)) != nil {
					pos = nextFreePosition(bimg, b.ID)
				}
				if err := putJSON(bimg, batchImageKey(b.ID, pos), s.sightingRecord); err != nil {
					return err
				}
				if err := ibat.Put(imageBatchKey(s.SHA256, b.ID, pos), []byte(s.raw())); err != nil {
					return err
				}
				b.Files++
				st.NewSighting++
				be.Files = append(be.Files, LogFile{SHA256: s.SHA256.String(), Name: s.Name, RawName: s.RawName, Position: pos, Status: "imported"})
				bchanged = true
			}
			if !bchanged {
				continue
			}
			if err := putBatchRecord(tx, &b); err != nil {
				return err
			}
			batchEntries = append(batchEntries, be)
			changed = true
		}
		if !changed {
			st.Unchanged = true
			return nil
		}
		// One entry for the bundle (its provenance, the images), then one per batch it changed
		// (its sightings, so that verify finds every sighting in the log).
		pj, err := json.Marshal(prov)
		if err != nil {
			return err
		}
		entry.Notes = append([]string{"bundle " + cb.sha + " from catalog " + cb.m.Catalog + " (log head " + cb.m.LogHead.Hash + ")", "provenance " + string(pj)}, entry.Notes...)
		if err := appendLog(tx, &entry); err != nil {
			return err
		}
		for i := range batchEntries {
			if err := appendLog(tx, &batchEntries[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if near != nil {
			near.abort() // the index may hold images this transaction did not commit
		}
		return err
	}
	near.done()
	return nil
}

// mergeBatch merges the record of a batch both catalogs hold, the same way whichever imports
// which: the record ingested first (ties: the smaller operator, then origin) gives the ingest
// time, operator, origin and the text fields it has; the other fills the fields left empty.
func mergeBatch(have, in Batch) Batch {
	files := have.Files
	first, second := have, in
	if in.Ingested.Before(have.Ingested) || (in.Ingested.Equal(have.Ingested) && (in.Operator+"\x00"+in.Origin) < (have.Operator+"\x00"+have.Origin)) {
		first, second = in, have
	}
	out := first
	if out.Source == "" {
		out.Source = second.Source
	}
	if out.Title == "" {
		out.Title = second.Title
	}
	if out.Notes == "" {
		out.Notes = second.Notes
	}
	out.Files = files
	return out
}

// IngestToBundle ingests folders without a catalog of the caller's: into a temporary catalog,
// exported whole as a bundle to w, then removed. The bundle carries the temporary catalog's id and
// log: its provenance is this ingest.
func IngestToBundle(ctx context.Context, dirs []string, w io.Writer, opts IngestOptions, co Options) ([]*BatchSummary, *BundleStats, error) {
	tmp, err := os.MkdirTemp("", "relcat-bundle-*")
	if err != nil {
		return nil, nil, err
	}
	defer removeAllReadOnly(tmp)
	c, err := Open(tmp, co)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	opts.NoCopy = false
	sums, err := c.Ingest(ctx, dirs, opts)
	if err != nil {
		return sums, nil, err
	}
	st, err := c.ExportBundle(ctx, w, Selection{}, BundleExportOptions{Operator: opts.Operator})
	return sums, st, err
}

// removeAllReadOnly removes a tree whose files are read-only (originals and thumbnails are 0444).
func removeAllReadOnly(dir string) {
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	_ = os.RemoveAll(dir)
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

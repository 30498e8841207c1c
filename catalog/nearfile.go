package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"unsafe"

	"github.com/relcat/relcat/catalog/hindex"

	bolt "go.etcd.io/bbolt"
)

// The persisted near-duplicate index (near.idx beside catalog.db): the in-memory index of the
// hashes, written by a writer when it closes the catalog and mapped in place (read-only use, no
// copy) by the next process, so that a short-lived `lookup` at a million images does not rebuild
// it. Its format is part of the on-disk format (keys.go points here):
//
//	header (128 bytes)   "RELCATNI", format version (4, LE), 0 (4), near_gen (8, LE),
//	                     top: the largest near id covered (8, LE), the SHA-256 of that id's image
//	                     (32), SHA-256 of meta "created" (32), index bytes (8, LE),
//	                     id slots (8, LE: nearFileSlots(top)), 0 (8), CRC-32C of the bytes
//	                     before (4), 0 (4)
//	index                hindex's persisted form (hindex.Index.WriteTo), with room for the same
//	                     id slots (hindex WriteWithRoom)
//	shas                 id slots x 32 bytes: the image of each near id (zeros: none)
//	qualities            id slots x 1 byte
//
// It is a cache, never evidence: it is current when its near_gen is the catalog's (no image left
// the pdq bucket since), near_ids maps its top id to the same image, and it comes from this
// catalog (created); then the images added since (near ids above top) are read from near_ids and
// added in memory. Anything else (missing, stale, damaged, another version) and the index is
// built from the pdq bucket as before, and the next writer rewrites the file. Written to a
// temporary name, synced, then renamed: a crash leaves the old file or the new one.
//
// The file keeps room (absent ids, zeros) for the images added after it was written: a process
// stores them in place in its private mapping, touching a few pages, instead of copying every
// array of the index to grow it (format version 1 had no room: one new image copied ~33 MB of
// whole-image index at 511,209 images, and the region index's ~165 MB of id space with it).
const (
	nearFileName    = "near.idx"
	nearFileMagic   = "RELCATNI"
	nearFileVersion = 2
	nearFileHeader  = 128
)

// persistMinHashes: below this many hashes, building the index from the pdq bucket takes a few
// milliseconds and no file is written. RELCAT_NEAR_FILE_MIN changes it (tests use 1).
var persistMinHashes = func() int {
	if n, err := strconv.Atoi(os.Getenv("RELCAT_NEAR_FILE_MIN")); err == nil && n > 0 {
		return n
	}
	return 20_000
}()

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// nearFileState is what the header of near.idx says.
type nearFileState struct {
	gen      uint64
	top      uint64
	topSHA   SHA256
	created  [32]byte
	indexLen uint64
	slots    uint64
}

func parseNearHeader(b []byte) (nearFileState, error) {
	var h nearFileState
	if len(b) < nearFileHeader || string(b[:8]) != nearFileMagic {
		return h, errors.New("not a relcat near index")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != nearFileVersion {
		return h, fmt.Errorf("format version %d, this relcat writes %d", v, nearFileVersion)
	}
	if crc32.Checksum(b[:112], castagnoli) != binary.LittleEndian.Uint32(b[112:]) {
		return h, errors.New("header checksum mismatch")
	}
	h.gen = binary.LittleEndian.Uint64(b[16:])
	h.top = binary.LittleEndian.Uint64(b[24:])
	copy(h.topSHA[:], b[32:])
	copy(h.created[:], b[64:])
	h.indexLen = binary.LittleEndian.Uint64(b[96:])
	h.slots = binary.LittleEndian.Uint64(b[104:])
	if h.top > maxNearID || h.slots != uint64(nearFileSlots(h.top)) {
		return h, fmt.Errorf("%d id slots for top id %d", h.slots, h.top)
	}
	return h, nil
}

// catalogNearState is what the catalog says the file must match.
func catalogNearState(tx *bolt.Tx) (gen uint64, created [32]byte) {
	meta := tx.Bucket(bucketMeta)
	gen, _ = strconv.ParseUint(string(meta.Get(keyNearGen)), 10, 64)
	created = sha256.Sum256(meta.Get(keyCreated))
	return gen, created
}

// current reports why the file described by h cannot serve this catalog ("" when it can).
func (h nearFileState) stale(tx *bolt.Tx) string {
	gen, created := catalogNearState(tx)
	switch {
	case h.created != created:
		return "written for another catalog"
	case h.gen != gen:
		return "images left the catalog since it was written"
	case h.top == 0:
		return ""
	case !bytes.Equal(tx.Bucket(bucketNearIDs).Get(seqKey(h.top)), h.topSHA[:]):
		return "the catalog does not hold its last image (restored from an older copy?)"
	}
	return ""
}

// openNearFile maps near.idx and returns the index it holds with the images added since, or nil
// and the reason when it cannot serve.
func (c *Catalog) openNearFile(tx *bolt.Tx) (*nearIndex, string) {
	f, err := os.Open(filepath.Join(c.dir, nearFileName))
	if err != nil {
		return nil, "no index file"
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < nearFileHeader {
		return nil, "index file too short"
	}
	hdr := make([]byte, nearFileHeader)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, "index file unreadable"
	}
	h, err := parseNearHeader(hdr)
	if err != nil {
		return nil, err.Error()
	}
	if why := h.stale(tx); why != "" {
		return nil, why
	}
	want := nearFileHeader + int64(h.indexLen) + int64(align64(32*int(h.slots))) + int64(h.slots)
	if h.indexLen%64 != 0 || fi.Size() != want {
		return nil, fmt.Sprintf("index file of %d bytes, header says %d", fi.Size(), want)
	}
	data, err := mapPrivate(f, int(fi.Size()))
	if err != nil {
		return nil, "cannot map the index file: " + err.Error()
	}
	ok := false
	defer func() {
		if !ok {
			_ = unmapPrivate(data)
		}
	}()
	ix, used, err := hindex.Load(data[nearFileHeader : nearFileHeader+int(h.indexLen)])
	if err != nil || used > int(h.indexLen) {
		return nil, fmt.Sprintf("index file damaged: %v", err)
	}
	at := nearFileHeader + int(h.indexLen)
	n := &nearIndex{ix: ix, top: h.top}
	if h.slots > 0 {
		n.shas = unsafe.Slice((*SHA256)(unsafe.Pointer(&data[at])), int(h.slots))
	}
	at += align64(32 * int(h.slots))
	n.qual = data[at : at+int(h.slots) : at+int(h.slots)]
	if err := n.addTail(tx, h.top); err != nil {
		return nil, err.Error()
	}
	ok = true
	c.maps = append(c.maps, data)
	c.idxFileTop = h.top
	return n, ""
}

func align64(n int) int { return (n + 63) &^ 63 }

// addTail adds the images whose near id is above top (added since the file was written).
func (n *nearIndex) addTail(tx *bolt.Tx, top uint64) error {
	pb := tx.Bucket(bucketPDQ)
	cur := tx.Bucket(bucketNearIDs).Cursor()
	for k, v := cur.Seek(seqKey(top + 1)); k != nil; k, v = cur.Next() {
		if len(k) != 8 || len(v) != 32 {
			return fmt.Errorf("near_ids entry %x malformed", k)
		}
		id := binary.BigEndian.Uint64(k)
		pv := pb.Get(v)
		p, err := parsePDQValue(pv)
		if err != nil {
			return fmt.Errorf("image %x pdq record: %v", v, err)
		}
		if pid, _ := pdqNearID(pv); pid != id || id > maxNearID {
			return fmt.Errorf("near id %d of image %x disagrees with its pdq record", id, v)
		}
		var s SHA256
		copy(s[:], v)
		n.add(s, p, id)
	}
	return nil
}

// nearFileTail is how many images added since the file was written make a writer rewrite it.
func nearFileTail(n int) int { return 4096 + n/32 }

// nearFileSlots is the number of near id slots a file covering ids up to top has: those, and room
// for twice the tail that makes a writer rewrite it.
func nearFileSlots(top uint64) int {
	return int(min(top+1+uint64(2*nearFileTail(int(top)+1)), maxNearID+1))
}

// persistIndex rewrites near.idx when it is missing, stale or far behind: a writer calls it when
// it closes the catalog (and reindex when done). Catalogs below persistMinHashes have no file.
func (c *Catalog) persistIndex(force bool) error {
	if c.readOnly {
		return nil
	}
	var hashes int
	var reason string
	err := c.view(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNearIDs)
		if nb == nil || tx.Bucket(bucketMeta) == nil {
			return nil // a catalog of an older schema: reindex writes it
		}
		// The last near id stands for the number of hashes (ids are handed out in order; removals
		// leave gaps): counting the bucket would walk all its pages at every writer's Close.
		if k, _ := nb.Cursor().Last(); len(k) == 8 {
			hashes = int(min(binary.BigEndian.Uint64(k), maxNearID))
		}
		if hashes < persistMinHashes {
			return nil
		}
		f, err := os.Open(filepath.Join(c.dir, nearFileName))
		if err != nil {
			reason = "missing"
			return nil
		}
		defer f.Close()
		hdr := make([]byte, nearFileHeader)
		if _, err := f.ReadAt(hdr, 0); err != nil {
			reason = "unreadable"
			return nil
		}
		h, err := parseNearHeader(hdr)
		if err != nil {
			reason = err.Error()
			return nil
		}
		if why := h.stale(tx); why != "" {
			reason = why
			return nil
		}
		tail := 0
		cur := tx.Bucket(bucketNearIDs).Cursor()
		for k, _ := cur.Seek(seqKey(h.top + 1)); k != nil && tail <= nearFileTail(hashes); k, _ = cur.Next() {
			tail++
		}
		if tail > nearFileTail(hashes) {
			reason = "behind"
		}
		return nil
	})
	if err != nil || hashes < persistMinHashes {
		if hashes < persistMinHashes {
			// A small catalog has no file; one left from before would only be stale.
			_ = os.Remove(filepath.Join(c.dir, nearFileName))
		}
		return err
	}
	if reason == "" && !force {
		return nil
	}
	ix, err := c.index()
	if err != nil {
		return err
	}
	return c.writeNearFile(ix)
}

// writeNearFile writes the index (under its write lock: WriteTo freezes pending ids) to near.idx.
func (c *Catalog) writeNearFile(n *nearIndex) error {
	var gen uint64
	var created [32]byte
	var topSHA SHA256
	n.mu.Lock()
	defer n.mu.Unlock()
	err := c.view(func(tx *bolt.Tx) error {
		gen, created = catalogNearState(tx)
		if n.top > 0 {
			if v := tx.Bucket(bucketNearIDs).Get(seqKey(n.top)); len(v) == 32 {
				copy(topSHA[:], v)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n.top > 0 && topSHA != n.shas[n.top] {
		return errors.New("catalog: the near index does not match near_ids (not persisted)")
	}
	slots := nearFileSlots(n.top)
	have := min(len(n.shas), slots) // the ids after it are room: written as zeros
	tmp, err := os.CreateTemp(c.dir, nearFileName+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := newHugeChunkWriter(tmp)
	hdr := make([]byte, nearFileHeader)
	copy(hdr, nearFileMagic)
	binary.LittleEndian.PutUint32(hdr[8:], nearFileVersion)
	binary.LittleEndian.PutUint64(hdr[16:], gen)
	binary.LittleEndian.PutUint64(hdr[24:], n.top)
	copy(hdr[32:], topSHA[:])
	copy(hdr[64:], created[:])
	n.ix.Compact()
	binary.LittleEndian.PutUint64(hdr[96:], uint64(n.ix.EncodedSizeWithRoom(slots)))
	binary.LittleEndian.PutUint64(hdr[104:], uint64(slots))
	binary.LittleEndian.PutUint32(hdr[112:], crc32.Checksum(hdr[:112], castagnoli))
	if _, err := w.Write(hdr); err != nil {
		tmp.Close()
		return err
	}
	if _, err := n.ix.WriteWithRoom(w, slots); err != nil {
		tmp.Close()
		return err
	}
	if have > 0 {
		if _, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&n.shas[0])), 32*have)); err != nil {
			tmp.Close()
			return err
		}
	}
	if _, err := w.Write(make([]byte, align64(32*slots)-32*have)); err != nil {
		tmp.Close()
		return err
	}
	if _, err := w.Write(n.qual[:have]); err != nil {
		tmp.Close()
		return err
	}
	if _, err := w.Write(make([]byte, slots-have)); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.dir, nearFileName)); err != nil {
		return err
	}
	if d, err := os.Open(c.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// errStop ends a ForEach early (the caller knows why).
var errStop = errors.New("stop")

// checkNearFile holds a current near.idx against the pdq bucket (a stale file is no problem: it is
// not used, and the next writer rewrites it) and says what it found. The file is mapped and checked
// in place, nothing rebuilt: every stored hash with a near id up to the file's top is in its index
// under that id, with its image and quality in the id arrays, and nothing else is (counts, zeros);
// the index's bucket tables agree with its hashes (hindex CheckTables); the id space is the room
// the writer keeps. Memory stays that of the mapping, whatever the catalog's size.
func (c *Catalog) checkNearFile(tx *bolt.Tx, add func(kind, subject, format string, args ...any)) string {
	f, err := os.Open(filepath.Join(c.dir, nearFileName))
	if err != nil {
		return "none"
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "none"
	}
	hdr := make([]byte, nearFileHeader)
	n, _ := f.ReadAt(hdr, 0)
	h, err := parseNearHeader(hdr[:n])
	if err != nil {
		add("index", nearFileName, "%v (it is not used; the next ingest or `relcat reindex` rewrites it)", err)
		return "damaged"
	}
	if why := h.stale(tx); why != "" {
		return "stale: " + why
	}
	differs := func() string {
		add("index", nearFileName, "differs from the index of the stored hashes (run `relcat reindex`)")
		return "damaged"
	}
	slots := int(h.slots)
	if h.indexLen%64 != 0 || fi.Size() != int64(nearFileHeader)+int64(h.indexLen)+int64(align64(32*slots))+int64(slots) {
		return differs()
	}
	data, err := mapPrivate(f, int(fi.Size()))
	if err != nil {
		return "not checked: cannot map it: " + err.Error()
	}
	defer func() { _ = unmapPrivate(data) }()
	ix, used, err := hindex.Load(data[nearFileHeader : nearFileHeader+int(h.indexLen)])
	// The file is read whole: let go of its pages as the check moves on (every slot's table,
	// every 16,384 hashes), or a million images' files would all stay resident.
	release := func() { releaseBytes(data) }
	if err != nil || used != int(h.indexLen) || ix.IDs() != slots || ix.CheckTables(release) != nil {
		return differs()
	}
	at := nearFileHeader + int(h.indexLen)
	shas := unsafe.Slice((*SHA256)(unsafe.Pointer(&data[at])), slots)
	qual := data[at+align64(32*slots) : at+align64(32*slots)+slots]
	mismatch := func(id int, s SHA256, q uint8) string {
		add("index", nearFileName, "near id %d: the file disagrees with the catalog's %s quality %d (run `relcat reindex`)", id, s, q)
		return "damaged"
	}
	// locate names the first stored hash the file disagrees with, looked up one by one.
	locate := func() string {
		var found string
		_ = tx.Bucket(bucketPDQ).ForEach(func(k, v []byte) error {
			id, ok := pdqNearID(v)
			if !ok || id > h.top || int(id) >= slots {
				return nil // reported by the pass that summed them
			}
			var hash [32]byte
			copy(hash[:], v[2+int(v[1]):])
			if got, ok := ix.Hash(uint32(id)); !ok || got != hash {
				found = differs()
				return errStop
			}
			if shas[id] != SHA256(k) || qual[id] != v[0] {
				found = mismatch(int(id), SHA256(k), v[0])
				return errStop
			}
			return nil
		})
		if found == "" {
			return differs() // an id in the file the catalog does not have (counts differ)
		}
		return found
	}
	// The hashes the catalog gives (id, image, quality, hash; in the pdq bucket's order) and those
	// the file holds (in id order), summed: a lookup in the file per hash would read it at random.
	// Only when they differ is each hash looked up, to name the first that disagrees.
	sums := newSetSums(2)
	stored, held := sums[0], sums[1]
	var idBuf [8]byte
	count := 0
	watch := mapWatch{tx: tx}
	var found string
	err = tx.Bucket(bucketPDQ).ForEach(func(k, v []byte) error {
		watch.step()
		id, ok := pdqNearID(v)
		if !ok || len(k) != 32 || id == 0 || id > maxNearID {
			return fmt.Errorf("pdq record %x: %d bytes, malformed or without a near id", k, len(v))
		}
		if id > h.top {
			return nil // added since the file was written
		}
		if int(id) >= slots {
			found = mismatch(int(id), SHA256(k), v[0])
			return errStop
		}
		binary.BigEndian.PutUint64(idBuf[:], id)
		stored.add(idBuf[:], k, v[:1], v[2+int(v[1]):][:32])
		count++
		return nil
	})
	if found != "" {
		return found
	}
	if err != nil {
		return "not checked: " + err.Error() // reported with the hashes
	}
	ix.Each(func(id uint32, hash [32]byte) {
		if held.n%16384 == 16383 {
			release()
		}
		binary.BigEndian.PutUint64(idBuf[:], uint64(id))
		held.add(idBuf[:], shas[id][:], qual[id:id+1], hash[:])
	})
	if !stored.same(held) {
		return locate()
	}
	// No image where the catalog has none (ids without a hash, the room): zeros.
	named := 0
	for id := range slots {
		switch {
		case shas[id] != SHA256{}:
			named++
		case qual[id] != 0:
			return mismatch(id, SHA256{}, 0)
		}
	}
	if named != count {
		for id := range slots {
			if shas[id] != (SHA256{}) {
				if _, ok := ix.Hash(uint32(id)); !ok {
					return mismatch(id, SHA256{}, 0)
				}
			}
		}
		return differs()
	}
	return fmt.Sprintf("current (%d hashes, near ids up to %d)", count, h.top)
}

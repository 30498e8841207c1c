package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/relcat/relcat/catalog/hindex"

	bolt "go.etcd.io/bbolt"
)

// The persisted region index (regions.idx beside catalog.db, issue 10): the region index of
// regionmatch.go, written by a writer when it closes the catalog and mapped in place by the next
// process, exactly as near.idx is for the whole-image index (nearfile.go) and under the same rule:
// a cache, never evidence; current when its near_gen, its top near id (and that id's image) and the
// catalog's creation match, then the region hashes of the images added since (near ids above top)
// are read from the regions bucket and added in memory; anything else and it is built from the
// regions bucket. Format:
//
//	header (128 bytes)  "RELCATRI", format version (4, LE), 0 (4), near_gen (8, LE), top near id
//	                    covered (8, LE), the SHA-256 of that id's image (32), SHA-256 of meta
//	                    "created" (32), index bytes (8, LE), 0 (16), CRC-32C of the bytes before (4), 0 (4)
//	index               hindex's persisted form (slots: near id << 3 | region position), with room
//	                    (hindex WriteWithRoom) for the slots of near ids up to nearFileSlots(top) - 1
//	                    when it holds any region hash, so that the images added later are stored
//	                    in place in the private mapping (regionFileRoom)
const (
	regionFileName    = "regions.idx"
	regionFileMagic   = "RELCATRI"
	regionFileVersion = 2
)

// openRegionFile maps regions.idx and returns the index it holds with the images added since, or
// nil and the reason when it cannot serve.
func (c *Catalog) openRegionFile(tx *bolt.Tx) (*regionIndex, string) {
	f, err := os.Open(filepath.Join(c.dir, regionFileName))
	if err != nil {
		return nil, "no region index file"
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < nearFileHeader {
		return nil, "region index file too short"
	}
	hdr := make([]byte, nearFileHeader)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, "region index file unreadable"
	}
	h, err := parseRegionHeader(hdr)
	if err != nil {
		return nil, err.Error()
	}
	if why := h.stale(tx); why != "" {
		return nil, why
	}
	if h.indexLen%64 != 0 || fi.Size() != nearFileHeader+int64(h.indexLen) {
		return nil, fmt.Sprintf("region index file of %d bytes, header says %d", fi.Size(), nearFileHeader+h.indexLen)
	}
	data, err := mapPrivate(f, int(fi.Size()))
	if err != nil {
		return nil, "cannot map the region index file: " + err.Error()
	}
	ix, used, err := hindex.Load(data[nearFileHeader:])
	if err != nil || used > int(h.indexLen) {
		_ = unmapPrivate(data)
		return nil, fmt.Sprintf("region index file damaged: %v", err)
	}
	r := &regionIndex{ix: ix, top: h.top}
	if err := r.addTail(tx, h.top); err != nil {
		_ = unmapPrivate(data)
		return nil, err.Error()
	}
	c.maps = append(c.maps, data)
	return r, ""
}

func parseRegionHeader(b []byte) (nearFileState, error) {
	var h nearFileState
	if len(b) < nearFileHeader || string(b[:8]) != regionFileMagic {
		return h, errors.New("not a relcat region index")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != regionFileVersion {
		return h, fmt.Errorf("region index format version %d, this relcat writes %d", v, regionFileVersion)
	}
	if crc32.Checksum(b[:112], castagnoli) != binary.LittleEndian.Uint32(b[112:]) {
		return h, errors.New("region index header checksum mismatch")
	}
	h.gen = binary.LittleEndian.Uint64(b[16:])
	h.top = binary.LittleEndian.Uint64(b[24:])
	copy(h.topSHA[:], b[32:])
	copy(h.created[:], b[64:])
	h.indexLen = binary.LittleEndian.Uint64(b[96:])
	if h.top > maxNearID {
		return h, fmt.Errorf("region index top id %d", h.top)
	}
	return h, nil
}

// addTail adds the region hashes of the images whose near id is above top.
func (r *regionIndex) addTail(tx *bolt.Tx, top uint64) error {
	rb := tx.Bucket(bucketRegions)
	cur := tx.Bucket(bucketNearIDs).Cursor()
	for k, v := cur.Seek(seqKey(top + 1)); k != nil; k, v = cur.Next() {
		if len(k) != 8 || len(v) != 32 {
			return fmt.Errorf("near_ids entry %x malformed", k)
		}
		id := binary.BigEndian.Uint64(k)
		r.top = max(r.top, id)
		if rb == nil {
			continue
		}
		rv := rb.Get(v)
		if rv == nil {
			continue
		}
		_, rs, err := parseRegionsValue(rv)
		if err != nil {
			return fmt.Errorf("image %x regions record: %v", v, err)
		}
		r.addLocked(id, rs)
	}
	return nil
}

// persistRegionIndex rewrites regions.idx when the catalog is large enough to have near.idx and the
// region file is missing, stale or behind by more than nearFileTail images (or force).
func (c *Catalog) persistRegionIndex(force bool) error {
	if c.readOnly {
		return nil
	}
	var hashes int
	var reason string
	err := c.view(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNearIDs)
		if nb == nil || tx.Bucket(bucketMeta) == nil || tx.Bucket(bucketRegions) == nil {
			return nil
		}
		// The last near id stands for the number of hashes, as in persistIndex (counting the
		// bucket walked all its pages at every writer's Close: 1M entries).
		if k, _ := nb.Cursor().Last(); len(k) == 8 {
			hashes = int(min(binary.BigEndian.Uint64(k), maxNearID))
		}
		if hashes < persistMinHashes {
			return nil
		}
		data := make([]byte, nearFileHeader)
		f, err := os.Open(filepath.Join(c.dir, regionFileName))
		if err != nil {
			reason = "missing"
			return nil
		}
		defer f.Close()
		if _, err := f.ReadAt(data, 0); err != nil {
			reason = "unreadable"
			return nil
		}
		h, err := parseRegionHeader(data)
		if err != nil {
			reason = err.Error()
			return nil
		}
		if why := h.stale(tx); why != "" {
			reason = why
			return nil
		}
		tail := 0
		cur := nb.Cursor()
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
			_ = os.Remove(filepath.Join(c.dir, regionFileName))
		}
		return err
	}
	if reason == "" && !force {
		return nil
	}
	r, err := c.regionIndex()
	if err != nil {
		return err
	}
	return c.writeRegionFile(r)
}

// writeRegionFile writes the region index (under its write lock) to regions.idx: temporary name,
// sync, rename.
func (c *Catalog) writeRegionFile(r *regionIndex) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gen uint64
	var created [32]byte
	var topSHA SHA256
	err := c.view(func(tx *bolt.Tx) error {
		gen, created = catalogNearState(tx)
		if r.top > 0 {
			v := tx.Bucket(bucketNearIDs).Get(seqKey(r.top))
			if len(v) != 32 {
				return errors.New("catalog: the region index's top near id is not in near_ids (not persisted)")
			}
			copy(topSHA[:], v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, regionFileName+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := newHugeChunkWriter(tmp)
	room := regionFileRoom(r.ix.Len(), r.top)
	r.ix.Compact()
	hdr := make([]byte, nearFileHeader)
	copy(hdr, regionFileMagic)
	binary.LittleEndian.PutUint32(hdr[8:], regionFileVersion)
	binary.LittleEndian.PutUint64(hdr[16:], gen)
	binary.LittleEndian.PutUint64(hdr[24:], r.top)
	copy(hdr[32:], topSHA[:])
	copy(hdr[64:], created[:])
	binary.LittleEndian.PutUint64(hdr[96:], uint64(align64(r.ix.EncodedSizeWithRoom(room))))
	binary.LittleEndian.PutUint32(hdr[112:], crc32.Checksum(hdr[:112], castagnoli))
	_, err = w.Write(hdr)
	if err == nil {
		var n int64
		n, err = r.ix.WriteWithRoom(w, room)
		if err == nil {
			_, err = w.Write(make([]byte, align64(int(n))-int(n)))
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.dir, regionFileName)); err != nil {
		return err
	}
	if d, err := os.Open(c.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// checkRegionFile holds a current regions.idx against the regions bucket (a stale file is no
// problem: it is not used) and says what it found. As checkNearFile does, it maps the file and
// checks it in place, nothing rebuilt: the region hashes the index should hold and those it holds,
// each under its slot, are the same (summed, verifysums.go), the bucket tables agree with the
// hashes (hindex CheckTables), the id space is the room the writer keeps, and the padding after the
// index is zeros.
func (c *Catalog) checkRegionFile(tx *bolt.Tx, add func(kind, subject, format string, args ...any)) string {
	f, err := os.Open(filepath.Join(c.dir, regionFileName))
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
	h, err := parseRegionHeader(hdr[:n])
	if err != nil {
		add("index", regionFileName, "%v (it is not used; the next ingest or `relcat reindex` rewrites it)", err)
		return "damaged"
	}
	if why := h.stale(tx); why != "" {
		return "stale: " + why
	}
	differs := func() string {
		add("index", regionFileName, "differs from the index of the stored region hashes (run `relcat reindex`)")
		return "damaged"
	}
	if h.indexLen%64 != 0 || fi.Size() != int64(nearFileHeader)+int64(h.indexLen) {
		return differs()
	}
	data, err := mapPrivate(f, int(fi.Size()))
	if err != nil {
		return "not checked: cannot map it: " + err.Error()
	}
	defer func() { _ = unmapPrivate(data) }()
	ix, used, err := hindex.Load(data[nearFileHeader:])
	release := func() { releaseBytes(data) } // as checkNearFile does
	if err != nil || used > int(h.indexLen) || !allZero(data[nearFileHeader+used:]) || ix.CheckTables(release) != nil {
		return differs()
	}
	// The region hashes the catalog gives (in the regions bucket's order) and those the file holds
	// (in slot order), summed: a lookup in the file per region hash would read its hashes at random.
	sums := newSetSums(2)
	stored, held := sums[0], sums[1]
	var slotBuf [4]byte
	count, natural := 0, 0
	err = forEachIndexedRegion(tx, h.top, func(slot uint32, hash [32]byte) {
		binary.BigEndian.PutUint32(slotBuf[:], slot)
		stored.add(slotBuf[:], hash[:])
		count++
		natural = max(natural, int(slot)+1)
	})
	if err != nil {
		return "not checked: " + err.Error() // reported with the regions records
	}
	ix.Each(func(slot uint32, hash [32]byte) {
		if held.n%16384 == 16383 {
			release()
		}
		binary.BigEndian.PutUint32(slotBuf[:], slot)
		held.add(slotBuf[:], hash[:])
	})
	if !stored.same(held) || ix.Len() != count || ix.IDs() != max(natural, regionFileRoom(count, h.top)) {
		return differs()
	}
	return fmt.Sprintf("current (%d region hashes, near ids up to %d)", count, h.top)
}

// regionFileRoom is the id space a region file covering near ids up to top keeps for an index
// that holds region hashes: the slots of the near id slots near.idx keeps (nearFileSlots). An index
// without any (a catalog of images without pixels, or written before region hashes) keeps none
// (0): its file would be mostly zeros (8 slots of 33 bytes per image).
func regionFileRoom(hashes int, top uint64) int {
	if hashes == 0 {
		return 0
	}
	return min(nearFileSlots(min(top, maxRegionNearID)), maxRegionNearID+1) << regionSlotBits
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

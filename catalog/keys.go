package catalog

// The whole on-disk format of a catalog lives in this file.
//
// A catalog is a directory:
//
//	catalog.db           bbolt, the buckets below
//	catalog.pid          pid of the process holding the write lock (informative)
//	objects/ab/<sha256>  preserved original bytes, read-only, content-addressed
//	thumbs/ab/<sha256>.jpg
//
// Buckets (all keys are raw bytes, big-endian integers so that cursors walk in order):
//
//	meta           "schema" -> decimal schema version; "created" -> RFC 3339 time; "id" -> 16 hex
//	               digits, random, the catalog's identity in the bundles it exports (a catalog
//	               without one is named by a hash of "created")
//	affiliates     slug -> JSON Affiliate
//	batches        batch id (8 bytes) -> JSON Batch
//	batch_images   batch id (8) | position (4, BE) -> JSON sightingRecord (sha256, name as text,
//	               raw_name: the exact bytes when not UTF-8)
//	images         sha256 (32) -> JSON Image
//	image_batches  sha256 (32) | batch id (8) | position (4, BE) -> file name, exact bytes
//	md5            md5 (16) | sha256 (32) -> empty (an MD5 collision keeps both images)
//	pdq            sha256 (32) -> quality (1) | variant length (1) | variant | 8 hashes of 32 bytes
//	               (relcat's work-image variant, pdq-area1024: what near matching uses)
//	pdq_ref        sha256 (32) -> the same encoding, variant pdq-full: the reference full-resolution
//	               PDQ computed from the same decode (what partners' hash lists hold). Schema 2.
//	               An image decoded by a schema-1 build has none until UpgradeReferencePDQ runs.
//	log            sequence (8, BE) -> JSON LogEntry (hash-chained)
//	watchlists     name -> JSON Watchlist (created by the first watchlist import)
//	watch_entries  name | 0x00 | index (4, BE) -> JSON ListEntry (kind, hash hex, quality, label, line)
//
// Changing any of this requires bumping SchemaVersion.
//
// Version 2 (this session): sightings keyed by the exact file name bytes (raw_name in batch_images
// and in log entries' files).

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the version of the on-disk format written by this build.
//
// Version 2 adds, among others, the pdq_ref bucket. A version-1 catalog is refused with a message
// naming `relcat reindex`, which upgrades it (UpgradeReferencePDQ recomputes pdq_ref from the
// preserved originals).
const SchemaVersion = 2

const (
	dbFileName  = "catalog.db"
	pidFileName = "catalog.pid"
	objectsDir  = "objects"
)

var (
	bucketMeta         = []byte("meta")
	bucketAffiliates   = []byte("affiliates")
	bucketBatches      = []byte("batches")
	bucketBatchImages  = []byte("batch_images")
	bucketImages       = []byte("images")
	bucketImageBatches = []byte("image_batches")
	bucketMD5          = []byte("md5")
	bucketPDQ          = []byte("pdq")
	bucketPDQRef       = []byte("pdq_ref")
	bucketLog          = []byte("log")
	bucketWatchlists   = []byte("watchlists")
	bucketWatchEntries = []byte("watch_entries")

	allBuckets = [][]byte{bucketMeta, bucketAffiliates, bucketBatches, bucketBatchImages,
		bucketImages, bucketImageBatches, bucketMD5, bucketPDQ, bucketPDQRef, bucketLog}

	keySchema    = []byte("schema")
	keyCreated   = []byte("created")
	keyCatalogID = []byte("id")
)

// batchImageKey is batch id | position.
func batchImageKey(b BatchID, pos int) []byte {
	k := make([]byte, 12)
	copy(k, b[:])
	binary.BigEndian.PutUint32(k[8:], uint32(pos))
	return k
}

// imageBatchKey is sha256 | batch id | position.
func imageBatchKey(s SHA256, b BatchID, pos int) []byte {
	k := make([]byte, 44)
	copy(k, s[:])
	copy(k[32:], b[:])
	binary.BigEndian.PutUint32(k[40:], uint32(pos))
	return k
}

func parseImageBatchKey(k []byte) (SHA256, BatchID, int, error) {
	var s SHA256
	var b BatchID
	if len(k) != 44 {
		return s, b, 0, fmt.Errorf("image_batches key of %d bytes, want 44", len(k))
	}
	copy(s[:], k)
	copy(b[:], k[32:])
	return s, b, int(binary.BigEndian.Uint32(k[40:])), nil
}

func parseBatchImageKey(k []byte) (BatchID, int, error) {
	var b BatchID
	if len(k) != 12 {
		return b, 0, fmt.Errorf("batch_images key of %d bytes, want 12", len(k))
	}
	copy(b[:], k)
	return b, int(binary.BigEndian.Uint32(k[8:])), nil
}

// md5Key is md5 | sha256: MD5 collisions are cheap to make, so the index keeps every image of an MD5.
func md5Key(m MD5, s SHA256) []byte {
	k := make([]byte, 48)
	copy(k, m[:])
	copy(k[16:], s[:])
	return k
}

func seqKey(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

// pdqValue encodes the pdq bucket value.
func pdqValue(p *PDQInfo) []byte {
	v := make([]byte, 0, 2+len(p.Variant)+8*32)
	v = append(v, byte(p.Quality), byte(len(p.Variant)))
	v = append(v, p.Variant...)
	for _, h := range p.Dihedral {
		v = append(v, h[:]...)
	}
	return v
}

func parsePDQValue(v []byte) (*PDQInfo, error) {
	if len(v) < 2 {
		return nil, fmt.Errorf("pdq value of %d bytes", len(v))
	}
	n := int(v[1])
	if len(v) != 2+n+8*32 {
		return nil, fmt.Errorf("pdq value of %d bytes, want %d", len(v), 2+n+8*32)
	}
	p := &PDQInfo{Quality: int(v[0]), Variant: string(v[2 : 2+n])}
	rest := v[2+n:]
	for i := range p.Dihedral {
		copy(p.Dihedral[i][:], rest[i*32:])
	}
	p.Hash = p.Dihedral[0]
	return p, nil
}

// objectRelPath is where the preserved original of s lives, relative to the catalog directory.
func objectRelPath(s SHA256) string {
	h := hex.EncodeToString(s[:])
	return objectsDir + "/" + h[:2] + "/" + h
}

// putPDQRef stores the reference full-resolution PDQ of s (nothing when p is nil).
func putPDQRef(tx *bolt.Tx, s SHA256, p *PDQInfo) error {
	if p == nil {
		return nil
	}
	return tx.Bucket(bucketPDQRef).Put(s[:], pdqValue(p))
}

// watchEntryPrefix is name | 0x00: every entry of one watchlist (names are slugs: no 0x00).
func watchEntryPrefix(name string) []byte {
	return append([]byte(name), 0)
}

// watchEntryKey is name | 0x00 | index.
func watchEntryKey(name string, i int) []byte {
	k := watchEntryPrefix(name)
	return binary.BigEndian.AppendUint32(k, uint32(i))
}

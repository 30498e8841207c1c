package catalog

// The whole on-disk format of a catalog lives in this file.
//
// A catalog is a directory:
//
//	catalog.db           bbolt, the buckets below
//	catalog.pid          pid of the process holding the write lock (informative)
//	catalog.lock         the writer lock (flock, exclusive, held by a writer from Open to Close)
//	catalog.gate         commits take it exclusively, readers shared while opening (lock.go)
//	objects/ab/<sha256>  preserved original bytes, read-only, content-addressed
//	thumbs/ab/<sha256>.jpg
//	near.idx, regions.idx  persisted indexes (caches, never evidence: nearfile.go, regionfile.go)
//
// Buckets (all keys are raw bytes, big-endian integers so that cursors walk in order):
//
//	meta           "schema" -> decimal schema version; "created" -> RFC 3339 time;
//	               "log_head" -> JSON {seq, hash} of the last log entry (schema 2); "id" -> 16 hex
//	               digits, random, the catalog's identity in the bundles it exports (a catalog
//	               without one is named by a hash of "created")
//	affiliates     slug -> JSON Affiliate
//	batches        batch id (8 bytes) -> JSON Batch ("incomplete": true while an ingest of it is unfinished)
//	batch_images   batch id (8) | position (4, BE) -> JSON sightingRecord (sha256, name as text,
//	               raw_name: the exact bytes when not UTF-8)
//	images         sha256 (32) -> JSON Image
//	image_batches  sha256 (32) | batch id (8) | position (4, BE) -> file name, exact bytes
//	md5            md5 (16) | sha256 (32) -> empty (an MD5 collision keeps both images)
//	pdq            sha256 (32) -> quality (1) | variant length (1) | variant | 8 hashes of 32 bytes
//	               | near id (8, BE; schema 2): the image's id in the near-duplicate index, given in
//	               arrival order (a later image has a larger id)
//	               (relcat's work-image variant, pdq-area1024: what near matching uses)
//	pdq_ref        sha256 (32) -> the same encoding (without near id), variant pdq-full: the reference
//	               full-resolution PDQ computed from the same decode (what partners' hash lists hold).
//	               Schema 2. An image decoded by a schema-1 build has none until UpgradeReferencePDQ runs.
//	near_ids       near id (8, BE) -> sha256 (32): the pdq bucket's images in arrival order (schema 2)
//	edges          sha256 A (32) | kind (1) | sha256 B (32) | kind-specific suffix (empty for kind 0)
//	               -> distance (1) | transform (1) | quality of B's hash (1)      (schema 2)
//	               A near-duplicate edge, stored in both directions (A|kind|B and B|kind|A), so that
//	               the edges of an image are one prefix scan. Kind 0 (edgeWhole) compares the whole
//	               images' PDQ; the transform is how A relates to B (pdq.Transform, as Match.Transform
//	               says for a query A), the reverse entry holds its inverse. Kind 0 edges exist for
//	               every pair within EdgeMaxDistance whose hashes both reach EdgeMinQuality. Other
//	               kinds append their own suffix after B and keep the same value layout.
//	               Kind 1 (edgeRegion, issue 10): the two images match through their region hashes
//	               (regionmatch.go) and have no kind-0 edge. Suffix (4 bytes, the SAME in both
//	               directions, so that the reverse key is A and B swapped): region code and param of
//	               the image with the smaller SHA-256, then those of the other. The distance is
//	               RegionDistance of that pair of hash records, the transform as-is or flipy (its own
//	               inverse), the quality that of B's record. At most one kind-1 edge per pair: the best
//	               pair of records (regionPairMatch).
//	regions        sha256 (32) -> region hashes of the image (schema 2, additive: created by the first
//	               writable open that lacks it; an image without an entry is matched whole-image only):
//	               set version (1, RegionSetVersion) | count (1) | count x [region code (1) | param (1)
//	               | quality (1) | as-is hash (32) | mirrored (flipy) hash (32)]. A count of 0 records
//	               that the image was hashed and has no region worth a hash.
//	log            sequence (8, BE) -> JSON LogEntry (hash-chained; "run" groups one ingest's entries,
//	               "complete" ends it; schema 2: each entry carries the record of its batch and the
//	               digest of all batch records: batches_sum, the multiset hash of batchdigest.go,
//	               or, in entries written before it, batches_digest; see appendLog)
//	search         field (1) | value | sha256 (32) -> empty   (schema 2; see searchKey below)
//	               the metadata indexes of `relcat search` and `relcat cameras`, kept by the writer
//	               for every image record, rebuilt from the image records by UpgradeSearchIndex
//	batch_aka      alias (8) | batch id (8) -> empty: every Batch.Aka of every batch record (schema 2,
//	               additive, derived: trusted only while meta's "batch_aka_at" is the SHA-256 of meta's
//	               "batches_sum"; else readers read the records and the next writer rebuilds it;
//	               batchaka.go)
//	watchlists     name -> JSON Watchlist (created by the first watchlist import)
//	watch_entries  name | 0x00 | index (4, BE) -> JSON ListEntry (kind, hash hex, quality, label, line)
//
// meta also holds (schema 2) "near_gen" -> decimal counter bumped whenever an image leaves the pdq
// bucket or the near ids are renumbered (a persisted index built before is stale), and
// "edges_max" -> the EdgeMaxDistance the stored edges were computed with.
//
// Changing any of this requires bumping SchemaVersion.
//
// Version 2 (this session): sightings keyed by the exact file name bytes (raw_name in batch_images
// and in log entries' files); the log head in meta and, in every log entry, the record of its batch
// and the digest of all batch records (UpgradeLogHeadV2 records the head for a schema-1 catalog).

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/relcat/relcat/catalog/pdq"
)

// SchemaVersion is the version of the on-disk format written by this build.
//
// Version 2 (this session) adds near ids, the near_ids and edges buckets, the pdq_ref bucket and exact
// file-name bytes in sightings. A version-1 catalog is refused with a message naming `relcat reindex`,
// which upgrades it in place (reindex.go lists every upgrade step).
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
	bucketNearIDs      = []byte("near_ids")
	bucketEdges        = []byte("edges")
	bucketSearch       = []byte("search")
	bucketWatchlists   = []byte("watchlists")
	bucketWatchEntries = []byte("watch_entries")
	bucketRegions      = []byte("regions")
	bucketBatchAka     = []byte("batch_aka") // see batchaka.go: created by a writer, trusted per keyBatchAkaAt

	allBuckets = [][]byte{bucketMeta, bucketAffiliates, bucketBatches, bucketBatchImages,
		bucketImages, bucketImageBatches, bucketMD5, bucketPDQ, bucketPDQRef, bucketLog, bucketNearIDs, bucketEdges,
		bucketSearch}

	// optionalBuckets were added to schema 2 after catalogs of it existed: a writable open creates
	// them when missing; readers treat a missing one as empty.
	optionalBuckets = [][]byte{bucketRegions}

	keySchema    = []byte("schema")
	keyCreated   = []byte("created")
	keyCatalogID = []byte("id")
	keyNearGen   = []byte("near_gen")
	keyEdgesMax  = []byte("edges_max")
	keyLogHead   = []byte("log_head") // schema 2: JSON {"seq","hash"} of the last log entry
	// keyBatchesSum: the writer's running multiset hash of the batch records (batchdigest.go):
	// uvarint length | the log_head value it is current at | 1,024 x uint16 LE lanes.
	keyBatchesSum = []byte("batches_sum")
	// keyBatchAkaAt: the SHA-256 of the batches_sum value at which batch_aka lists every alias.
	keyBatchAkaAt = []byte("batch_aka_at")
)

// Edge kinds (the byte after A in an edges key).
const (
	edgeWhole  byte = 0 // whole-image PDQ
	edgeRegion byte = 1 // region hashes (issue 10)
)

// regionRecordLen is the stored size of one region hash record.
const regionRecordLen = 3 + 2*32

// maxStoredRegions bounds the region hashes of one image (the region index gives each image 8 slots).
const maxStoredRegions = 1 << regionSlotBits

// regionsValue encodes an image's region hashes (keys.go: bucket regions).
func regionsValue(rs []RegionHash) []byte {
	v := make([]byte, 0, 2+len(rs)*regionRecordLen)
	v = append(v, RegionSetVersion, byte(len(rs)))
	for _, r := range rs {
		v = append(v, byte(r.Region), r.Param, byte(r.Quality))
		v = append(v, r.AsIs[:]...)
		v = append(v, r.Mirror[:]...)
	}
	return v
}

// parseRegionsValue decodes a regions bucket value: the set version and the hashes.
func parseRegionsValue(v []byte) (int, []RegionHash, error) {
	if len(v) < 2 {
		return 0, nil, &recordError{fmt.Errorf("regions value of %d bytes", len(v))}
	}
	n := int(v[1])
	if n > maxStoredRegions || len(v) != 2+n*regionRecordLen {
		return 0, nil, &recordError{fmt.Errorf("regions value of %d bytes for %d regions", len(v), n)}
	}
	rs := make([]RegionHash, n)
	for i := range rs {
		b := v[2+i*regionRecordLen:]
		if b[0] == byte(RegionWhole) || b[2] > 100 {
			return 0, nil, &recordError{fmt.Errorf("regions value: record %d has region %d, quality %d", i, b[0], b[2])}
		}
		rs[i] = RegionHash{Region: Region(b[0]), Param: b[1], Quality: int(b[2])}
		copy(rs[i].AsIs[:], b[3:35])
		copy(rs[i].Mirror[:], b[35:67])
	}
	return int(v[0]), rs, nil
}

// regionEdgeSuffix is the suffix of a kind-1 edge between a (record ra) and b (record rb): the
// record of the image with the smaller SHA-256 first, so both directions carry the same suffix.
func regionEdgeSuffix(a SHA256, ra RegionHash, b SHA256, rb RegionHash) []byte {
	if bytes.Compare(a[:], b[:]) > 0 {
		ra, rb = rb, ra
	}
	return []byte{byte(ra.Region), ra.Param, byte(rb.Region), rb.Param}
}

// parseRegionEdgeSuffix returns, from a kind-1 edge a -> b, a's region and param, then b's.
func parseRegionEdgeSuffix(a, b SHA256, suffix []byte) (ra Region, pa uint8, rb Region, pb uint8, err error) {
	if len(suffix) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("region edge suffix of %d bytes, want 4", len(suffix))
	}
	ra, pa, rb, pb = Region(suffix[0]), suffix[1], Region(suffix[2]), suffix[3]
	if bytes.Compare(a[:], b[:]) > 0 {
		ra, pa, rb, pb = rb, pb, ra, pa
	}
	return ra, pa, rb, pb, nil
}

// edgeKey is a | kind | b | suffix.
func edgeKey(a SHA256, kind byte, b SHA256, suffix []byte) []byte {
	k := make([]byte, 65+len(suffix))
	copy(k, a[:])
	k[32] = kind
	copy(k[33:], b[:])
	copy(k[65:], suffix)
	return k
}

// edgePrefix is a | kind: the prefix of a's edges of that kind.
func edgePrefix(a SHA256, kind byte) []byte {
	k := make([]byte, 33)
	copy(k, a[:])
	k[32] = kind
	return k
}

func edgeValue(dist int, t pdq.Transform, qualityB int) []byte {
	return []byte{byte(dist), byte(t), byte(qualityB)}
}

// storedEdge is one decoded edges entry.
type storedEdge struct {
	a, b     SHA256
	kind     byte
	suffix   []byte
	dist     int
	tr       pdq.Transform
	qualityB int
}

func parseEdge(k, v []byte) (storedEdge, error) {
	var e storedEdge
	if len(k) < 65 {
		return e, fmt.Errorf("edges key of %d bytes, want at least 65", len(k))
	}
	if len(v) != 3 || int(v[1]) >= 8 || v[2] > 100 {
		return e, fmt.Errorf("edges value %x: want distance, transform (0-7), quality (0-100)", v)
	}
	copy(e.a[:], k)
	e.kind = k[32]
	copy(e.b[:], k[33:])
	if len(k) > 65 {
		e.suffix = k[65:]
	}
	e.dist, e.tr, e.qualityB = int(v[0]), pdq.Transform(v[1]), int(v[2])
	return e, nil
}

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
		return s, b, 0, &recordError{fmt.Errorf("image_batches key of %d bytes, want 44", len(k))}
	}
	copy(s[:], k)
	copy(b[:], k[32:])
	return s, b, int(binary.BigEndian.Uint32(k[40:])), nil
}

func parseBatchImageKey(k []byte) (BatchID, int, error) {
	var b BatchID
	if len(k) != 12 {
		return b, 0, &recordError{fmt.Errorf("batch_images key of %d bytes, want 12", len(k))}
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

// pdqNearValue is the pdq bucket's value: the hash encoding, then the near id.
func pdqNearValue(p *PDQInfo, id uint64) []byte {
	return binary.BigEndian.AppendUint64(pdqValue(p), id)
}

// pdqNearID reads the near id at the end of a pdq bucket value (ok false for a value without one).
func pdqNearID(v []byte) (uint64, bool) {
	if len(v) < 2 || len(v) != 2+int(v[1])+8*32+8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v[len(v)-8:]), true
}

// pdqValue encodes a hash record: quality | variant length | variant | 8 hashes.
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
		return nil, &recordError{fmt.Errorf("pdq value of %d bytes", len(v))}
	}
	n := int(v[1])
	if len(v) == 2+n+8*32+8 {
		v = v[:len(v)-8] // the near id of the pdq bucket
	}
	if len(v) != 2+n+8*32 {
		return nil, &recordError{fmt.Errorf("pdq value of %d bytes, want %d", len(v), 2+n+8*32)}
	}
	if v[0] > 100 {
		return nil, fmt.Errorf("pdq value with quality %d", v[0])
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

// Fields of the search bucket (the first byte of a key). Text values are lowercased, trimmed, NUL-free
// and followed by one 0x00, so an exact value is one prefix (field | value | 0x00) and a value prefix
// ("canon*") is another (field | prefix). Fixed-width values have no terminator.
const (
	searchMake     byte = 'k' // EXIF make
	searchModel    byte = 'm' // EXIF model
	searchSerial   byte = 's' // body serial (junk serials such as "0000" are left out)
	searchLens     byte = 'l' // lens model
	searchSoftware byte = 'w' // software
	searchFormat   byte = 'f' // sniffed format
	searchBody     byte = 'b' // camera body: see cameraBodyKey
	searchStripped byte = 'x' // no EXIF: no value
	searchLowQual  byte = 'q' // perceptual hash below DefaultMinQuality: no value
	searchTaken    byte = 't' // DateTimeOriginal: 8 bytes BE, Unix seconds + searchTimeBias (UTC; the wall time read as UTC when the zone is unknown)
	searchGPS      byte = 'g' // position: 4 bytes BE (lat+90)*1e7, 4 bytes BE (lon+180)*1e7
)

// searchTimeBias keeps every representable EXIF year (1..9999) positive as a Unix time.
const searchTimeBias = 1 << 40

// searchKey is field | value | sha256.
func searchKey(field byte, value []byte, s SHA256) []byte {
	k := make([]byte, 0, 1+len(value)+32)
	k = append(k, field)
	k = append(k, value...)
	return append(k, s[:]...)
}

// searchText is the stored form of a text value: lowercased, trimmed, without NUL, terminated.
func searchText(v string) []byte {
	v = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(v, "\x00", "")))
	return append([]byte(v), 0)
}

func searchTimeValue(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.Unix()+searchTimeBias))
}

func searchGPSValue(lat, lon float64) []byte {
	v := binary.BigEndian.AppendUint32(nil, uint32(math.Round((lat+90)*1e7)))
	return binary.BigEndian.AppendUint32(v, uint32(math.Round((lon+180)*1e7)))
}

func parseSearchGPS(v []byte) (lat, lon float64) {
	return float64(binary.BigEndian.Uint32(v))/1e7 - 90, float64(binary.BigEndian.Uint32(v[4:]))/1e7 - 180
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

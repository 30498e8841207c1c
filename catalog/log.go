package catalog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// LogEntry is one change to the catalog. Entries are hash-chained: Hash is the SHA-256 of the entry's
// canonical JSON with Hash empty, and Prev is the Hash of the entry before (empty for the first).
type LogEntry struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Operator  string    `json:"operator,omitempty"`
	Command   string    `json:"command,omitempty"`
	Tool      string    `json:"tool"`
	Action    string    `json:"action"`
	Batch     string    `json:"batch,omitempty"`
	Affiliate string    `json:"affiliate,omitempty"`
	Released  string    `json:"released,omitempty"`
	Files     []LogFile `json:"files,omitempty"`
	Notes     []string  `json:"notes,omitempty"`
	// Run groups the entries of one ingest: the sequence number of its first entry. Complete marks
	// the run's last entry, written when every file was committed; a run without it was interrupted.
	Run      uint64 `json:"run,omitempty"`
	Complete bool   `json:"complete,omitempty"`
	// BatchRecord is the record of Batch as this entry's transaction left it (absent: no record), and
	// BatchesSum the digest of every batch record then (the multiset hash of batchdigest.go): verify
	// holds the batch records against them, so a record changed behind the log's back (a release
	// date, an affiliate) is found. appendLog fills both; it must be called after the transaction's
	// record writes. BatchesDigest is what entries written before BatchesSum carry instead (the
	// SHA-256 of every batch record in key order, batchesDigest): verify still checks it when it is
	// the last entry's; no entry gets it any more (computing it read every batch record).
	BatchRecord   json.RawMessage `json:"batch_record,omitempty"`
	BatchesDigest string          `json:"batches_digest,omitempty"`
	BatchesSum    string          `json:"batches_sum,omitempty"`
	Prev          string          `json:"prev"`
	Hash          string          `json:"hash"`
}

// logHead is the last log entry as meta records it (keyLogHead): removing trailing entries leaves a
// valid chain, but not this.
type logHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// LogFile is one file recorded by a log entry.
type LogFile struct {
	SHA256   string `json:"sha256"`
	Name     string `json:"name"`               // as text (bytes that are not UTF-8 as \xNN)
	RawName  []byte `json:"raw_name,omitempty"` // the exact bytes, when the name is not valid UTF-8
	Position int    `json:"position"`
	Status   string `json:"status"`
}

// raw is the exact file name bytes.
func (f LogFile) raw() string {
	if f.RawName != nil {
		return string(f.RawName)
	}
	return f.Name
}

// entryHash is the chain hash of e (computed with e.Hash empty).
func entryHash(e LogEntry) (string, error) {
	e.Hash = ""
	data, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:]), nil
}

// nextLogSeq is the sequence number the next entry appended in tx gets.
func nextLogSeq(tx *bolt.Tx) uint64 {
	k, _ := tx.Bucket(bucketLog).Cursor().Last()
	if len(k) != 8 {
		return 1
	}
	return binary.BigEndian.Uint64(k) + 1
}

// appendLog appends e to the log inside tx, filling Seq, Prev and Hash, the batch record and digest
// (see LogEntry), and the log head in meta. Call it last in a transaction, after the record writes.
func appendLog(tx *bolt.Tx, e *LogEntry) error {
	b := tx.Bucket(bucketLog)
	e.BatchRecord = nil
	if id, err := hex.DecodeString(e.Batch); err == nil && len(id) == len(BatchID{}) {
		if v := tx.Bucket(bucketBatches).Get(id); v != nil {
			e.BatchRecord = append(json.RawMessage(nil), v...)
		}
	}
	aka := akaCurrent(tx)
	sum := loadBatchSum(tx)
	e.BatchesDigest = ""
	e.BatchesSum = sum.digest()
	k, v := b.Cursor().Last()
	e.Seq = 1
	e.Prev = ""
	if k != nil {
		var last LogEntry
		if err := json.Unmarshal(v, &last); err != nil {
			return fmt.Errorf("log entry %x: %w", k, err)
		}
		e.Seq = last.Seq + 1
		e.Prev = last.Hash
	}
	e.Time = e.Time.UTC()
	// Hash the entry as it will read back: JSON replaces bytes that are not UTF-8 (a folder name
	// from a legacy-encoded archive in Command, an operator name), so hash the stored form.
	if data, err := json.Marshal(e); err != nil {
		return err
	} else if err := json.Unmarshal(data, e); err != nil {
		return err
	}
	h, err := entryHash(*e)
	if err != nil {
		return err
	}
	e.Hash = h
	if err := putJSON(b, seqKey(e.Seq), e); err != nil {
		return err
	}
	if err := putJSON(tx.Bucket(bucketMeta), keyLogHead, logHead{Seq: e.Seq, Hash: e.Hash}); err != nil {
		return err
	}
	if err := storeBatchSum(tx, sum, aka); err != nil {
		return err
	}
	if !aka {
		// The alias index was not current (a catalog written by a relcat without it): rebuilt
		// once here, then kept by putBatchRecord and deleteBatchRecord.
		return rebuildAka(tx)
	}
	return nil
}

// batchesDigest is the SHA-256 of every batch record (key and value, length-prefixed, in key order):
// the digest of entries written before BatchesSum.
func batchesDigest(tx *bolt.Tx) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	_ = tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		h.Write(k)
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		h.Write(v)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

// UpgradeLogHeadV2 records the log head in meta (schema 2) for a catalog written before it existed;
// `relcat reindex` calls it when upgrading a schema-1 catalog. Older entries carry no batch records,
// and verify then holds the batch records only against their identity.
func UpgradeLogHeadV2(tx *bolt.Tx) error {
	k, v := tx.Bucket(bucketLog).Cursor().Last()
	if k == nil {
		return nil
	}
	var last LogEntry
	if err := json.Unmarshal(v, &last); err != nil {
		return fmt.Errorf("log entry %x: %w", k, err)
	}
	return putJSON(tx.Bucket(bucketMeta), keyLogHead, logHead{Seq: last.Seq, Hash: last.Hash})
}

// Log calls fn for every log entry in order; fn returning false stops.
func (c *Catalog) Log(fn func(LogEntry) bool) error { return c.logWhere(nil, fn) }

// logWhere is Log for the entries whose stored bytes skip does not reject (nil: all): a reader that
// wants a few entries of a long log skips the others undecoded.
func (c *Catalog) logWhere(skip func(raw []byte) bool, fn func(LogEntry) bool) error {
	return c.view(func(tx *bolt.Tx) error {
		watch := mapWatch{tx: tx}
		cur := tx.Bucket(bucketLog).Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			watch.step()
			if skip != nil && skip(v) {
				continue
			}
			var e LogEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("log entry %x: %w", k, err)
			}
			if !fn(e) {
				return nil
			}
		}
		return nil
	})
}

// LogOptions select the entries LogEach lists.
type LogOptions struct {
	Since time.Time // only entries at or after this time
	Limit int       // only the first this many (0: all)
}

// LogEach calls fn for the log entries in order, from the first at or after o.Since, at most
// o.Limit of them; fn returning false stops. Entries are appended with the catalog's clock, so
// their times increase with their sequence numbers: Since is found by a binary search over the
// sequence (a few entries decoded), not by reading the log from the start.
func (c *Catalog) LogEach(o LogOptions, fn func(LogEntry) bool) error {
	return c.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLog)
		cur := b.Cursor()
		k, v := cur.First()
		if k != nil && !o.Since.IsZero() {
			lk, _ := cur.Last()
			lo, hi := binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(lk)+1
			// The first sequence number whose entry is at or after Since (entries whose time
			// cannot be read count as before it).
			for lo < hi {
				mid := lo + (hi-lo)/2
				mk, mv := cur.Seek(seqKey(mid))
				var e struct {
					Time time.Time `json:"time"`
				}
				if mk == nil || (json.Unmarshal(mv, &e) == nil && !e.Time.Before(o.Since)) {
					hi = mid
				} else {
					lo = binary.BigEndian.Uint64(mk) + 1
				}
			}
			k, v = cur.Seek(seqKey(lo))
		}
		n := 0
		watch := mapWatch{tx: tx}
		for ; k != nil; k, v = cur.Next() {
			watch.step()
			var e LogEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("log entry %x: %w", k, err)
			}
			if !o.Since.IsZero() && e.Time.Before(o.Since) {
				continue
			}
			if !fn(e) {
				return nil
			}
			if n++; o.Limit > 0 && n >= o.Limit {
				return nil
			}
		}
		return nil
	})
}

// chainCheck verifies the log's hash chain entry by entry (verify's one pass over the log): one
// problem per broken link.
type chainCheck struct {
	prev     string
	want     uint64 // the sequence number the next entry must have (0: 1)
	problems []string
}

// entry checks the next entry (key k; e decoded, or err when it could not be).
func (c *chainCheck) entry(k []byte, e *LogEntry, err error) {
	if c.want == 0 {
		c.want = 1
	}
	if err != nil {
		c.problems = append(c.problems, fmt.Sprintf("log entry %x: unreadable: %v", k, err))
		c.prev = ""
		c.want++
		return
	}
	if string(k) != string(seqKey(e.Seq)) || e.Seq != c.want {
		c.problems = append(c.problems, fmt.Sprintf("log entry %d: out of sequence (expected %d)", e.Seq, c.want))
	}
	c.want = e.Seq + 1
	if e.Prev != c.prev {
		c.problems = append(c.problems, fmt.Sprintf("log entry %d: chain broken: prev %.16s… does not match the entry before (%.16s…)", e.Seq, e.Prev, c.prev))
	}
	h, herr := entryHash(*e)
	if herr != nil || h != e.Hash {
		c.problems = append(c.problems, fmt.Sprintf("log entry %d: altered: its content does not hash to its recorded hash", e.Seq))
	}
	c.prev = e.Hash
}

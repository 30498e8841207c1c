package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The alias index: which batch answers to an identity it no longer has (Batch.Aka, left by an
// affiliate rename or merge or a batch edit). An ingest looks its release's identity up there
// (batchFor); without it, every new release read every batch record (66,000 at a million images).
//
// bucketBatchAka holds alias (8) | batch id (8) -> empty for every alias of every batch record. It
// is derived data, kept by the one write path of batch records (putBatchRecord, deleteBatchRecord)
// and trusted only when meta's keyBatchAkaAt holds the SHA-256 of meta's running batch digest
// (keyBatchesSum): that value changes with every batch record write and every log entry, so a write
// by a relcat that does not keep the index leaves it untrusted. Then readers read the records, as
// before, and the next writer rebuilds it once (appendLog). verify compares it with the records.

// akaRecordsRead, when set (tests), is called whenever batchFor reads the batch records instead.
var akaRecordsRead func()

// akaStamp is the value keyBatchAkaAt holds while the index is current (nil: no running digest
// current at the log head, as after a write by a relcat that keeps none).
func akaStamp(tx *bolt.Tx) []byte {
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keyBatchesSum)
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n || !bytes.Equal(v[w:w+int(n)], meta.Get(keyLogHead)) {
		return nil
	}
	h := sha256.Sum256(v)
	return h[:]
}

// akaCurrent says whether the alias index can answer.
func akaCurrent(tx *bolt.Tx) bool {
	s := akaStamp(tx)
	return s != nil && tx.Bucket(bucketBatchAka) != nil && bytes.Equal(tx.Bucket(bucketMeta).Get(keyBatchAkaAt), s)
}

// restampAka records the index as current for meta's running digest as it now is.
func restampAka(tx *bolt.Tx) error {
	s := akaStamp(tx)
	if s == nil {
		return nil
	}
	return tx.Bucket(bucketMeta).Put(keyBatchAkaAt, s)
}

// akaKey is the index key of alias a of batch id.
func akaKey(a, id BatchID) []byte {
	return append(append(make([]byte, 0, 2*len(id)), a[:]...), id[:]...)
}

// akaOfRecord returns the aliases a stored batch record lists (records without any are not decoded).
func akaOfRecord(k, v []byte) ([]BatchID, error) {
	if !bytes.Contains(v, []byte(`"aka":`)) {
		return nil, nil // the key cannot appear inside a string value: its quotes would be escaped
	}
	var b struct {
		Aka []BatchID `json:"aka"`
	}
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, fmt.Errorf("batch %x record: %w", k, err)
	}
	return b.Aka, nil
}

// setAka replaces, in the index, the aliases of batch id listed by its old record value (nil: none)
// with those of the new one (nil: the record is deleted).
func setAka(tx *bolt.Tx, id BatchID, old, new []byte) error {
	ab := tx.Bucket(bucketBatchAka)
	was, err := akaOfRecord(id[:], old)
	if err != nil {
		return err
	}
	now, err := akaOfRecord(id[:], new)
	if err != nil {
		return err
	}
	for _, a := range was {
		if err := ab.Delete(akaKey(a, id)); err != nil {
			return err
		}
	}
	for _, a := range now {
		if err := ab.Put(akaKey(a, id), nil); err != nil {
			return err
		}
	}
	return nil
}

// akaFromRecords lists every alias|id key the batch records give, in key order.
func akaFromRecords(tx *bolt.Tx) ([][]byte, error) {
	var keys [][]byte
	err := tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
		aka, err := akaOfRecord(k, v)
		var id BatchID
		copy(id[:], k)
		for _, a := range aka {
			keys = append(keys, akaKey(a, id))
		}
		return err
	})
	slices.SortFunc(keys, bytes.Compare)
	return keys, err
}

// rebuildAka recomputes the index from the batch records and marks it current.
func rebuildAka(tx *bolt.Tx) error {
	if tx.Bucket(bucketBatchAka) != nil {
		if err := tx.DeleteBucket(bucketBatchAka); err != nil {
			return err
		}
	}
	ab, err := tx.CreateBucket(bucketBatchAka)
	if err != nil {
		return err
	}
	keys, err := akaFromRecords(tx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := ab.Put(k, nil); err != nil {
			return err
		}
	}
	return restampAka(tx)
}

// batchByAka returns the batch that answers to identity ident through its aliases, and whether the
// answer came from the index (false: it is not current, the caller reads the records).
func batchByAka(tx *bolt.Tx, ident BatchID) (*Batch, bool, error) {
	if !akaCurrent(tx) {
		return nil, false, nil
	}
	k, _ := tx.Bucket(bucketBatchAka).Cursor().Seek(ident[:])
	if len(k) != 2*len(ident) || !bytes.HasPrefix(k, ident[:]) {
		return nil, true, nil
	}
	var id BatchID
	copy(id[:], k[len(ident):])
	b, err := getBatch(tx, id)
	return b, true, err
}

// checkBatchAka reports an alias index that is marked current but does not list exactly the
// aliases of the batch records.
func checkBatchAka(tx *bolt.Tx, add func(kind, subject, format string, args ...any)) {
	if !akaCurrent(tx) {
		return // not trusted by any reader; the next writer rebuilds it
	}
	want, err := akaFromRecords(tx)
	if err != nil {
		return // the undecodable record is reported by the batch checks
	}
	i := 0
	_ = tx.Bucket(bucketBatchAka).ForEach(func(k, _ []byte) error {
		for i < len(want) && bytes.Compare(want[i], k) < 0 {
			add("batch", fmt.Sprintf("%x", want[i][len(BatchID{}):]), "alias %x is missing from the alias index", want[i][:len(BatchID{})])
			i++
		}
		if i < len(want) && bytes.Equal(want[i], k) {
			i++
			return nil
		}
		add("batch", fmt.Sprintf("%x", k[min(len(k), len(BatchID{})):]), "the alias index lists alias %x that its record does not have", k[:min(len(k), len(BatchID{}))])
		return nil
	})
	for ; i < len(want); i++ {
		add("batch", fmt.Sprintf("%x", want[i][len(BatchID{}):]), "alias %x is missing from the alias index", want[i][:len(BatchID{})])
	}
}

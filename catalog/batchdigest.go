package catalog

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The digest of all batch records that every log entry carries (LogEntry.BatchesSum), kept up to
// date in constant time per change instead of re-reading every batch record at every log entry
// (which made each ingest commit cost O(batches): +20-50 ms per photo at 500,000 images).
//
// It is a homomorphic multiset hash (LtHash, Lewi et al. 2019, with 1,024 lanes of 16 bits): each
// record (key and value) is expanded by SHAKE128 into 1,024 16-bit lanes, and the set's state is the
// lane-wise sum modulo 2^16 of its records' expansions. Writing a record subtracts its old
// expansion and adds the new one; deleting subtracts. The state does not depend on the order of
// the writes, so verify recomputes it from the records alone and compares; the log entry holds the
// SHA-256 of the state's 2,048 bytes.
//
// The writer keeps the running state in meta (keyBatchesSum) together with the log head it was
// current at. Every batch record write goes through putBatchRecord or deleteBatchRecord, which
// update it in the same transaction; appendLog moves it to the new head. A state left at another
// head (a catalog written by a relcat from before this, or none yet) is recomputed from the records
// once. A record altered behind the log's back does not update the state, so it keeps showing as a
// mismatch in verify after later writes (the old full digest re-blessed it at the next entry).
const batchSumLanes = 1024

// batchSum is the running state.
type batchSum [batchSumLanes]uint16

// apply adds (sign > 0) or subtracts the expansion of one batch record.
func (s *batchSum) apply(k, v []byte, sign int) {
	h := sha3.NewSHAKE128()
	h.Write([]byte("relcat batch record v1\x00"))
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
	h.Write(k)
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
	h.Write(v)
	var buf [2 * batchSumLanes]byte
	_, _ = h.Read(buf[:])
	for i := range s {
		x := binary.LittleEndian.Uint16(buf[2*i:])
		if sign > 0 {
			s[i] += x
		} else {
			s[i] -= x
		}
	}
}

func (s *batchSum) bytes() []byte {
	b := make([]byte, 2*batchSumLanes)
	for i, x := range s {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

// digest is what a log entry carries: the SHA-256 of the state.
func (s *batchSum) digest() string {
	d := sha256.Sum256(s.bytes())
	return hex.EncodeToString(d[:])
}

// batchSumScanned, when set (tests), is called at every full read of the batch records.
var batchSumScanned func()

// batchSumOf computes the state from the batch records in tx.
func batchSumOf(tx *bolt.Tx) *batchSum {
	if batchSumScanned != nil {
		batchSumScanned()
	}
	s := new(batchSum)
	_ = tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
		s.apply(k, v, 1)
		return nil
	})
	return s
}

// loadBatchSum returns the running state, recomputed from the records when meta holds none for the
// current log head.
func loadBatchSum(tx *bolt.Tx) *batchSum {
	meta := tx.Bucket(bucketMeta)
	head := meta.Get(keyLogHead)
	v := meta.Get(keyBatchesSum)
	if n, w := binary.Uvarint(v); w > 0 && uint64(len(v)-w) == n+2*batchSumLanes && bytes.Equal(v[w:w+int(n)], head) {
		s := new(batchSum)
		lanes := v[w+int(n):]
		for i := range s {
			s[i] = binary.LittleEndian.Uint16(lanes[2*i:])
		}
		return s
	}
	return batchSumOf(tx)
}

// storeBatchSum records s as current at the log head meta now holds. The alias index (batchaka.go)
// is trusted for one value of the running digest: aka says it was current before the caller's
// change and has followed it (it is marked current for the new value); else it is left untrusted.
func storeBatchSum(tx *bolt.Tx, s *batchSum, aka bool) error {
	meta := tx.Bucket(bucketMeta)
	head := meta.Get(keyLogHead)
	var n [binary.MaxVarintLen64]byte
	v := append(n[:binary.PutUvarint(n[:], uint64(len(head)))], head...)
	if err := meta.Put(keyBatchesSum, append(v, s.bytes()...)); err != nil {
		return err
	}
	if aka {
		return restampAka(tx)
	}
	return nil
}

// putBatchRecord writes batch b's record, keeping the running digest.
func putBatchRecord(tx *bolt.Tx, b *Batch) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	aka := akaCurrent(tx)
	s := loadBatchSum(tx)
	bb := tx.Bucket(bucketBatches)
	old := bb.Get(b.ID[:])
	if old != nil {
		s.apply(b.ID[:], old, -1)
	}
	s.apply(b.ID[:], data, 1)
	if aka {
		if err := setAka(tx, b.ID, old, data); err != nil {
			return err
		}
	}
	if err := bb.Put(b.ID[:], data); err != nil {
		return err
	}
	return storeBatchSum(tx, s, aka)
}

// deleteBatchRecord deletes the record of batch id, keeping the running digest.
func deleteBatchRecord(tx *bolt.Tx, id BatchID) error {
	bb := tx.Bucket(bucketBatches)
	old := bb.Get(id[:])
	if old == nil {
		return nil
	}
	aka := akaCurrent(tx)
	s := loadBatchSum(tx)
	s.apply(id[:], old, -1)
	if aka {
		if err := setAka(tx, id, old, nil); err != nil {
			return err
		}
	}
	if err := bb.Delete(id[:]); err != nil {
		return fmt.Errorf("batch %s: %w", id, err)
	}
	return storeBatchSum(tx, s, aka)
}

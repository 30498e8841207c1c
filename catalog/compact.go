package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// Compacting catalog.db.
//
// bbolt never gives pages back to the file system: a page freed by a commit goes to the free list and
// is reused by later commits, and pages half filled by splits stay half filled. A catalog grown by
// thousands of ingests ends up with its buckets' pages scattered between free ones (the generated
// million-image catalog: 3.6 GB, of which compaction keeps 2.3 GB). Every long read then maps pages
// from all over the file: verify --quick at a million images took 39 s of CPU against 29 s after
// compaction, 9.7 s of it in the kernel against 2.7 (page faults, letting mappings go).
//
// Compact writes every bucket, in key order with full pages, into a new file beside catalog.db and
// swaps it in. The copy reads one snapshot while readers go on reading the old file (the writer lock
// keeps other writers out, and this process commits nothing meanwhile); the new file is read back
// and its content digest held against the old one's before it replaces anything; the swap waits at
// the gate, as a commit does, for the readers' transactions on the old file to end. A killed compact
// leaves a temporary file that the next writer removes; catalog.db is replaced by one rename, so it
// is either the old file or the new one, complete. Records are unchanged, so the log has nothing to
// record and the index files stay current.

// CompactReport is what Compact did.
type CompactReport struct {
	BytesBefore int64 `json:"bytes_before"`
	BytesAfter  int64 `json:"bytes_after"`
	Buckets     int   `json:"buckets"`
	Records     int64 `json:"records"` // key/value pairs copied
}

// compactCheckEvery is how many records the copy reads between two looks at ctx and two progress
// calls (tests lower it).
var compactCheckEvery int64 = 4096

// compactTxBytes is how many bytes of keys and values one write transaction of the copy takes (its
// dirty pages are held in memory until it commits).
var compactTxBytes = 8 << 20 // at a million images: 81 MiB of heap at most, 22 s (32 MiB: 308 MiB, 19 s)

// Compact rewrites catalog.db without its free pages (see above). It needs the writer; progress, when
// not nil, is called with the bytes of records copied so far and the size of the old file. Ctrl-C
// (ctx) stops it within a second and leaves catalog.db as it was.
func (c *Catalog) Compact(ctx context.Context, progress func(done, total int64)) (*CompactReport, error) {
	if c.readOnly {
		return nil, ErrReadOnly
	}
	if !c.storageClean {
		return nil, fmt.Errorf("%w: %s: the storage check found problems; compacting would copy what can be read of a damaged file: run `relcat verify` first", ErrDamaged, c.dir)
	}
	c.updMu.Lock()
	defer c.updMu.Unlock()
	dbPath := filepath.Join(c.dir, dbFileName)
	fi, err := os.Stat(dbPath)
	if err != nil {
		return nil, err
	}
	r := &CompactReport{BytesBefore: fi.Size()}
	tmp, err := os.CreateTemp(c.dir, dbFileName+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("catalog: compact: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			_ = os.Remove(tmpPath)
		}
	}()
	if err := os.Chmod(tmpPath, fi.Mode().Perm()); err != nil {
		return nil, err
	}
	dst, err := bolt.Open(tmpPath, fi.Mode().Perm(), nil)
	if err != nil {
		return nil, fmt.Errorf("catalog: compact: %w", err)
	}
	var want []byte
	err = c.view(func(tx *bolt.Tx) error {
		k := &compactor{dst: dst, sum: sha256.New(), total: fi.Size(), progress: progress}
		if err := k.copyAll(ctx, tx); err != nil {
			return err
		}
		want = k.sum.Sum(nil)
		r.Buckets, r.Records = k.buckets, k.records
		return nil
	})
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("catalog: compact: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	// Read the new file back: the same content, or nothing is replaced.
	got, err := compactDigest(ctx, tmpPath)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got, want) {
		return nil, fmt.Errorf("catalog: compact: the new file does not read back as catalog.db's content; catalog.db is unchanged")
	}
	if err := c.swapIn(tmpPath); err != nil {
		return nil, err
	}
	done = true
	if fi, err := os.Stat(dbPath); err == nil {
		r.BytesAfter = fi.Size()
	}
	return r, nil
}

// swapIn replaces catalog.db by the file at path: at the gate (new readers wait), once the readers'
// transactions on the old file have ended (an exclusive open of it, as a commit takes), by a rename
// made durable; then the writer's read-only handle opens the new file.
func (c *Catalog) swapIn(path string) error {
	if err := flockWait(c.gate, true, commitWait); err != nil {
		return fmt.Errorf("catalog: gate: %w", err)
	}
	defer funlock(c.gate)
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	if c.db != nil {
		if err := c.db.Close(); err != nil {
			return fmt.Errorf("catalog: compact: close: %w", err)
		}
		c.db = nil
	}
	old, err := c.openDB(false, commitWait)
	if err == nil {
		err = old.Close()
	}
	if err == nil {
		err = os.Rename(path, filepath.Join(c.dir, dbFileName))
	}
	if err == nil {
		if d, derr := os.Open(c.dir); derr == nil {
			err = d.Sync()
			d.Close()
		}
	}
	var rerr error
	c.db, rerr = c.openDB(true, commitWait)
	return errors.Join(err, rerr)
}

// walkRecords visits every bucket of tx (onBucket, with its path of names) and every record of it
// (onRecord, with the bucket's path), in key order, nested buckets where they sort; ctx is looked at
// every compactCheckEvery records and the mapping let go as any long read does.
func walkRecords(ctx context.Context, tx *bolt.Tx, onBucket func(path [][]byte, b *bolt.Bucket) error, onRecord func(path [][]byte, key, v []byte) error) error {
	watch := mapWatch{tx: tx}
	var n int64
	var walk func(path [][]byte, b *bolt.Bucket) error
	walk = func(path [][]byte, b *bolt.Bucket) error {
		if err := onBucket(path, b); err != nil {
			return err
		}
		cur := b.Cursor()
		for key, v := cur.First(); key != nil; key, v = cur.Next() {
			watch.step()
			if n++; n%compactCheckEvery == 0 && ctx.Err() != nil {
				return ErrInterrupted
			}
			if v == nil {
				if sub := b.Bucket(key); sub != nil {
					if err := walk(append(path[:len(path):len(path)], key), sub); err != nil {
						return err
					}
					continue
				}
			}
			if err := onRecord(path, key, v); err != nil {
				return err
			}
		}
		return nil
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk([][]byte{name}, b) })
}

// compactor copies one read transaction's buckets into dst, a write transaction per compactTxBytes,
// and digests what it copies (compactDigest reads the same digest back).
type compactor struct {
	dst      *bolt.DB
	tx       *bolt.Tx     // the open write transaction
	cur      *bolt.Bucket // the bucket records go to, in tx
	size     int          // bytes put in tx
	copied   int64
	sum      hash.Hash
	total    int64
	progress func(done, total int64)
	buckets  int
	records  int64
}

func (k *compactor) copyAll(ctx context.Context, src *bolt.Tx) error {
	if err := k.begin(); err != nil {
		return err
	}
	var curPath [][]byte
	err := walkRecords(ctx, src, func(path [][]byte, b *bolt.Bucket) error {
		k.buckets++
		digestBucket(k.sum, path, b.Sequence())
		dst, err := k.bucket(path)
		if err == nil {
			err = dst.SetSequence(b.Sequence())
		}
		k.cur, curPath = dst, path
		return err
	}, func(path [][]byte, key, v []byte) error {
		if k.records++; k.records%compactCheckEvery == 0 && k.progress != nil {
			k.progress(min(k.copied, k.total), k.total)
		}
		if k.size >= compactTxBytes {
			if err := k.tx.Commit(); err != nil {
				return fmt.Errorf("catalog: compact: %w", err)
			}
			if err := k.begin(); err != nil {
				return err
			}
			k.cur = nil
		}
		// After a nested bucket, or in a new transaction: find the bucket again.
		if k.cur == nil || !samePath(path, curPath) {
			dst, err := k.bucket(path)
			if err != nil {
				return err
			}
			k.cur, curPath = dst, path
		}
		// The source transaction stays open for the whole copy: key and value stay valid until
		// this transaction commits, as bbolt's Put asks.
		if err := k.cur.Put(key, v); err != nil {
			return fmt.Errorf("catalog: compact: %w", err)
		}
		digestRecord(k.sum, key, v)
		k.size += len(key) + len(v)
		k.copied += int64(len(key) + len(v))
		return nil
	})
	if err == nil {
		err = k.tx.Commit()
	} else {
		_ = k.tx.Rollback()
	}
	k.tx = nil
	return err
}

func samePath(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func (k *compactor) begin() error {
	tx, err := k.dst.Begin(true)
	if err != nil {
		return fmt.Errorf("catalog: compact: %w", err)
	}
	k.tx, k.size = tx, 0
	return nil
}

// bucket returns the bucket at path in the open write transaction, creating it, filled to the full
// (keys arrive in order: a split leaves the left page full).
func (k *compactor) bucket(path [][]byte) (*bolt.Bucket, error) {
	b, err := k.tx.CreateBucketIfNotExists(path[0])
	for _, name := range path[1:] {
		if err != nil {
			break
		}
		b, err = b.CreateBucketIfNotExists(name)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: compact: bucket %q: %w", path, err)
	}
	b.FillPercent = 1.0
	return b, nil
}

// digestBucket and digestRecord feed the compaction digest: each bucket's path and sequence, then
// its records, lengths first.
func digestBucket(h hash.Hash, path [][]byte, seq uint64) {
	var n [8]byte
	h.Write([]byte{'B'})
	for _, p := range path {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	binary.BigEndian.PutUint64(n[:], seq)
	h.Write(n[:])
}

func digestRecord(h hash.Hash, key, v []byte) {
	var n [8]byte
	h.Write([]byte{'R'})
	binary.BigEndian.PutUint64(n[:], uint64(len(key)))
	h.Write(n[:])
	h.Write(key)
	binary.BigEndian.PutUint64(n[:], uint64(len(v)))
	h.Write(n[:])
	h.Write(v)
}

// compactDigest reads the file at path and returns the digest the compactor computes of its content.
// The file is the one compact just wrote, not the catalog: a fault reading it (a bad disk) is an
// error of the compaction, caught here as the catalog boundary catches one in catalog.db.
func compactDigest(ctx context.Context, path string) (sum []byte, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			sum, err = nil, fmt.Errorf("catalog: compact: reading the new file back failed (%v); catalog.db is unchanged", r)
		}
	}()
	nf, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("catalog: compact: read the new file back: %w", err)
	}
	defer nf.Close()
	h := sha256.New()
	err = nf.View(func(tx *bolt.Tx) error {
		return walkRecords(ctx, tx, func(path [][]byte, b *bolt.Bucket) error {
			digestBucket(h, path, b.Sequence())
			return nil
		}, func(_ [][]byte, key, v []byte) error {
			digestRecord(h, key, v)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the catalog for queries only; several readers may share it.
	ReadOnly bool
	// MustExist makes a writer refuse (ErrNotFound) a directory without a catalog instead of
	// starting a new one: only what adds records (ingest, imports) starts a catalog.
	MustExist bool
	// LockTimeout is how long to wait for another process holding the catalog (default 3 s).
	LockTimeout time.Duration
	// Now is the clock (default time.Now); tests inject a fixed one for deterministic provenance.
	Now func() time.Time
	// Version is the tool version written in the log.
	Version string
	// AllowDamaged opens (read-only) a catalog whose catalog.db fails the storage check, for Verify
	// to report the damage; every other query then returns ErrDamaged.
	AllowDamaged bool
	// Upgrade opens a catalog of an older schema version for Reindex, which upgrades it; nothing
	// else may be called on it before.
	Upgrade bool
}

// Catalog is an open catalog directory.
type Catalog struct {
	dir      string
	db       *bolt.DB
	readOnly bool
	now      func() time.Time
	version  string
	schema   int // the schema version found at Open
	upgrade  bool

	watch watchState // watchlists in memory (watchlist.go)

	// The lock model (lock.go): a writer holds lock for its life and db read-only between commits,
	// swapped under dbMu; a reader opens db per transaction, after taking gate shared.
	dbMu        sync.RWMutex
	updMu       sync.Mutex
	lock, gate  *os.File
	lockTimeout time.Duration
	noDB        bool // the storage check found catalog.db unsafe: only verify's report, no transaction

	idxMu    sync.Mutex
	idx      *nearIndex
	ridx     *regionIndex // region hashes (regionmatch.go), built on first use
	idxDirty bool         // hashes changed since the index was loaded
	// maps are the memory-mapped persisted index files in use (released by Close); idxFileTop is
	// the largest near id the loaded file covered.
	maps       [][]byte
	idxFileTop uint64
	idxWhy     string // why the persisted index was not used (for tests and benchmarks)
	noPersist  bool   // Close leaves near.idx as it is (tests: a crash before Close)
	// verifyChunk, when set (tests), is how many image records one of verify's transactions reads.
	verifyChunk int

	storage *StorageReport // the storage check at Open (nil for a new catalog)
	// storageClean: the file passed the storage check at Open without a problem (or is new), so
	// what this writer commits is sound too (storagecache.go).
	storageClean bool
	missing      []string // buckets the catalog lacks (damaged): queries needing them fail, verify reports them
	damageMu     sync.Mutex
	damage       map[string]bool // damage queries stepped around (see Damage)
}

// Dir is the catalog directory.
func (c *Catalog) Dir() string { return c.dir }

// Open opens (creating when writable and absent) the catalog in dir.
func Open(dir string, opts Options) (*Catalog, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 3 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	dbPath := filepath.Join(dir, dbFileName)
	if opts.AllowDamaged {
		opts.ReadOnly = true
	}
	// The storage check reads the file: after any commit in progress, before the next (lock.go).
	gate, err := openGate(dir, false)
	if err != nil {
		return nil, fmt.Errorf("catalog: open the gate: %w", err)
	}
	if gate != nil {
		if err := flockWait(gate, false, opts.LockTimeout); err != nil {
			gate.Close()
			if errors.Is(err, errLockTimeout) {
				return nil, fmt.Errorf("%w%s: %s is committing (waited %s; try again)", ErrLocked, otherPID(dir), dir, opts.LockTimeout)
			}
			return nil, fmt.Errorf("catalog: gate: %w", err)
		}
	}
	storage, err := preflight(dir, dbPath, opts)
	if gate != nil {
		_ = funlock(gate)
		if !opts.ReadOnly {
			gate.Close() // the writer opens its own (lockWriter)
			gate = nil
		}
	}
	if err != nil {
		if opts.AllowDamaged && storage != nil && storage.Unsafe {
			// Verify reports the damage; nothing else reads this file.
			if gate != nil {
				gate.Close()
			}
			return &Catalog{dir: dir, readOnly: true, now: opts.Now, version: opts.Version, storage: storage, noDB: true}, nil
		}
		if gate != nil {
			gate.Close()
		}
		return nil, err
	}
	c := &Catalog{dir: dir, readOnly: opts.ReadOnly, now: opts.Now, version: opts.Version,
		upgrade: opts.Upgrade && !opts.ReadOnly, storage: storage, lockTimeout: opts.LockTimeout, gate: gate,
		storageClean: storage == nil || (!storage.Unsafe && len(storage.Problems) == 0)}
	if opts.ReadOnly {
		if err := c.init(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: create %s: %w", dir, err)
	}
	if err := c.lockWriter(opts.LockTimeout); err != nil {
		return nil, err
	}
	writePIDFile(dir)
	if err := c.init(); err != nil {
		c.Close()
		return nil, err
	}
	removeTempFiles(dir)
	return c, nil
}

// removeTempFiles deletes the ".tmp-*" files a killed ingest may leave under objects/ and thumbs/
// (content files are written to a temporary name, then renamed). Only the writer, which holds the
// lock, does this; nothing a record references is ever a temporary file.
func removeTempFiles(dir string) {
	for _, sub := range []string{objectsDir, "thumbs"} {
		matches, _ := filepath.Glob(filepath.Join(dir, sub, "*", ".tmp-*"))
		for _, m := range matches {
			_ = os.Remove(m)
		}
	}
	for _, name := range []string{nearFileName, verdictFileName, regionFileName, dbFileName} {
		matches, _ := filepath.Glob(filepath.Join(dir, name+".tmp-*"))
		for _, m := range matches {
			_ = os.Remove(m)
		}
	}
}

// openBolt opens the database behind recover: the storage check has passed, so a panic here is a
// bug or a file changed since, and is reported as damage rather than a crash.
func openBolt(path string, opts Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrDamaged, path, r)
		}
	}()
	return bolt.Open(path, 0o644, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly})
}

func (c *Catalog) init() error {
	if c.readOnly {
		return c.view(func(tx *bolt.Tx) error { return c.checkSchema(tx) })
	}
	return c.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta != nil {
			if err := c.checkSchema(tx); err != nil {
				return err
			}
			if len(c.missing) > 0 && !c.upgrade {
				// Writing into a catalog that lacks a bucket would make it worse: refuse, say why.
				return fmt.Errorf("%w: %s lacks bucket(s) %s; it can be read, not written: %s", ErrDamaged, c.dir, strings.Join(c.missing, ", "), recoverAdvice(c.dir))
			}
			return createOptionalBuckets(tx)
		}
		if tx.Bucket(bucketImages) != nil || tx.Bucket(bucketBatches) != nil {
			return fmt.Errorf("%w: %s has records but no meta bucket; %s", ErrDamaged, c.dir, recoverAdvice(c.dir))
		}
		c.schema = SchemaVersion
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if err := createOptionalBuckets(tx); err != nil {
			return err
		}
		meta = tx.Bucket(bucketMeta)
		if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		if err := meta.Put(keyCatalogID, []byte(newCatalogID())); err != nil {
			return err
		}
		if err := meta.Put(keyEdgesMax, []byte(strconv.Itoa(EdgeMaxDistance))); err != nil {
			return err
		}
		return meta.Put(keyCreated, []byte(c.now().UTC().Format(time.RFC3339Nano)))
	})
}

// createOptionalBuckets creates the buckets added to schema 2 after catalogs of it existed
// (keys.go, optionalBuckets), when missing: a write only the first time.
func createOptionalBuckets(tx *bolt.Tx) error {
	for _, name := range optionalBuckets {
		if tx.Bucket(name) == nil {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// oldestUpgradable is the oldest schema version Reindex upgrades.
const oldestUpgradable = 1

// checkSchema checks the schema version and records the buckets the catalog lacks (c.missing): a
// missing bucket is damage that Verify reports and that only the queries needing it fail on.
func (c *Catalog) checkSchema(tx *bolt.Tx) error {
	dir := c.dir
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if tx.Bucket(bucketImages) != nil || tx.Bucket(bucketBatches) != nil {
			return fmt.Errorf("%w: %s has records but no meta bucket; %s", ErrDamaged, dir, recoverAdvice(dir))
		}
		return fmt.Errorf("%w: %s has no meta bucket: not a relcat catalog", ErrSchema, dir)
	}
	v := string(meta.Get(keySchema))
	n, err := strconv.Atoi(v)
	switch {
	case err == nil && n == SchemaVersion:
		c.schema = n
	case err == nil && n >= oldestUpgradable && n < SchemaVersion:
		c.schema = n
		if c.upgrade {
			return nil // Reindex creates what is missing
		}
		return fmt.Errorf("%w: %s has schema version %d, this relcat reads version %d: run `relcat reindex --catalog %s` to upgrade it (it keeps every record and rebuilds the indexes; recomputes what version 2 adds; an older relcat cannot read it afterwards)", ErrSchema, dir, n, SchemaVersion, dir)
	default:
		return fmt.Errorf("%w: %s has schema version %q, this relcat reads version %d: use the relcat release that wrote it, or ingest the originals (objects/) into a new catalog", ErrSchema, dir, v, SchemaVersion)
	}
	if e := string(meta.Get(keyEdgesMax)); e != strconv.Itoa(EdgeMaxDistance) && !c.upgrade {
		return fmt.Errorf("%w: %s stores near-duplicate edges up to distance %q, this relcat up to %d: run `relcat reindex`", ErrSchema, dir, e, EdgeMaxDistance)
	}
	c.missing = nil
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			c.missing = append(c.missing, string(name))
		}
	}
	return nil
}

// Close releases the catalog.
func (c *Catalog) Close() error {
	var perr error
	if !c.readOnly && c.schema == SchemaVersion && !c.noPersist && !c.noDB && len(c.missing) == 0 {
		// The next process maps the near index instead of building it (nearfile.go). Before dbMu:
		// persistIndex reads through c.view, which takes it.
		perr = c.persistIndex(false)
		if perr == nil {
			perr = c.persistRegionIndex(false)
		}
	}
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	var err error
	// The next Open need not read the whole file again (storagecache.go).
	c.rememberOwnCommits()
	if c.db != nil {
		err = c.db.Close()
		c.db = nil
	}
	c.idx = nil
	c.ridx = nil
	for _, m := range c.maps {
		_ = unmapPrivate(m)
	}
	c.maps = nil
	if err == nil && perr != nil {
		err = fmt.Errorf("catalog: write the near index file: %w", perr)
	}
	if c.readOnly {
		if c.gate != nil {
			c.gate.Close()
			c.gate = nil
		}
		return err
	}
	if c.lock != nil {
		_ = os.Remove(filepath.Join(c.dir, pidFileName))
	}
	c.unlockWriter()
	return err
}

package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the catalog for queries only; several readers may share it.
	ReadOnly bool
	// LockTimeout is how long to wait for another process holding the catalog (default 3 s).
	LockTimeout time.Duration
	// Now is the clock (default time.Now); tests inject a fixed one for deterministic provenance.
	Now func() time.Time
	// Version is the tool version written in the log.
	Version string
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

	idxMu sync.Mutex
	idx   *nearIndex
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
	if opts.ReadOnly {
		if _, err := os.Stat(dbPath); err != nil {
			return nil, fmt.Errorf("%w: no catalog at %s (run `relcat ingest` first, or pass --catalog)", ErrNotFound, dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: create %s: %w", dir, err)
	}
	c := &Catalog{dir: dir, readOnly: opts.ReadOnly, now: opts.Now, version: opts.Version,
		upgrade: opts.Upgrade && !opts.ReadOnly, lockTimeout: opts.LockTimeout}
	if opts.ReadOnly {
		gate, err := openGate(dir, false)
		if err != nil {
			return nil, fmt.Errorf("catalog: open the gate: %w", err)
		}
		c.gate = gate
		if err := c.view(func(tx *bolt.Tx) error { return c.checkSchema(tx) }); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	if err := c.lockWriter(opts.LockTimeout); err != nil {
		return nil, err
	}
	writePIDFile(dir)
	if err := c.update(c.init); err != nil {
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
}

// init creates the buckets of a new catalog, or checks the schema of an existing one.
func (c *Catalog) init(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta != nil {
		return c.checkSchema(tx)
	}
	c.schema = SchemaVersion
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta = tx.Bucket(bucketMeta)
	if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return err
	}
	if err := meta.Put(keyEdgesMax, []byte(strconv.Itoa(EdgeMaxDistance))); err != nil {
		return err
	}
	return meta.Put(keyCreated, []byte(c.now().UTC().Format(time.RFC3339Nano)))
}

// oldestUpgradable is the oldest schema version Reindex upgrades.
const oldestUpgradable = 1

func (c *Catalog) checkSchema(tx *bolt.Tx) error {
	dir := c.dir
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
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
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: %s lacks bucket %q: the catalog is damaged (run `relcat verify`)", ErrSchema, dir, name)
		}
	}
	return nil
}

// Close releases the catalog.
func (c *Catalog) Close() error {
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	var err error
	if c.db != nil {
		err = c.db.Close()
		c.db = nil
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

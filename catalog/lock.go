package catalog

// The lock model: one writer, readers never locked out by a long ingest.
//
// bbolt lets one process write its file and others read it only when no write is in progress (it
// flocks the file: exclusive for a writer, shared for readers), so a writer that kept the file open
// for a whole ingest would lock every reader out. Instead:
//
//   - catalog.lock is the writer lock: a writer (Open without ReadOnly) holds an exclusive flock on
//     it from Open to Close. A second writer waits LockTimeout, then fails with ErrLocked naming the
//     holder's pid (catalog.pid).
//   - The writer opens catalog.db for writing only while it commits (Catalog.update: one chunk of an
//     ingest, one edit). Between commits it keeps it open read-only, shared with readers.
//   - A reader opens catalog.db read-only for each read transaction (Catalog.view) and closes it
//     after: it sees every chunk committed so far, and never holds the file longer than one query.
//   - catalog.gate gives the writer priority: it takes the gate exclusively for a commit, a reader
//     takes it shared only while it opens the file. So a stream of readers cannot starve a commit,
//     and a reader waits at most for one commit (up to LockTimeout, then ErrLocked).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	lockFileName = "catalog.lock"
	gateFileName = "catalog.gate"
)

// commitWait bounds how long a commit waits for readers to finish their transactions (the gate stops
// new ones meanwhile): a reader's transaction is one query, but verify's can take minutes.
var commitWait = 10 * time.Minute

// errLockTimeout: a flock was not granted in time.
var errLockTimeout = errors.New("lock wait timed out")

// openGate opens catalog.gate (creating it when create is set). A reader on a catalog no writer of
// this version has touched yet may find none: it then reads without the gate.
func openGate(dir string, create bool) (*os.File, error) {
	flag := os.O_RDONLY
	if create {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := os.OpenFile(filepath.Join(dir, gateFileName), flag, 0o644)
	if err != nil && !create && errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

// lockWriter takes the writer lock of dir for the life of the Catalog.
func (c *Catalog) lockWriter(timeout time.Duration) error {
	f, err := os.OpenFile(filepath.Join(c.dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("catalog: open the writer lock: %w", err)
	}
	if err := flockWait(f, true, timeout); err != nil {
		f.Close()
		if errors.Is(err, errLockTimeout) {
			return fmt.Errorf("%w%s: %s (waited %s; try again when it finishes)", ErrLocked, otherPID(c.dir), c.dir, timeout)
		}
		return fmt.Errorf("catalog: writer lock: %w", err)
	}
	c.lock = f
	if c.gate, err = openGate(c.dir, true); err != nil {
		c.unlockWriter()
		return fmt.Errorf("catalog: open the gate: %w", err)
	}
	return nil
}

func (c *Catalog) unlockWriter() {
	if c.gate != nil {
		c.gate.Close()
		c.gate = nil
	}
	if c.lock != nil {
		_ = funlock(c.lock)
		c.lock.Close()
		c.lock = nil
	}
}

// openDB opens catalog.db, read-only (shared) or for writing (exclusive), waiting at most timeout
// for the flock.
func (c *Catalog) openDB(readOnly bool, timeout time.Duration) (*bolt.DB, error) {
	path := filepath.Join(c.dir, dbFileName)
	db, err := openBolt(path, Options{LockTimeout: timeout, ReadOnly: readOnly})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w%s: %s (waited %s; try again when it finishes)", ErrLocked, otherPID(c.dir), c.dir, timeout)
		}
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	return db, nil
}

// rawView runs fn in a read transaction (view, in damage.go, wraps it at the catalog boundary). A writer reads through its own read-only handle (between its
// commits); a reader opens the file for this transaction only.
func (c *Catalog) rawView(fn func(*bolt.Tx) error) error {
	if !c.readOnly {
		c.dbMu.RLock()
		defer c.dbMu.RUnlock()
		if c.db == nil {
			return fmt.Errorf("catalog: %s is not open (a commit failed to reopen it)", c.dir)
		}
		return c.db.View(fn)
	}
	db, err := c.readerOpen()
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(fn)
}

// readerOpen opens catalog.db read-only for one transaction, after any commit in progress.
func (c *Catalog) readerOpen() (*bolt.DB, error) {
	if c.gate != nil {
		if err := flockWait(c.gate, false, c.lockTimeout); err != nil {
			if errors.Is(err, errLockTimeout) {
				return nil, fmt.Errorf("%w%s: %s is committing (waited %s; try again)", ErrLocked, otherPID(c.dir), c.dir, c.lockTimeout)
			}
			return nil, fmt.Errorf("catalog: gate: %w", err)
		}
		defer funlock(c.gate)
	}
	return c.openDB(true, c.lockTimeout)
}

// rawUpdate runs fn in a write transaction (update, in damage.go, wraps it): the writer takes the gate (new readers wait), reopens the
// file for writing once the readers' transactions are done, commits, and reopens it read-only. fn
// runs without dbMu held, so that reads inside it (c.view, as when the near index loads) go through the
// writable handle as concurrent read transactions; updates are serialised by updMu.
func (c *Catalog) rawUpdate(fn func(*bolt.Tx) error) error {
	if c.readOnly {
		return ErrReadOnly
	}
	c.updMu.Lock()
	defer c.updMu.Unlock()
	if err := flockWait(c.gate, true, commitWait); err != nil {
		return fmt.Errorf("catalog: gate: %w", err)
	}
	defer funlock(c.gate)
	c.dbMu.Lock()
	if c.db != nil {
		if err := c.db.Close(); err != nil {
			c.dbMu.Unlock()
			return fmt.Errorf("catalog: close before commit: %w", err)
		}
		c.db = nil
	}
	db, err := c.openDB(false, commitWait)
	c.db = db
	c.dbMu.Unlock()
	if err != nil {
		return err
	}
	txErr := db.Update(fn)
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	if err := db.Close(); err != nil && txErr == nil {
		txErr = fmt.Errorf("catalog: close after commit: %w", err)
	}
	// Readers wait at the gate, and this process holds the writer lock: the shared open is immediate.
	if c.db, err = c.openDB(true, commitWait); err != nil && txErr == nil {
		txErr = err
	}
	return txErr
}

package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged: the catalog cannot be read safely, or lacks what a command needs. The message names the
// catalog, what is wrong and what to do.
var ErrDamaged = errors.New("catalog is damaged")

// The catalog boundary. Every read and write transaction goes through view or update, which
//   - refuse when the storage check at Open found catalog.db unsafe (only verify opens it then);
//   - turn a panic or a memory fault inside bbolt or the records code into ErrDamaged naming the
//     catalog (a missing bucket, a page damaged after the check), instead of a crash;
//   - collect the damage a query stepped around (a sighting whose batch record is missing) so that the
//     command can answer what it can and name the rest (Damage).

// view runs fn in a read transaction at the catalog boundary.
func (c *Catalog) view(fn func(*bolt.Tx) error) error {
	return c.atBoundary(c.rawView, fn)
}

// update runs fn in a write transaction at the catalog boundary.
func (c *Catalog) update(fn func(*bolt.Tx) error) error {
	if c.readOnly {
		return ErrReadOnly
	}
	return c.atBoundary(c.rawUpdate, fn)
}

// atBoundary runs fn in the transaction run opens: a fault or panic inside becomes the damage
// error, and the transaction is known to belong to c while fn runs.
func (c *Catalog) atBoundary(run func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) (err error) {
	if c.noDB {
		return c.unsafeErr()
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = c.panicErr(r)
		}
	}()
	return c.damaged(run(func(tx *bolt.Tx) error {
		txCatalogs.Store(tx, c)
		defer txCatalogs.Delete(tx)
		return fn(tx)
	}))
}

// recordError is an error decoding a stored record or key (a record that is not JSON, a release
// time that does not parse, a key of the wrong length): damage, whatever it wraps.
type recordError struct{ err error }

func (e *recordError) Error() string { return e.err.Error() }
func (e *recordError) Unwrap() error { return e.err }

// damaged turns an error decoding a stored record into ErrDamaged naming the catalog and what to do
// (a release date that no longer parses used to come out as a usage error, exit 2).
func (c *Catalog) damaged(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var re *recordError
	if err == nil || errors.Is(err, ErrDamaged) || !(errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &re)) {
		return err
	}
	return fmt.Errorf("%w: %s: a record in catalog.db cannot be read: %v; %s", ErrDamaged, c.dir, err, recoverAdvice(c.dir))
}

// recoverAdvice is what a user does about a damaged catalog.db.
func recoverAdvice(dir string) string {
	return fmt.Sprintf("run `relcat verify --catalog %s` to list the damage; restore catalog.db from a backup, "+
		"or move the catalog directory aside and ingest the release folders again into a new one "+
		"(the preserved originals under objects/ are plain files, untouched)", dir)
}

func (c *Catalog) unsafeErr() error {
	first := "damaged"
	more := ""
	if c.storage != nil && len(c.storage.Problems) > 0 {
		first = c.storage.Problems[0]
		if n := len(c.storage.Problems) - 1; n > 0 {
			more = fmt.Sprintf(" (and %d more problem(s))", n)
		}
	}
	return fmt.Errorf("%w: %s: catalog.db cannot be read safely: %s%s; %s", ErrDamaged, c.dir, first, more, recoverAdvice(c.dir))
}

func (c *Catalog) panicErr(r any) error {
	if len(c.missing) > 0 {
		return fmt.Errorf("%w: %s lacks bucket(s) %s, which this command needs (%v); %s", ErrDamaged, c.dir, strings.Join(c.missing, ", "), r, recoverAdvice(c.dir))
	}
	return fmt.Errorf("%w: %s: reading catalog.db failed: %v; %s", ErrDamaged, c.dir, r, recoverAdvice(c.dir))
}

// txCatalogs maps an open transaction to its catalog, so that code deep in a query can record damage
// it stepped around without every helper taking the catalog.
var txCatalogs sync.Map // *bolt.Tx -> *Catalog

// noteDamage records damage a query stepped around (the answer leaves the damaged part out).
func noteDamage(tx *bolt.Tx, format string, args ...any) {
	v, ok := txCatalogs.Load(tx)
	if !ok {
		return
	}
	c := v.(*Catalog)
	c.damageMu.Lock()
	defer c.damageMu.Unlock()
	if c.damage == nil {
		c.damage = map[string]bool{}
	}
	c.damage[fmt.Sprintf(format, args...)] = true
}

// Damage lists the damage the queries so far stepped around (their answers leave those parts out),
// and the buckets the catalog lacks; empty when nothing is damaged. `relcat verify` names all of it.
func (c *Catalog) Damage() []string {
	c.damageMu.Lock()
	defer c.damageMu.Unlock()
	var out []string
	for _, b := range c.missing {
		out = append(out, "bucket "+b+" is missing")
	}
	var notes []string
	for d := range c.damage {
		notes = append(notes, d)
	}
	sort.Strings(notes)
	return append(out, notes...)
}

// catalogContent says what a catalog directory holds besides catalog.db ("" when nothing): preserved
// originals or thumbnails mean a catalog existed here.
func catalogContent(dir string) string {
	var found []string
	for _, sub := range []string{objectsDir, "thumbs"} {
		n := 0
		_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if !d.IsDir() && !strings.HasPrefix(d.Name(), ".tmp-") {
				n++
				if n >= 1000 {
					return filepath.SkipAll
				}
			}
			return nil
		})
		switch {
		case n >= 1000:
			found = append(found, fmt.Sprintf("%s/ holds 1000 or more files", sub))
		case n > 0:
			found = append(found, fmt.Sprintf("%s/ holds %d file(s)", sub, n))
		}
	}
	return strings.Join(found, " and ")
}

// preflight runs before bbolt opens catalog.db: a missing or empty database beside preserved content is
// damage, not a new catalog; an existing database must pass the storage check (under a shared lock,
// so that it never races a writer's commit). It returns the storage report.
func preflight(dir, dbPath string, opts Options) (*StorageReport, error) {
	fi, err := os.Stat(dbPath)
	switch {
	case err != nil && !os.IsNotExist(err):
		return nil, fmt.Errorf("catalog: %s: %w", dbPath, err)
	case err != nil || fi.Size() == 0:
		state := "missing"
		if err == nil {
			state = "empty"
		}
		if content := catalogContent(dir); content != "" {
			return nil, fmt.Errorf("%w: %s: catalog.db is %s but %s: this is a damaged catalog, not a new one, and relcat will not start an empty catalog over it (the originals would be orphaned); restore catalog.db from a backup, or move the directory aside and ingest the release folders again into a new catalog", ErrDamaged, dir, state, content)
		}
		if opts.ReadOnly || opts.MustExist {
			return nil, fmt.Errorf("%w: no catalog at %s (run `relcat ingest` first, or pass --catalog)", ErrNotFound, dir)
		}
		return nil, nil // a new catalog
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s: catalog.db is %s, not a file", ErrDamaged, dir, kindOf(fi.Mode()))
	}
	f, err := os.Open(dbPath)
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", dbPath, err)
	}
	defer f.Close()
	unlock, ok, err := sharedLock(f, opts.LockTimeout)
	if err != nil {
		return nil, fmt.Errorf("catalog: lock %s: %w", dbPath, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w%s: %s (waited %s; try again when it finishes)", ErrLocked, otherPID(dir), dir, opts.LockTimeout)
	}
	defer unlock()
	// A large file unchanged since a check passed is not read again (storagecache.go).
	if cachedVerdict(dir, f) {
		return &StorageReport{}, nil
	}
	was, stamped := stampOf(f)
	start := time.Now()
	r, err := checkStorage(context.Background(), dbPath)
	if err != nil {
		return nil, fmt.Errorf("catalog: read %s: %w", dbPath, err)
	}
	if r.Unsafe {
		c := &Catalog{dir: dir, storage: r}
		return r, c.unsafeErr()
	}
	if stamped && len(r.Problems) == 0 {
		rememberVerdict(dir, f, was, start)
	}
	return r, nil
}

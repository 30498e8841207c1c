package catalog

import (
	"context"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Issue 13: a full verify re-hashed every original inside one read transaction, and an ingest's
// commit waited for all of it (up to commitWait, 10 minutes, then failed). Now the originals are
// re-read between transactions: a commit made while verify reads them goes through at once.
func TestVerifyLetsCommitsThrough(t *testing.T) {
	dir := damageFixture(t)
	w, err := Open(dir, Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := Open(dir, Options{ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer func(d time.Duration) { commitWait = d }(commitWait)
	commitWait = 2 * time.Second
	commits := 0
	var commitErr error
	verifyFileHook = func() {
		if commits == 0 {
			commits++
			start := time.Now()
			commitErr = w.update(func(tx *bolt.Tx) error { return nil })
			if d := time.Since(start); commitErr == nil && d > time.Second {
				t.Errorf("a commit during verify's file checks waited %s", d)
			}
		}
	}
	defer func() { verifyFileHook = nil }()
	rep, err := r.Verify(context.Background(), VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if commits != 1 || commitErr != nil {
		t.Fatalf("%d commit(s) during verify's file checks: %v", commits, commitErr)
	}
	if rep.Objects == 0 || len(rep.Problems) != 0 {
		t.Errorf("verify: %d originals re-hashed, problems %v", rep.Objects, rep.Problems)
	}
}

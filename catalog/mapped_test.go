package catalog

import (
	"fmt"
	"runtime"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Issue 13: a long read left most of catalog.db counted in the process's resident memory (dupes at
// 100,000 images: 204 MiB, of which 30 MiB heap). releaseMapped lets go of the mapped pages, and a
// read that does so as it goes gives the same answers.
func TestLongReadsLetGoOfTheMapping(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the mapped share of catalog.db is measured on Linux only")
	}
	c := openTest(t)
	buildScale(t, c, 3000, 11, nil)
	var before, after, size int64
	err := c.view(func(tx *bolt.Tx) error {
		size = tx.Size()
		sum := 0
		err := tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				sum += len(k) + len(v)
				return nil
			})
		})
		before = fileResident()
		releaseMapped(tx)
		after = fileResident()
		if sum == 0 {
			return fmt.Errorf("nothing read")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if before-after < size/2 {
		t.Errorf("catalog.db of %d bytes read whole: %d bytes of files mapped, %d after letting go", size, before, after)
	}
	want, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func(v int64) { mappedLimit = v }(mappedLimit)
	mappedLimit = 0 // let go every 64 candidates
	got, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, want), mustJSON(t, got); a != b || len(want) == 0 { // JSON: region matches hold pointers
		t.Errorf("dupes letting go of the mapping (%d clusters) differ from dupes keeping it (%d)", len(got), len(want))
	}
	if r, err := c.Verify(t.Context(), VerifyOptions{Quick: true}); err != nil || len(r.Problems) != 0 {
		t.Errorf("verify letting go of the mapping: %v %v", err, r)
	}
}

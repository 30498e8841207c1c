package catalog

import (
	"context"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestBatchAkaIndex: after a rename, merge or edit, the release's new identity finds its batch
// through the alias index without reading the batch records; a catalog whose index is not current
// (written by a relcat without it) is answered from the records, the same way, and the next write
// rebuilds the index; an index that disagrees with the records is reported by verify.
func TestBatchAkaIndex(t *testing.T) {
	c := openTest(t)
	ho := HousekeepingOptions{Operator: "tester", Command: "test"}
	dirs := sampleDirs(t)
	ingestDirs(t, c, "a", dirs[0], dirs[1], dirs[2])
	bs, err := c.Batches("")
	if err != nil || len(bs) < 3 {
		t.Fatalf("batches: %v %d", err, len(bs))
	}
	reads := 0
	akaRecordsRead = func() { reads++ }
	t.Cleanup(func() { akaRecordsRead = nil })

	if err := c.RenameAffiliate(bs[0].Affiliate, "renamed-aff", ho); err != nil {
		t.Fatal(err)
	}
	day := bs[1].Released
	day.Time = day.Time.AddDate(0, 0, 1)
	dayText := day.String()
	if _, err := c.EditBatch(bs[1].ID, BatchEdit{Released: &dayText}, ho); err != nil {
		t.Fatal(err)
	}
	ask := func(step string, aff string, rel Released, folder string, want BatchID) {
		t.Helper()
		id, _, _, _, err := c.batchFor(aff, rel, folder)
		if err != nil || id != want {
			t.Fatalf("%s: batchFor(%s, %s, %s) = %s, %v; want %s", step, aff, rel, folder, id, err, want)
		}
	}
	ask("renamed", "renamed-aff", bs[0].Released, bs[0].Folder, bs[0].ID)
	ask("edited", bs[1].Affiliate, day, bs[1].Folder, bs[1].ID)
	ask("unknown", "nobody", bs[2].Released, bs[2].Folder, BatchIdentity("nobody", bs[2].Released, bs[2].Folder))
	if reads != 0 {
		t.Errorf("with a current alias index, batchFor read the batch records %d times", reads)
	}

	// A writer without the index: the running digest moves, the stamp does not.
	update(t, c, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyBatchAkaAt) })
	ask("records, renamed", "renamed-aff", bs[0].Released, bs[0].Folder, bs[0].ID)
	ask("records, edited", bs[1].Affiliate, day, bs[1].Folder, bs[1].ID)
	if reads != 2 {
		t.Errorf("without a current alias index, %d reads of the records, want 2", reads)
	}
	title := "t"
	if _, err := c.EditBatch(bs[2].ID, BatchEdit{Title: &title}, ho); err != nil {
		t.Fatal(err)
	}
	ask("rebuilt", "renamed-aff", bs[0].Released, bs[0].Folder, bs[0].ID)
	if reads != 2 {
		t.Errorf("the next write did not rebuild the alias index (%d reads)", reads)
	}
	if _, err := c.RemoveBatch(bs[1].ID, ho); err != nil {
		t.Fatal(err)
	}
	ask("removed", bs[1].Affiliate, day, bs[1].Folder, BatchIdentity(bs[1].Affiliate, day, bs[1].Folder))
	verifyClean := func(step string) {
		t.Helper()
		r, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Problems {
			if strings.Contains(p.Detail, "alias") {
				t.Errorf("%s: verify: %s %s: %s", step, p.Kind, p.Subject, p.Detail)
			}
		}
	}
	verifyClean("after the changes")

	// An alias dropped from the index behind the writer's back.
	update(t, c, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBatchAka).Delete(akaKey(BatchIdentity("renamed-aff", bs[0].Released, bs[0].Folder), bs[0].ID))
	})
	r, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range r.Problems {
		found = found || (p.Subject == bs[0].ID.String() && strings.Contains(p.Detail, "missing from the alias index"))
	}
	if !found {
		t.Errorf("verify did not report the alias missing from the index: %+v", r.Problems)
	}
	update(t, c, rebuildAka)
	verifyClean("after a rebuild")
}

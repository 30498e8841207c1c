package catalog

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// refHashes reads every stored reference PDQ.
func refHashes(t *testing.T, c *Catalog) map[SHA256]PDQInfo {
	t.Helper()
	out := map[SHA256]PDQInfo{}
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPDQRef).ForEach(func(k, v []byte) error {
			p, err := parsePDQValue(v)
			if err != nil {
				return err
			}
			var s SHA256
			copy(s[:], k)
			out[s] = *p
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every decoded image gets the reference full-resolution PDQ beside the work-image one: exactly what
// `relcat hash` (HashFile with Full) computes from the same file when ingest decodes it at full
// size, within maxReducedRefBits of it (every dihedral hash; quality within 2) for the JPEGs ingest
// decodes at a reduction (1024 px and more: pdq.FromReduced, see TestReducedReferencePDQ).
func TestIngestStoresReferencePDQ(t *testing.T) {
	c := openTest(t)
	sums := ingestSamples(t, c)
	refs := refHashes(t, c)
	n, reduced := 0, 0
	for dir, s := range sums {
		for _, f := range s.Files {
			if f.Status != StatusNew {
				continue
			}
			n++
			d, err := c.Image(*f.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			img := d.Image
			if img.PDQRef == nil || img.PDQ == nil {
				t.Fatalf("%s/%s: pdq %v, reference %v", dir, f.Name, img.PDQ, img.PDQRef)
			}
			if img.PDQRef.Variant != pdq.VariantFull || img.PDQ.Variant != pdq.VariantName(WorkSide) {
				t.Errorf("%s/%s: variants %q and %q", dir, f.Name, img.PDQ.Variant, img.PDQRef.Variant)
			}
			if refs[img.SHA256].Hash != img.PDQRef.Hash {
				t.Errorf("%s/%s: Image and the pdq_ref bucket disagree", dir, f.Name)
			}
			h, err := HashFile(t.Context(), f.Path, HashOptions{Full: true})
			if err != nil {
				t.Fatal(err)
			}
			if img.Format == string(media.JPEG) && media.Scale(img.Width, img.Height, workDecodeSide(false)) > 1 {
				reduced++
				worst := 0
				for i := range h.PDQ.Dihedral {
					worst = max(worst, pdq.Distance(h.PDQ.Dihedral[i], img.PDQRef.Dihedral[i]))
				}
				if worst > maxReducedRefBits || abs(h.PDQ.Quality-img.PDQRef.Quality) > 2 {
					t.Errorf("%s/%s (decoded reduced): stored reference %s q%d, relcat hash gives %s q%d (dihedral hashes up to %d bits apart)",
						dir, f.Name, img.PDQRef.Hash, img.PDQRef.Quality, h.PDQ.Hash, h.PDQ.Quality, worst)
				}
			} else if h.PDQ.Hash != img.PDQRef.Hash || h.PDQ.Quality != img.PDQRef.Quality || h.PDQ.Dihedral != img.PDQRef.Dihedral {
				t.Errorf("%s/%s: stored reference %s q%d, relcat hash gives %s q%d", dir, f.Name, img.PDQRef.Hash, img.PDQRef.Quality, h.PDQ.Hash, h.PDQ.Quality)
			}
			if d := pdq.Distance(img.PDQ.Hash, img.PDQRef.Hash); d > 16 {
				t.Errorf("%s/%s: work and reference variants %d bits apart", dir, f.Name, d)
			}
		}
	}
	if n < 10 || len(refs) != n || reduced == 0 || reduced == n {
		t.Errorf("%d new images (%d decoded reduced), %d reference hashes", n, reduced, len(refs))
	}
}

// A catalog whose images lack the reference hash (decoded by a schema-1 build) gets it back from the
// preserved originals, bit for bit, in one logged step; a second run does nothing.
func TestUpgradeReferencePDQ(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	want := refHashes(t, c)
	// Also one image ingested with --no-copy: its original is not in the catalog.
	noCopy := filepath.Join(t.TempDir(), "nocopy")
	writeTestPNG(t, filepath.Join(noCopy, "a.png"), lowQualityImage(60, 9))
	if _, err := c.Ingest(t.Context(), []string{noCopy}, IngestOptions{NoCopy: true, Release: ReleaseInfo{Affiliate: "x", Released: "2020-01-01"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketPDQRef); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketPDQRef)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r, err := c.UpgradeReferencePDQ(t.Context(), ReferenceUpgradeOptions{Operator: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Computed != len(want) || r.NoOriginal != 1 || len(r.Failed) != 0 || r.Missing != len(want)+1 {
		t.Errorf("upgrade: %+v, want %d computed and 1 without original", r, len(want))
	}
	got := refHashes(t, c)
	for s, p := range want {
		if got[s].Hash != p.Hash || got[s].Dihedral != p.Dihedral || got[s].Quality != p.Quality {
			t.Errorf("%s: recomputed %s, ingest stored %s", s, got[s].Hash, p.Hash)
		}
	}
	var last LogEntry
	_ = c.Log(func(e LogEntry) bool { last = e; return true })
	if last.Action != "upgrade" || len(last.Notes) == 0 || !strings.Contains(last.Notes[0], "reference") {
		t.Errorf("last log entry %+v", last)
	}
	r, err = c.UpgradeReferencePDQ(t.Context(), ReferenceUpgradeOptions{})
	if err != nil || r.Computed != 0 || r.NoOriginal != 1 {
		t.Errorf("second upgrade: %+v %v", r, err)
	}
}

// A schema-1 catalog is refused with a message naming `relcat reindex`.
func TestSchema1NamesReindex(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err = Open(dir, Options{ReadOnly: true})
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "relcat reindex") {
		t.Fatalf("got %v, want ErrSchema naming relcat reindex", err)
	}
}

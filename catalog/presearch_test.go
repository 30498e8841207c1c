package catalog

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/media"

	bolt "go.etcd.io/bbolt"
)

// presearchPhoto is one photo hashed as ingest hashes it.
type presearchPhoto struct {
	name string
	sha  SHA256
	p    *PDQInfo
	rs   []RegionHash
}

func hashPresearchPhotos(t *testing.T, dir string) []presearchPhoto {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no photos in %s: %v", dir, err)
	}
	var out []presearchPhoto
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		work, _, err := workImage(t.Context(), data, media.Sniff(data), DefaultMaxPixels, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, rs, err := workHashes(work)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, presearchPhoto{filepath.Base(n), sha256.Sum256(data), p, rs})
	}
	return out
}

// TestPresearchAddsArrivals: an image that ingest's worker searched for before other images
// arrived in the indexes (preSearch) gets its edges to those too, exactly the edges a search at
// commit time stores. The edited copies of regionFixture (a crop, a caption band, a mirrored crop)
// and a re-encoded copy are searched for in an empty catalog, then their originals are put, then
// the copies with what their searches found (nothing): every edge between them comes from the
// arrivals.
func TestPresearchAddsArrivals(t *testing.T) {
	first, second := regionFixture(t)
	origs := hashPresearchPhotos(t, first)
	copies := hashPresearchPhotos(t, second)
	data, err := os.ReadFile(filepath.Join(first, "09-ship.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := media.Decode(data, media.Sniff(data), DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	reenc, err := encodeJPEG(img, 55)
	if err != nil {
		t.Fatal(err)
	}
	reencDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(reencDir, "ship-q55.jpg"), reenc, 0o644); err != nil {
		t.Fatal(err)
	}
	copies = append(copies, hashPresearchPhotos(t, reencDir)...)

	run := func(presearch bool) (string, int, int) {
		c, err := Open(filepath.Join(t.TempDir(), "cat"), Options{Now: fixedClock(), Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pres := make([]*preSearch, len(copies))
		if presearch {
			for i, p := range copies {
				if pres[i] = c.presearch(p.p, p.rs, true); pres[i] == nil {
					t.Fatalf("%s: no presearch", p.name)
				}
				if len(pres[i].whole) != 0 || len(pres[i].region) != 0 {
					t.Fatalf("%s: found something in an empty catalog", p.name)
				}
			}
		}
		var near *nearTx
		err = c.update(func(tx *bolt.Tx) error {
			near = c.beginNear(tx)
			for _, p := range origs {
				if err := near.putWithRegions(p.sha, p.p, p.rs, true, nil); err != nil {
					return err
				}
			}
			for i, p := range copies {
				if err := near.putWithRegions(p.sha, p.p, p.rs, true, pres[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		near.done()
		dump, n := edgeDump(t, c)
		_, regionEdges := edgeDumpKind(t, c, int(edgeRegion))
		return dump, n, regionEdges
	}
	with, n, regionEdges := run(true)
	without, _, _ := run(false)
	if with != without {
		t.Errorf("edges stored after a presearch differ from those of a search at commit time:\n%s\nwant\n%s", with, without)
	}
	if regionEdges < 6 || n-regionEdges < 2 {
		t.Errorf("%d region and %d whole-image edge entries: the test needs the three edited copies' region edges and the re-encoded copy's", regionEdges, n-regionEdges)
	}
}

// TestIngestPresearchSameEdges: ingests with the workers' presearches store the edges the commit's
// own searches store, in chunks small enough that searches and commits interleave, with one, two
// and four workers.
func TestIngestPresearchSameEdges(t *testing.T) {
	old := chunkFiles
	chunkFiles = 2
	defer func() { chunkFiles = old }()
	first, second := regionFixture(t)
	// The originals and their edited copies in one release too: a copy's search may then run
	// before its original's commit.
	together := map[string][]byte{}
	for _, dir := range []string{first, second} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			together[filepath.Base(n)] = data
		}
	}
	both := writeRelease(t, t.TempDir(), "together", "third-aff", "2019-03-01", together)
	dirs := append(sampleDirs(t), both, first, second)
	run := func(presearch bool, workers int) string {
		was := presearchAtIngest
		presearchAtIngest = presearch
		defer func() { presearchAtIngest = was }()
		c := openTest(t)
		if _, err := c.Ingest(context.Background(), dirs, IngestOptions{Workers: workers}); err != nil {
			t.Fatal(err)
		}
		dump, _ := edgeDump(t, c)
		return dump
	}
	want := run(false, 2)
	if n := strings.Count(want, "\n"); n < 10 {
		t.Fatalf("only %d edge entries: the comparison proves little", n)
	}
	for _, workers := range []int{1, 2, 4} {
		if got := run(true, workers); got != want {
			a, b := strings.Split(got, "\n"), strings.Split(want, "\n")
			extra, missing := 0, 0
			for _, l := range a {
				if !slices.Contains(b, l) {
					extra++
				}
			}
			for _, l := range b {
				if !slices.Contains(a, l) {
					missing++
				}
			}
			t.Errorf("%d workers: the edges differ from the commit's searches: %d extra, %d missing", workers, extra, missing)
		}
	}
}

// A presearch that fails (a damaged index that panics or faults) returns nothing: the file is not
// rejected for it, and the commit searches again at the catalog boundary, where the damage is
// reported.
func TestPresearchLeavesFailuresToTheCommit(t *testing.T) {
	photos := hashPresearchPhotos(t, filepath.Join(repoRoot(t), "samples", "releases", "2019-11-02-sinai"))
	c, err := Open(filepath.Join(t.TempDir(), "cat"), Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.noPersist = true
	c.idx = &nearIndex{} // no hindex under it: every search panics
	for _, p := range photos {
		if p.p.Quality < EdgeMinQuality {
			continue
		}
		if pre := c.presearch(p.p, p.rs, true); pre != nil {
			t.Fatalf("%s: a failed presearch returned %+v", p.name, pre)
		}
		return
	}
	t.Fatal("no sample photo of quality enough to search for")
}

package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/relcat/relcat/catalog/exifmeta"

	bolt "go.etcd.io/bbolt"
)

// Scale catalogs: generated through the catalog's own write path (commitChunkTx, the transaction
// body of every ingest chunk: image records, sightings both ways, md5 index, hashes with their near
// ids and edges, batch records, one log entry per release), many releases per transaction so that a
// million images are written in minutes. No file is decoded: each image gets a synthetic record and
// perceptual hash. The hashes are clustered the way real ones are:
//
//   - most photos are new: a hash drawn near one of 5,000 "scene" seeds (40 bits flipped, so photos
//     of one scene sit about 70 bits apart: they share index buckets without matching);
//   - 9% are near-duplicates of an earlier photo (a re-encode, resize or edit): its 8 hashes with
//     0-24 bits flipped each, its region hashes too; 3% are crops of an earlier photo: its whole
//     hash 0-20 bits from the earlier one's centred 88 % window (they match through regions only);
//   - 6% are byte-identical reposts of an earlier photo (a second sighting);
//   - 20% of hashes are of low quality (below 50), the rest 60-100;
//   - 70% carry EXIF (make, model, date and 24 raw tags), like the corpus;
//   - every image has 3 region hashes (the centred windows an ingest hashes, issue 10): each 16-28
//     bits from the whole hash as-is, a random mirrored one; a near-duplicate's are its source's
//     with 0-24 bits flipped, so region edges form too.
//
// Releases hold 16 photos, credited to 40 affiliates, released one after another over ten years.
//
// Build one (takes minutes at a million; the directory must not exist):
//
//	RELCAT_SCALE_DIR=/tmp/scale1m RELCAT_SCALE_N=1000000 go test ./catalog -run TestScaleCatalog -timeout 0 -v
//
// then time the relcat commands on it (README, "At scale").

// scaleGen generates the synthetic images of a scale catalog.
type scaleGen struct {
	rng    *rand.Rand
	seeds  [][32]byte
	shas   []SHA256   // every image generated so far
	pdqs   []*PDQInfo // by image
	rs     [][]RegionHash
	serial uint64
}

func newScaleGen(seed uint64) *scaleGen {
	g := &scaleGen{rng: rand.New(rand.NewPCG(seed, 0x5ca1e))}
	for range 5000 {
		g.seeds = append(g.seeds, g.randHash())
	}
	return g
}

func (g *scaleGen) randHash() [32]byte {
	var h [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(h[i:], g.rng.Uint64())
	}
	return h
}

// flip returns h with n distinct random bits flipped.
func (g *scaleGen) flip(h [32]byte, n int) [32]byte {
	for _, b := range g.rng.Perm(256)[:n] {
		h[b/8] ^= 1 << (b % 8)
	}
	return h
}

// next returns the next image of a release: a new record, or (reuse) a known image's hash.
func (g *scaleGen) next() (img *Image, reuse SHA256, isReuse bool) {
	r := g.rng.Float64()
	if len(g.shas) > 100 && r < 0.06 {
		return nil, g.shas[g.rng.IntN(len(g.shas))], true
	}
	g.serial++
	var s SHA256
	binary.BigEndian.PutUint64(s[:], g.rng.Uint64())
	binary.BigEndian.PutUint64(s[8:], g.rng.Uint64())
	binary.BigEndian.PutUint64(s[16:], g.rng.Uint64())
	binary.BigEndian.PutUint64(s[24:], g.serial)
	var m MD5
	binary.BigEndian.PutUint64(m[:], g.rng.Uint64())
	binary.BigEndian.PutUint64(m[8:], g.rng.Uint64())
	p := &PDQInfo{Variant: "pdq-area1024"}
	var rs []RegionHash
	if len(g.pdqs) > 100 && r < 0.18 {
		i := g.rng.IntN(len(g.pdqs))
		src := g.pdqs[i]
		k := g.rng.IntN(25)
		for t := range p.Dihedral {
			p.Dihedral[t] = g.flip(src.Dihedral[t], k)
		}
		p.Quality = src.Quality
		if r < 0.15 {
			for _, h := range g.rs[i] {
				h.AsIs, h.Mirror = g.flip(h.AsIs, g.rng.IntN(25)), g.flip(h.Mirror, g.rng.IntN(25))
				rs = append(rs, h)
			}
		} else {
			// A crop of the source: its whole hash is near the source's centred 88 % window.
			p.Dihedral[0] = g.flip(g.rs[i][1].AsIs, g.rng.IntN(21))
		}
	} else {
		seed := g.seeds[g.rng.IntN(len(g.seeds))]
		for t := range p.Dihedral {
			p.Dihedral[t] = g.flip(seed, 40)
			if t > 0 {
				p.Dihedral[t] = g.randHash()
			}
		}
		p.Quality = 60 + g.rng.IntN(41)
		if g.rng.Float64() < 0.2 {
			p.Quality = g.rng.IntN(50)
		}
	}
	p.Hash = p.Dihedral[0]
	if rs == nil {
		for _, code := range []Region{regionCentre95, regionCentre88, regionCentre80} {
			rs = append(rs, RegionHash{Region: code, Quality: p.Quality, AsIs: g.flip(p.Hash, 16+g.rng.IntN(13)), Mirror: g.randHash()})
		}
	}
	img = &Image{SHA256: s, MD5: m, Size: 200_000 + g.rng.Int64N(3_000_000), Format: "jpeg", Width: 1600, Height: 1200, Pixels: true, PDQ: p}
	if g.rng.Float64() < 0.7 {
		img.EXIF = exifmeta.Meta{Found: true, Make: "Canon", Model: fmt.Sprintf("EOS %dD", 5+g.rng.IntN(90)),
			DateTimeOriginal: fmt.Sprintf("2019-%02d-%02dT%02d:%02d:00", 1+g.rng.IntN(12), 1+g.rng.IntN(28), g.rng.IntN(24), g.rng.IntN(60)),
			Orientation:      1, Raw: map[string]string{}}
		for i := range 24 {
			img.EXIF.Raw[fmt.Sprintf("Exif.Tag%02d", i)] = strconv.Itoa(g.rng.IntN(100000))
		}
	}
	img.regions, img.hasRegions = rs, true
	g.shas = append(g.shas, s)
	g.pdqs = append(g.pdqs, p)
	g.rs = append(g.rs, rs)
	return img, s, false
}

// buildScale writes n images (in releases of 16) into the catalog, releasesPerTx releases per
// write transaction, and returns the time it took.
func buildScale(tb testing.TB, c *Catalog, n int, seed uint64, progress func(done int)) time.Duration {
	tb.Helper()
	g := newScaleGen(seed)
	start := time.Now()
	const perRelease, releasesPerTx = 16, 1000
	// About 6% of the files are reposts: a few more releases than n/16.
	releases := (n+perRelease-1)/perRelease*106/100 + 1
	t0 := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	step := 10 * 365 * 24 * time.Hour / time.Duration(releases)
	made := 0
	for r0 := 0; made < n; r0 += releasesPerTx {
		var near *nearTx
		err := c.update(func(tx *bolt.Tx) error {
			near = c.beginNear(tx)
			for r := r0; r < r0+releasesPerTx && made < n; r++ {
				aff := fmt.Sprintf("aff-%02d", r%40)
				rel := Released{Time: t0.Add(time.Duration(r) * step).Truncate(time.Minute)}
				folder := fmt.Sprintf("release-%07d", r)
				b := Batch{ID: BatchIdentity(aff, rel, folder), Affiliate: aff, Released: rel, Folder: folder, Title: "generated release " + strconv.Itoa(r)}
				sum := &BatchSummary{}
				var chunk []processed
				for i := 0; i < perRelease && made < n; i++ {
					img, s, reuse := g.next()
					name := fmt.Sprintf("%03d.jpg", i)
					p := processed{cand: candidate{rel: name, raw: name}, idx: i, pos: i, res: FileResult{Name: name, Position: i, SHA256: &s}}
					if reuse {
						p.res.Status = StatusKnown
					} else {
						p.res.Status = StatusNew
						p.img = img
						made++
					}
					chunk = append(chunk, p)
				}
				if _, _, _, err := c.commitChunkTx(tx, near, &b, sum, chunk, IngestOptions{Operator: "scale", Command: "generated"}, true, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			near.abort()
			tb.Fatal(err)
		}
		near.done()
		if progress != nil {
			progress(made)
		}
	}
	return time.Since(start)
}

// TestScaleCatalog builds a scale catalog where RELCAT_SCALE_DIR says (see the top of this file).
func TestScaleCatalog(t *testing.T) {
	dir := os.Getenv("RELCAT_SCALE_DIR")
	if dir == "" {
		t.Skip("set RELCAT_SCALE_DIR (and RELCAT_SCALE_N) to build a scale catalog")
	}
	n, err := strconv.Atoi(os.Getenv("RELCAT_SCALE_N"))
	if err != nil || n <= 0 {
		t.Fatalf("RELCAT_SCALE_N=%q: want a number of images", os.Getenv("RELCAT_SCALE_N"))
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s exists: give a new directory", dir)
	}
	c, err := Open(dir, Options{Version: "scale"})
	if err != nil {
		t.Fatal(err)
	}
	took := buildScale(t, c, n, 1, func(done int) { t.Logf("%d images", done) })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d images in %s; catalog.db %d bytes (%.0f per image)", n, took.Round(time.Second), fi.Size(), float64(fi.Size())/float64(n))
}

// TestScaleGenerator: a small scale catalog verifies, holds the stated mix (near-duplicate
// clusters, reposts, low-quality hashes), and its stored edges are those a search finds.
func TestScaleGenerator(t *testing.T) {
	c := openTest(t)
	buildScale(t, c, 3000, 7, nil)
	var images, sightings, edges, regionEdges, low int
	err := c.view(func(tx *bolt.Tx) error {
		images = tx.Bucket(bucketImages).Stats().KeyN
		sightings = tx.Bucket(bucketImageBatches).Stats().KeyN
		edges = tx.Bucket(bucketEdges).Stats().KeyN
		_ = tx.Bucket(bucketEdges).ForEach(func(k, v []byte) error {
			if len(k) > 32 && k[32] == edgeRegion {
				regionEdges++
			}
			return nil
		})
		return tx.Bucket(bucketPDQ).ForEach(func(k, v []byte) error {
			if v[0] < EdgeMinQuality {
				low++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if images != 3000 || sightings < 3100 || edges < 200 || regionEdges < 50 || low < 300 {
		t.Errorf("%d images, %d sightings, %d edge entries (%d through regions), %d low-quality hashes: not the stated mix", images, sightings, edges, regionEdges, low)
	}
	fromEdges, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	searchOnly = true
	searched, err := c.Dupes(DupesOptions{})
	searchOnly = false
	if err != nil {
		t.Fatal(err)
	}
	// (JSON, not fmt: region matches hold pointers.)
	if a, b := mustJSON(t, fromEdges), mustJSON(t, searched); a != b {
		t.Errorf("dupes from edges (%d clusters) differ from searching (%d)", len(fromEdges), len(searched))
	}
	// A small --limit reads images one at a time in first-seen order (issue 13: it read every
	// candidate first): the same first clusters, from a fraction of the images.
	for _, n := range []int{1, 10, 50} {
		before := dupesLazyReads.Load()
		got, err := c.Dupes(DupesOptions{Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		read := dupesLazyReads.Load() - before
		if a, b := mustJSON(t, got), mustJSON(t, fromEdges[:n]); a != b {
			t.Errorf("dupes --limit %d differs from the first %d clusters of dupes", n, n)
		}
		if read == 0 || read > int64(20*n) {
			t.Errorf("dupes --limit %d read %d candidates one at a time, want 1 to %d", n, read, 20*n)
		}
	}
	searchOnly = true
	got, err := c.Dupes(DupesOptions{Limit: 10})
	searchOnly = false
	if err != nil || mustJSON(t, got) != mustJSON(t, searched[:10]) {
		t.Errorf("dupes --limit 10, searching: %v, differs from the first 10 clusters", err)
	}
	// verify reports progress as it reads the images, and stops soon after a cancellation.
	var calls [][2]int
	r, err := c.Verify(context.Background(), VerifyOptions{Quick: true, Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
	if err != nil || len(r.Problems) != 0 {
		t.Fatalf("verify: %v %v", err, r.Problems)
	}
	if len(calls) < 3 || calls[len(calls)-1] != [2]int{3000, 3000} {
		t.Errorf("progress calls %v", calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var seen []int
	_, err = c.Verify(ctx, VerifyOptions{Quick: true, Progress: func(done, total int) {
		seen = append(seen, done)
		cancel()
	}})
	// Cancelled at 1,024 images: stopped within the next 1,024 records.
	if !errors.Is(err, ErrInterrupted) || len(seen) != 1 || seen[0] != 1024 {
		t.Errorf("verify cancelled at 1024 images: progress %v, %v", seen, err)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

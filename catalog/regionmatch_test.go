package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/hindex"
	"github.com/relcat/relcat/catalog/media"
	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// regionEdit is one edited copy of a sample photo in the region fixture, and what its match to the
// original must say (a substring of the description, from the copy's side).
type regionEdit struct {
	name, source string
	edit         func(*image.RGBA) image.Image
	words        string
}

// cropCentreEdit keeps the centred share keep (percent) of each side.
func cropCentreEdit(keep int) func(*image.RGBA) image.Image {
	return func(m *image.RGBA) image.Image {
		b := m.Bounds()
		w, h := b.Dx()*keep/100, b.Dy()*keep/100
		x0, y0 := b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2
		return m.SubImage(image.Rect(x0, y0, x0+w, y0+h))
	}
}

// captionBand adds a white band at the bottom, share percent of the new height, with dark blocks
// standing for letters.
func captionBand(share int) func(*image.RGBA) image.Image {
	return func(m *image.RGBA) image.Image {
		b := m.Bounds()
		band := b.Dy() * share / (100 - share)
		out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+band))
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				out.Set(x, y, m.At(b.Min.X+x, b.Min.Y+y))
			}
		}
		for y := b.Dy(); y < b.Dy()+band; y++ {
			for x := 0; x < b.Dx(); x++ {
				c := color.RGBA{255, 255, 255, 255}
				// Letters: short dark strokes in the middle third of the band.
				if y > b.Dy()+band/3 && y < b.Dy()+2*band/3 && x > b.Dx()/10 && x < b.Dx()*6/10 && (x/7)%3 == 0 {
					c = color.RGBA{20, 20, 20, 255}
				}
				out.Set(x, y, c)
			}
		}
		return out
	}
}

var regionEdits = []regionEdit{
	{"01-ship-crop80.jpg", "09-ship.jpg", cropCentreEdit(80), "cropped"},
	{"02-church-caption.jpg", "06-church.jpg", captionBand(12), "band added"},
	{"03-railway-crop-mirror.jpg", "07-railway.jpg", func(m *image.RGBA) image.Image { return mirrorLR(toRGBA(cropCentreEdit(85)(m))) }, "mirrored"},
}

// regionFixture writes two releases: "first" (2019-01-01) holds three sample photos as they are and
// an unrelated one; "second" (2019-02-01) the edited copies of regionEdits. It returns the two
// folders.
func regionFixture(t testing.TB) (first, second string) {
	t.Helper()
	src := filepath.Join(repoRoot(t), "samples", "releases", "2019-11-02-sinai")
	root := t.TempDir()
	orig := map[string][]byte{}
	edited := map[string][]byte{}
	// The sample photos, shrunk to the work image's size (the region hashes see no more; the test
	// stays fast under -race), are the originals; the copies are edited from them.
	small := map[string]*image.RGBA{}
	for _, n := range []string{"09-ship.jpg", "06-church.jpg", "07-railway.jpg", "03-dog.jpg"} {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := media.Decode(data, media.Sniff(data), DefaultMaxPixels)
		if err != nil {
			t.Fatal(err)
		}
		small[n] = toRGBA(media.Shrink(img, 512))
		if orig[n], err = encodeJPEG(small[n], 92); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range regionEdits {
		data, err := encodeJPEG(e.edit(small[e.source]), editJPEGQuality)
		if err != nil {
			t.Fatal(err)
		}
		edited[e.name] = data
	}
	first = writeRelease(t, root, "first", "first-aff", "2019-01-01", orig)
	second = writeRelease(t, root, "second", "second-aff", "2019-02-01", edited)
	return first, second
}

// TestRegionMatchesEveryCommand (issue 10 items 1-3): a crop, a caption band and a mirrored crop of
// three photos are found through region hashes at ingest, and the ingest summary, lookup (of the
// stored file and of a new crop not in the catalog), history, show and dupes all report the same
// match: the original as the origin, the distance of the matching region pair (as RegionDistance
// recomputes it from the stored hashes), the regions and the words.
func TestRegionMatchesEveryCommand(t *testing.T) {
	c := openTest(t)
	first, second := regionFixture(t)
	sums, err := c.Ingest(context.Background(), []string{first, second}, IngestOptions{Operator: "test", Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	origSHA := func(n string) SHA256 {
		f := fileByName(sums[0], n)
		if f == nil || f.SHA256 == nil {
			t.Fatalf("%s not ingested", n)
		}
		return *f.SHA256
	}
	for _, e := range regionEdits {
		f := fileByName(sums[1], e.name)
		if f == nil || f.SHA256 == nil {
			t.Fatalf("%s not ingested", e.name)
		}
		orig := origSHA(e.source)
		// The summary.
		if f.Seen != SeenNear || f.Origin == nil || f.Origin.Sighting.SHA256 != orig || f.Origin.Region == nil {
			t.Errorf("%s: summary seen %q origin %+v, want near, the region match of %s", e.name, f.Seen, f.Origin, e.source)
			continue
		}
		o := f.Origin
		if !strings.Contains(o.Region.Description, e.words) {
			t.Errorf("%s: described %q, want %q in it", e.name, o.Region.Description, e.words)
		}
		// The distance is the region pair's, recomputed from the stored hashes.
		err := c.view(func(tx *bolt.Tx) error {
			a, err := storedHashSet(tx, *f.SHA256)
			if err != nil {
				return err
			}
			b, err := storedHashSet(tx, orig)
			if err != nil {
				return err
			}
			p, ok := regionPairMatch(*f.SHA256, a, orig, b)
			if !ok || p.dist != o.Distance || p.tr.String() != o.Transform || p.ra.Region.String() != o.Region.Query || p.rb.Region.String() != o.Region.Match {
				t.Errorf("%s: origin d=%d %s %s, the stored hashes give %v d=%d %s %s~%s", e.name, o.Distance, o.Transform, o.Region.Regions(), ok, p.dist, p.tr, p.ra.Region, p.rb.Region)
			}
			if wholeEdge(a.whole, b.whole) {
				t.Errorf("%s: a whole-image pair: the fixture proves nothing", e.name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(o)
		same := func(what string, got *Origin) {
			t.Helper()
			if g, _ := json.Marshal(got); !bytes.Equal(g, want) {
				t.Errorf("%s %s: origin %s, the summary said %s", e.name, what, g, want)
			}
		}
		// lookup of the stored file, history, show.
		path := filepath.Join(second, e.name)
		lr, err := c.Lookup(context.Background(), path, MatchOptions{}, HashOptions{})
		if err != nil {
			t.Fatal(err)
		}
		same("lookup", lr.Origin)
		h, err := c.History(*f.SHA256, MatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		same("history", h.OriginMatch)
		d, err := c.Image(*f.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		same("show", d.Origin)
		// The original's side: the copy, with the words seen from the original.
		od, err := c.Image(orig)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range od.Near {
			if m.SHA256 == *f.SHA256 {
				found = true
				if m.Region == nil || m.Distance != o.Distance || m.Region.Query != o.Region.Match || m.Region.Match != o.Region.Query {
					t.Errorf("%s: from the original: %+v %+v, want the same pair the other way", e.name, m, m.Region)
				}
			}
		}
		if !found {
			t.Errorf("%s: the original's near matches %+v lack it", e.name, od.Near)
		}
	}
	// dupes: each original is the origin of a cluster holding its copy, through a region edge.
	cls, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range regionEdits {
		ok := false
		for _, cl := range cls {
			if cl.Members[0].SHA256 != origSHA(e.source) {
				continue
			}
			for _, m := range cl.Members[1:] {
				if m.Region != nil && strings.Contains(m.Region.Description, e.words) {
					ok = true
				}
			}
			if len(cl.Edges) == 0 || cl.Edges[0].Region == nil {
				t.Errorf("cluster of %s: edges %+v, want a region edge", e.source, cl.Edges)
			}
		}
		if !ok {
			t.Errorf("dupes: no cluster of %s with its copy %s", e.source, e.name)
		}
	}
	// A crop that is not in the catalog: found by searching (not by stored edges).
	src, err := os.ReadFile(filepath.Join(first, "09-ship.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := media.Decode(src, media.Sniff(src), DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	data, err := encodeJPEG(cropCentreEdit(88)(toRGBA(img)), 80)
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh.jpg")
	if err := os.WriteFile(fresh, data, 0o644); err != nil {
		t.Fatal(err)
	}
	lr, err := c.Lookup(context.Background(), fresh, MatchOptions{}, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lr.Origin == nil || lr.Origin.Sighting.SHA256 != origSHA("09-ship.jpg") || lr.Origin.Region == nil {
		t.Errorf("lookup of a new 88 %% crop: origin %+v, want the ship through region hashes", lr.Origin)
	}
	// NoRegions: whole-image matching only, as before region hashes.
	lr, err = c.Lookup(context.Background(), fresh, MatchOptions{NoRegions: true}, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range lr.Near {
		if m.Region != nil {
			t.Errorf("NoRegions lookup: region match %+v", m)
		}
	}
	// The same answers from a search as from the stored edges.
	compareEdgesWithSearch(t, c)
}

// compareEdgesWithSearch checks that every stored image's family, history and dupes are the same
// read from the stored edges and found by searching the indexes.
func compareEdgesWithSearch(t *testing.T, c *Catalog) {
	t.Helper()
	hs := allHashes(t, c)
	answers := func() string {
		var b strings.Builder
		for _, o := range []DupesOptions{{}, {Match: MatchOptions{MaxDistance: 12}}, {Match: MatchOptions{MinQuality: 70}}} {
			cls, err := c.Dupes(o)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(cls)
			fmt.Fprintf(&b, "dupes %+v: %s\n", o, data)
		}
		for _, h := range hs {
			for _, mo := range []MatchOptions{{}, {MaxDistance: 10}, {MinQuality: 70}} {
				f, err := c.Family(h.sha, h.p, mo)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := json.Marshal(f)
				fmt.Fprintf(&b, "family %s %+v: %s\n", h.sha, mo, data)
			}
		}
		return b.String()
	}
	fromEdges := answers()
	searchOnly = true
	defer func() { searchOnly = false }()
	searched := answers()
	if fromEdges != searched {
		a, b := strings.Split(fromEdges, "\n"), strings.Split(searched, "\n")
		for i := range a {
			if i < len(b) && a[i] != b[i] {
				t.Errorf("from edges:\n%s\nsearching:\n%s", a[i], b[i])
				break
			}
		}
	}
	if !strings.Contains(fromEdges, `"region":{`) {
		t.Error("no region match: the comparison proves little")
	}
}

// TestRegionIndexExact: the searches of regionCandidates find every pair of images that
// regionPairMatch accepts, whichever of the two is asked about, over random hash sets with planted
// near pairs at distances around the thresholds (brute force over every pair).
func TestRegionIndexExact(t *testing.T) {
	plan := regionPlanOnce()
	if plan.radius < 0 {
		t.Skip("the region set compares no regions")
	}
	var codes []Region
	for r := 1; r < 256; r++ {
		if plan.withWhole[r] || plan.withRegion[r] {
			codes = append(codes, Region(r))
		}
	}
	if len(codes) == 0 {
		t.Fatal("no region code is compared")
	}
	rng := rand.New(rand.NewPCG(10, 1))
	randHash := func() pdq.Hash {
		var h pdq.Hash
		for i := range h {
			h[i] = byte(rng.UintN(256))
		}
		return h
	}
	near := func(h pdq.Hash, bits int) pdq.Hash {
		for range bits {
			k := rng.IntN(256)
			h[k/8] ^= 1 << (k % 8)
		}
		return h
	}
	const n = 1000
	sets := make([]*hashSet, n+1)
	shas := make([]SHA256, n+1)
	ix := &nearIndex{ix: hindex.New(0)}
	rix := &regionIndex{ix: hindex.New(0)}
	for id := 1; id <= n; id++ {
		var p PDQInfo
		p.Quality = 50 + rng.IntN(51)
		for k := range p.Dihedral {
			p.Dihedral[k] = randHash()
		}
		var rs []RegionHash
		for i := 0; i < min(len(codes), 1+rng.IntN(MaxRegionHashesForTest)); i++ {
			rs = append(rs, RegionHash{Region: codes[rng.IntN(len(codes))], Quality: 40 + rng.IntN(61), AsIs: randHash(), Mirror: randHash()})
		}
		// Plant near pairs with an earlier image: one of our records close to one of theirs, as-is or
		// mirrored, at a distance around the thresholds.
		if id > 1 && rng.IntN(2) == 0 {
			o := sets[1+rng.IntN(id-1)]
			orecs := o.records()
			src := orecs[rng.IntN(len(orecs))]
			d := 20 + rng.IntN(16)
			switch rng.IntN(3) {
			case 0:
				p.Dihedral[0] = near(src.AsIs, d)
				p.Dihedral[pdq.FlipY] = near(src.Mirror, d)
			case 1:
				if len(rs) > 0 {
					rs[0].AsIs, rs[0].Mirror = near(src.AsIs, d), near(src.Mirror, d)
				}
			default:
				if len(rs) > 0 {
					rs[0].AsIs, rs[0].Mirror = near(src.Mirror, d), near(src.AsIs, d/2)
				}
			}
		}
		p.Hash = p.Dihedral[0]
		sets[id] = &hashSet{whole: &p, regions: dedupeRegions(rs)}
		shas[id] = SHA256(randHash())
		ix.add(shas[id], &p, uint64(id))
		rix.add(uint64(id), sets[id].regions)
	}
	byID := map[SHA256]int{}
	for id := 1; id <= n; id++ {
		byID[shas[id]] = id
	}
	c := &Catalog{}
	matches := 0
	for id := 2; id <= n; id++ {
		cands, err := c.regionCandidates(ix, rix, sets[id], shas[id], uint64(id), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]bool{}
		for _, s := range cands {
			got[byID[s]] = true
		}
		for j := 1; j < id; j++ {
			_, ok := regionPairMatch(shas[id], sets[id], shas[j], sets[j])
			if !ok {
				continue
			}
			matches++
			if !got[j] {
				t.Fatalf("image %d matches earlier image %d through regions, the index search missed it", id, j)
			}
			// The rule is symmetric.
			p, _ := regionPairMatch(shas[id], sets[id], shas[j], sets[j])
			q, ok2 := regionPairMatch(shas[j], sets[j], shas[id], sets[id])
			if !ok2 || p.dist != q.dist || p.ra != q.rb || p.rb != q.ra || p.tr != q.tr.Inverse() {
				t.Fatalf("regionPairMatch(%d, %d) = %+v, the other way %+v", id, j, p, q)
			}
		}
	}
	if matches < 50 {
		t.Errorf("only %d region matches planted: the test proves little", matches)
	}
	t.Logf("%d images, %d region matches, every one found by the index", n, matches)
}

// MaxRegionHashesForTest is how many region hashes the random sets of TestRegionIndexExact get at most.
const MaxRegionHashesForTest = 5

func dedupeRegions(rs []RegionHash) []RegionHash {
	seen := map[Region]bool{}
	out := rs[:0]
	for _, r := range rs {
		if !seen[r.Region] {
			seen[r.Region] = true
			out = append(out, r)
		}
	}
	return out
}

// TestReindexAddsRegionHashes (issue 10 item 6): a catalog written before region hashes (none
// stored) keeps working whole-image; reindex computes them from the preserved originals (logged),
// after which the copies are found; an image ingested with --no-copy is listed as not upgraded and
// stays whole-image only. Verify passes before and after (openTest).
func TestReindexAddsRegionHashes(t *testing.T) {
	c := openTest(t)
	first, second := regionFixture(t)
	regionsAtIngest = false
	_, err := c.Ingest(context.Background(), []string{first}, IngestOptions{Operator: "test", Command: "test"})
	if err == nil {
		_, err = c.Ingest(context.Background(), []string{second}, IngestOptions{Operator: "test", Command: "test", NoCopy: true})
	}
	regionsAtIngest = true
	if err != nil {
		t.Fatal(err)
	}
	// The older catalog: no region hashes, no region match.
	cls, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cls {
		for _, m := range cl.Members {
			if m.Region != nil {
				t.Fatalf("region match %+v before any region hash", m)
			}
		}
	}
	r, err := c.Reindex(context.Background(), ReindexOptions{Operator: "test", Command: "relcat reindex"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.NotUpgraded) != len(regionEdits) {
		t.Errorf("not upgraded: %v, want the %d --no-copy copies", r.NotUpgraded, len(regionEdits))
	}
	var last LogEntry
	if err := c.Log(func(e LogEntry) bool { last = e; return true }); err != nil {
		t.Fatal(err)
	}
	logged := strings.Join(last.Notes, "\n")
	if !strings.Contains(logged, "region hashes: 4 of 7 missing computed") || !strings.Contains(logged, "not upgraded") {
		t.Errorf("reindex log notes:\n%s\nwant the region step with its counts and the images not upgraded", logged)
	}
	// The originals have region hashes now: a copy's whole image finds a region of its original
	// (crops) where the copy itself has none; the caption band needs the copy's own content region.
	cls, err = c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	regionMembers := 0
	for _, cl := range cls {
		for _, m := range cl.Members {
			if m.Region != nil {
				regionMembers++
			}
		}
	}
	if regionMembers == 0 {
		t.Error("no region match after reindex")
	}
	vr, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	if vr.WholeOnly != len(regionEdits) {
		t.Errorf("verify: %d whole-image only, want %d", vr.WholeOnly, len(regionEdits))
	}
	compareEdgesWithSearch(t, c)
}

// TestVerifyRegionDamage: verify names a region edge whose distance was altered, a region edge
// without its reverse entry and an unreadable regions record.
func TestVerifyRegionDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, second := regionFixture(t)
	if _, err := c.Ingest(context.Background(), []string{first, second}, IngestOptions{Operator: "test", Command: "test"}); err != nil {
		t.Fatal(err)
	}
	problems := func() string {
		t.Helper()
		r, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, p := range r.Problems {
			b.WriteString(p.String() + "\n")
		}
		return b.String()
	}
	if p := problems(); p != "" {
		t.Fatalf("fresh catalog: %s", p)
	}
	var key, val []byte
	var someSHA []byte
	err = c.update(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketEdges).Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if len(k) > 33 && k[32] == edgeRegion {
				key, val = bytes.Clone(k), bytes.Clone(v)
				break
			}
		}
		if key == nil {
			return fmt.Errorf("no region edge stored")
		}
		v := bytes.Clone(val)
		v[0]++
		if err := tx.Bucket(bucketEdges).Put(key, v); err != nil {
			return err
		}
		rc := tx.Bucket(bucketRegions).Cursor()
		for k, _ := rc.First(); k != nil; k, _ = rc.Next() {
			if !bytes.Equal(k, key[:32]) && !bytes.Equal(k, key[33:65]) {
				someSHA = bytes.Clone(k)
				break
			}
		}
		return tx.Bucket(bucketRegions).Put(someSHA, []byte{RegionSetVersion, 3, 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	p := problems()
	for _, want := range []string{"region edge", "stored", fmt.Sprintf("%x: regions value", someSHA)} {
		if !strings.Contains(p, want) {
			t.Errorf("verify found:\n%s\nwant %q", p, want)
		}
	}
	// Reindex repairs both (the record is recomputed from the original).
	if _, err := c.Reindex(context.Background(), ReindexOptions{Operator: "test", Command: "relcat reindex"}); err != nil {
		t.Fatal(err)
	}
	if p := problems(); p != "" {
		t.Errorf("after reindex: %s", p)
	}
}

// regionFileCatalog writes a catalog of regionFixture's first folder whose writer leaves regions.idx
// (persisted from one hash on, for this test) and returns its directory and the second folder.
func regionFileCatalog(t *testing.T) (dir, second string) {
	t.Helper()
	old := persistMinHashes
	persistMinHashes = 1
	t.Cleanup(func() { persistMinHashes = old })
	dir = filepath.Join(t.TempDir(), "cat")
	first, second := regionFixture(t)
	c, err := Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(context.Background(), []string{first}, IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, second
}

// TestRegionFile: a writer leaves regions.idx beside near.idx when it closes; the next process maps
// it (no rebuild from the regions bucket) and finds the same crops, including those of images added
// since the file was written; a removal makes it stale and it is not used.
func TestRegionFile(t *testing.T) {
	dir, second := regionFileCatalog(t)
	if _, err := os.Stat(filepath.Join(dir, regionFileName)); err != nil {
		t.Fatalf("no region index file after the writer closed: %v", err)
	}
	// A writer maps it and adds the second release's images to it (their region edges need it).
	c, err := Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	var why string
	_ = c.view(func(tx *bolt.Tx) error {
		_, why = c.openRegionFile(tx)
		return nil
	})
	if why != "" {
		t.Fatalf("region file not used: %s", why)
	}
	if _, err := c.Ingest(context.Background(), []string{second}, IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	want := familyDump(t, c)
	if !strings.Contains(want, `"region":{`) {
		t.Fatal("no region match: the test proves little")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// A reader: the file (rewritten or with a tail) answers as the bucket does.
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_ = r.view(func(tx *bolt.Tx) error {
		_, why = r.openRegionFile(tx)
		return nil
	})
	if why != "" {
		t.Fatalf("region file not used by the reader: %s", why)
	}
	if got := familyDump(t, r); got != want {
		t.Errorf("families through the mapped region index differ:\n got %s\nwant %s", got, want)
	}
	// Built from the bucket instead: the same.
	r.dropIndex()
	if err := os.Remove(filepath.Join(dir, regionFileName)); err != nil {
		t.Fatal(err)
	}
	if got := familyDump(t, r); got != want {
		t.Errorf("families through the rebuilt region index differ:\n got %s\nwant %s", got, want)
	}
}

// TestVerifyChecksRegionFile: verify holds regions.idx against the stored region hashes, checking
// the mapped file in place (it keeps room for images to come): a changed byte in the index or in
// the room is named, a sound file is current.
func TestVerifyChecksRegionFile(t *testing.T) {
	dir, _ := regionFileCatalog(t)
	path := filepath.Join(dir, regionFileName)
	sound, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	verifyRegions := func() (string, []Problem) {
		t.Helper()
		r, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		rep, err := r.Verify(context.Background(), VerifyOptions{Quick: true})
		if err != nil {
			t.Fatal(err)
		}
		return rep.RegionIndex, rep.Problems
	}
	if st, ps := verifyRegions(); !strings.HasPrefix(st, "current") || len(ps) != 0 {
		t.Fatalf("sound regions.idx: %q %v", st, ps)
	}
	// The index's header, a byte of the first image's first region hash (slot 8, after the index's
	// 64-byte header), the room.
	for _, at := range []int{nearFileHeader + 9, nearFileHeader + 64 + 8*32 + 5, len(sound) - 1} {
		damaged := bytes.Clone(sound)
		damaged[at] ^= 0x40
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		st, ps := verifyRegions()
		if st != "damaged" || len(ps) != 1 || !strings.Contains(ps[0].Detail, "differs from the index of the stored region hashes") {
			t.Errorf("regions.idx changed at byte %d of %d: %q %v", at, len(sound), st, ps)
		}
	}
}

package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// edgeDump renders the edges bucket (every entry, in key order) and the number of entries.
func edgeDump(t *testing.T, c *Catalog) (string, int) {
	return edgeDumpKind(t, c, -1)
}

// edgeDumpKind is edgeDump of the entries of one edge kind (every kind when kind < 0).
func edgeDumpKind(t *testing.T, c *Catalog, kind int) (string, int) {
	t.Helper()
	var b strings.Builder
	n := 0
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEdges).ForEach(func(k, v []byte) error {
			if kind >= 0 && len(k) > 32 && int(k[32]) != kind {
				return nil
			}
			n++
			fmt.Fprintf(&b, "%x=%x\n", k, v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), n
}

type storedHash struct {
	sha SHA256
	p   *PDQInfo
	id  uint64
}

func allHashes(t *testing.T, c *Catalog) []storedHash {
	t.Helper()
	var out []storedHash
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPDQ).ForEach(func(k, v []byte) error {
			p, err := parsePDQValue(v)
			if err != nil {
				return err
			}
			id, ok := pdqNearID(v)
			if !ok {
				return fmt.Errorf("%x: no near id", k)
			}
			var s SHA256
			copy(s[:], k)
			out = append(out, storedHash{s, p, id})
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEdgesEqualBruteForce: after ingesting the demo releases, the stored edges are exactly the pairs
// a comparison of every pair selects by the documented rule (the later image's rotations and
// mirrors within EdgeMaxDistance of the earlier one's hash, pair distance within EdgeMaxDistance,
// both qualities at least EdgeMinQuality), in both directions with inverse transforms.
func TestEdgesEqualBruteForce(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	hs := allHashes(t, c)
	want := map[string]string{}
	for _, x := range hs {
		for _, y := range hs {
			if y.id >= x.id || x.p.Quality < EdgeMinQuality || y.p.Quality < EdgeMinQuality {
				continue
			}
			if _, d := pdq.Nearest(y.p.Hash, &x.p.Dihedral); d > EdgeMaxDistance {
				continue
			}
			d, tr := edgeOf(x.sha, x.p, y.sha, y.p)
			if d > EdgeMaxDistance {
				continue
			}
			want[fmt.Sprintf("%x", edgeKey(x.sha, edgeWhole, y.sha, nil))] = fmt.Sprintf("%x", edgeValue(d, tr, y.p.Quality))
			want[fmt.Sprintf("%x", edgeKey(y.sha, edgeWhole, x.sha, nil))] = fmt.Sprintf("%x", edgeValue(d, tr.Inverse(), x.p.Quality))
		}
	}
	if len(want) < 4 {
		t.Fatalf("only %d edge entries expected: the demo releases hold recycled photos", len(want))
	}
	// Whole-image edges only (the samples' reframed reposts of release 5 have region edges too).
	got, n := edgeDumpKind(t, c, int(edgeWhole))
	var lines []string
	for k, v := range want {
		lines = append(lines, k+"="+v)
	}
	sort.Strings(lines)
	if exp := strings.Join(lines, "\n") + "\n"; got != exp {
		t.Errorf("stored edges (%d) differ from the pairs by brute force (%d):\n got %s\nwant %s", n, len(want), got, exp)
	}
}

// TestReindexReproducesEdges: reindex rebuilds exactly the edges ingest stored, logs itself, and
// verify passes (openTest's cleanup).
func TestReindexReproducesEdges(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	before, n := edgeDump(t, c)
	r, err := c.Reindex(context.Background(), ReindexOptions{Operator: "test", Command: "relcat reindex"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := edgeDump(t, c)
	if after != before {
		t.Errorf("reindex changed the edges:\n got %s\nwant %s", after, before)
	}
	if (r.Edges+r.RegionEdges)*2 != n || r.FromSchema != SchemaVersion || len(r.Steps) != len(upgradeSteps) {
		t.Errorf("report %+v, want %d pairs from schema %d", r, n/2, SchemaVersion)
	}
	var last LogEntry
	if err := c.Log(func(e LogEntry) bool { last = e; return true }); err != nil {
		t.Fatal(err)
	}
	if last.Action != "reindex" || last.Command != "relcat reindex" || len(last.Notes) == 0 {
		t.Errorf("last log entry %+v, want the reindex", last)
	}
}

// TestSchema1Upgrade: a catalog as schema 1 wrote it (no near ids, no edges) is refused with a
// message naming `relcat reindex`; reindex upgrades it, and the edges are those ingest stores.
func TestSchema1Upgrade(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	ingestSamples(t, c)
	want, _ := edgeDump(t, c)
	err = c.update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEdges, bucketNearIDs} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		pb := tx.Bucket(bucketPDQ)
		var keys, vals [][]byte
		_ = pb.ForEach(func(k, v []byte) error {
			keys, vals = append(keys, bytes.Clone(k)), append(vals, bytes.Clone(v[:len(v)-8]))
			return nil
		})
		for i := range keys {
			if err := pb.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keyEdgesMax); err != nil {
			return err
		}
		return meta.Put(keySchema, []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, ro := range []bool{false, true} {
		_, err = Open(dir, Options{ReadOnly: ro})
		if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "relcat reindex") {
			t.Fatalf("open of a schema-1 catalog (read-only %v): %v, want ErrSchema naming relcat reindex", ro, err)
		}
	}
	c, err = Open(dir, Options{Upgrade: true, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Reindex(context.Background(), ReindexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.FromSchema != 1 || r.ToSchema != SchemaVersion {
		t.Errorf("report %+v, want an upgrade from 1", r)
	}
	if got, _ := edgeDump(t, c); got != want {
		t.Errorf("edges after the upgrade differ:\n got %s\nwant %s", got, want)
	}
	checkInvariants(t, c)
	c.Close()
	c, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open after the upgrade: %v", err)
	}
	c.Close()
}

// TestRemoveNear: taking an image out of near matching removes its hash, its near id and its edges
// in both directions; dupes no longer sees it and the near data verifies.
func TestRemoveNear(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ingestSamples(t, c)
	cls, err := c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var victim SHA256
	for _, cl := range cls {
		if len(cl.Edges) > 0 {
			victim = cl.Edges[0].B
			break
		}
	}
	if victim == (SHA256{}) {
		t.Fatal("no near-duplicate cluster in the demo releases")
	}
	if _, err := c.index(); err != nil { // loaded, so that done must drop it
		t.Fatal(err)
	}
	var w *nearTx
	err = c.update(func(tx *bolt.Tx) error {
		w = c.beginNear(tx)
		return w.remove(victim)
	})
	if err != nil {
		t.Fatal(err)
	}
	w.done()
	dump, _ := edgeDump(t, c)
	if strings.Contains(dump, victim.String()) {
		t.Errorf("edges of %s remain:\n%s", victim, dump)
	}
	cls, err = c.Dupes(DupesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cls {
		for _, e := range cl.Edges {
			if e.A == victim || e.B == victim {
				t.Errorf("dupes still has an edge of %s", victim)
			}
		}
	}
	ix, err := c.index()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ix.shas {
		if s == victim {
			t.Errorf("the in-memory index still holds %s", victim)
		}
	}
	err = c.view(func(tx *bolt.Tx) error {
		return checkNear(context.Background(), tx, func(kind, subject, format string, args ...any) {
			t.Errorf("near data: %s: %s: %s", kind, subject, fmt.Sprintf(format, args...))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVerifyChecksEdges: a stored edge with a wrong distance, and one without its reverse entry, are
// named by verify.
func TestVerifyChecksEdges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cat")
	c, err := Open(dir, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ingestSamples(t, c)
	var k1 []byte
	err = c.update(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bucketEdges)
		k, v := eb.Cursor().First()
		if k == nil {
			return errors.New("no edges")
		}
		k1 = bytes.Clone(k)
		bad := bytes.Clone(v)
		bad[0]++
		return eb.Put(k1, bad)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	var a, b SHA256
	copy(a[:], k1)
	copy(b[:], k1[33:])
	subject := "edge " + a.String() + "-" + b.String()
	var found []string
	for _, p := range r.Problems {
		if p.Subject == subject || p.Subject == "edge "+b.String()+"-"+a.String() {
			found = append(found, p.Detail)
		}
	}
	if len(found) < 2 || !strings.Contains(strings.Join(found, "|"), "stored distance") || !strings.Contains(strings.Join(found, "|"), "reverse entry") {
		t.Errorf("verify of a damaged edge found %q; problems %v", found, r.Problems)
	}
	// The hashes of the edges' B side are read a chunk of edges at a time: chunks of one and of
	// three edges find the same.
	defer func(n int) { nearEdgeChunk = n }(nearEdgeChunk)
	for _, n := range []int{1, 3} {
		nearEdgeChunk = n
		rn, err := c.Verify(context.Background(), VerifyOptions{Quick: true})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := problemSet(rn.Problems), problemSet(r.Problems); a != b {
			t.Errorf("edges checked %d at a time: verify finds\n%s\ninstead of\n%s", n, a, b)
		}
	}
}

// TestDupesLimitAndSearchPath: --limit stops early; a threshold above the stored one is answered by
// searching and still finds every cluster of the default threshold.
func TestDupesLimitAndSearchPath(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	all, err := c.Dupes(DupesOptions{})
	if err != nil || len(all) < 2 {
		t.Fatalf("dupes: %v (%d clusters)", err, len(all))
	}
	one, err := c.Dupes(DupesOptions{Limit: 1})
	if err != nil || len(one) != 1 || one[0].Origin != all[0].Origin {
		t.Fatalf("dupes --limit 1: %v, %d clusters", err, len(one))
	}
	wide, err := c.Dupes(DupesOptions{Match: MatchOptions{MaxDistance: EdgeMaxDistance + 10}})
	if err != nil {
		t.Fatal(err)
	}
	members := func(cls []Cluster) int {
		n := 0
		for _, cl := range cls {
			n += len(cl.Members)
		}
		return n
	}
	if members(wide) < members(all) {
		t.Errorf("a wider threshold found %d members, the default %d", members(wide), members(all))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.DupesEach(ctx, DupesOptions{}, func(Cluster) error { return nil }); !errors.Is(err, ErrInterrupted) {
		t.Errorf("dupes with a cancelled context: %v", err)
	}
}

// TestStoredEdgesAnswerAsSearching: every question answered from the stored edges (dupes with its
// filters and stricter thresholds, history and show of every image and batch) gets the same answer
// as by searching the index, the way relcat answered before edges were stored.
func TestStoredEdgesAnswerAsSearching(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	var shas []SHA256
	var batches []BatchID
	err := c.view(func(tx *bolt.Tx) error {
		_ = tx.Bucket(bucketImages).ForEach(func(k, _ []byte) error {
			var s SHA256
			copy(s[:], k)
			shas = append(shas, s)
			return nil
		})
		return tx.Bucket(bucketBatches).ForEach(func(k, _ []byte) error {
			var b BatchID
			copy(b[:], k)
			batches = append(batches, b)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	answers := func() string {
		var b strings.Builder
		for _, o := range []DupesOptions{{}, {Exact: true}, {AcrossAffiliates: true}, {Match: MatchOptions{MaxDistance: 12}},
			{Match: MatchOptions{MaxDistance: 0, MaxDistanceSet: true}}, {Match: MatchOptions{MinQuality: 80}}} {
			cls, err := c.Dupes(o)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(cls)
			fmt.Fprintf(&b, "dupes %+v: %s\n", o, data)
		}
		for _, s := range shas {
			for _, mo := range []MatchOptions{{}, {MaxDistance: 10}} {
				h, err := c.History(s, mo)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := json.Marshal(h)
				fmt.Fprintf(&b, "history %s %+v: %s\n", s, mo, data)
			}
		}
		for _, id := range batches {
			d, err := c.Batch(id)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(d)
			fmt.Fprintf(&b, "batch %s: %s\n", id, data)
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
	if !strings.Contains(fromEdges, `"edges":[{`) {
		t.Error("no cluster with near-duplicate edges: the comparison proves little")
	}
}

package hindex

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWriteLoadRoundTrip: an index written and loaded back answers every search as the original,
// including after ids are added to the loaded one (which must not touch the loaded bytes' meaning).
func TestWriteLoadRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ix := New(0)
	var hs [][32]byte
	for i := range 5000 {
		h := randHash(rng)
		if i%7 == 3 {
			h = flip(rng, hs[rng.IntN(len(hs))], rng.IntN(30))
		}
		hs = append(hs, h)
		if i%11 != 5 { // holes in the id space
			ix.Add(uint32(i), h)
		}
	}
	ix.Add(6000, randHash(rng)) // pending at write time: WriteTo freezes it
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil || int(n) != buf.Len() || buf.Len() != ix.EncodedSize() {
		t.Fatalf("WriteTo: %d bytes, %v; buffer %d, EncodedSize %d", n, err, buf.Len(), ix.EncodedSize())
	}
	data := append(make([]byte, 0, buf.Len()+64), buf.Bytes()...)
	got, used, err := Load(data)
	if err != nil || used != buf.Len() {
		t.Fatalf("Load: %v (%d of %d bytes)", err, used, buf.Len())
	}
	check := func(what string) {
		t.Helper()
		for q := range 300 {
			query := hs[rng.IntN(len(hs))]
			if q%3 == 0 {
				query = flip(rng, query, rng.IntN(20))
			}
			for _, r := range []int{0, 12, 31, 40} {
				a, b := ix.Search(query, r, nil), got.Search(query, r, nil)
				if !slices.Equal(a, b) {
					t.Fatalf("%s: search r=%d: loaded %v, original %v", what, r, b, a)
				}
			}
		}
		if ix.Len() != got.Len() {
			t.Fatalf("%s: Len %d, original %d", what, got.Len(), ix.Len())
		}
	}
	check("loaded")
	for i := 7000; i < 7000+3000; i++ { // enough to merge into the loaded tables
		h := flip(rng, hs[rng.IntN(len(hs))], rng.IntN(25))
		ix.Add(uint32(i), h)
		got.Add(uint32(i), h)
	}
	check("after adds")
	got.Compact()
	ix.Compact()
	check("after compact")

	empty := New(0)
	buf.Reset()
	if _, err := empty.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	e, _, err := Load(buf.Bytes())
	if err != nil || e.Len() != 0 || len(e.Search(hs[0], 31, nil)) != 0 {
		t.Fatalf("empty index: %v", err)
	}
}

// TestRoomAddsInPlace: an index written with room (WriteWithRoom) and loaded adds ids below the room
// in the loaded bytes themselves (no copy of its arrays), and answers as an index built directly.
func TestRoomAddsInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	ix := New(0)
	for i := range 3000 {
		ix.Add(uint32(i), randHash(rng))
	}
	var buf bytes.Buffer
	if n, err := ix.WriteWithRoom(&buf, 4000); err != nil || int(n) != ix.EncodedSizeWithRoom(4000) || ix.IDs() != 3000 {
		t.Fatalf("WriteWithRoom: %d bytes (EncodedSizeWithRoom %d), %v; the index's own ids %d", n, ix.EncodedSizeWithRoom(4000), err, ix.IDs())
	}
	data := append(make([]byte, 0, buf.Len()+64), buf.Bytes()...)
	got, _, err := Load(data)
	if err != nil || got.IDs() != 4000 || got.Len() != 3000 {
		t.Fatalf("Load: %v, %d ids, %d present", err, got.IDs(), got.Len())
	}
	before := &got.hashes[0]
	var added [][32]byte
	for i := 3000; i < 3500; i++ {
		h := randHash(rng)
		added = append(added, h)
		ix.Add(uint32(i), h)
		got.Add(uint32(i), h)
	}
	if &got.hashes[0] != before || got.IDs() != 4000 {
		t.Fatal("adding ids within the room copied the loaded arrays")
	}
	for _, q := range added {
		if a, b := ix.Search(q, 31, nil), got.Search(q, 31, nil); !slices.Equal(a, b) || len(b) == 0 {
			t.Fatalf("search after in-place adds: loaded %v, original %v", b, a)
		}
	}
	got.Add(5000, randHash(rng)) // past the room: grows (a copy), still correct
	if got.IDs() != 5001 || got.Len() != 3501 {
		t.Fatalf("past the room: %d ids, %d present", got.IDs(), got.Len())
	}
}

// TestLoadRejectsDamage: a short, foreign or inconsistent file is an error, never a panic; damaged
// entries (ids out of range) are skipped by Search.
func TestLoadRejectsDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ix := New(0)
	for i := range 2000 {
		ix.Add(uint32(i), randHash(rng))
	}
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"magic":     append([]byte("XINDEX01"), good[8:]...),
		"state":     func() []byte { d := bytes.Clone(good); d[fileHeader+align64(32*2000)] = 7; return d }(),
		"offsets": func() []byte {
			d := bytes.Clone(good)
			d[fileHeader+align64(32*2000)+align64(2000)+4*100] = 0xff
			return d
		}(),
	} {
		if _, _, err := Load(data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Load gave %v, want ErrFormat", name, err)
		}
	}
	// Entries naming ids far out of range.
	d := bytes.Clone(good)
	ents := fileHeader + align64(32*2000) + align64(2000) + align64(slots*(keySpace+1)*4)
	for i := ents + 12; i < len(d); i += 16 {
		d[i+3] = 0x7f
	}
	bad, _, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		_ = bad.Search(randHash(rng), 40, nil)
	}
}

// TestCheckTables: the tables of a written and loaded index pass; an entry moved to another bucket,
// one whose id changed, or two swapped within a bucket, do not. Run twice: the digest's keys differ
// between calls.
func TestCheckTables(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	ix := New(0)
	for i := range 4000 {
		ix.Add(uint32(i), randHash(rng))
	}
	var buf bytes.Buffer
	if _, err := ix.WriteWithRoom(&buf, 5000); err != nil {
		t.Fatal(err)
	}
	load := func() *Index {
		t.Helper()
		data := append(make([]byte, 0, buf.Len()+64), buf.Bytes()...)
		got, _, err := Load(data)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	calls := 0
	if err := load().CheckTables(func() { calls++ }); err != nil || calls != 16 {
		t.Fatalf("a sound index: %v (%d calls between slots)", err, calls)
	}
	// A bucket of slot 3 whose first two entries' ids are at least 2 apart.
	got := load()
	k := 0
	for o := got.off[3]; o[k+1]-o[k] < 2 || got.ents[3][o[k]+1].id-got.ents[3][o[k]].id < 2; {
		k++
	}
	i := got.off[3][k]
	damage := map[string]func(x *Index){
		"id changed":     func(x *Index) { x.ents[3][i].id ^= 1 },
		"fragment":       func(x *Index) { x.ents[3][i].lo ^= 1 << 20 },
		"swapped":        func(x *Index) { x.ents[3][i], x.ents[3][i+1] = x.ents[3][i+1], x.ents[3][i] },
		"id not present": func(x *Index) { x.ents[3][i].id = 4500 },
		"hash changed":   func(x *Index) { x.hashes[x.ents[5][0].id][1] ^= 1 << 7 },
		// The last entry of bucket k counted in bucket k+1 (offsets still increase).
		"moved to the next bucket": func(x *Index) { x.off[3][k+1]-- },
		// Another id's entry, same bucket and order, in place of this one: every count holds.
		"another id": func(x *Index) { x.ents[3][i].id = x.ents[3][i+1].id - 1 },
	}
	for name, d := range damage {
		x := load()
		d(x)
		if err := x.CheckTables(nil); err == nil {
			t.Errorf("%s: not found", name)
		}
	}
}

package catalog

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// writeRecorder keeps every write it is given, and fails the one numbered failAt (from 1; 0: none).
type writeRecorder struct {
	writes [][]byte
	failAt int
}

var errRecorder = errors.New("disk full")

func (r *writeRecorder) Write(p []byte) (int, error) {
	if r.failAt > 0 && len(r.writes)+1 == r.failAt {
		return 0, errRecorder
	}
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

// The writer of index files hands the file whole 2 MiB pieces, so each write starts at a multiple
// of 2 MiB (hugewrite.go), whatever sizes its caller writes in, and loses or reorders nothing.
func TestHugeChunkWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	sizes := []int{115, 0, 1, hugeChunk - 116, 3*hugeChunk + 5, 64, hugeChunk, 2 * hugeChunk, 17, 1 << 20, 1<<20 - 17, 9}
	for range 40 {
		sizes = append(sizes, rng.IntN(300_000))
	}
	var want []byte
	rec := &writeRecorder{}
	w := newHugeChunkWriter(rec)
	for i, n := range sizes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		got, err := w.Write(p)
		if err != nil || got != n {
			t.Fatalf("write %d of %d bytes: %d, %v", i, n, got, err)
		}
		want = append(want, p...)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i, p := range rec.writes {
		if last := i == len(rec.writes)-1; len(p)%hugeChunk != 0 && !last || len(p) == 0 {
			t.Errorf("write %d of %d: %d bytes at offset %d, not whole 2 MiB pieces", i+1, len(rec.writes), len(p), len(all))
		}
		all = append(all, p...)
	}
	if !bytes.Equal(all, want) {
		t.Fatalf("the file holds %d bytes, not the %d written in that order", len(all), len(want))
	}
	if len(want)%hugeChunk == 0 || len(rec.writes[len(rec.writes)-1])%hugeChunk == 0 {
		t.Fatalf("the test should end with a partial piece (%d bytes in all)", len(want))
	}

	// A failed write is reported, by that Write or by Flush, and nothing is written after it.
	for _, failAt := range []int{1, 2, 3} {
		rec := &writeRecorder{failAt: failAt}
		w := newHugeChunkWriter(rec)
		var err error
		for _, n := range []int{100, hugeChunk, 3 * hugeChunk, 10, hugeChunk} {
			if _, err = w.Write(make([]byte, n)); err != nil {
				break
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if !errors.Is(err, errRecorder) {
			t.Errorf("write %d failing: got %v", failAt, err)
		}
		if len(rec.writes) != failAt-1 {
			t.Errorf("write %d failing: %d writes went through", failAt, len(rec.writes))
		}
		if _, err := w.Write([]byte{1}); !errors.Is(err, errRecorder) {
			t.Errorf("write %d failing: a later Write says %v", failAt, err)
		}
	}
}

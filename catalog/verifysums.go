package catalog

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
)

// Verify holds each index against what it indexes in sequential passes, at any size: reading a
// bucket in key order touches each of its pages once, while looking every record up in another
// bucket reads pages all over catalog.db (at half a million images, millions of page faults and
// most of the file resident). Each side of a pair of indexes is summed instead (setSum), and only a
// difference makes verify look the records up one by one to name what differs.

// setSum adds up a keyed hash of the elements of a set: SHA-256 of a key drawn at random for the
// run and the element, in four 64-bit lanes. Two sides with equal sums and counts hold the same
// elements: no stored content can be made to cancel out a difference without knowing the key.
// An element is its fixed-size fields followed by at most one field of varying size.
type setSum struct {
	key *[32]byte
	n   int
	sum [4]uint64
	buf []byte
}

// newSetSums returns n sums under one fresh key (sums under different keys never compare equal).
func newSetSums(n int) []*setSum {
	key := new([32]byte)
	_, _ = rand.Read(key[:]) // crypto/rand does not fail (it aborts the program instead)
	out := make([]*setSum, n)
	for i := range out {
		out[i] = &setSum{key: key}
	}
	return out
}

// add counts one element, given as its fields in order.
func (s *setSum) add(fields ...[]byte) {
	s.buf = append(s.buf[:0], s.key[:]...)
	for _, f := range fields {
		s.buf = append(s.buf, f...)
	}
	h := sha256.Sum256(s.buf)
	for i := range s.sum {
		s.sum[i] += binary.LittleEndian.Uint64(h[8*i:])
	}
	s.n++
}

// same reports whether s and o provably hold the same elements.
func (s *setSum) same(o *setSum) bool { return s.key == o.key && s.n == o.n && s.sum == o.sum }

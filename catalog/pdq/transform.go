package pdq

import "fmt"

// Transform is one of the eight rotations and mirrors of an image (the dihedral group). The names
// and their order are those of the PDQ reference tool's dihedral output.
type Transform uint8

// The eight transforms, in the reference tool's order.
const (
	AsIs       Transform = iota // unchanged
	Rot90                       // turned 90° counter-clockwise
	Rot180                      // turned 180°
	Rot270                      // turned 90° clockwise
	FlipX                       // mirrored top-bottom (upside down)
	FlipY                       // mirrored left-right
	FlipPlus1                   // transposed: mirrored on the main diagonal
	FlipMinus1                  // transversed: mirrored on the anti-diagonal
)

var transformNames = [8]string{"as-is", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"}

var transformDescriptions = [8]string{
	"unchanged",
	"rotated 90° counter-clockwise",
	"rotated 180°",
	"rotated 90° clockwise",
	"flipped upside down",
	"mirrored left-right",
	"transposed (mirrored on the main diagonal)",
	"transversed (mirrored on the anti-diagonal)",
}

// String returns the short name: "as-is", "rot90", "rot180", "rot270", "flipx", "flipy",
// "flipplus1" or "flipminus1".
func (t Transform) String() string {
	if int(t) < len(transformNames) {
		return transformNames[t]
	}
	return fmt.Sprintf("Transform(%d)", uint8(t))
}

// Describe says in plain words what the transform does to a picture.
func (t Transform) Describe() string {
	if int(t) < len(transformDescriptions) {
		return transformDescriptions[t]
	}
	return t.String()
}

// Inverse returns the transform that undoes t: Rot90 and Rot270 undo each other, every other
// transform undoes itself.
func (t Transform) Inverse() Transform {
	switch t {
	case Rot90:
		return Rot270
	case Rot270:
		return Rot90
	}
	return t
}

// ParseTransform reads a name produced by Transform.String.
func ParseTransform(s string) (Transform, error) {
	for i, n := range transformNames {
		if s == n {
			return Transform(i), nil
		}
	}
	return 0, fmt.Errorf("pdq: unknown transform %q (want one of as-is, rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1)", s)
}

// Nearest returns the transform t minimising Distance(q, d[t]) and that distance: if q is the hash of
// a copy of image S transformed by t, then q ≈ S's Dihedral[t]. Ties go to the earlier transform in
// the constant order, so an exact as-is match always reports AsIs.
func Nearest(q Hash, d *[8]Hash) (Transform, int) {
	best, bestD := AsIs, 257
	for t := range d {
		if dist := Distance(q, d[t]); dist < bestD {
			best, bestD = Transform(t), dist
		}
	}
	return best, bestD
}

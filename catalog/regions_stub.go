package catalog

// STUB (h10a): the API agreed in /work/notes/h10-api.md, standing in for h10b's catalog/regions.go
// until it lands. Deleted then.

import (
	"fmt"
	"image"

	"github.com/relcat/relcat/catalog/pdq"
)

const RegionSetVersion = 1

type Region uint8

const RegionWhole Region = 0

const (
	regionCentre90 Region = 1
	regionCentre80 Region = 2
	regionLeft85   Region = 3
	regionRight85  Region = 4
	regionTop85    Region = 5
)

type RegionHash struct {
	Region  Region
	Param   uint8
	Quality int
	AsIs    pdq.Hash
	Mirror  pdq.Hash
}

const RegionMinQuality = 50

func (r Region) String() string {
	switch r {
	case RegionWhole:
		return "whole"
	case regionCentre90:
		return "centre90"
	case regionCentre80:
		return "centre80"
	case regionLeft85:
		return "left85"
	case regionRight85:
		return "right85"
	case regionTop85:
		return "top85"
	}
	return fmt.Sprintf("region%d", uint8(r))
}

func regionHashes(work image.Image) ([]RegionHash, error) {
	sub, ok := work.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return nil, fmt.Errorf("work image %T cannot be cut", work)
	}
	b := work.Bounds()
	w, h := b.Dx(), b.Dy()
	rects := []struct {
		r    Region
		rect image.Rectangle
	}{
		{regionCentre90, image.Rect(b.Min.X+w*5/100, b.Min.Y+h*5/100, b.Max.X-w*5/100, b.Max.Y-h*5/100)},
		{regionCentre80, image.Rect(b.Min.X+w*10/100, b.Min.Y+h*10/100, b.Max.X-w*10/100, b.Max.Y-h*10/100)},
		{regionLeft85, image.Rect(b.Min.X, b.Min.Y, b.Min.X+w*85/100, b.Max.Y)},
		{regionRight85, image.Rect(b.Max.X-w*85/100, b.Min.Y, b.Max.X, b.Max.Y)},
		{regionTop85, image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+h*85/100)},
	}
	var out []RegionHash
	for _, x := range rects {
		res, err := pdq.FromImage(sub.SubImage(x.rect))
		if err != nil {
			continue
		}
		out = append(out, RegionHash{Region: x.r, Quality: res.Quality, AsIs: res.Hash, Mirror: res.Dihedral[pdq.FlipY]})
	}
	return out, nil
}

func regionThreshold(a, b Region) int {
	if a == b {
		return -1
	}
	if a != RegionWhole && b != RegionWhole {
		return -1
	}
	return 24
}

func describeRegionMatch(qa Region, qp uint8, mb Region, mp uint8, mirrored bool) string {
	var s string
	if qa == RegionWhole {
		s = "cropped (" + mb.String() + ")"
	} else {
		s = "the other photo is a crop of this one (" + qa.String() + ")"
	}
	if mirrored {
		s += " and mirrored"
	}
	return s
}

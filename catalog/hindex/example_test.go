package hindex_test

import (
	"fmt"

	"github.com/relcat/relcat/catalog/hindex"
)

func Example() {
	var photo, recompressed, unrelated [32]byte
	for i := range photo {
		photo[i] = byte(i * 37)
		unrelated[i] = ^photo[i]
	}
	recompressed = photo
	recompressed[3] ^= 0x0f // 4 bits differ

	ix := hindex.New(3)
	ix.Add(1, photo)
	ix.Add(2, recompressed)
	ix.Add(3, unrelated)
	for _, m := range ix.Search(photo, 31, nil) {
		fmt.Printf("id %d at distance %d\n", m.ID, m.Distance)
	}
	// Output:
	// id 1 at distance 0
	// id 2 at distance 4
}

package catalog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relcat/relcat/catalog"
)

// Ingest two demo releases, then ask whether a photo of the second was seen before.
func Example() {
	dir, _ := os.MkdirTemp("", "relcat-example")
	defer os.RemoveAll(dir)
	c, err := catalog.Open(filepath.Join(dir, "catalog"), catalog.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	releases := filepath.Join("..", "samples", "releases")
	sums, err := c.Ingest(context.Background(), []string{
		filepath.Join(releases, "2019-11-02-sinai"),
		filepath.Join(releases, "2019-11-05-khorasan"),
	}, catalog.IngestOptions{Operator: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range sums {
		fmt.Printf("%s: %d new, %d known, %d near earlier photos\n", s.Batch.Affiliate, s.New, s.Known, s.NearCount)
	}

	// A shrunk, mirrored copy of the ship, from a later release not ingested here: a near match.
	r, err := c.Lookup(context.Background(), filepath.Join(releases, "2020-03-09-sinai", "08-ship.jpg"),
		catalog.MatchOptions{}, catalog.HashOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range r.Near {
		if m.Sightings[0].Affiliate == "is-sinai" {
			fmt.Printf("near match: %s, first released %s by %s\n", m.TransformDescription(), m.Sightings[0].Released, m.Sightings[0].Affiliate)
		}
	}
	// Output:
	// is-sinai: 11 new, 0 known, 0 near earlier photos
	// is-khorasan: 9 new, 3 known, 6 near earlier photos
	// near match: mirrored left-right, first released 2019-11-02 by is-sinai
}

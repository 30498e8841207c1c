package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestCamerasAndSharedBodyLead: a body (make+model+serial) seen under two affiliates is listed first
// with both, and the ingest of the second release names it as a lead; a body known only by its lens
// counts as one; a placeholder serial ("0000000") names no body.
func TestCamerasAndSharedBodyLead(t *testing.T) {
	c := openTest(t)
	root := t.TempDir()
	body := photoMeta{Make: "Canon", Model: "Canon EOS 7D", Serial: "0480110523"}
	lensOnly := photoMeta{Make: "NIKON CORPORATION", Model: "NIKON D5000", Lens: "18.0-55.0 mm f/3.5-5.6"}
	junk := photoMeta{Make: "Canon", Model: "Canon EOS 7D", Serial: "0000000"}
	a := writeRelease(t, root, "a", "is-sinai", "2019-11-02", map[string][]byte{
		"01.jpg": photoBytes(1, body), "02.jpg": photoBytes(2, body), "03.jpg": photoBytes(3, lensOnly), "04.jpg": photoBytes(4, junk),
	})
	b := writeRelease(t, root, "b", "is-yemen", "2019-11-04", map[string][]byte{
		"01.jpg": photoBytes(5, body), "02.jpg": photoBytes(6, photoMeta{Make: "Canon", Model: "Canon EOS 7D", Serial: "999"}),
	})
	ctx := context.Background()
	sums, err := c.Ingest(ctx, []string{a, b}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums[0].CameraLeads) != 0 {
		t.Errorf("first release: leads %+v", sums[0].CameraLeads)
	}
	if len(sums[1].CameraLeads) != 1 {
		t.Fatalf("second release: %d leads, want 1: %+v", len(sums[1].CameraLeads), sums[1].CameraLeads)
	}
	l := sums[1].CameraLeads[0]
	if l.Body.Serial != "0480110523" || strings.Join(l.Names, ",") != "01.jpg" || len(l.Others) != 1 || l.Others[0].Affiliate != "is-sinai" ||
		strings.Join(l.Body.Affiliates, ",") != "is-sinai,is-yemen" || l.Body.Images != 3 {
		t.Errorf("lead %+v", l)
	}
	bodies, err := c.Cameras(CamerasOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 3 {
		t.Fatalf("%d bodies, want 3 (serial 0480110523, serial 999, the D5000 by lens): %+v", len(bodies), bodies)
	}
	first := bodies[0]
	if first.Serial != "0480110523" || first.IdentifiedBy != BodyBySerial || first.Images != 3 || len(first.Releases) != 2 ||
		first.Releases[0].Released.String() != "2019-11-02" || strings.Join(first.Affiliates, ",") != "is-sinai,is-yemen" {
		t.Errorf("shared body first: %+v", first)
	}
	var byLens *CameraBody
	for i := range bodies {
		if bodies[i].IdentifiedBy == BodyByLens {
			byLens = &bodies[i]
		}
	}
	if byLens == nil || byLens.Lens != lensOnly.Lens || byLens.Images != 1 || byLens.Model != "NIKON D5000" {
		t.Errorf("lens body: %+v", byLens)
	}
	shared, err := c.Cameras(CamerasOptions{Shared: true})
	if err != nil || len(shared) != 1 {
		t.Errorf("--shared: %v %+v", err, shared)
	}
	yemen, err := c.Cameras(CamerasOptions{Affiliate: "is-yemen"})
	if err != nil || len(yemen) != 2 {
		t.Errorf("--affiliate is-yemen: %v %d bodies", err, len(yemen))
	}
	if _, err := c.Cameras(CamerasOptions{Affiliate: "nobody"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown affiliate: %v", err)
	}
}

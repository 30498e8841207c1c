package web

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog"
)

// TestRegionMatchPages (issue 10 item 2): a crop found through region hashes is shown on the image
// page of the copy and of the original, and on the dupes page, with the catalog's words (escaped)
// and the two regions, at the distance of the region pair.
func TestRegionMatchPages(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cat")
	src, err := os.ReadFile(sample("2019-11-02-sinai/09-ship.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	w, h := b.Dx()*80/100, b.Dy()*80/100
	x0, y0 := b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2
	crop := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(x0, y0, x0+w, y0+h))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, crop, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join(root, "repost")
	if err := os.MkdirAll(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rel, "ship-crop.jpg"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Open(dir, catalog.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(context.Background(), []string{sample("2019-11-02-sinai")}, catalog.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	sums, err := c.Ingest(context.Background(), []string{rel}, catalog.IngestOptions{Release: catalog.ReleaseInfo{Affiliate: "reposter", Released: "2020-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	f := sums[0].Files[0]
	if f.Origin == nil || f.Origin.Region == nil {
		t.Fatalf("the crop is not a region match: %+v", f.Origin)
	}
	o := f.Origin
	orig := o.Sighting.SHA256
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(ServerOptions{Dir: dir, Now: fixedNow}))
	defer srv.Close()
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	inverse := strings.Replace(o.Region.Regions(), o.Region.Query+" ~ "+o.Region.Match, o.Region.Match+" ~ "+o.Region.Query, 1)
	for _, tc := range []struct{ path, words, regions string }{
		{"/image/" + f.SHA256.String(), o.Region.Description, o.Region.Regions()},
		{"/image/" + orig.String(), "", inverse},
		{"/dupes", o.Region.Description, o.Region.Regions()},
	} {
		page := get(tc.path)
		if tc.words != "" && !strings.Contains(page, html.EscapeString(tc.words)) {
			t.Errorf("%s lacks %q", tc.path, tc.words)
		}
		if !strings.Contains(page, html.EscapeString(tc.regions)) {
			t.Errorf("%s lacks the regions %q", tc.path, tc.regions)
		}
	}
}

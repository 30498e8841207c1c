package web

import (
	"time"

	"github.com/relcat/relcat/catalog"
)

// A view builds one page's data from catalog queries; the server and the report render the same
// views with the same templates. Only the links (permanent URLs or none) and the thumbnail
// sources (URLs or data: URIs) differ.

type batchPage struct {
	ID, Affiliate, AffHref, Released       string
	Title, Source, Notes, Folder, Operator string
	Ingested                               string
	Files, New, Identical, NearCount       int
	Photos                                 []photoView
	Pager                                  *pager
}

// seenOf is the "seen before" badge of a file of a batch, from what catalog.Batch says about it.
func seenOf(bi catalog.BatchImage, l links) *seenView {
	switch {
	case bi.Earlier != nil:
		return &seenView{Kind: "identical", Origin: viewSighting(*bi.Earlier, l)}
	case bi.Near != nil && len(bi.Near.Sightings) > 0:
		return &seenView{Kind: "near", Distance: bi.Near.Distance, Transform: bi.Near.TransformDescription(),
			Origin: viewSighting(bi.Near.Sightings[0], l)}
	}
	return nil
}

// viewBatch is a batch as a contact sheet in file order. pageNo selects a page of PageSize photos
// (0: every photo, for a report); href builds the URL of another page.
func viewBatch(c *catalog.Catalog, id catalog.BatchID, pageNo int, thumb thumbSource, l links, href func(int) string) (string, *batchPage, error) {
	d, err := c.Batch(id)
	if err != nil {
		return "", nil, err
	}
	b := d.Batch
	v := &batchPage{ID: b.ID.String(), Affiliate: b.Affiliate, AffHref: l.affiliate(b.Affiliate), Released: b.Released.String(),
		Title: b.Title, Source: b.Source, Notes: b.Notes, Folder: b.Folder, Operator: b.Operator,
		Ingested: b.Ingested.UTC().Format(time.RFC3339), Files: len(d.Images)}
	for _, bi := range d.Images {
		switch {
		case bi.Earlier != nil:
			v.Identical++
		case bi.Near != nil:
			v.NearCount++
		default:
			v.New++
		}
	}
	lo, hi := 0, len(d.Images)
	if pageNo > 0 {
		lo, hi, v.Pager = paginate(len(d.Images), pageNo, href)
	}
	v.Photos = make([]photoView, 0, hi-lo)
	for _, bi := range d.Images[lo:hi] {
		v.Photos = append(v.Photos, viewPhoto(bi.Position, bi.Name, bi.Image, seenOf(bi, l), thumb, l))
	}
	title := "Release " + b.Released.String() + " · " + b.Affiliate
	if b.Title != "" {
		title += " · " + b.Title
	}
	return title, v, nil
}

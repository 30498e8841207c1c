package web

import (
	"fmt"
	"io"
	"time"

	"github.com/relcat/relcat/catalog"
)

// ReportOptions say what a report shows: exactly one of Batch, Dupes, Affiliate, Image, Timeline.
type ReportOptions struct {
	Batch     *catalog.BatchID
	Dupes     *catalog.DupesOptions
	Affiliate string
	Image     *catalog.SHA256
	Timeline  bool
	// Match tunes the near matches of an image report (default: the catalog's defaults).
	Match catalog.MatchOptions
	// Now is the clock that stamps the report (default time.Now).
	Now func() time.Time
}

// Report writes one self-contained HTML page: the server's page for the same view with the
// stylesheet inlined (allowed by its hash in the page's own Content-Security-Policy) and every
// thumbnail embedded as a data: URI. It needs no script and makes no network request.
func Report(c *catalog.Catalog, o ReportOptions, w io.Writer) error {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	n := 0
	for _, set := range []bool{o.Batch != nil, o.Dupes != nil, o.Affiliate != "", o.Image != nil, o.Timeline} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: a report shows one of: a batch, duplicates, an affiliate, an image, the timeline", catalog.ErrBadArgument)
	}
	thumb := dataThumbs(c)
	var l reportLinks
	var (
		name, title string
		data        any
		err         error
	)
	switch {
	case o.Batch != nil:
		name = "batch"
		title, data, err = viewBatch(c, *o.Batch, 0, thumb, l, nil)
	case o.Dupes != nil:
		name = "dupes"
		title, data, err = viewDupes(c, *o.Dupes, 0, thumb, l, nil)
	case o.Affiliate != "":
		name = "affiliate"
		title, data, err = viewAffiliate(c, o.Affiliate, l)
	case o.Image != nil:
		name = "image"
		title, data, err = viewImage(c, *o.Image, o.Match, thumb, l, false)
	default:
		name = "timeline"
		title, data, err = viewTimeline(c, 0, l, nil)
	}
	if err != nil {
		return err
	}
	p, err := newPage(c, title, true, now(), data)
	if err != nil {
		return err
	}
	return stream(w, name, p)
}

package web

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/relcat/relcat/catalog"
	"github.com/relcat/relcat/catalog/pdq"
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

// seenOf is the "seen before" badge of a file of a batch, from what catalog.Batch says about it:
// the origin over the photo's family (catalog.OriginOf), when an earlier release holds it; identical
// when the same bytes were released before, else near.
func seenOf(bi catalog.BatchImage, l links) *seenView {
	o := bi.Origin
	if o == nil || (bi.Earlier == nil && bi.Near == nil) {
		return nil
	}
	v := &seenView{Kind: "near", Origin: viewSighting(o.Sighting, l)}
	if bi.Earlier != nil {
		v.Kind = "identical"
	}
	if o.Near {
		v.Distance, v.Transform = o.Distance, o.Relation()
	}
	v.Uncertain = o.Uncertain
	return v
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
	self := catalog.Sighting{Batch: b.ID, Affiliate: b.Affiliate, Released: b.Released, Ingested: b.Ingested}
	for _, bi := range d.Images[lo:hi] {
		// The first release that published these bytes: an earlier one, else this one.
		first := self
		if bi.Earlier != nil {
			first = *bi.Earlier
		}
		v.Photos = append(v.Photos, viewPhoto(bi.Position, bi.Name, bi.Image, []catalog.Sighting{first}, seenOf(bi, l), thumb, l))
	}
	title := "Release " + b.Released.String() + " · " + b.Affiliate
	if b.Title != "" {
		title += " · " + b.Title
	}
	return title, v, nil
}

// nearView is a near-duplicate shown beside the image it matched.
type nearView struct {
	SHA       string
	Href      string
	Thumb     thumbView
	Distance  int
	Transform string
	Region    string // the two matching regions when found through region hashes ("whole ~ centre80")
	Quality   int
	Query     int
	Sightings []sightingView
}

// turnClass is the CSS class applying transform t to a thumbnail ("" for as-is or unknown).
func turnClass(t pdq.Transform) string {
	if t == pdq.AsIs || int(t) > 7 {
		return ""
	}
	return "t-" + t.String()
}

// viewNear shows a match of query q. m.Transform says how q relates to the match (q is the match
// turned by it): applying it to the match's thumbnail shows the match as q looks.
func viewNear(c *catalog.Catalog, m catalog.Match, thumb thumbSource, l links) nearView {
	v := nearView{SHA: m.SHA256.String(), Href: l.image(m.SHA256), Distance: m.Distance,
		Transform: m.Relation(), Region: m.Region.Regions(), Quality: m.Quality, Query: m.Query}
	for _, s := range m.Sightings {
		v.Sightings = append(v.Sightings, viewSighting(s, l))
	}
	if img, err := c.ImageRecord(m.SHA256); err == nil {
		src, why := thumb(img)
		v.Thumb = thumbView{Src: src, Alt: v.SHA[:12], Why: why}
		if tr, err := pdq.ParseTransform(m.Transform); err == nil {
			v.Thumb.Class = turnClass(tr)
		}
	} else {
		v.Thumb = thumbView{Why: err.Error()}
	}
	return v
}

type kv struct{ K, V string }

type imagePage struct {
	SHA, MD5, Size, Format, Dims string
	PDQ, Variant                 string
	Quality                      int
	LowQual                      bool
	Thumb                        thumbView
	Preview                      template.URL // the original, when the browser can show its format
	OriginalHref                 string
	Forensics                    catalog.Forensics
	Flags                        []flag
	Fields                       []kv
	Raw                          []kv
	Sightings                    []sightingView
	Origin                       *sightingView
	OriginNear                   string
	Uncertain                    bool
	Near                         []nearView
	NearThreshold                int
}

// browserShows are the formats every browser displays; others get the thumbnail as preview.
var browserShows = map[string]bool{"jpeg": true, "png": true, "gif": true, "webp": true}

// viewImage is one image: hashes, every EXIF field, every sighting, the origin and the near
// duplicates side by side. server says whether the original can be linked (a report embeds only
// thumbnails).
func viewImage(c *catalog.Catalog, s catalog.SHA256, mo catalog.MatchOptions, thumb thumbSource, l links, server bool) (string, *imagePage, error) {
	h, err := c.History(s, mo)
	if err != nil {
		return "", nil, err
	}
	img := h.Image
	v := &imagePage{SHA: img.SHA256.String(), MD5: img.MD5.String(), Size: fmt.Sprintf("%d bytes", img.Size),
		Format: img.Format, Dims: dims(img), Uncertain: h.Uncertain, NearThreshold: mo.MaxDistance}
	if v.NearThreshold == 0 {
		v.NearThreshold = catalog.DefaultMaxDistance
	}
	if img.PDQ != nil {
		v.PDQ, v.Quality, v.Variant = img.PDQ.Hash.String(), img.PDQ.Quality, img.PDQ.Variant
		v.LowQual = img.PDQ.Quality < catalog.DefaultMinQuality
	}
	src, why := thumb(img)
	v.Thumb = thumbView{Src: src, Alt: v.SHA[:12], Why: why}
	if server && img.Object != "" {
		v.OriginalHref = "/original/" + v.SHA
		if browserShows[img.Format] && img.Pixels {
			v.Preview = template.URL(v.OriginalHref)
		}
	}
	v.Forensics = catalog.ForensicCues(img, h.Sightings)
	v.Flags = flags(img, h.Sightings)
	m := img.EXIF
	for _, f := range []kv{{"make", m.Make}, {"model", m.Model}, {"serial", m.Serial}, {"lens", m.Lens},
		{"software", m.Software}, {"taken", taken(m)}, {"GPS", gpsText(m.GPS)},
		{"artist", v.Forensics.Artist}, {"copyright", v.Forensics.Copyright},
		{"description", v.Forensics.Description}, {"user comment", v.Forensics.UserComment}} {
		if f.V != "" {
			v.Fields = append(v.Fields, f)
		}
	}
	if m.Orientation > 0 {
		v.Fields = append(v.Fields, kv{"orientation", fmt.Sprint(m.Orientation)})
	}
	if m.Width > 0 {
		v.Fields = append(v.Fields, kv{"EXIF pixel size", fmt.Sprintf("%d×%d", m.Width, m.Height)})
	}
	keys := make([]string, 0, len(m.Raw))
	for k := range m.Raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.Raw = append(v.Raw, kv{k, m.Raw[k]})
	}
	for _, s := range h.Sightings {
		v.Sightings = append(v.Sightings, viewSighting(s, l))
	}
	if h.Origin != nil {
		o := viewSighting(*h.Origin, l)
		v.Origin = &o
		if om := h.OriginMatch; om != nil && om.Near {
			v.OriginNear = fmt.Sprintf("near-duplicate, distance %d, %s", om.Distance, om.Relation())
		}
	}
	for _, n := range h.Near {
		v.Near = append(v.Near, viewNear(c, n, thumb, l))
	}
	name := v.SHA[:12]
	if len(h.Sightings) > 0 {
		name = h.Sightings[0].Name
	}
	return "Image " + name, v, nil
}

// memberView is one copy in a cluster, beside the origin image.
type memberView struct {
	SHA       string
	Href      string
	Thumb     thumbView
	Distance  int
	Transform string
	Region    string // the two matching regions when found through region hashes
	Quality   int
	Sightings []sightingView
}

type edgeView struct {
	A, B, AHref, BHref string
	Distance           int
	Transform          string
}

type clusterView struct {
	N       int
	Origin  sightingView
	First   memberView // the origin image
	Copies  []memberView
	Edges   []edgeView
	Anchor  string
	Batches int
}

type dupesPage struct {
	Clusters []clusterView
	Pager    *pager
	Filters  []kv // the filters in words
	Query    dupesQuery
}

// dupesQuery is the filter form's state (the server's /dupes parameters).
type dupesQuery struct {
	Exact, Across           bool
	Affiliate, Since        string
	MaxDistance, MinQuality int
}

// viewDupes shows recycled photos as side-by-side pairs, origin first: each copy's thumbnail is
// turned back as the match says (a mirrored copy looks mirrored back).
func viewDupes(c *catalog.Catalog, o catalog.DupesOptions, pageNo int, thumb thumbSource, l links, href func(int) string) (string, *dupesPage, error) {
	// The first pages of an unfiltered list read only their clusters and one more (whether a next
	// page exists), not every cluster of the catalog to count the pages.
	more := false
	if pageNo > 0 && o.Limit == 0 && o.ReadsByLimit(pageNo*pageSize+1) {
		o.Limit = pageNo*pageSize + 1
	}
	cls, err := c.Dupes(o)
	if err != nil {
		return "", nil, err
	}
	if o.Limit > 0 && len(cls) == o.Limit {
		more, cls = true, cls[:len(cls)-1]
	}
	v := &dupesPage{}
	if o.Exact {
		v.Filters = append(v.Filters, kv{"only", "byte-identical reuse"})
	}
	if o.AcrossAffiliates {
		v.Filters = append(v.Filters, kv{"only", "photos used by two or more affiliates"})
	}
	if o.Affiliate != "" {
		v.Filters = append(v.Filters, kv{"affiliate", o.Affiliate})
	}
	if !o.Since.IsZero() {
		v.Filters = append(v.Filters, kv{"since", o.Since.String()})
	}
	md := o.Match.MaxDistance
	if md == 0 {
		md = catalog.DefaultMaxDistance
	}
	v.Filters = append(v.Filters, kv{"near", fmt.Sprintf("PDQ distance ≤ %d", md)})
	lo, hi := 0, len(cls)
	if pageNo > 0 {
		lo, hi, v.Pager = paginate(len(cls), pageNo, href)
		if more {
			v.Pager.More, v.Pager.NextHref = true, href(v.Pager.Page+1)
		}
	}
	imgs := map[catalog.SHA256]*catalog.Image{}
	image := func(s catalog.SHA256) *catalog.Image {
		if img, ok := imgs[s]; ok {
			return img
		}
		img, err := c.ImageRecord(s)
		if err != nil {
			imgs[s] = nil
			return nil
		}
		imgs[s] = img
		return img
	}
	member := func(m catalog.Member) memberView {
		mv := memberView{SHA: m.SHA256.String(), Href: l.image(m.SHA256), Distance: m.Distance, Quality: m.Quality}
		tr, err := pdq.ParseTransform(m.Transform)
		switch {
		case m.Region != nil:
			mv.Transform, mv.Region = m.Region.Description, m.Region.Regions()
		case err == nil:
			mv.Transform = tr.Describe()
		default:
			mv.Transform = m.Transform
		}
		for _, s := range m.Sightings {
			mv.Sightings = append(mv.Sightings, viewSighting(s, l))
		}
		if img := image(m.SHA256); img != nil {
			src, why := thumb(img)
			mv.Thumb = thumbView{Src: src, Alt: mv.SHA[:12], Why: why}
			if err == nil {
				// The member is the origin image turned by tr: turn it back.
				mv.Thumb.Class = turnClass(tr.Inverse())
			}
		}
		return mv
	}
	for i, cl := range cls[lo:hi] {
		cv := clusterView{N: lo + i + 1, Origin: viewSighting(cl.Origin, l), First: member(cl.Members[0])}
		cv.Anchor = "cluster-" + cv.First.SHA[:16]
		batches := map[catalog.BatchID]bool{}
		for j, m := range cl.Members {
			for _, s := range m.Sightings {
				batches[s.Batch] = true
			}
			if j > 0 {
				cv.Copies = append(cv.Copies, member(m))
			}
		}
		cv.Batches = len(batches)
		for _, e := range cl.Edges {
			ev := edgeView{A: e.A.String(), B: e.B.String(), AHref: l.image(e.A), BHref: l.image(e.B), Distance: e.Distance, Transform: e.Transform}
			if tr, err := pdq.ParseTransform(e.Transform); err == nil {
				ev.Transform = tr.Describe()
			}
			if e.Region != nil {
				ev.Transform = e.Region.Description + " (regions " + e.Region.Regions() + ")"
			}
			cv.Edges = append(cv.Edges, ev)
		}
		v.Clusters = append(v.Clusters, cv)
	}
	return "Recycled photos", v, nil
}

// releaseView is one release in an affiliate's history or the timeline.
type releaseView struct {
	ID, Href, Released, Affiliate, AffHref, Title string
	Files, New, Recycled, Identical, Near         int
	Uncertain                                     int
	Sources                                       []sourceView
}

type sourceView struct {
	sightingView
	Identical, Near int
}

func viewRelease(tr catalog.TimelineRelease, l links) releaseView {
	b := tr.Batch
	r := releaseView{ID: b.ID.String(), Href: l.batch(b.ID), Released: b.Released.String(), Affiliate: b.Affiliate,
		AffHref: l.affiliate(b.Affiliate), Title: b.Title, Files: tr.Photos, New: tr.New, Identical: tr.Identical,
		Near: tr.Near, Recycled: tr.Identical + tr.Near, Uncertain: tr.Uncertain}
	for _, s := range tr.Sources {
		r.Sources = append(r.Sources, sourceView{sightingView: sightingView{Released: s.Released.String(), Affiliate: s.Affiliate,
			AffHref: l.affiliate(s.Affiliate), Batch: s.Batch.String(), BatchHref: l.batch(s.Batch)}, Identical: s.Identical, Near: s.Near})
	}
	return r
}

type barView struct {
	X, YNew, HNew, YOld, HOld, W int
	Label                        string
	LabelX, LabelY               int
	Title                        string
}

type affiliatePage struct {
	Slug, Name           string
	Aliases              []string
	Releases             []releaseView
	Files, New, Recycled int
	Chart                chartView
}

type chartView struct {
	W, H, Base int
	Bars       []barView
	Max        int
}

// viewAffiliate shows an affiliate's releases over time with new vs recycled counts and a chart.
// name may be the slug, an alias or the display name (catalog.ResolveAffiliate).
func viewAffiliate(c *catalog.Catalog, name string, l links) (string, *affiliatePage, error) {
	slug, err := c.ResolveAffiliate(name)
	if err != nil {
		return "", nil, err
	}
	as, err := c.Affiliates()
	if err != nil {
		return "", nil, err
	}
	v := &affiliatePage{Slug: slug}
	found := false
	for _, a := range as {
		if a.Slug == slug {
			found, v.Name, v.Aliases = true, a.Name, a.Aliases
		}
	}
	if !found {
		return "", nil, fmt.Errorf("%w: affiliate %q (list them with `relcat affiliates`)", catalog.ErrNotFound, slug)
	}
	// New and recycled counts are the timeline's (catalog.Timeline: the one origin rule).
	rs, err := c.Timeline(catalog.TimelineOptions{Affiliate: slug})
	if err != nil {
		return "", nil, err
	}
	for _, tr := range rs {
		r := viewRelease(tr, l)
		v.Files += r.Files
		v.New += r.New
		v.Recycled += r.Recycled
		v.Releases = append(v.Releases, r)
	}
	v.Chart = chart(v.Releases)
	title := "Affiliate " + slug
	if v.Name != "" {
		title += " (" + v.Name + ")"
	}
	return title, v, nil
}

// chart lays out a stacked bar per release (new below, recycled above), in release order.
func chart(rs []releaseView) chartView {
	const barW, gap, plotH, top, labelH = 28, 14, 160, 10, 40
	ch := chartView{W: max(200, len(rs)*(barW+gap)+gap), H: top + plotH + labelH, Base: top + plotH}
	for _, r := range rs {
		ch.Max = max(ch.Max, r.Files)
	}
	if ch.Max == 0 {
		return ch
	}
	for i, r := range rs {
		x := gap + i*(barW+gap)
		hNew := r.New * plotH / ch.Max
		hOld := r.Recycled * plotH / ch.Max
		ch.Bars = append(ch.Bars, barView{X: x, W: barW, YNew: ch.Base - hNew, HNew: hNew, YOld: ch.Base - hNew - hOld, HOld: hOld,
			Label: r.Released, LabelX: x, LabelY: ch.Base + 14,
			Title: fmt.Sprintf("%s: %d new, %d recycled", r.Released, r.New, r.Recycled)})
	}
	return ch
}

type timelinePage struct {
	Releases []releaseView
	Pager    *pager
}

// viewTimeline lists every release in time order with its new and recycled photos and where they
// were recycled from (catalog.Timeline).
func viewTimeline(c *catalog.Catalog, pageNo int, l links, href func(int) string) (string, *timelinePage, error) {
	v := &timelinePage{}
	var window func(int) (int, int)
	if pageNo > 0 {
		// Only the page's releases are read (a million-image catalog has tens of thousands).
		window = func(total int) (lo, hi int) {
			lo, hi, v.Pager = paginate(total, pageNo, href)
			return lo, hi
		}
	}
	rs, err := c.TimelinePage(catalog.TimelineOptions{}, window)
	if err != nil {
		return "", nil, err
	}
	for _, tr := range rs {
		v.Releases = append(v.Releases, viewRelease(tr, l))
	}
	return "Timeline", v, nil
}

type homePage struct {
	Affiliates []affiliateRow
}

type affiliateRow struct {
	Slug, Href, Name, First, Last string
	Batches, Files                int
}

func viewHome(c *catalog.Catalog, l links) (string, *homePage, error) {
	as, err := c.Affiliates()
	if err != nil {
		return "", nil, err
	}
	v := &homePage{}
	for _, a := range as {
		v.Affiliates = append(v.Affiliates, affiliateRow{Slug: a.Slug, Href: l.affiliate(a.Slug), Name: a.Name,
			First: a.First, Last: a.Last, Batches: a.Batches, Files: a.Files})
	}
	return "Affiliates", v, nil
}

type lookupPage struct {
	Done                   bool
	Name, SHA, MD5, Format string
	Exact                  []sightingView
	Near                   []nearView
	LowQual                bool
	Quality                int
	Warnings               []string
	Err                    string
	Limit                  string
	PDQ                    string // a bare PDQ hash looked up (no file, no SHA-256)
	Origin                 *sightingView
	OriginNear, Uncertain  bool
	OriginDistance         int
	OriginTransform        string
}

// viewLookup shows a lookup's answer as `relcat lookup` gives it.
func viewLookup(c *catalog.Catalog, r *catalog.LookupResult, thumb thumbSource, l links) *lookupPage {
	v := &lookupPage{Done: true, Name: r.Path, Format: r.Hashes.Format, LowQual: r.LowQual, Warnings: r.Warnings}
	if r.Hashes.SHA256 != (catalog.SHA256{}) {
		v.SHA = r.Hashes.SHA256.String()
	}
	if r.Hashes.MD5 != (catalog.MD5{}) {
		v.MD5 = r.Hashes.MD5.String()
	}
	if r.Hashes.PDQ != nil {
		v.Quality = r.Hashes.PDQ.Quality
		if v.SHA == "" {
			v.PDQ = r.Hashes.PDQ.Hash.String()
		}
	}
	for _, s := range r.Exact {
		v.Exact = append(v.Exact, viewSighting(s, l))
	}
	for _, m := range r.Near {
		v.Near = append(v.Near, viewNear(c, m, thumb, l))
	}
	if o := r.Origin; o != nil {
		s := viewSighting(o.Sighting, l)
		v.Origin, v.OriginNear, v.Uncertain = &s, o.Near, o.Uncertain
		if o.Near {
			v.OriginDistance, v.OriginTransform = o.Distance, o.Relation()
		}
	}
	return v
}

// searchPage is the search form and its answers: a hash looked up (catalog.LookupHash, as
// `relcat lookup HASH` answers) or images found by metadata (catalog.Search, as `relcat search`).
type searchPage struct {
	Q, Err  string
	Answers []*lookupPage
	Meta    metaSearch
}

type metaSearch struct {
	Done                                             bool
	Make, Model, Serial, Software, Format, Affiliate string
	Stripped                                         bool
	Total                                            int
	Hits                                             []hitView
}

type hitView struct {
	SHA, Href                               string
	Thumb                                   thumbView
	First                                   sightingView
	Sightings                               int
	Camera, Serial, Software, Taken, Format string
	Stripped                                bool
}

// MaxHits is how many images a metadata search shows.
const MaxHits = PageSize

func viewMetaSearch(c *catalog.Catalog, m *metaSearch, thumb thumbSource, l links) error {
	q := catalog.SearchQuery{Make: m.Make, Model: m.Model, Serial: m.Serial, Software: m.Software, Format: m.Format,
		Stripped: m.Stripped, Limit: MaxHits}
	if m.Affiliate != "" {
		q.Affiliates = []string{m.Affiliate}
	}
	res, err := c.Search(q)
	if err != nil {
		return err
	}
	m.Done, m.Total = true, res.Total
	for _, h := range res.Hits {
		hv := hitView{SHA: h.SHA256.String(), Href: l.image(h.SHA256), First: viewSighting(h.First, l), Sightings: h.Sightings,
			Camera: strings.TrimSpace(h.Make + " " + h.Model), Serial: h.Serial, Software: h.Software, Taken: h.Taken,
			Format: h.Format, Stripped: h.Stripped}
		if img, err := c.ImageRecord(h.SHA256); err == nil {
			src, why := thumb(img)
			hv.Thumb = thumbView{Src: src, Alt: hv.SHA[:12], Why: why}
		}
		m.Hits = append(m.Hits, hv)
	}
	return nil
}

// camerasPage lists camera bodies (catalog.Cameras): a body seen under several affiliates is a lead.
type camerasPage struct {
	Affiliate string
	Shared    bool
	Bodies    []bodyView
}

type bodyView struct {
	Make, Model, Serial, Lens, IdentifiedBy string
	Images                                  int
	Affiliates                              []affLink
	Releases                                []sightingView
	Shared                                  bool
	Example                                 thumbView
	ExampleHref                             string
}

type affLink struct{ Slug, Href string }

func viewCameras(c *catalog.Catalog, o catalog.CamerasOptions, thumb thumbSource, l links) (string, *camerasPage, error) {
	bodies, err := c.Cameras(o)
	if err != nil {
		return "", nil, err
	}
	v := &camerasPage{Affiliate: o.Affiliate, Shared: o.Shared}
	for _, b := range bodies {
		bv := bodyView{Make: b.Make, Model: b.Model, Serial: b.Serial, Lens: b.Lens, IdentifiedBy: b.IdentifiedBy,
			Images: b.Images, Shared: b.Shared(), ExampleHref: l.image(b.Example)}
		for _, a := range b.Affiliates {
			bv.Affiliates = append(bv.Affiliates, affLink{a, l.affiliate(a)})
		}
		for _, r := range b.Releases {
			bv.Releases = append(bv.Releases, sightingView{Released: r.Released.String(), Affiliate: r.Affiliate,
				AffHref: l.affiliate(r.Affiliate), Batch: r.Batch.String(), BatchHref: l.batch(r.Batch)})
		}
		if img, err := c.ImageRecord(b.Example); err == nil {
			src, why := thumb(img)
			bv.Example = thumbView{Src: src, Alt: b.Example.String()[:12], Why: why}
		}
		v.Bodies = append(v.Bodies, bv)
	}
	return "Cameras", v, nil
}

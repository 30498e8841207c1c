package catalog

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ReleaseRef names a release (batch) briefly.
type ReleaseRef struct {
	Batch     BatchID  `json:"batch"`
	Affiliate string   `json:"affiliate"`
	Released  Released `json:"released"`
}

// CameraBody is one camera body seen in the catalog: identified by make + model + body serial, or by
// make + model + lens when the photos carry no usable serial (a weaker identification: two cameras
// of one model with the same kit lens look alike).
type CameraBody struct {
	IdentifiedBy string       `json:"identified_by"` // BodyBySerial or BodyByLens
	Make         string       `json:"make"`
	Model        string       `json:"model"`
	Serial       string       `json:"serial,omitempty"`
	Lens         string       `json:"lens,omitempty"`
	Images       int          `json:"images"`
	Affiliates   []string     `json:"affiliates"` // sorted
	Releases     []ReleaseRef `json:"releases"`   // earliest first
	Example      SHA256       `json:"example"`    // one image taken with it
}

// Shared reports whether the body was seen under more than one affiliate: a lead (one media office
// behind both).
func (b CameraBody) Shared() bool { return len(b.Affiliates) > 1 }

// CamerasOptions filter Cameras.
type CamerasOptions struct {
	Affiliate string // only bodies with a photo released by this affiliate (slug, alias or name)
	Shared    bool   // only bodies seen under two or more affiliates
}

// Cameras lists every camera body: those seen under more than one affiliate first (most affiliates
// first), then by number of images. It reads the search index's body entries, not every image.
func (c *Catalog) Cameras(o CamerasOptions) ([]CameraBody, error) {
	if o.Affiliate != "" {
		slug, err := c.ResolveAffiliate(o.Affiliate)
		if err != nil {
			return nil, err
		}
		o.Affiliate = slug
	}
	var out []CameraBody
	err := c.view(func(tx *bolt.Tx) error {
		cache := map[BatchID]*Batch{}
		cur := tx.Bucket(bucketSearch).Cursor()
		prefix := []byte{searchBody}
		var body *CameraBody
		var key []byte
		affs := map[string]bool{}
		rels := map[BatchID]ReleaseRef{}
		flush := func() {
			if body == nil {
				return
			}
			for a := range affs {
				body.Affiliates = append(body.Affiliates, a)
			}
			sort.Strings(body.Affiliates)
			for _, r := range rels {
				body.Releases = append(body.Releases, r)
			}
			sortReleases(body.Releases)
			keep := (!o.Shared || body.Shared()) && (o.Affiliate == "" || affs[o.Affiliate])
			if keep {
				out = append(out, *body)
			}
			body = nil
			affs = map[string]bool{}
			rels = map[BatchID]ReleaseRef{}
		}
		for k, _ := cur.Seek(prefix); k != nil && k[0] == searchBody; k, _ = cur.Next() {
			if len(k) < 34 {
				return fmt.Errorf("search index entry %x malformed (run `relcat reindex`)", k)
			}
			val := k[1 : len(k)-32]
			var s SHA256
			copy(s[:], k[len(k)-32:])
			if body == nil || !bytes.Equal(val, key) {
				flush()
				key = bytes.Clone(val)
				img, err := getImage(tx, s)
				if err != nil {
					return err
				}
				m := img.EXIF
				body = &CameraBody{Make: m.Make, Model: m.Model, Example: s, Affiliates: []string{}, Releases: []ReleaseRef{}}
				if _, by := cameraBody(m); by == BodyBySerial {
					body.IdentifiedBy, body.Serial = BodyBySerial, m.Serial
				} else {
					body.IdentifiedBy, body.Lens = BodyByLens, m.Lens
				}
			}
			body.Images++
			ss, err := sightingsOf(tx, s, cache)
			if err != nil {
				return err
			}
			for _, si := range ss {
				affs[si.Affiliate] = true
				rels[si.Batch] = ReleaseRef{Batch: si.Batch, Affiliate: si.Affiliate, Released: si.Released}
			}
		}
		flush()
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Affiliates) != len(b.Affiliates) {
			return len(a.Affiliates) > len(b.Affiliates)
		}
		if a.Images != b.Images {
			return a.Images > b.Images
		}
		return false // index order: by make, model, serial or lens
	})
	return out, err
}

func sortReleases(rs []ReleaseRef) {
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].Released.Time.Equal(rs[j].Released.Time) {
			return rs[i].Released.Time.Before(rs[j].Released.Time)
		}
		return rs[i].Batch.String() < rs[j].Batch.String()
	})
}

// CameraLead is a camera body of a just-ingested release that other affiliates' releases also show:
// one media office may be behind both.
type CameraLead struct {
	Body   CameraBody   `json:"body"`
	Names  []string     `json:"names"`  // files of this release taken with it
	Others []ReleaseRef `json:"others"` // releases of other affiliates with photos from the same body
}

// cameraLeads finds, for an ingested batch, the camera bodies also seen under other affiliates.
func (c *Catalog) cameraLeads(sum *BatchSummary) error {
	names := map[string][]string{} // body key -> file names in this batch
	var order []string
	err := c.view(func(tx *bolt.Tx) error {
		for _, f := range sum.Files {
			if f.SHA256 == nil || f.Status == StatusRejected {
				continue
			}
			img, err := getImage(tx, *f.SHA256)
			if err != nil {
				return err
			}
			key, _ := cameraBody(img.EXIF)
			if key == "" {
				continue
			}
			if names[key] == nil {
				order = append(order, key)
			}
			names[key] = append(names[key], f.Name)
		}
		return nil
	})
	if err != nil || len(order) == 0 {
		return err
	}
	return c.view(func(tx *bolt.Tx) error {
		cache := map[BatchID]*Batch{}
		for _, key := range order {
			prefix := append([]byte{searchBody}, searchText(key)...)
			others := map[BatchID]ReleaseRef{}
			var body *CameraBody
			cur := tx.Bucket(bucketSearch).Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+32; k, _ = cur.Next() {
				var s SHA256
				copy(s[:], k[len(prefix):])
				if body == nil {
					img, err := getImage(tx, s)
					if err != nil {
						return err
					}
					m := img.EXIF
					body = &CameraBody{Make: m.Make, Model: m.Model, Example: s, IdentifiedBy: BodyByLens, Lens: m.Lens}
					if strings.HasPrefix(key, BodyBySerial+"\x1f") {
						body.IdentifiedBy, body.Serial, body.Lens = BodyBySerial, m.Serial, ""
					}
				}
				body.Images++
				ss, err := sightingsOf(tx, s, cache)
				if err != nil {
					return err
				}
				affs := map[string]bool{}
				for _, si := range ss {
					affs[si.Affiliate] = true
					if si.Affiliate != sum.Batch.Affiliate {
						others[si.Batch] = ReleaseRef{Batch: si.Batch, Affiliate: si.Affiliate, Released: si.Released}
					}
				}
				for a := range affs {
					if !contains(body.Affiliates, a) {
						body.Affiliates = append(body.Affiliates, a)
					}
				}
			}
			if body == nil || len(others) == 0 {
				continue
			}
			if !contains(body.Affiliates, sum.Batch.Affiliate) {
				body.Affiliates = append(body.Affiliates, sum.Batch.Affiliate)
			}
			sort.Strings(body.Affiliates)
			lead := CameraLead{Body: *body, Names: names[key]}
			for _, r := range others {
				lead.Others = append(lead.Others, r)
				lead.Body.Releases = append(lead.Body.Releases, r)
			}
			sortReleases(lead.Others)
			lead.Body.Releases = append(lead.Body.Releases, ReleaseRef{Batch: sum.Batch.ID, Affiliate: sum.Batch.Affiliate, Released: sum.Batch.Released})
			sortReleases(lead.Body.Releases)
			sum.CameraLeads = append(sum.CameraLeads, lead)
		}
		return nil
	})
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

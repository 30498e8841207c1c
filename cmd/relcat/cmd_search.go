package main

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

func (a *app) searchCommand() *cobra.Command {
	var q catalog.SearchQuery
	var takenFrom, takenTo, relFrom, relTo, box, near string
	cmd := &cobra.Command{
		Use:   "search [filters]",
		Short: "Find images by camera, serial, lens, software, dates, place, affiliate, format, stripped EXIF, low-quality hash",
		Long: `Find images by their metadata and their releases. Filters combine (every one must hold).
Text filters (--make, --model, --serial, --lens, --software, --format) compare without case,
exactly, or as a prefix when the value ends in '*' (--model 'canon eos*').
Dates are a day (2019-11-02: the whole day for a --...-to bound) or an RFC 3339 date-time; a photo
whose EXIF gives no zone is compared by its wall time read as UTC.
--affiliate takes a slug, an alias or a name, and may be repeated (any of them).
Hits are listed earliest first release first; --limit caps the list (0: all), the total is always said.`,
		Example: `  relcat search --serial 0480110523
  relcat search --make canon --affiliate ISKP --released-from 2019-11-01 --released-to 2019-11-30
  relcat search --near 36.34,43.13,25 --taken-from 2019-01-01
  relcat search --box 29.5,32.0,31.5,35.0 --stripped --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			for _, d := range []struct {
				flag, v string
				to      *catalog.Released
			}{{"--taken-from", takenFrom, &q.TakenFrom}, {"--taken-to", takenTo, &q.TakenTo},
				{"--released-from", relFrom, &q.ReleasedFrom}, {"--released-to", relTo, &q.ReleasedTo}} {
				if d.v == "" {
					continue
				}
				if *d.to, err = catalog.ParseReleased(d.v); err != nil {
					return usagef("%s: %v", d.flag, err)
				}
			}
			if box != "" {
				v, err := floats("--box", box, 4)
				if err != nil {
					return err
				}
				q.Box = &catalog.GeoBox{South: v[0], West: v[1], North: v[2], East: v[3]}
			}
			if near != "" {
				v, err := floats("--near", near, 3)
				if err != nil {
					return err
				}
				q.Near = &catalog.GeoCircle{Lat: v[0], Lon: v[1], RadiusKm: v[2]}
			}
			if q.Limit < 0 {
				return usagef("--limit %d: give 0 (all) or more", q.Limit)
			}
			return a.reader(func(c *catalog.Catalog) error {
				var sp searchPrinter
				if err := c.SearchEach(a.ctx, q, func(total int, hits []catalog.SearchHit) error { return sp.chunk(a, total, hits) }); err != nil {
					return err
				}
				return sp.end(a)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Make, "make", "", "camera make")
	f.StringVar(&q.Model, "model", "", "camera model")
	f.StringVar(&q.Serial, "serial", "", "camera body serial")
	f.StringVar(&q.Lens, "lens", "", "lens model")
	f.StringVar(&q.Software, "software", "", "EXIF Software")
	f.StringVar(&q.Format, "format", "", "file format as sniffed: jpeg, png, gif, webp, tiff, bmp, heic, heif, avif")
	f.StringVar(&takenFrom, "taken-from", "", "photo taken (DateTimeOriginal) at or after DATE|DATETIME")
	f.StringVar(&takenTo, "taken-to", "", "photo taken at or before DATE|DATETIME")
	f.StringVar(&relFrom, "released-from", "", "in a release at or after DATE|DATETIME")
	f.StringVar(&relTo, "released-to", "", "in a release at or before DATE|DATETIME")
	f.StringArrayVar(&q.Affiliates, "affiliate", nil, "in a release of this affiliate (slug, alias or name; repeatable)")
	f.StringVar(&box, "box", "", "GPS inside SOUTH,WEST,NORTH,EAST (decimal degrees; WEST > EAST crosses the antimeridian)")
	f.StringVar(&near, "near", "", "GPS within KM of a point: LAT,LON,KM")
	f.BoolVar(&q.Stripped, "stripped", false, "only files without EXIF")
	f.BoolVar(&q.LowQuality, "low-quality", false, "only images whose perceptual hash is below quality 50 (left out of near matching)")
	f.IntVar(&q.Limit, "limit", 100, "list at most N hits (0: all)")
	return cmd
}

// floats parses n comma-separated decimal numbers.
func floats(flag, s string, n int) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, usagef("%s %q: want %d comma-separated numbers", flag, s, n)
	}
	out := make([]float64, n)
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, usagef("%s %q: %q is not a number", flag, s, p)
		}
		out[i] = v
	}
	return out, nil
}

// searchPrinter prints search hits as they come, a chunk at a time (text columns widen as they go),
// then the count.
type searchPrinter struct {
	w            columns
	total, shown int
}

func (sp *searchPrinter) chunk(a *app, total int, hits []catalog.SearchHit) error {
	p := a.printer()
	sp.total = total
	if p.json {
		for _, h := range hits {
			if err := p.record("search_hit", h); err != nil {
				return err
			}
		}
		sp.shown += len(hits)
		return nil
	}
	rows := make([][]string, 0, len(hits)+1)
	if sp.shown == 0 && len(hits) > 0 {
		rows = append(rows, []string{"SHA256", "FIRST SEEN", "AFFILIATE", "FORMAT", "CAMERA", "SERIAL/LENS", "TAKEN", "GPS", "FILE"})
	}
	for _, h := range hits {
		id := h.Serial
		if id == "" {
			id = h.Lens
		}
		cam := cameraName(h.Make, h.Model)
		if h.Stripped {
			cam = "(no EXIF)"
		}
		rows = append(rows, []string{short(h.SHA256), h.First.Released.String(), h.First.Affiliate, h.Format,
			cut(cam, 30), cut(id, 24), cut(h.Taken, 25), gpsText(h.GPS), cut(h.First.Name, 40)})
	}
	sp.shown += len(hits)
	return sp.w.print(a.stdout, rows)
}

func (sp *searchPrinter) end(a *app) error {
	p := a.printer()
	if p.json {
		return p.record("search", map[string]any{"total": sp.total, "shown": sp.shown})
	}
	switch {
	case sp.total == 0:
		p.textf("no image matches\n")
	case sp.total > sp.shown:
		p.textf("%d images match (the first %d shown; --limit 0 shows all)\n", sp.total, sp.shown)
	case sp.total == 1:
		p.textf("1 image matches\n")
	default:
		p.textf("%d images match\n", sp.total)
	}
	return nil
}

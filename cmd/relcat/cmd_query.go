package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
	"github.com/relcat/relcat/catalog/exifmeta"
)

func (a *app) batchesCommand() *cobra.Command {
	var o catalog.BatchListOptions
	var since string
	cmd := &cobra.Command{
		Use:   "batches [--affiliate SLUG] [--since DATE] [--limit N]",
		Short: "List the batches (releases), earliest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				r, err := catalog.ParseReleased(since)
				if err != nil {
					return usageError{err}
				}
				o.Since = r
			}
			if o.Limit < 0 {
				return usagef("--limit %d: must be 0 (all) or more", o.Limit)
			}
			return a.reader(func(c *catalog.Catalog) error {
				p := a.printer()
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				if !p.json {
					fmt.Fprintln(tw, "BATCH\tRELEASED\tAFFILIATE\tFILES\tFOLDER\tTITLE")
				}
				n := 0
				err := c.BatchesEach(o, func(b catalog.Batch) error {
					if a.ctx.Err() != nil {
						return catalog.ErrInterrupted
					}
					if p.json {
						return p.record("batch", b)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Released, b.Affiliate, filesText(b), cut(b.Folder, 40), cut(b.Title, 50))
					// Rows reach the terminal in blocks, not all at the end.
					if n++; n%256 == 0 {
						return tw.Flush()
					}
					return nil
				})
				if err != nil {
					return err
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&o.Affiliate, "affiliate", "", "only this affiliate's batches")
	cmd.Flags().StringVar(&since, "since", "", "only batches released on or after this date")
	cmd.Flags().IntVar(&o.Limit, "limit", 0, "only the first N batches (0: all)")
	return cmd
}

func (a *app) affiliatesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "affiliates",
		Short: "List the affiliates with their batch counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.reader(func(c *catalog.Catalog) error {
				as, err := c.Affiliates()
				if err != nil {
					return err
				}
				p := a.printer()
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				if !p.json {
					fmt.Fprintln(tw, "AFFILIATE\tBATCHES\tFILES\tFIRST\tLAST")
				}
				for _, af := range as {
					if p.json {
						if err := p.record("affiliate", af); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", af.Slug, af.Batches, af.Files, af.First, af.Last)
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) showCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show BATCH|SHA256|PREFIX",
		Short: "Show a batch (its images in order) or an image (hashes, EXIF, every sighting)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reader(func(c *catalog.Catalog) error {
				r, err := resolveRef(c, "show", args[0])
				if err != nil {
					return err
				}
				p := a.printer()
				if r.Batch != nil {
					d, err := c.Batch(*r.Batch)
					if err != nil {
						return err
					}
					return printBatch(a, p, d)
				}
				d, err := c.Image(*r.Image)
				if err != nil {
					return err
				}
				return printImage(p, d)
			})
		},
	}
}

// resolveRef resolves a command's image or batch reference; a file path given instead names the fix.
func resolveRef(c *catalog.Catalog, cmd, ref string) (catalog.Resolved, error) {
	r, err := c.Resolve(ref)
	if err == nil {
		return r, nil
	}
	if fi, serr := os.Stat(ref); serr == nil && !fi.IsDir() {
		what := "an image (sha256, md5 or a unique prefix of 4+ hex digits)"
		if cmd == "show" {
			what += " or a batch id"
		}
		return r, usagef("%q is a file: %s takes %s; for a file, use relcat lookup %s", ref, cmd, what, ref)
	}
	return r, notFoundIsError(err)
}

func notFoundIsError(err error) error {
	if errors.Is(err, catalog.ErrAmbiguous) {
		return usageError{err}
	}
	return err
}

func printBatch(a *app, p *printer, d *catalog.BatchDetail) error {
	b := d.Batch
	if p.json {
		if err := p.record("batch", b); err != nil {
			return err
		}
		for _, bi := range d.Images {
			if err := p.record("batch_image", map[string]any{
				"batch": b.ID, "position": bi.Position, "name": bi.Name, "sha256": bi.Image.SHA256,
				"format": bi.Image.Format, "size": bi.Image.Size, "width": bi.Image.Width, "height": bi.Image.Height,
				"exif": bi.Image.EXIF, "earlier": bi.Earlier, "near": bi.Near, "origin": bi.Origin,
			}); err != nil {
				return err
			}
		}
		return nil
	}
	p.textf("batch     %s\naffiliate %s\nreleased  %s\n", b.ID, b.Affiliate, b.Released)
	for _, kv := range [][2]string{{"title", b.Title}, {"source", b.Source}, {"notes", b.Notes}, {"folder", b.Folder}, {"operator", b.Operator}} {
		if kv[1] != "" {
			p.textf("%-9s %s\n", kv[0], cut(kv[1], 200))
		}
	}
	p.textf("ingested  %s\nfiles     %s\n", b.Ingested.Format("2006-01-02 15:04:05Z"), filesText(b))
	if b.Incomplete {
		p.textf("          an ingest of this batch was interrupted (or is running): re-run it to complete the batch\n")
	}
	p.textf("\n")
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tNAME\tSHA256\tFORMAT\tSIZE\tCAMERA\tDATE\tGPS\tFIRST RELEASED (= identical copy earlier, ~ only near-duplicates earlier)")
	for _, bi := range d.Images {
		img := bi.Image
		seen := ""
		if o := bi.Origin; o != nil && o.Sighting.Batch != b.ID {
			mark := "="
			if bi.Earlier == nil {
				mark = "~"
			}
			seen = fmt.Sprintf("%s %s %s", mark, o.Sighting.Released, o.Sighting.Affiliate)
			if o.Near {
				seen += fmt.Sprintf(" (d=%d%s)", o.Distance, relationSuffix(o.Transform, o.Region))
			}
		}
		if bi.Origin != nil && bi.Origin.Uncertain {
			seen += " (uncertain)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", bi.Position+1, cut(bi.Name, 40), img.SHA256.String()[:12],
			img.Format, dims(img), cut(camera(img.EXIF), 30), cut(img.EXIF.DateTimeOriginal, 25), gpsText(img.EXIF.GPS), seen)
	}
	return tw.Flush()
}

// filesText is a batch's file count, marked when an interrupted ingest left it incomplete.
func filesText(b catalog.Batch) string {
	if b.Incomplete {
		return fmt.Sprintf("%d (incomplete)", b.Files)
	}
	return fmt.Sprint(b.Files)
}

func dims(img *catalog.Image) string {
	if img.Width == 0 {
		return "?"
	}
	return fmt.Sprintf("%dx%d", img.Width, img.Height)
}

func camera(m exifmeta.Meta) string {
	switch {
	case m.Make != "" && m.Model != "":
		return m.Make + " " + m.Model
	case m.Model != "":
		return m.Model
	}
	return m.Make
}

func gpsText(g *exifmeta.GPS) string {
	if g == nil {
		return ""
	}
	return fmt.Sprintf("%.5f,%.5f", g.Lat, g.Lon)
}

func printImage(p *printer, d *catalog.ImageDetail) error {
	img, ss := d.Image, d.Sightings
	if p.json {
		rec := imageRecord(img)
		rec["sightings"] = ss
		rec["near"] = d.Near
		rec["origin"] = d.Origin
		rec["forensics"] = catalog.ForensicCues(img, ss)
		return p.record("image", rec)
	}
	p.textf("sha256    %s\nmd5       %s\nsize      %d bytes\nformat    %s\npixels    %s\n", img.SHA256, img.MD5, img.Size, img.Format, dims(img))
	if !img.Pixels && img.PixelsError != "" {
		p.textf("          (not decoded: %s)\n", cut(img.PixelsError, 200))
	}
	if img.PDQ != nil {
		q := ""
		if img.PDQ.Quality < catalog.DefaultMinQuality {
			q = " (low quality hash: not used for matching)"
		}
		p.textf("pdq       %s quality %d%s [%s]\n", img.PDQ.Hash, img.PDQ.Quality, q, img.PDQ.Variant)
	}
	if r := img.PDQRef; r != nil {
		p.textf("pdq       %s quality %d [%s, the reference variant partners use]\n", r.Hash, r.Quality, r.Variant)
	}
	m := img.EXIF
	if m.Stripped() {
		p.textf("exif      none (metadata stripped)\n")
	}
	for _, kv := range [][2]string{{"make", m.Make}, {"model", m.Model}, {"serial", m.Serial}, {"lens", m.Lens},
		{"software", m.Software}, {"taken", takenText(m)}, {"gps", gpsText(m.GPS)}} {
		if kv[1] != "" {
			p.textf("%-9s %s\n", kv[0], cut(kv[1], 200))
		}
	}
	if m.Orientation > 1 {
		p.textf("%-9s %d\n", "orient.", m.Orientation)
	}
	printForensics(p, catalog.ForensicCues(img, ss))
	for _, w := range img.Warnings {
		p.textf("warning   %s\n", cut(w, 200))
	}
	if o := d.Origin; o != nil {
		unc := ""
		if o.Uncertain {
			unc = " " + uncertainText
		}
		p.textf("origin    %s%s\n", originText(o), unc)
	}
	p.textf("sightings %d\n", len(ss))
	for i, s := range ss {
		mark := " "
		if i == 0 {
			mark = "*"
		}
		p.textf("  %s %s  %s  batch %s  #%d %s\n", mark, s.Released, s.Affiliate, s.Batch, s.Position+1, cut(s.Name, 80))
	}
	if len(d.Near) > 0 {
		p.textf("near      %d near-duplicate(s), earliest release first\n", len(d.Near))
	}
	for _, n := range d.Near {
		p.textf("  ~ d=%d%s of %s\n", n.Distance, relationSuffix(n.Transform, n.Region), short(n.SHA256))
		for _, s := range n.Sightings {
			p.textf("      %s\n", sightingText(s))
		}
	}
	return nil
}

func takenText(m exifmeta.Meta) string {
	if m.DateTimeOriginal == "" {
		return ""
	}
	if m.Offset == "" {
		return m.DateTimeOriginal + " (zone unknown)"
	}
	return m.DateTimeOriginal
}

// imageRecord is the JSON form of an image: the fields of the contract first-class.
func imageRecord(img *catalog.Image) map[string]any {
	rec := map[string]any{
		"sha256": img.SHA256, "md5": img.MD5, "size": img.Size, "format": img.Format,
		"width": img.Width, "height": img.Height, "exif": img.EXIF, "pixels": img.Pixels,
	}
	if img.PDQ != nil {
		rec["pdq"] = img.PDQ.Hash
		rec["pdq_quality"] = img.PDQ.Quality
		rec["pdq_variant"] = img.PDQ.Variant
	}
	if r := img.PDQRef; r != nil {
		rec["pdq_ref"] = r.Hash
		rec["pdq_ref_quality"] = r.Quality
		rec["pdq_ref_variant"] = r.Variant
	}
	if img.PixelsError != "" {
		rec["pixels_error"] = img.PixelsError
	}
	if len(img.Warnings) > 0 {
		rec["warnings"] = img.Warnings
	}
	return rec
}

// printForensics writes the forensic cues of an image (artist, copyright, description, comment, and
// the flags) in show's text form.
func printForensics(p *printer, f catalog.Forensics) {
	for _, kv := range [][2]string{{"artist", f.Artist}, {"copyright", f.Copyright}, {"descr.", f.Description}, {"comment", f.UserComment}} {
		if kv[1] != "" {
			p.textf("%-9s %s\n", kv[0], cut(kv[1], 200))
		}
	}
	for _, fl := range f.Flags {
		if fl.Code == catalog.FlagStripped {
			continue // said on the exif line
		}
		p.textf("%-9s %s: %s\n", "cue", fl.Code, cut(fl.Detail, 200))
	}
}

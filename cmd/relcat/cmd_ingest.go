package main

import (
	"fmt"
	"os"
	"os/user"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

func (a *app) ingestCommand() *cobra.Command {
	var o catalog.IngestOptions
	var maxMP float64
	var decodeMiB, fileMiB int64
	var bundleOut string
	cmd := &cobra.Command{
		Use:   "ingest DIR...",
		Short: "Catalog release folders (each folder is one batch)",
		Long: `Catalog release folders. Each DIR is one batch (release). A release.json in the folder
gives affiliate, released, source, title and notes; flags override it field by field.

A batch is identified by its affiliate, its release time and its folder's name: ingesting the same
folder again changes nothing and says so; an interrupted ingest re-run completes it.

` + exitHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if maxMP <= 0 {
				return usagef("--max-pixels must be positive (megapixels)")
			}
			o.MaxPixels = int64(maxMP * 1_000_000)
			if decodeMiB <= 0 {
				return usagef("--decode-memory must be positive (MiB)")
			}
			o.DecodeMemory = decodeMiB << 20
			if fileMiB <= 0 {
				return usagef("--max-file-size must be positive (MiB)")
			}
			o.MaxFileSize = fileMiB << 20
			if setMemoryLimit != nil {
				setMemoryLimit(o.DecodeMemory + 128<<20)
			}
			o.Command = "relcat " + strings.Join(os.Args[1:], " ")
			if o.Operator == "" {
				o.Operator = currentUser()
			}
			// A bad command line (a file for a folder, an empty folder, a bad release.json) is
			// refused before the catalog is created or opened.
			if err := catalog.CheckIngest(dirs, o); err != nil {
				return err
			}
			if bundleOut != "" {
				return a.ingestToBundle(dirs, bundleOut, o)
			}
			c, err := a.open(false)
			if err != nil {
				return err
			}
			defer c.Close()
			defer a.reportDamage(c)
			var bar *progressbar.ProgressBar
			if a.stderrIsTerminal() {
				o.Start = func(dir string, n int) {
					bar = progressbar.NewOptions(n, progressbar.OptionSetWriter(a.stderr),
						progressbar.OptionSetDescription(clean(dir)), progressbar.OptionClearOnFinish(),
						progressbar.OptionShowCount())
				}
				o.Progress = func(done, total int) { _ = bar.Set(done) }
			}
			sums, err := c.Ingest(a.ctx, dirs, o)
			if bar != nil {
				_ = bar.Finish()
			}
			p := a.printer()
			for _, s := range sums {
				if perr := printSummary(p, s); perr != nil {
					return perr
				}
				if perr := printCameraLeads(p, s); perr != nil {
					return perr
				}
				if s.Partial() {
					a.code = exitPartial
				}
			}
			if herr := a.printIngestWatchHits(c, sums); herr != nil && err == nil {
				err = herr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Release.Affiliate, "affiliate", "", "affiliate slug the release is credited to (e.g. is-khorasan)")
	f.StringVar(&o.Release.Released, "released", "", "release time: a date (2019-11-05) or RFC 3339 date-time (2019-11-05T07:30:00Z)")
	f.StringVar(&o.Release.Source, "source", "", "where the release was found (channel post URL, archive reference)")
	f.StringVar(&o.Release.Title, "title", "", "title of the release")
	f.StringVar(&o.Release.Notes, "notes", "", "free notes")
	f.StringVar(&o.Operator, "operator", "", "who ran the ingest, for the log (default $USER)")
	f.BoolVar(&o.Recursive, "recursive", false, "also read files in subfolders (directory symlinks are never followed)")
	f.BoolVar(&o.FollowLinks, "follow-links", false, "also read symbolic links to files outside the release folder (by default such a link is rejected)")
	f.BoolVar(&o.NoCopy, "no-copy", false, "do not preserve the original files in the catalog")
	f.Float64Var(&maxMP, "max-pixels", catalog.DefaultMaxPixels/1_000_000, "largest image to decode, in megapixels (bigger ones keep hashes and EXIF)")
	f.Int64Var(&decodeMiB, "decode-memory", catalog.DefaultDecodeMemory>>20, "memory the files read and the image decoders may use at once, in MiB (an image needing more keeps hashes and EXIF; a file over half of it is hashed by streaming)")
	f.Int64Var(&fileMiB, "max-file-size", catalog.DefaultMaxFileSize>>20, "largest file to read, in MiB (a larger one is rejected unread)")
	f.IntVar(&o.Workers, "workers", 0, "parallel workers (default: number of CPUs)")
	f.BoolVar(&o.ExactPDQ, "exact-pdq", false, "decode every JPEG at full size so the reference PDQ (pdq-full) is exact; by default a JPEG of 1024 px or more is decoded at 1/2 to 1/8 and its pdq-full computed from that, a few bits from the exact hash (see the README; slower)")
	f.StringVar(&bundleOut, "bundle-out", "", "write the ingested batches to this new bundle file instead of a catalog (for `relcat bundle import` elsewhere)")
	return cmd
}

// currentUser names who runs relcat, for the log.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func printSummary(p *printer, s *catalog.BatchSummary) error {
	b := s.Batch
	if p.json {
		for _, f := range s.Files {
			if err := p.record("file", f); err != nil {
				return err
			}
		}
		return p.record("summary", map[string]any{
			"batch": b.ID, "affiliate": b.Affiliate, "released": b.Released, "folder": b.Folder,
			"files": len(s.Files), "new": s.New, "known": s.Known, "rejected": s.Rejected,
			"no_pixels": s.NoPixels, "near": s.NearCount, "reused": s.Reused, "first_here": s.FirstHere,
			"created": s.Created, "unchanged": s.Unchanged, "notes": s.Notes,
		})
	}
	state := "added to existing batch"
	switch {
	case s.Created:
		state = "new batch"
	case s.Unchanged:
		state = "already catalogued"
	}
	p.textf("%s: batch %s (%s), %s, released %s\n", clean(b.Folder), b.ID, state, b.Affiliate, b.Released)
	for _, f := range s.Files {
		unc := ""
		if f.FirstUncertain {
			unc = " " + uncertainText
		}
		switch {
		case f.Status == catalog.StatusRejected:
			p.textf("  rejected  %s: %s\n", clean(f.Name), clean(f.Reason))
		case f.Seen == catalog.SeenIdentical:
			p.textf("  identical %s  = %s\n", clean(f.Name), identicalText(f.Earlier, f.Origin)+unc)
		case f.Seen == catalog.SeenNear:
			p.textf("  near      %s  ~ %s\n", clean(f.Name), originText(f.Origin)+unc)
		case f.Status == catalog.StatusKnown && !f.Repeat:
			p.textf("  new       %s  (first released here; already in the catalog from a later release or another file of this one)%s\n", clean(f.Name), unc)
		default:
			p.textf("  new       %s%s\n", clean(f.Name), unc)
		}
		if f.Updated {
			p.textf("            %s: already catalogued; its pixels or its original are now stored\n", clean(f.Name))
		}
		for _, w := range f.Warnings {
			p.textf("            %s: %s\n", clean(f.Name), cut(w, 200))
		}
	}
	for _, n := range s.Notes {
		p.textf("  note: %s\n", clean(n))
	}
	total := len(s.Files)
	p.textf("  %d files: %d new, %d identical, %d near, %d rejected", total, s.FirstHere, s.Reused, s.NearCount, s.Rejected)
	if s.NoPixels > 0 {
		p.textf(", %d stored without pixels", s.NoPixels)
	}
	if s.Unchanged {
		p.textf("\n  nothing changed: this batch was already catalogued with these files\n")
	} else {
		p.textf("; %d images added to the catalog\n", s.New)
	}
	if line := seenBefore(s); line != "" {
		p.textf("  %s\n", line)
	}
	return nil
}

const uncertainText = "(uncertain: another release the same day gives only a date)"

// seenBefore is the one-line finding: "3 of 16 photos seen before: 2 identical, 1 near (d=14,
// mirrored left-right) — first released 2019-11-02 by is-sinai".
func seenBefore(s *catalog.BatchSummary) string {
	photos := 0
	var near []string
	origins := map[string]catalog.Sighting{}
	for _, f := range s.Files {
		if f.Status == catalog.StatusRejected {
			continue
		}
		photos++
		if f.First == nil || f.Origin == nil {
			continue
		}
		origins[f.First.Released.String()+" by "+f.First.Affiliate] = *f.First
		if f.Seen == catalog.SeenNear {
			near = append(near, fmt.Sprintf("d=%d%s", f.Origin.Distance, relationSuffix(f.Origin.Transform, f.Origin.Region)))
		}
	}
	if s.Reused+s.NearCount == 0 {
		return ""
	}
	line := fmt.Sprintf("%d of %d photos seen before: %d identical, %d near", s.Reused+s.NearCount, photos, s.Reused, s.NearCount)
	if len(near) > 0 {
		line += " (" + strings.Join(near, "; ") + ")"
	}
	keys := make([]string, 0, len(origins))
	for k := range origins {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return origins[keys[i]].Before(origins[keys[j]]) })
	return line + " — first released " + strings.Join(keys, ", ")
}

// originText describes an origin: "first released 2019-11-02 by is-sinai (batch …, 09-ship.jpg)",
// with ", near-duplicate d=14, mirrored left-right, sha256 31511061512a" when it is another image.
func originText(o *catalog.Origin) string {
	if o == nil {
		return "no sighting"
	}
	t := "first released " + sightingText(o.Sighting)
	if o.Near {
		t += fmt.Sprintf(", near-duplicate d=%d%s, sha256 %s", o.Distance, relationSuffix(o.Transform, o.Region), short(o.Sighting.SHA256))
	}
	return t
}

// identicalText describes a photo released before byte-identical: the earlier copy, and the origin
// when that is not the same sighting (an even earlier near-duplicate).
func identicalText(earlier *catalog.Sighting, o *catalog.Origin) string {
	if o == nil || earlier == nil {
		return originText(o)
	}
	if o.Sighting.SHA256 == earlier.SHA256 && o.Sighting.Batch == earlier.Batch && o.Sighting.Position == earlier.Position {
		return originText(o)
	}
	return "identical to " + sightingText(*earlier) + "; " + originText(o)
}

// relationSuffix is transformSuffix for a whole-image match; for one found through region hashes
// (issue 10) it is the description and the two matching regions: ", cropped (about 80 %, centre)
// [whole ~ centre80]" (the distance printed beside it is that region pair's).
func relationSuffix(t string, r *catalog.RegionMatch) string {
	if r != nil {
		return ", " + r.Description + " [" + r.Regions() + "]"
	}
	return transformSuffix(t)
}

// transformSuffix is ", mirrored left-right" for a transformed match, "" for an as-is one.
func transformSuffix(t string) string {
	if t == "as-is" || t == "" {
		return ""
	}
	return ", " + describeTransform(t)
}

func short(s catalog.SHA256) string { return s.String()[:12] }

func sightingText(s catalog.Sighting) string {
	return fmt.Sprintf("%s by %s (batch %s, %s)", s.Released, s.Affiliate, s.Batch, clean(s.Name))
}

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
	"github.com/relcat/relcat/web"
)

func (a *app) reportCommand() *cobra.Command {
	var (
		out, batch, aff, image string
		dupes, timeline        bool
		do                     catalog.DupesOptions
		since                  string
	)
	cmd := &cobra.Command{
		Use:   "report (--batch ID | --dupes [filters] | --affiliate SLUG | --image SHA256 | --timeline) -o FILE.html",
		Short: "Write a self-contained HTML report (thumbnails embedded, no script, no network request)",
		Long: `Write one self-contained HTML file that opens offline in any browser: thumbnails are embedded
as data: URIs, the stylesheet is inline, there is no script and the page makes no request.

  --batch ID        a release as a contact sheet in file order, with a "seen before" badge per photo
  --dupes           recycled photos as side-by-side pairs, origin first (takes the filters of dupes)
  --affiliate SLUG  an affiliate's releases over time with new and recycled counts
  --image SHA256    one image: hashes, every EXIF field, every sighting, near-duplicates
  --timeline        every release in time order

The header names the catalog's log head (sequence and hash) and when the report was made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("report needs -o FILE.html")
			}
			var o web.ReportOptions
			n := 0
			if batch != "" {
				n++
			}
			if dupes {
				n++
			}
			if aff != "" {
				n++
			}
			if image != "" {
				n++
			}
			if timeline {
				n++
			}
			if n != 1 {
				return usagef("report needs exactly one of --batch, --dupes, --affiliate, --image, --timeline")
			}
			if dupes {
				if err := checkMatch(&do.Match); err != nil {
					return err
				}
				if since != "" {
					r, err := catalog.ParseReleased(since)
					if err != nil {
						return usageError{err}
					}
					do.Since = r
				}
				o.Dupes = &do
			} else if cmd.Flags().Changed("exact") || cmd.Flags().Changed("across-affiliates") || since != "" {
				return usagef("--exact, --across-affiliates and --since go with --dupes")
			}
			o.Affiliate = aff
			o.Timeline = timeline
			return a.reader(func(c *catalog.Catalog) error {
				if batch != "" || image != "" {
					ref := batch + image
					r, err := c.Resolve(ref)
					if err != nil {
						return notFoundIsError(err)
					}
					switch {
					case batch != "" && r.Batch == nil:
						return usagef("--batch %s names an image, not a batch", clean(ref))
					case image != "" && r.Image == nil:
						return usagef("--image %s names a batch, not an image", clean(ref))
					}
					o.Batch, o.Image = r.Batch, r.Image
				}
				return writeReport(out, func(f *os.File) error { return web.Report(c, o, f) })
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the HTML file to write")
	cmd.Flags().StringVar(&batch, "batch", "", "report a batch (id or unique prefix)")
	cmd.Flags().BoolVar(&dupes, "dupes", false, "report recycled photos (with the filters of `relcat dupes`)")
	cmd.Flags().StringVar(&aff, "affiliate", "", "report an affiliate's releases over time; with --dupes: only clusters with a sighting by it")
	cmd.Flags().StringVar(&image, "image", "", "report one image (sha256 or unique prefix)")
	cmd.Flags().BoolVar(&timeline, "timeline", false, "report every release in time order")
	cmd.Flags().BoolVar(&do.Exact, "exact", false, "with --dupes: only byte-identical reuse")
	cmd.Flags().BoolVar(&do.AcrossAffiliates, "across-affiliates", false, "with --dupes: only photos used by two or more affiliates")
	cmd.Flags().StringVar(&since, "since", "", "with --dupes: only clusters with a sighting released on or after this date")
	matchFlags(cmd, &do.Match)
	return cmd
}

// writeReport writes a file through a temporary name in the same folder, so that a failed or
// interrupted report never leaves half a file under the name asked for.
func writeReport(path string, fn func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".relcat-report-*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := fn(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

func (a *app) timelineCommand() *cobra.Command {
	var o catalog.TimelineOptions
	var since string
	cmd := &cobra.Command{
		Use:   "timeline [--affiliate A] [--since DATE] [--limit N]",
		Short: "Releases in time order: new photos, recycled ones and the earlier releases they come from",
		Long: `Releases in time order (release time, then ingest time). Per release: its photos, how many are
new (first released here), identical (the same bytes were released before) and near (only a
near-duplicate was released before), and the earlier releases they come from: for identical ones
the first release of those bytes, for near ones the photo's origin (the same rule as show, history
and the ingest summary). "uncertain" counts photos whose origin ties with another release the same
day (a bare date). Releases are printed as they are read (64 at a time): the first lines of a
large catalog's timeline come at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				r, err := catalog.ParseReleased(since)
				if err != nil {
					return usagef("--since: %v", err)
				}
				o.Since = r
			}
			if o.Limit < 0 {
				return usagef("--limit: %d is negative", o.Limit)
			}
			return a.reader(func(c *catalog.Catalog) error {
				p := a.printer()
				// Each chunk of releases is printed as soon as it is read; the columns take the
				// widths of the first chunk and widen (never narrow) for a longer cell later.
				var w columns
				n := 0
				err := c.TimelineEach(a.ctx, o, nil, func(rs []catalog.TimelineRelease) error {
					if p.json {
						for _, r := range rs {
							if err := p.record("timeline_release", r); err != nil {
								return err
							}
						}
						return nil
					}
					rows := make([][]string, 0, len(rs)+1)
					if n == 0 {
						rows = append(rows, []string{"RELEASED", "AFFILIATE", "BATCH", "PHOTOS", "NEW", "IDENTICAL", "NEAR", "FROM"})
					}
					for _, r := range rs {
						rows = append(rows, timelineRow(r))
					}
					n += len(rs)
					return w.print(a.stdout, rows)
				})
				if err != nil {
					return err
				}
				if n == 0 && !p.json {
					p.textf("no release matches\n")
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&o.Limit, "limit", 0, "only the first N releases (0: all)")
	cmd.Flags().StringVar(&o.Affiliate, "affiliate", "", "only this affiliate's releases (slug, alias or name)")
	cmd.Flags().StringVar(&since, "since", "", "only releases at or after this date or date-time")
	return cmd
}

// timelineRow is one release as the text timeline prints it.
func timelineRow(r catalog.TimelineRelease) []string {
	var from []string
	for _, s := range r.Sources {
		var parts []string
		if s.Identical > 0 {
			parts = append(parts, fmt.Sprintf("%d identical", s.Identical))
		}
		if s.Near > 0 {
			parts = append(parts, fmt.Sprintf("%d near", s.Near))
		}
		from = append(from, fmt.Sprintf("%s %s (%s)", s.Released, s.Affiliate, strings.Join(parts, ", ")))
	}
	if r.Uncertain > 0 {
		from = append(from, fmt.Sprintf("%d uncertain (same-day tie)", r.Uncertain))
	}
	return []string{r.Batch.Released.String(), r.Batch.Affiliate, r.Batch.ID.String(), fmt.Sprint(r.Photos), fmt.Sprint(r.New),
		fmt.Sprint(r.Identical), fmt.Sprint(r.Near), strings.Join(from, "; ")}
}

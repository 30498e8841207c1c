package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

func (a *app) timelineCommand() *cobra.Command {
	var o catalog.TimelineOptions
	var since string
	cmd := &cobra.Command{
		Use:   "timeline [--affiliate A] [--since DATE]",
		Short: "Releases in time order: new photos, recycled ones and the earlier releases they come from",
		Long: `Releases in time order (release time, then ingest time). Per release: its photos, how many are
new (first released here), identical (the same bytes were released before) and near (only a
near-duplicate was released before), and the earlier releases they come from: for identical ones
the first release of those bytes, for near ones the photo's origin (the same rule as show, history
and the ingest summary). "uncertain" counts photos whose origin ties with another release the same
day (a bare date).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				r, err := catalog.ParseReleased(since)
				if err != nil {
					return usagef("--since: %v", err)
				}
				o.Since = r
			}
			return a.reader(func(c *catalog.Catalog) error {
				tl, err := c.Timeline(o)
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					for _, r := range tl {
						if err := p.record("timeline_release", r); err != nil {
							return err
						}
					}
					return nil
				}
				if len(tl) == 0 {
					p.textf("no release matches\n")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "RELEASED\tAFFILIATE\tBATCH\tPHOTOS\tNEW\tIDENTICAL\tNEAR\tFROM")
				for _, r := range tl {
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
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.Batch.Released, r.Batch.Affiliate, r.Batch.ID,
						r.Photos, r.New, r.Identical, r.Near, strings.Join(from, "; "))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&o.Affiliate, "affiliate", "", "only this affiliate's releases (slug, alias or name)")
	cmd.Flags().StringVar(&since, "since", "", "only releases at or after this date or date-time")
	return cmd
}

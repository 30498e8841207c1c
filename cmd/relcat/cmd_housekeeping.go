package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

// writer opens an existing catalog for writing for fn and closes it after (a command that only
// changes or rewrites records does not start a catalog where there is none).
func (a *app) writer(fn func(c *catalog.Catalog) error) error {
	dir, err := a.dir()
	if err != nil {
		return err
	}
	c, err := catalog.Open(dir, catalog.Options{MustExist: true, Version: version})
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

// housekeeping is who runs a change and with which command line, for the log.
func housekeeping(operator string) catalog.HousekeepingOptions {
	if operator == "" {
		operator = currentUser()
	}
	return catalog.HousekeepingOptions{Operator: operator, Command: "relcat " + strings.Join(os.Args[1:], " ")}
}

func (a *app) affiliateCommand() *cobra.Command {
	var operator string
	cmd := &cobra.Command{
		Use:   "affiliate rename|alias|merge|show",
		Short: "Rename an affiliate, give it aliases, merge two, or show one (every change is logged)",
		Long: `Housekeeping of affiliates. Every change is an entry of the hash-chained log.

  rename OLD NEW       NEW becomes the slug; the batches follow; OLD stays as an alias
  alias SLUG ALIAS...  names that resolve to SLUG on ingest, in release.json and in every filter
                       ("ISKP" finds is-khorasan)
  merge FROM INTO      FROM's batches become INTO's (both histories kept); FROM, its name and
                       aliases become aliases of INTO
  show SLUG            the affiliate, its aliases, its releases and the changes made to it`,
	}
	cmd.PersistentFlags().StringVar(&operator, "operator", "", "who makes the change, for the log (default: the current user)")
	cmd.AddCommand(&cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Give an affiliate a new slug (the old one stays an alias)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.writer(func(c *catalog.Catalog) error {
				if err := c.RenameAffiliate(args[0], args[1], housekeeping(operator)); err != nil {
					return err
				}
				return a.showAffiliate(c, args[1])
			})
		},
	}, &cobra.Command{
		Use:   "alias SLUG ALIAS...",
		Short: "Add names that resolve to the affiliate",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.writer(func(c *catalog.Catalog) error {
				if err := c.AliasAffiliate(args[0], args[1:], housekeeping(operator)); err != nil {
					return err
				}
				return a.showAffiliate(c, args[0])
			})
		},
	}, &cobra.Command{
		Use:   "merge FROM INTO",
		Short: "Merge affiliate FROM into INTO (both histories kept)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.writer(func(c *catalog.Catalog) error {
				if err := c.MergeAffiliates(args[0], args[1], housekeeping(operator)); err != nil {
					return err
				}
				return a.showAffiliate(c, args[1])
			})
		},
	}, &cobra.Command{
		Use:   "show SLUG",
		Short: "Show an affiliate (slug, alias or name): aliases, releases, changes",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.reader(func(c *catalog.Catalog) error { return a.showAffiliate(c, args[0]) })
		},
	})
	return cmd
}

func (a *app) showAffiliate(c *catalog.Catalog, name string) error {
	d, err := c.AffiliateShow(name)
	if err != nil {
		return err
	}
	p := a.printer()
	if p.json {
		return p.record("affiliate_detail", d)
	}
	p.textf("affiliate %s\n", d.Slug)
	if d.Name != "" {
		p.textf("name      %s\n", cut(d.Name, 200))
	}
	if len(d.Aliases) > 0 {
		var as []string
		for _, al := range d.Aliases {
			as = append(as, clean(al))
		}
		p.textf("aliases   %s\n", strings.Join(as, ", "))
	}
	p.textf("releases  %d (%d files)\n", d.Batches, d.Files)
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	for _, b := range d.Releases {
		fmt.Fprintf(tw, "  %s\t%s\t%d files\t%s\t%s\n", b.ID, b.Released, b.Files, cut(b.Folder, 40), cut(b.Title, 50))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range d.Changes {
		p.textf("change    #%d %s %s: %s\n", e.Seq, e.Time.Format("2006-01-02 15:04:05Z"), e.Action, cut(strings.Join(e.Notes, "; "), 200))
	}
	return nil
}

func (a *app) batchCommand() *cobra.Command {
	var operator string
	cmd := &cobra.Command{
		Use:   "batch edit|rm",
		Short: "Fix a batch's release time, affiliate, title, source or notes, or remove a batch (logged)",
	}
	cmd.PersistentFlags().StringVar(&operator, "operator", "", "who makes the change, for the log (default: the current user)")
	var released, affiliate, title, source, notes string
	edit := &cobra.Command{
		Use:   "edit BATCH [--released DATE] [--affiliate A] [--title T] [--source S] [--notes N]",
		Short: "Change a batch's fields without re-ingesting (the old values go in the log)",
		Long: `Change a batch's fields without re-ingesting: a batch ingested with a wrong date is fixed here.
The batch keeps its id; re-ingesting its folder (with the old or the new values) adds to it and keeps
the edited release time and affiliate. The log entry records every old and new value.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var e catalog.BatchEdit
			set := func(flag string, v *string, dst **string) {
				if cmd.Flags().Changed(flag) {
					*dst = v
				}
			}
			set("released", &released, &e.Released)
			set("affiliate", &affiliate, &e.Affiliate)
			set("title", &title, &e.Title)
			set("source", &source, &e.Source)
			set("notes", &notes, &e.Notes)
			if e == (catalog.BatchEdit{}) {
				return usagef("batch edit: give at least one of --released, --affiliate, --title, --source, --notes")
			}
			return a.writer(func(c *catalog.Catalog) error {
				id, err := batchRef(c, args[0])
				if err != nil {
					return err
				}
				b, err := c.EditBatch(id, e, housekeeping(operator))
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					return p.record("batch", b)
				}
				p.textf("batch %s: %s, released %s, title %s\n", b.ID, b.Affiliate, b.Released, cut(b.Title, 80))
				return nil
			})
		},
	}
	ef := edit.Flags()
	ef.StringVar(&released, "released", "", "release time: a date or an RFC 3339 date-time")
	ef.StringVar(&affiliate, "affiliate", "", "affiliate (slug, alias or name; a new slug creates it)")
	ef.StringVar(&title, "title", "", "title")
	ef.StringVar(&source, "source", "", "source (channel, URL, archive reference)")
	ef.StringVar(&notes, "notes", "", "notes")
	var yes bool
	rm := &cobra.Command{
		Use:   "rm BATCH --yes",
		Short: "Remove a batch: its sightings, and the images no other batch shows (the log keeps all)",
		Long: `Remove a batch. Its sightings go; an image and its preserved original stay while another batch
shows it, otherwise they go too. The log entry keeps the batch record, every removed sighting and
every removed image (sha256, md5, size). Asks for --yes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return usagef("batch rm %s: this removes the batch and the images only it shows; add --yes to do it", args[0])
			}
			return a.writer(func(c *catalog.Catalog) error {
				id, err := batchRef(c, args[0])
				if err != nil {
					return err
				}
				r, err := c.RemoveBatch(id, housekeeping(operator))
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					return p.record("batch_removed", r)
				}
				p.textf("batch %s (%s, released %s, %s) removed: %d sightings; %d images removed, %d kept (shown by other batches)\n",
					r.Batch.ID, r.Batch.Affiliate, r.Batch.Released, clean(r.Batch.Folder), r.Sightings, len(r.Removed), r.Kept)
				return nil
			})
		},
	}
	rm.Flags().BoolVar(&yes, "yes", false, "really remove")
	cmd.AddCommand(edit, rm)
	return cmd
}

// batchRef resolves a batch id or prefix; an image is a usage error.
func batchRef(c *catalog.Catalog, ref string) (catalog.BatchID, error) {
	r, err := c.Resolve(ref)
	if err != nil {
		return catalog.BatchID{}, notFoundIsError(err)
	}
	if r.Batch == nil {
		return catalog.BatchID{}, usagef("%s is an image, not a batch (list batches with `relcat batches`)", ref)
	}
	return *r.Batch, nil
}

package main

import (
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/relcat/relcat/catalog"
)

func (a *app) reindexCommand() *cobra.Command {
	var o catalog.ReindexOptions
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the derived indexes (near-duplicate edges, ...) and upgrade an older catalog",
		Long: `Rebuild every index derived from the records: the near-duplicate ids and edges (every pair of
images within the default threshold, which dupes, history and show read), and the other derived
data this relcat keeps. It also upgrades a catalog written by an older relcat (schema version 1),
which other commands refuse with a message naming this command. Records, sightings, originals and
the log are kept; the reindex itself is logged. Safe to interrupt and run again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.dir()
			if err != nil {
				return err
			}
			c, err := catalog.Open(dir, catalog.Options{Version: version, Upgrade: true})
			if err != nil {
				return err
			}
			defer c.Close()
			o.Command = "relcat " + strings.Join(os.Args[1:], " ")
			if o.Operator == "" {
				o.Operator = currentUser()
			}
			var bar *progressbar.ProgressBar
			last := ""
			if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !a.jsonOut {
				o.Progress = func(step string, done, total int) {
					if step != last {
						if bar != nil {
							_ = bar.Finish()
						}
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.stderr),
							progressbar.OptionSetDescription(step), progressbar.OptionClearOnFinish(), progressbar.OptionShowCount())
						last = step
					}
					_ = bar.Set(done)
				}
			}
			r, err := c.Reindex(a.ctx, o)
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				return err
			}
			p := a.printer()
			if p.json {
				return p.record("reindex", r)
			}
			if r.FromSchema != r.ToSchema {
				p.textf("upgraded the catalog from schema version %d to %d\n", r.FromSchema, r.ToSchema)
			}
			for _, s := range r.Steps {
				p.textf("%s\n", s)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Operator, "operator", "", "who runs the reindex (for the log; default: the current user)")
	return cmd
}

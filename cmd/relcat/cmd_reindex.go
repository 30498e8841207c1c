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
			c, err := catalog.Open(dir, catalog.Options{Version: version, Upgrade: true, MustExist: true})
			if err != nil {
				return err
			}
			defer c.Close()
			o.Command = "relcat " + strings.Join(os.Args[1:], " ")
			if o.Operator == "" {
				o.Operator = currentUser()
			}
			var bar stepBar
			if a.stderrIsTerminal() {
				o.Progress = func(step string, done, total int) { bar.set(a, step, int64(done), int64(total), true) }
			}
			r, err := c.Reindex(a.ctx, o)
			bar.finish()
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

// stepBar is a progress bar on standard error that starts anew when the step's name changes.
type stepBar struct {
	bar  *progressbar.ProgressBar
	last string
}

func (b *stepBar) set(a *app, step string, done, total int64, count bool) {
	if b.bar == nil || step != b.last {
		b.finish()
		opts := []progressbar.Option{progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(step), progressbar.OptionClearOnFinish()}
		if count {
			opts = append(opts, progressbar.OptionShowCount())
		} else {
			opts = append(opts, progressbar.OptionShowBytes(true))
		}
		b.bar, b.last = progressbar.NewOptions64(total, opts...), step
	}
	_ = b.bar.Set64(done)
}

func (b *stepBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

// stderrIsTerminal reports whether progress can be drawn: standard error is a terminal and the
// output is text.
func (a *app) stderrIsTerminal() bool {
	f, ok := a.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && !a.jsonOut
}

func (a *app) compactCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "compact",
		Short: "Rewrite catalog.db without its free pages: the same records in a smaller file, faster long reads",
		Long: `Rewrite catalog.db without the free pages it has gathered (its storage engine reuses freed pages
but never returns them, and leaves pages half full after splits): every bucket is copied in key
order into a new file beside catalog.db, read back and held against the original's content, then
swapped in by one rename. Records, the log and the index files are unchanged (nothing is logged:
nothing in the record changes). Readers go on reading during the copy and wait at most for the
swap. Needs free disk space for the new file. Ctrl-C stops it and leaves catalog.db as it was.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.writer(func(c *catalog.Catalog) error {
				var bar stepBar
				var progress func(done, total int64)
				if a.stderrIsTerminal() {
					progress = func(done, total int64) { bar.set(a, "copying", done, total, false) }
				}
				r, err := c.Compact(a.ctx, progress)
				bar.finish()
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					return p.record("compact", r)
				}
				p.textf("catalog.db: %d -> %d bytes (%d records in %d buckets copied and read back)\n", r.BytesBefore, r.BytesAfter, r.Records, r.Buckets)
				return nil
			})
		},
	}
}

package main

import (
	"errors"
	"fmt"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

// errProblems makes verify exit 1 after printing what it found.
var errProblems = errors.New("verify found problems")

// compactHintBytes is how much free space in catalog.db (a quarter of it or more) makes verify name
// `relcat compact` (tests lower it).
var compactHintBytes uint64 = 64 << 20

func (a *app) verifyCommand() *cobra.Command {
	var o catalog.VerifyOptions
	cmd := &cobra.Command{
		Use:   "verify [--quick]",
		Short: "Check the catalog: storage, indexes against records, the log's hash chain, originals and thumbnails",
		Long: `Check the catalog and name every problem: the structure of catalog.db (read by relcat's own
bounded checker: a damaged file is reported, never trusted); every index against the records
(sightings both ways, md5 and perceptual-hash indexes, batch counts); every batch record against its
identity and against the log; the log's hash chain and its head; every preserved original re-hashed
and held against its image record (size, MD5, format, EXIF) and every thumbnail re-hashed
(--quick only checks they exist); the near-duplicate edges against the hashes and the persisted near
index (near.idx) against the index of the hashes. Records are read once, one pass per bucket, with a
progress bar on a terminal; Ctrl-C stops it within a second. Exits 1 when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.dir()
			if err != nil {
				return err
			}
			// A catalog.db that cannot be read safely still opens here: verify reports the damage.
			c, err := catalog.Open(dir, catalog.Options{AllowDamaged: true, Version: version})
			if err != nil {
				return err
			}
			defer c.Close()
			return func(c *catalog.Catalog) error {
				var bar *progressbar.ProgressBar
				if a.stderrIsTerminal() {
					o.Progress = func(done, total int) {
						if bar == nil {
							bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.stderr),
								progressbar.OptionSetDescription("images"), progressbar.OptionClearOnFinish(), progressbar.OptionShowCount())
						}
						_ = bar.Set(done)
					}
				}
				r, err := c.Verify(a.ctx, o)
				if bar != nil {
					_ = bar.Finish()
				}
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					for _, pr := range r.Problems {
						if err := p.record("problem", pr); err != nil {
							return err
						}
					}
					if err := p.record("verify", r); err != nil {
						return err
					}
				} else {
					for _, pr := range r.Problems {
						p.textf("PROBLEM %s\n", clean(pr.String()))
					}
					p.textf("checked %d images, %d batches, %d sightings, %d log entries, %d originals and %d thumbnails re-hashed: ",
						r.Images, r.Batches, r.Sightings, r.LogItems, r.Objects, r.Thumbs)
					if len(r.Problems) == 0 {
						p.textf("ok\n")
					} else {
						p.textf("%d problem(s)\n", len(r.Problems))
					}
					// A quarter or more of a large file free: say what compact would give back.
					if free := r.FreePages * r.PageSize; r.FreePages*4 >= r.Pages && free >= compactHintBytes {
						p.textf("catalog.db: %d of its %d pages are free (%.0f MB): `relcat compact` gives them back and packs half-full ones\n",
							r.FreePages, r.Pages, float64(free)/1e6)
					}
				}
				if len(r.Problems) > 0 {
					return fmt.Errorf("%w: %d", errProblems, len(r.Problems))
				}
				return nil
			}(c)
		},
	}
	cmd.Flags().BoolVar(&o.Quick, "quick", false, "do not re-hash originals and thumbnails (only check they exist)")
	return cmd
}

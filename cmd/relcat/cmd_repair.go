package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

func (a *app) repairCommand() *cobra.Command {
	var from []string
	var operator string
	cmd := &cobra.Command{
		Use:   "repair [--from DIR]...",
		Short: "Remake damaged or missing thumbnails from the originals; restore damaged originals from --from folders",
		Long: `Check every preserved original and thumbnail against its recorded SHA-256 and repair what can be:
a missing or damaged thumbnail is made again from the original (the same bytes ingest wrote); a
missing or damaged original is restored from a file with the same SHA-256 found under a --from
folder (read recursively; links are not followed; file names do not matter). One log entry records
every repair. Exit 1 when something could not be repaired, each named with the way to fix it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.writer(func(c *catalog.Catalog) error {
				ho := housekeeping(operator)
				r, err := c.Repair(a.ctx, catalog.RepairOptions{From: from, Operator: ho.Operator, Command: ho.Command})
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					for _, it := range r.Repaired {
						if err := p.record("repaired", it); err != nil {
							return err
						}
					}
					for _, it := range r.Unrepaired {
						if err := p.record("unrepaired", it); err != nil {
							return err
						}
					}
					if err := p.record("repair", map[string]any{"checked": r.Checked, "scanned": r.Scanned,
						"repaired": len(r.Repaired), "unrepaired": len(r.Unrepaired)}); err != nil {
						return err
					}
				} else {
					for _, it := range r.Repaired {
						p.textf("repaired  %s %s %s: %s\n", it.Kind, it.SHA256, it.Path, it.Detail)
					}
					for _, it := range r.Unrepaired {
						p.textf("CANNOT    %s %s %s: %s\n", it.Kind, it.SHA256, it.Path, it.Detail)
					}
					p.textf("%d originals and thumbnails checked, %d files under --from hashed: %d repaired, %d not\n",
						r.Checked, r.Scanned, len(r.Repaired), len(r.Unrepaired))
				}
				if len(r.Unrepaired) > 0 {
					return fmt.Errorf("%d stored files could not be repaired (see above)", len(r.Unrepaired))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVar(&from, "from", nil, "a folder that may hold the original files (repeatable)")
	cmd.Flags().StringVar(&operator, "operator", "", "who repairs, for the log (default: the current user)")
	return cmd
}

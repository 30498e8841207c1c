package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

func (a *app) camerasCommand() *cobra.Command {
	var o catalog.CamerasOptions
	cmd := &cobra.Command{
		Use:   "cameras [--affiliate SLUG] [--shared]",
		Short: "List camera bodies (make+model+serial, or +lens without a serial), those seen in several affiliates first",
		Long: `List every camera body seen in the catalog: make + model + body serial, or make + model + lens
when the photos carry no usable serial (weaker: two cameras of one model with the same lens look
alike). For each: how many images, which affiliates, which releases. Bodies seen under more than one
affiliate come first: one media office may be behind both.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.reader(func(c *catalog.Catalog) error {
				bodies, err := c.Cameras(o)
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					for _, b := range bodies {
						if err := p.record("camera", b); err != nil {
							return err
						}
					}
					return nil
				}
				if len(bodies) == 0 {
					p.textf("no camera bodies (no photo names a serial or a lens)\n")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CAMERA\tBY\tSERIAL/LENS\tIMAGES\tAFFILIATES\tRELEASES")
				for _, b := range bodies {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", cut(cameraName(b.Make, b.Model), 40), b.IdentifiedBy,
						cut(bodyID(b), 40), b.Images, cut(strings.Join(b.Affiliates, ", "), 60), releasesText(b.Releases, 4))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&o.Affiliate, "affiliate", "", "only bodies with a photo of this affiliate (slug, alias or name)")
	cmd.Flags().BoolVar(&o.Shared, "shared", false, "only bodies seen under two or more affiliates")
	return cmd
}

func bodyID(b catalog.CameraBody) string {
	if b.IdentifiedBy == catalog.BodyBySerial {
		return b.Serial
	}
	return b.Lens
}

// releasesText lists up to n releases ("2019-11-02 is-sinai, …") and counts the rest.
func releasesText(rs []catalog.ReleaseRef, n int) string {
	var parts []string
	for i, r := range rs {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(rs)-n))
			break
		}
		parts = append(parts, r.Released.String()+" "+r.Affiliate)
	}
	return strings.Join(parts, ", ")
}

// printCameraLeads says, after an ingest summary, which camera bodies of the release other
// affiliates' releases also show (a separate line per body; a "camera_lead" JSON record each).
func printCameraLeads(p *printer, s *catalog.BatchSummary) error {
	for _, l := range s.CameraLeads {
		if p.json {
			if err := p.record("camera_lead", map[string]any{"batch": s.Batch.ID, "affiliate": s.Batch.Affiliate,
				"body": l.Body, "names": l.Names, "others": l.Others}); err != nil {
				return err
			}
			continue
		}
		weak := ""
		if l.Body.IdentifiedBy == catalog.BodyByLens {
			weak = " (no serial: same model and lens)"
		}
		var names []string
		for _, n := range l.Names {
			names = append(names, clean(n))
		}
		p.textf("  lead: shared camera body %s %s %s%s in %s; also in %s\n", clean(cameraName(l.Body.Make, l.Body.Model)),
			l.Body.IdentifiedBy, cut(bodyID(l.Body), 60), weak, cut(strings.Join(names, ", "), 120), releasesText(l.Others, 5))
	}
	return nil
}

// cameraName is "Canon EOS 7D" for make "Canon", model "Canon EOS 7D": the make once.
func cameraName(make, model string) string {
	if make != "" && strings.HasPrefix(strings.ToLower(model), strings.ToLower(strings.Fields(make + " x")[0])) {
		return model
	}
	return strings.TrimSpace(make + " " + model)
}

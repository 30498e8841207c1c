package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

// selectionFlags are the batch filters shared by export and bundle export.
type selectionFlags struct {
	batches   []string
	affiliate string
	since     string
}

func (f *selectionFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.batches, "batch", nil, "only this batch (id or unique prefix; repeatable)")
	cmd.Flags().StringVar(&f.affiliate, "affiliate", "", "only batches credited to this affiliate slug")
	cmd.Flags().StringVar(&f.since, "since", "", "only batches released at or after this date or RFC 3339 time")
}

// selection resolves the flags (and extra batch references) against the catalog.
func (f *selectionFlags) selection(c *catalog.Catalog, extra []string) (catalog.Selection, error) {
	var s catalog.Selection
	for _, ref := range append(append([]string(nil), f.batches...), extra...) {
		r, err := c.Resolve(ref)
		if err != nil {
			return s, err
		}
		if r.Batch == nil {
			return s, usagef("%q names an image, not a batch (list batches with `relcat batches`)", ref)
		}
		s.Batches = append(s.Batches, *r.Batch)
	}
	s.Affiliate = f.affiliate
	if f.since != "" {
		r, err := catalog.ParseReleased(f.since)
		if err != nil {
			return s, err
		}
		s.Since = r
	}
	return s, nil
}

// createOutput opens -o FILE (or stdout for "" and "-"); done closes it, removing a partial file
// when the export failed.
func (a *app) createOutput(path string) (w io.Writer, done func(ok bool) error, err error) {
	if path == "" || path == "-" {
		bw := bufio.NewWriterSize(a.stdout, 64<<10)
		return bw, func(bool) error { return bw.Flush() }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w (relcat does not overwrite an existing file)", path, err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	return bw, func(ok bool) error {
		err := bw.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if !ok || err != nil {
			os.Remove(path)
		}
		return err
	}, nil
}

func (a *app) exportCommand() *cobra.Command {
	var sel selectionFlags
	var o catalog.ExportWriterOptions
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export images, their sightings, hashes and EXIF, or hash lists for partners",
		Long: `Export every image of the selection (default: the whole catalog) in one of these formats:

  json      JSON lines, one object per image: hashes, both PDQ variants, EXIF, every sighting
  csv       one row per image with a header (RFC 4180); cells starting with = + - @ tab or CR get
            a leading ' so that spreadsheets never run them as formulas
  exiftool  a JSON array as 'exiftool -json -n -G' prints it (SourceFile + EXIF:Tag keys), which
            'exiftool -j=FILE' writes back into copies of the files
  pdq-list  "pdq <hex>" lines (python-threatexchange local file bank)
  pdq-csv   "hex,quality,name" (Meta's pdq-photo-hasher output)
  tat-json  a JSON array of {hash_digest, algorithm (SHA256|MD5|PDQ), file_type, created_on, id}
  hma-csv   signal_type,signal_str,collab,category,tags (Hasher-Matcher-Actioner bank import)

PDQ variant: json and csv name the variant of each row (pdq-full, the reference full-resolution
hash partners compute, when stored; else pdq-area1024, relcat's matching variant). The hash lists
(pdq-list, pdq-csv, tat-json, hma-csv) hold pdq-full only: an image without it (catalogued by an
older relcat without its original) is left out and counted on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.reader(func(c *catalog.Catalog) error {
				s, err := sel.selection(c, nil)
				if err != nil {
					return err
				}
				w, done, err := a.createOutput(out)
				if err != nil {
					return err
				}
				ew, err := catalog.NewExportWriter(w, o)
				if err != nil {
					done(false)
					return err
				}
				err = c.Export(a.ctx, s, ew.Write)
				if err == nil {
					err = ew.Close()
				}
				if derr := done(err == nil); err == nil {
					err = derr
				}
				if err != nil {
					return err
				}
				st := ew.Stats
				if a.jsonOut {
					return newPrinter(a.stderr, true).record("export", st)
				}
				msg := fmt.Sprintf("exported %d images as %s (%d records)", st.Images, st.Format, st.Written)
				if st.PDQVariant != "" {
					msg += "; PDQ variant: " + st.PDQVariant
				}
				if st.NoReference > 0 {
					msg += fmt.Sprintf("; %d images left out: no reference PDQ stored (run `relcat reindex` where their originals are preserved)", st.NoReference)
				}
				fmt.Fprintln(a.stderr, msg)
				return nil
			})
		},
	}
	sel.add(cmd)
	cmd.Flags().StringVar(&o.Format, "format", catalog.FormatJSON, "output format: "+strings.Join(catalog.ExportFormats, ", "))
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this new file instead of stdout")
	cmd.Flags().StringVar(&o.Collab, "collab", "relcat", "hma-csv: collaboration (bank) name")
	cmd.Flags().StringVar(&o.Category, "category", "", "hma-csv: category column")
	return cmd
}

// shareCommands are the commands that move data in and out of a catalog.
func (a *app) shareCommands() []*cobra.Command {
	return []*cobra.Command{a.exportCommand()}
}

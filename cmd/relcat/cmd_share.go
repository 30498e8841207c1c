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
	// export only: relcat search's filters
	search                        bool
	q                             catalog.SearchQuery
	takenFrom, takenTo, box, near string
}

// addSearch adds relcat search's metadata filters (export only).
func (f *selectionFlags) addSearch(cmd *cobra.Command) {
	f.search = true
	fl := cmd.Flags()
	fl.StringVar(&f.q.Make, "make", "", "only images of this camera make (as relcat search: exact without case, or a prefix ending in '*')")
	fl.StringVar(&f.q.Model, "model", "", "only this camera model")
	fl.StringVar(&f.q.Serial, "serial", "", "only this camera body serial")
	fl.StringVar(&f.q.Lens, "lens", "", "only this lens model")
	fl.StringVar(&f.q.Software, "software", "", "only this EXIF Software")
	fl.StringVar(&f.takenFrom, "taken-from", "", "only photos taken at or after DATE|DATETIME")
	fl.StringVar(&f.takenTo, "taken-to", "", "only photos taken at or before DATE|DATETIME")
	fl.StringVar(&f.box, "box", "", "only GPS inside SOUTH,WEST,NORTH,EAST")
	fl.StringVar(&f.near, "near", "", "only GPS within KM of LAT,LON,KM")
	fl.BoolVar(&f.q.Stripped, "stripped", false, "only files without EXIF")
	fl.BoolVar(&f.q.LowQuality, "low-quality", false, "only images whose perceptual hash is below quality 50")
}

// searchQuery is the search part of the selection, nil when no search filter is given.
func (f *selectionFlags) searchQuery() (*catalog.SearchQuery, error) {
	if !f.search {
		return nil, nil
	}
	q := f.q
	var err error
	for _, d := range []struct {
		flag, v string
		to      *catalog.Released
	}{{"--taken-from", f.takenFrom, &q.TakenFrom}, {"--taken-to", f.takenTo, &q.TakenTo}} {
		if d.v != "" {
			if *d.to, err = catalog.ParseReleased(d.v); err != nil {
				return nil, usagef("%s: %v", d.flag, err)
			}
		}
	}
	if f.box != "" {
		v, err := floats("--box", f.box, 4)
		if err != nil {
			return nil, err
		}
		q.Box = &catalog.GeoBox{South: v[0], West: v[1], North: v[2], East: v[3]}
	}
	if f.near != "" {
		v, err := floats("--near", f.near, 3)
		if err != nil {
			return nil, err
		}
		q.Near = &catalog.GeoCircle{Lat: v[0], Lon: v[1], RadiusKm: v[2]}
	}
	if q.Make == "" && q.Model == "" && q.Serial == "" && q.Lens == "" && q.Software == "" && q.TakenFrom.IsZero() &&
		q.TakenTo.IsZero() && q.Box == nil && q.Near == nil && !q.Stripped && !q.LowQuality {
		return nil, nil
	}
	return &q, nil
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
	q, err := f.searchQuery()
	if err != nil {
		return s, err
	}
	s.Search = q
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
	sel.addSearch(cmd)
	cmd.Flags().StringVar(&o.Format, "format", catalog.FormatJSON, "output format: "+strings.Join(catalog.ExportFormats, ", "))
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this new file instead of stdout")
	cmd.Flags().StringVar(&o.Collab, "collab", "relcat", "hma-csv: collaboration (bank) name")
	cmd.Flags().StringVar(&o.Category, "category", "", "hma-csv: category column")
	return cmd
}

// shareCommands are the commands that move data in and out of a catalog.
func (a *app) shareCommands() []*cobra.Command {
	return []*cobra.Command{a.exportCommand(), a.watchlistCommand(), a.bundleCommand()}
}

// printWatchHits prints the watchlist hits of one file: a "watchlist_hit" JSON line per hit, or
// a "watchlist" text line per hit, after the file's own output.
func printWatchHits(p *printer, path string, sha catalog.SHA256, hits []catalog.WatchHit) error {
	for _, h := range hits {
		if p.json {
			if err := p.record("watchlist_hit", struct {
				Path   string         `json:"path"`
				SHA256 catalog.SHA256 `json:"sha256"`
				catalog.WatchHit
			}{path, sha, h}); err != nil {
				return err
			}
			continue
		}
		label := ""
		if h.Label != "" {
			label = " " + cut(h.Label, 60)
		}
		p.textf("  WATCHLIST %s: %s  %s (line %d%s)\n", clean(h.List), clean(path), h.Describe(), h.Line, label)
	}
	return nil
}

// printIngestWatchHits checks every file just ingested against the watchlists.
func (a *app) printIngestWatchHits(c *catalog.Catalog, sums []*catalog.BatchSummary) error {
	var shas []catalog.SHA256
	path := map[catalog.SHA256]string{}
	for _, s := range sums {
		for _, f := range s.Files {
			if f.SHA256 != nil && f.Status != catalog.StatusRejected {
				if _, ok := path[*f.SHA256]; !ok {
					shas = append(shas, *f.SHA256)
				}
				path[*f.SHA256] = f.Path
			}
		}
	}
	hits, err := c.ImageWatchHits(shas, catalog.MatchOptions{})
	if err != nil || len(hits) == 0 {
		return err
	}
	p := a.printer()
	n := 0
	for _, s := range shas {
		if err := printWatchHits(p, path[s], s, hits[s]); err != nil {
			return err
		}
		if len(hits[s]) > 0 {
			n++
		}
	}
	p.textf("%d file(s) hit a watchlist\n", n)
	return nil
}

// printLookupWatchHits checks a looked-up file against the watchlists.
func (a *app) printLookupWatchHits(c *catalog.Catalog, p *printer, r *catalog.LookupResult, o catalog.MatchOptions) error {
	h := r.Hashes
	subj := catalog.WatchSubject{SHA256: h.SHA256, MD5: h.MD5, PDQ: h.PDQRef}
	if subj.PDQ == nil {
		subj.PDQ = h.PDQ
	}
	hits, err := c.WatchlistMatch(subj, o)
	if err != nil {
		return err
	}
	return printWatchHits(p, r.Path, h.SHA256, hits)
}

func (a *app) watchlistCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watchlist",
		Short: "Import partners' hash lists and see which catalogued images hit them",
		Long: `Watchlists are hash lists imported from partners. Every ingest and lookup reports the files
that hit one: exact SHA-256 or MD5, or PDQ within the match threshold under any of the 8 rotations
and mirrors (the transform is named). Formats read (detected unless --format): pdq-list, pdq-csv,
tat-json, hma-csv and plain lines of SHA-256 or MD5 hex.`,
	}
	var format, operator string
	imp := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Import a hash list as watchlist NAME (all or nothing; bad lines are listed by number)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readListFile(args[1])
			if err != nil {
				return err
			}
			if operator == "" {
				operator = currentUser()
			}
			c, err := a.open(false)
			if err != nil {
				return err
			}
			defer c.Close()
			w, err := c.ImportWatchlist(args[0], args[1], data, catalog.WatchImportOptions{Format: format, Operator: operator, Command: "relcat " + strings.Join(os.Args[1:], " ")})
			if err != nil {
				return err
			}
			p := a.printer()
			if p.json {
				return p.record("watchlist", w)
			}
			p.textf("watchlist %s: %d hashes from %s (%s): %d sha256, %d md5, %d pdq\n", w.Name, w.Entries(), clean(w.File), w.Format, w.SHA256s, w.MD5s, w.PDQs)
			return nil
		},
	}
	imp.Flags().StringVar(&format, "format", catalog.FormatAuto, "list format: auto, plain, pdq-list, pdq-csv, tat-json, hma-csv")
	imp.Flags().StringVar(&operator, "operator", "", "who imports, for the log (default $USER)")
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the watchlists",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.reader(func(c *catalog.Catalog) error {
				ws, err := c.Watchlists()
				if err != nil {
					return err
				}
				p := a.printer()
				for _, w := range ws {
					if p.json {
						if err := p.record("watchlist", w); err != nil {
							return err
						}
						continue
					}
					p.textf("%-20s %7d hashes  %-8s %s  from %s\n", w.Name, w.Entries(), w.Format, w.Imported.Format("2006-01-02"), cut(w.File, 40))
				}
				return nil
			})
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a watchlist and its hashes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reader(func(c *catalog.Catalog) error {
				p := a.printer()
				w, err := c.WatchlistEntries(args[0], nil)
				if err != nil {
					return err
				}
				if p.json {
					if err := p.record("watchlist", w); err != nil {
						return err
					}
				} else {
					p.textf("watchlist %s: %d hashes, format %s, imported %s by %s from %s (sha256 %s)\n", w.Name, w.Entries(), w.Format,
						w.Imported.Format("2006-01-02T15:04:05Z"), clean(w.Operator), clean(w.File), w.FileSHA)
				}
				_, err = c.WatchlistEntries(args[0], func(e catalog.ListEntry) error {
					if p.json {
						return p.record("entry", e)
					}
					q := ""
					if e.HasQ {
						q = fmt.Sprintf(" q%d", e.Quality)
					}
					p.textf("  %-6s %s%s  line %d %s\n", e.Kind, e.Hash, q, e.Line, cut(e.Label, 60))
					return nil
				})
				return err
			})
		},
	}
	rm := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a watchlist (logged)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.writer(func(c *catalog.Catalog) error {
				if err := c.RemoveWatchlist(args[0], currentUser(), "relcat "+strings.Join(os.Args[1:], " ")); err != nil {
					return err
				}
				a.printer().textf("watchlist %s removed\n", args[0])
				return nil
			})
		},
	}
	var mo catalog.MatchOptions
	hits := &cobra.Command{
		Use:   "hits NAME",
		Short: "List the catalogued images that hit watchlist NAME",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkMatch(&mo); err != nil {
				return err
			}
			return a.reader(func(c *catalog.Catalog) error {
				p := a.printer()
				n := 0
				err := c.WatchlistHits(a.ctx, args[0], mo, func(h catalog.WatchlistImageHit) error {
					n++
					if p.json {
						return p.record("watchlist_image", h)
					}
					p.textf("%s\n", h.SHA256)
					for _, w := range h.Hits {
						label := ""
						if w.Label != "" {
							label = " " + cut(w.Label, 60)
						}
						p.textf("  %s (line %d%s)\n", w.Describe(), w.Line, label)
					}
					for _, s := range h.Sightings {
						p.textf("  seen %s\n", sightingText(s))
					}
					return nil
				})
				if err != nil {
					return err
				}
				p.textf("%d image(s) hit watchlist %s\n", n, args[0])
				return nil
			})
		},
	}
	matchFlags(hits, &mo)
	cmd.AddCommand(imp, ls, show, rm, hits)
	return cmd
}

// readListFile reads a hash list, only a regular file, bounded.
func readListFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > catalog.MaxHashListBytes {
		return nil, fmt.Errorf("%s: %d bytes is over the hash-list limit of %d MiB", path, fi.Size(), catalog.MaxHashListBytes>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, catalog.MaxHashListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > catalog.MaxHashListBytes {
		return nil, fmt.Errorf("%s: grew over the hash-list limit while read", path)
	}
	return data, nil
}

// createNew opens path for writing a new file: refused when it exists. done(ok) closes it and
// removes it unless ok.
func createNew(path string) (*os.File, func(ok bool) error, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w (relcat does not overwrite an existing file)", path, err)
	}
	return f, func(ok bool) error {
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if !ok || err != nil {
			os.Remove(path)
		}
		return err
	}, nil
}

func (a *app) printBundleStats(verb, path string, st *catalog.BundleStats) error {
	p := a.printer()
	if p.json {
		return p.record("bundle", struct {
			Action string `json:"action"`
			Path   string `json:"path"`
			*catalog.BundleStats
		}{verb, path, st})
	}
	switch verb {
	case "import":
		if st.Unchanged {
			p.textf("%s: %d batches, %d images already in the catalog: nothing changed\n", clean(path), st.Batches, st.Images)
			return nil
		}
		p.textf("%s: imported %d batches (%d new), %d images (%d new), %d sightings (%d new); %d originals, %d thumbnails verified\n",
			clean(path), st.Batches, st.NewBatches, st.Images, st.NewImages, st.Sightings, st.NewSighting, st.Objects, st.Thumbs)
	default:
		p.textf("%s: %d batches, %d images, %d sightings, %d originals, %d thumbnails, %d bytes\n",
			clean(path), st.Batches, st.Images, st.Sightings, st.Objects, st.Thumbs, st.Bytes)
	}
	return nil
}

// ingestToBundle is `relcat ingest --bundle-out FILE DIR...`.
func (a *app) ingestToBundle(dirs []string, out string, o catalog.IngestOptions) error {
	f, done, err := createNew(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	sums, st, err := catalog.IngestToBundle(a.ctx, dirs, bw, o, catalog.Options{Version: version})
	if err == nil {
		err = bw.Flush()
	}
	if derr := done(err == nil); err == nil {
		err = derr
	}
	p := a.printer()
	for _, s := range sums {
		if perr := printSummary(p, s); perr != nil {
			return perr
		}
		if s.Partial() {
			a.code = exitPartial
		}
	}
	if err != nil {
		return err
	}
	return a.printBundleStats("export", out, st)
}

func (a *app) bundleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Move batches between catalogs: export a bundle file, import one",
		Long: `A bundle is a tar file carrying batches with their images, originals, thumbnails, sightings
and log entries, a manifest with a checksum of every entry, and the exporting catalog's id and log
head. Import checks everything before it writes anything, merges without duplicates, is idempotent,
and records the origin's provenance in the log.`,
	}
	var sel selectionFlags
	var all bool
	var out, operator string
	exp := &cobra.Command{
		Use:   "export (BATCH... | --affiliate SLUG | --since DATE | --all) -o FILE.relcat",
		Short: "Write batches to a new bundle file",
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("bundle export needs -o FILE.relcat")
			}
			if len(args) == 0 && len(sel.batches) == 0 && sel.affiliate == "" && sel.since == "" && !all {
				return usagef("bundle export needs batches: BATCH..., --affiliate, --since or --all")
			}
			if operator == "" {
				operator = currentUser()
			}
			return a.reader(func(c *catalog.Catalog) error {
				s, err := sel.selection(c, args)
				if err != nil {
					return err
				}
				f, done, err := createNew(out)
				if err != nil {
					return err
				}
				bw := bufio.NewWriterSize(f, 1<<20)
				st, err := c.ExportBundle(a.ctx, bw, s, catalog.BundleExportOptions{Operator: operator})
				if err == nil {
					err = bw.Flush()
				}
				if derr := done(err == nil); err == nil {
					err = derr
				}
				if err != nil {
					return err
				}
				return a.printBundleStats("export", out, st)
			})
		},
	}
	sel.add(exp)
	exp.Flags().BoolVar(&all, "all", false, "every batch of the catalog")
	exp.Flags().StringVarP(&out, "output", "o", "", "the new bundle file")
	exp.Flags().StringVar(&operator, "operator", "", "who exports, written in the manifest (default $USER)")
	var maxGiB float64
	imp := &cobra.Command{
		Use:   "import FILE.relcat...",
		Short: "Verify bundles completely, then merge them into the catalog",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if maxGiB <= 0 {
				return usagef("--max-size must be positive (GiB)")
			}
			if operator == "" {
				operator = currentUser()
			}
			c, err := a.open(false)
			if err != nil {
				return err
			}
			defer c.Close()
			for _, path := range args {
				st, err := c.ImportBundle(a.ctx, path, catalog.BundleImportOptions{Operator: operator,
					Command: "relcat " + strings.Join(os.Args[1:], " "), MaxSize: int64(maxGiB * (1 << 30))})
				if err != nil {
					return err
				}
				if err := a.printBundleStats("import", path, st); err != nil {
					return err
				}
			}
			return nil
		},
	}
	imp.Flags().Float64Var(&maxGiB, "max-size", float64(catalog.DefaultMaxBundleSize>>30), "refuse a bundle file larger than this, in GiB")
	imp.Flags().StringVar(&operator, "operator", "", "who imports, for the log (default $USER)")
	cmd.AddCommand(exp, imp)
	return cmd
}

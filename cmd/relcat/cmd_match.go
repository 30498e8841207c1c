package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

func matchFlags(cmd *cobra.Command, o *catalog.MatchOptions) {
	cmd.Flags().IntVar(&o.MaxDistance, "max-distance", catalog.DefaultMaxDistance, "largest PDQ distance counted as a near match (0-63)")
	cmd.Flags().IntVar(&o.MinQuality, "min-quality", catalog.DefaultMinQuality, "lowest PDQ quality used for matching (0-100)")
}

func checkMatch(o *catalog.MatchOptions) error {
	if o.MaxDistance < 0 || o.MaxDistance > catalog.MaxSearchDistance {
		return usagef("--max-distance %d: must be 0 to %d", o.MaxDistance, catalog.MaxSearchDistance)
	}
	if o.MinQuality < 0 || o.MinQuality > 100 {
		return usagef("--min-quality %d: must be 0 to 100", o.MinQuality)
	}
	// The flag's default is DefaultMaxDistance, so whatever it holds was meant: 0 is a valid
	// threshold (identical hashes only), not "the default" as a zero MaxDistance is to the library.
	o.MaxDistanceSet = true
	if o.MinQuality == 0 {
		o.MinQuality = -1 // the library reads 0 as "default"; --min-quality 0 accepts every hash
	}
	return nil
}

func (a *app) lookupCommand() *cobra.Command {
	var o catalog.MatchOptions
	cmd := &cobra.Command{
		Use:   "lookup FILE|HASH...",
		Short: "Have we seen this photo? Its origin, exact sightings and near matches (all rotations and mirrors)",
		Long: `Have we seen this photo? For each FILE: its origin (the earliest release of the photo or of a
near-duplicate of it), every release of its exact bytes and every near match, earliest release first.

Instead of a file, a hash checks a partner's list without the file:
  sha256:HEX or 64 hex digits   a SHA-256 (of a stored image: answered as for its file)
  md5:HEX or 32 hex digits      an MD5
  pdq:HEX                       a PDQ hash (64 hex digits that name no stored image are read as PDQ);
                                compared as given, without rotations or mirrors

A file or hash that cannot be read is reported (with --json as an "error" record) and the others go
on; the exit code is then 3.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkMatch(&o); err != nil {
				return err
			}
			return a.reader(func(c *catalog.Catalog) error {
				p := a.printer()
				watch, err := c.HasWatchlists()
				if err != nil {
					return err
				}
				fail := func(arg string, err error) error {
					fmt.Fprintf(a.stderr, "relcat: %s\n", clean(err.Error()))
					a.code = exitPartial
					if p.json {
						return p.record("error", map[string]any{"path": arg, "error": err.Error()})
					}
					return nil
				}
				for _, arg := range args {
					if err := a.ctx.Err(); err != nil {
						return catalog.ErrInterrupted
					}
					var rs []*catalog.LookupResult
					var err error
					if _, serr := os.Lstat(arg); serr != nil && looksLikeHash(arg) {
						rs, err = c.LookupHash(arg, o)
					} else {
						var r *catalog.LookupResult
						if r, err = c.Lookup(a.ctx, arg, o, catalog.HashOptions{Reference: watch}); err == nil {
							rs = append(rs, r)
						}
					}
					if err != nil {
						if perr := fail(arg, err); perr != nil {
							return perr
						}
						continue
					}
					for _, r := range rs {
						if err := printLookup(p, r); err != nil {
							return err
						}
						if watch {
							if err := a.printLookupWatchHits(c, p, r, o); err != nil {
								return err
							}
						}
					}
				}
				return nil
			})
		},
	}
	matchFlags(cmd, &o)
	return cmd
}

// looksLikeHash: a hash prefix, or 32 or 64 hex digits.
func looksLikeHash(s string) bool {
	l := strings.ToLower(s)
	for _, p := range []string{"sha256:", "md5:", "pdq:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	if len(l) != 32 && len(l) != 64 {
		return false
	}
	_, err := hex.DecodeString(l)
	return err == nil
}

func printLookup(p *printer, r *catalog.LookupResult) error {
	h := r.Hashes
	if p.json {
		rec := map[string]any{"path": r.Path, "format": h.Format, "exact": r.Exact, "near": r.Near,
			"origin": r.Origin, "low_quality": r.LowQual, "warnings": r.Warnings}
		if h.SHA256 != (catalog.SHA256{}) {
			rec["sha256"] = h.SHA256
		}
		if h.MD5 != (catalog.MD5{}) {
			rec["md5"] = h.MD5
		}
		if h.PDQ != nil {
			rec["pdq"] = h.PDQ.Hash
		}
		return p.record("lookup", rec)
	}
	switch {
	case h.SHA256 != (catalog.SHA256{}):
		p.textf("%s  sha256 %s\n", clean(r.Path), h.SHA256)
	case h.MD5 != (catalog.MD5{}):
		p.textf("%s  md5 %s\n", clean(r.Path), h.MD5)
	case h.PDQ != nil:
		p.textf("%s  pdq %s\n", clean(r.Path), h.PDQ.Hash)
	}
	printFamily(p, r.Origin, r.Exact, r.Near)
	switch {
	case len(r.Exact) == 0 && len(r.Near) == 0 && r.LowQual:
		p.textf("  not in the catalog; low quality hash (%d): near matching skipped\n", h.PDQ.Quality)
	case len(r.Exact) == 0 && len(r.Near) == 0:
		p.textf("  not in the catalog\n")
	case r.LowQual:
		p.textf("  low quality hash (%d): near matching skipped\n", h.PDQ.Quality)
	}
	for _, w := range r.Warnings {
		p.textf("  warning: %s\n", cut(w, 200))
	}
	return nil
}

// printFamily prints the origin of a photo, its exact sightings and its near matches (earliest
// release first), as lookup, show and history do.
func printFamily(p *printer, o *catalog.Origin, exact []catalog.Sighting, near []catalog.Match) {
	if o != nil {
		unc := ""
		if o.Uncertain {
			unc = " " + uncertainText
		}
		p.textf("  origin: %s%s\n", originText(o), unc)
	}
	if len(exact) > 0 {
		p.textf("  seen %d time(s) byte-identical:\n", len(exact))
	} else if len(near) > 0 {
		p.textf("  not seen byte-identical\n")
	}
	for _, s := range exact {
		p.textf("  = %s\n", sightingText(s))
	}
	if len(near) > 0 {
		p.textf("  %d near match(es), earliest release first:\n", len(near))
	}
	for _, m := range near {
		q := "?"
		if m.Query >= 0 {
			q = fmt.Sprint(m.Query)
		}
		p.textf("  ~ d=%d%s of %s (quality %s/%d)\n", m.Distance, relationSuffix(m.Transform, m.Region), m.SHA256, q, m.Quality)
		for _, s := range m.Sightings {
			p.textf("      %s\n", sightingText(s))
		}
	}
}

func (a *app) dupesCommand() *cobra.Command {
	var o catalog.DupesOptions
	var since string
	cmd := &cobra.Command{
		Use:   "dupes",
		Short: "Recycled photos across batches: clusters with their origin and pairwise edges",
		Long: `Recycled photos: images sighted in more than one batch and, unless --exact, groups of
near-duplicates (re-encoded, resized, mirrored, rotated, lightly edited copies).

Clusters never chain: every image belongs to the cluster of its origin image, the image holding the
earliest sighting of its family (the origin lookup, show and history name), so every member is
within --max-distance of the origin image itself. Edges list every pair of members within the
threshold. Distances are pair distances: the same number in every command.

Clusters are printed as they are found, from the near-duplicate edges stored at ingest (distance up
to 31, quality 50 or more); a larger --max-distance or a lower --min-quality searches every image
instead, which is slow in a large catalog. A --limit of up to 1000 without filters reads only what
the first clusters need.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkMatch(&o.Match); err != nil {
				return err
			}
			if since != "" {
				r, err := catalog.ParseReleased(since)
				if err != nil {
					return usageError{err}
				}
				o.Since = r
			}
			return a.reader(func(c *catalog.Catalog) error {
				p := a.printer()
				n := 0
				err := c.DupesEach(a.ctx, o, func(cl catalog.Cluster) error {
					n++
					if p.json {
						return p.record("cluster", cl)
					}
					printCluster(p, cl)
					return nil
				})
				if err != nil {
					return err
				}
				if !p.json && n == 0 {
					p.textf("no recycled photos found\n")
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&o.Exact, "exact", false, "only byte-identical reuse")
	cmd.Flags().BoolVar(&o.AcrossAffiliates, "across-affiliates", false, "only photos used by two or more affiliates")
	cmd.Flags().StringVar(&o.Affiliate, "affiliate", "", "only clusters with a sighting by this affiliate")
	cmd.Flags().StringVar(&since, "since", "", "only clusters with a sighting released on or after this date")
	cmd.Flags().IntVar(&o.Limit, "limit", 0, "stop after this many clusters (0: all)")
	matchFlags(cmd, &o.Match)
	return cmd
}

func printCluster(p *printer, cl catalog.Cluster) {
	unc := ""
	if cl.Uncertain {
		unc = " " + uncertainText
	}
	p.textf("origin: %s, sha256 %s%s\n", sightingText(cl.Origin), short(cl.Members[0].SHA256), unc)
	for i, m := range cl.Members {
		rel := "origin image"
		if i > 0 {
			rel = fmt.Sprintf("d=%d%s", m.Distance, relationSuffix(m.Transform, m.Region))
		}
		p.textf("  %s  %s\n", short(m.SHA256), rel)
		for _, s := range m.Sightings {
			p.textf("      %s\n", sightingText(s))
		}
	}
	if len(cl.Edges) > 0 {
		p.textf("  edges:")
		for _, e := range cl.Edges {
			if e.Region != nil {
				p.textf(" %s-%s d=%d %s [%s];", short(e.A)[:8], short(e.B)[:8], e.Distance, e.Region.Description, e.Region.Regions())
				continue
			}
			p.textf(" %s-%s d=%d %s;", short(e.A)[:8], short(e.B)[:8], e.Distance, e.Transform)
		}
		p.textf("\n")
	}
	p.textf("\n")
}

func describeTransform(t string) string {
	return catalog.Match{Transform: t}.TransformDescription()
}

func (a *app) hashCommand() *cobra.Command {
	var format string
	var maxMP float64
	var fileMiB int64
	cmd := &cobra.Command{
		Use:   "hash FILE...",
		Short: "Print SHA-256, MD5 and PDQ of files, without a catalog",
		Long: `Print SHA-256, MD5, format and PDQ (with quality) of files without a catalog.
The PDQ here is the reference full-resolution variant, the one partners' hash lists use.
--format pdq-csv prints "hex,quality,path" as Meta's pdq-photo-hasher does.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if format != "" && format != "pdq-csv" {
				return usagef("--format %q: the only format is pdq-csv", format)
			}
			if maxMP <= 0 || fileMiB <= 0 {
				return usagef("--max-pixels and --max-file-size must be positive")
			}
			p := a.printer()
			for _, f := range files {
				if err := a.ctx.Err(); err != nil {
					return catalog.ErrInterrupted
				}
				h, err := catalog.HashFile(a.ctx, f, catalog.HashOptions{Full: true, MaxPixels: int64(maxMP * 1e6), MaxFileSize: fileMiB << 20})
				if err != nil {
					fmt.Fprintf(a.stderr, "relcat: %s\n", clean(err.Error()))
					a.code = exitPartial
					continue
				}
				for _, w := range h.Warnings {
					fmt.Fprintf(a.stderr, "relcat: %s: %s\n", clean(f), clean(w))
				}
				rec := map[string]any{"path": f, "sha256": h.SHA256, "md5": h.MD5, "format": h.Format, "size": h.Size}
				pdqText, q := "-", "-"
				if h.PDQ != nil {
					rec["pdq"], rec["pdq_quality"], rec["pdq_variant"] = h.PDQ.Hash, h.PDQ.Quality, h.PDQ.Variant
					pdqText, q = h.PDQ.Hash.String(), fmt.Sprint(h.PDQ.Quality)
				}
				switch {
				case format == "pdq-csv":
					if h.PDQ != nil {
						fmt.Fprintf(a.stdout, "%s,%d,%s\n", h.PDQ.Hash, h.PDQ.Quality, clean(f))
					}
				case p.json:
					if err := p.record("hash", rec); err != nil {
						return err
					}
				default:
					p.textf("%s\n  sha256 %s\n  md5    %s\n  format %s\n  pdq    %s quality %s\n", clean(f), h.SHA256, h.MD5, h.Format, pdqText, q)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "output format: pdq-csv")
	cmd.Flags().Float64Var(&maxMP, "max-pixels", catalog.DefaultMaxPixels/1_000_000, "largest image to decode, in megapixels")
	cmd.Flags().Int64Var(&fileMiB, "max-file-size", catalog.DefaultMaxFileSize>>20, "largest file to read, in MiB")
	return cmd
}

func (a *app) historyCommand() *cobra.Command {
	var o catalog.MatchOptions
	cmd := &cobra.Command{
		Use:   "history IMAGE",
		Short: "Provenance of an image: every sighting of it and of its near-duplicates, origin first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkMatch(&o); err != nil {
				return err
			}
			return a.reader(func(c *catalog.Catalog) error {
				r, err := resolveRef(c, "history", args[0])
				if err != nil {
					return err
				}
				if r.Image == nil {
					return usagef("%s is a batch; history takes an image (sha256, md5 or a unique prefix); for the batch, use relcat show %s", args[0], args[0])
				}
				h, err := c.History(*r.Image, o)
				if err != nil {
					return err
				}
				p := a.printer()
				if p.json {
					return p.record("history", map[string]any{"sha256": h.Image.SHA256, "origin": h.Origin,
						"uncertain": h.Uncertain, "origin_detail": h.OriginMatch, "sightings": h.Sightings, "near": h.Near})
				}
				p.textf("image %s\n", h.Image.SHA256)
				printFamily(p, h.OriginMatch, h.Sightings, h.Near)
				return nil
			})
		},
	}
	matchFlags(cmd, &o)
	return cmd
}

func (a *app) logCommand() *cobra.Command {
	var o catalog.LogOptions
	var since string
	cmd := &cobra.Command{
		Use:   "log [--since DATE|DATETIME] [--limit N]",
		Short: "Print the append-only, hash-chained log of every change",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				r, err := catalog.ParseReleased(since)
				if err != nil {
					return usageError{err}
				}
				o.Since = r.Time
			}
			if o.Limit < 0 {
				return usagef("--limit %d: must be 0 (all) or more", o.Limit)
			}
			return a.reader(func(c *catalog.Catalog) error {
				p := a.printer()
				var perr error
				// The entries of one ingest share a run; a run that ends without its "complete"
				// entry was interrupted (or is still running).
				var open *catalog.LogEntry
				closeRun := func() {
					if open != nil && !open.Complete {
						p.textf("    run #%d interrupted: batch %s is incomplete until the ingest is re-run (or the ingest is still running)\n", open.Run, open.Batch)
					}
					open = nil
				}
				n := 0
				err := c.LogEach(o, func(e catalog.LogEntry) bool {
					if a.ctx.Err() != nil {
						perr = catalog.ErrInterrupted
						return false
					}
					n++
					if p.json {
						perr = p.record("log", e)
						return perr == nil
					}
					if open != nil && e.Run != open.Run {
						closeRun()
					}
					run := ""
					if e.Run != 0 {
						run = fmt.Sprintf(" [run #%d", e.Run)
						if e.Complete {
							run += ", complete"
						}
						run += "]"
						e := e
						open = &e
					}
					p.textf("#%d %s %s %s batch %s %s files=%d by %s [%s] hash %.16s%s\n", e.Seq, e.Time.Format("2006-01-02T15:04:05Z"),
						e.Action, e.Affiliate, e.Batch, e.Released, len(e.Files), clean(e.Operator), clean(e.Tool), e.Hash, run)
					for _, n := range e.Notes {
						p.textf("    %s\n", clean(n))
					}
					return true
				})
				// A run cut by --limit is not known to be interrupted.
				if err == nil && perr == nil && (o.Limit == 0 || n < o.Limit) {
					closeRun()
				}
				if err != nil {
					return err
				}
				return perr
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries at or after this date or RFC 3339 date-time")
	cmd.Flags().IntVar(&o.Limit, "limit", 0, "only the first N entries (0: all)")
	return cmd
}

package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
	"github.com/relcat/relcat/web"
)

func (a *app) reportCommand() *cobra.Command {
	var (
		out, batch, aff, image string
		dupes, timeline        bool
		do                     catalog.DupesOptions
		since                  string
	)
	cmd := &cobra.Command{
		Use:   "report (--batch ID | --dupes [filters] | --affiliate SLUG | --image SHA256 | --timeline) -o FILE.html",
		Short: "Write a self-contained HTML report (thumbnails embedded, no script, no network request)",
		Long: `Write one self-contained HTML file that opens offline in any browser: thumbnails are embedded
as data: URIs, the stylesheet is inline, there is no script and the page makes no request.

  --batch ID        a release as a contact sheet in file order, with a "seen before" badge per photo
  --dupes           recycled photos as side-by-side pairs, origin first (takes the filters of dupes)
  --affiliate SLUG  an affiliate's releases over time with new and recycled counts
  --image SHA256    one image: hashes, every EXIF field, every sighting, near-duplicates
  --timeline        every release in time order

The header names the catalog's log head (sequence and hash) and when the report was made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("report needs -o FILE.html")
			}
			var o web.ReportOptions
			n := 0
			if batch != "" {
				n++
			}
			if dupes {
				n++
			}
			if aff != "" {
				n++
			}
			if image != "" {
				n++
			}
			if timeline {
				n++
			}
			if n != 1 {
				return usagef("report needs exactly one of --batch, --dupes, --affiliate, --image, --timeline")
			}
			if dupes {
				if err := checkMatch(&do.Match); err != nil {
					return err
				}
				if since != "" {
					r, err := catalog.ParseReleased(since)
					if err != nil {
						return usageError{err}
					}
					do.Since = r
				}
				o.Dupes = &do
			} else if cmd.Flags().Changed("exact") || cmd.Flags().Changed("across-affiliates") || since != "" {
				return usagef("--exact, --across-affiliates and --since go with --dupes")
			}
			o.Affiliate = aff
			o.Timeline = timeline
			return a.reader(func(c *catalog.Catalog) error {
				if batch != "" || image != "" {
					ref := batch + image
					r, err := c.Resolve(ref)
					if err != nil {
						return notFoundIsError(err)
					}
					switch {
					case batch != "" && r.Batch == nil:
						return usagef("--batch %s names an image, not a batch", clean(ref))
					case image != "" && r.Image == nil:
						return usagef("--image %s names a batch, not an image", clean(ref))
					}
					o.Batch, o.Image = r.Batch, r.Image
				}
				return writeReport(out, func(f *os.File) error { return web.Report(c, o, f) })
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the HTML file to write")
	cmd.Flags().StringVar(&batch, "batch", "", "report a batch (id or unique prefix)")
	cmd.Flags().BoolVar(&dupes, "dupes", false, "report recycled photos (with the filters of `relcat dupes`)")
	cmd.Flags().StringVar(&aff, "affiliate", "", "report an affiliate's releases over time; with --dupes: only clusters with a sighting by it")
	cmd.Flags().StringVar(&image, "image", "", "report one image (sha256 or unique prefix)")
	cmd.Flags().BoolVar(&timeline, "timeline", false, "report every release in time order")
	cmd.Flags().BoolVar(&do.Exact, "exact", false, "with --dupes: only byte-identical reuse")
	cmd.Flags().BoolVar(&do.AcrossAffiliates, "across-affiliates", false, "with --dupes: only photos used by two or more affiliates")
	cmd.Flags().StringVar(&since, "since", "", "with --dupes: only clusters with a sighting released on or after this date")
	matchFlags(cmd, &do.Match)
	return cmd
}

// writeReport writes a file through a temporary name in the same folder, so that a failed or
// interrupted report never leaves half a file under the name asked for.
func writeReport(path string, fn func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".relcat-report-*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := fn(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func (a *app) serveCommand() *cobra.Command {
	var (
		addr        string
		allowRemote bool
		maxUpload   int64
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080] [--allow-remote]",
		Short: "Serve a read-only web UI over the catalog on loopback",
		Long: `Serve a read-only web UI over the catalog: affiliates, batches as contact sheets, image pages
(preview, every EXIF field, every sighting, near-duplicates side by side), duplicates with the
filters of dupes, the timeline, search by hash or prefix, and a form to look a file up (read in
memory, never stored; the same answer as relcat lookup).

It listens on loopback only, unless --allow-remote is given for another address (a warning is
printed: anyone who can reach the address can read the catalog). The catalog is opened read-only
for each request and closed after it, so the server never keeps an ingest from starting. Ctrl-C
stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usagef("--addr %s: want HOST:PORT (e.g. 127.0.0.1:8080)", clean(addr))
			}
			if !web.LoopbackHost(host) {
				if !allowRemote {
					return usagef("--addr %s is not a loopback address: add --allow-remote to serve the catalog to other machines", clean(addr))
				}
				fmt.Fprintf(a.stderr, "relcat: WARNING: serving on %s: anyone who can reach this address can read the whole catalog (no authentication, no TLS)\n", clean(addr))
			}
			if maxUpload <= 0 {
				return usagef("--max-upload must be positive (MiB)")
			}
			dir, err := a.dir()
			if err != nil {
				return err
			}
			// Fail now, not on the first request, when there is no catalog or it cannot be read.
			c, err := catalog.Open(dir, catalog.Options{ReadOnly: true, Version: version})
			if err != nil {
				return err
			}
			c.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			fmt.Fprintf(a.stdout, "relcat: serving %s read-only at %s (Ctrl-C to stop)\n", clean(dir), web.URL(ln))
			return web.Serve(a.ctx, ln, web.ServerOptions{Dir: dir, Remote: allowRemote, MaxUpload: maxUpload << 20,
				Log: log.New(a.stderr, "relcat serve: ", log.LstdFlags)})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (loopback unless --allow-remote)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow a non-loopback --addr (prints a warning)")
	cmd.Flags().Int64Var(&maxUpload, "max-upload", web.DefaultMaxUpload>>20, "largest file the lookup form accepts, in MiB")
	return cmd
}

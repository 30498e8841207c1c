package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relcat/relcat/catalog"
)

// Exit codes (documented in --help and the README).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitPartial     = 3
	exitLocked      = 4
	exitInterrupted = 130
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

const exitHelp = `Exit codes:
  0    ok
  1    error
  2    usage error (bad flag or argument)
  3    partial: some files were rejected or stored without pixels
  4    the catalog is in use by another relcat process
  130  interrupted (Ctrl-C); the catalog stays consistent, re-run to complete
`

// app holds what every command shares.
type app struct {
	ctx        context.Context
	stdout     io.Writer
	stderr     io.Writer
	catalogDir string
	jsonOut    bool
	code       int // exit code set by a command that succeeded only partly
}

// usageError marks errors that are the user's call to fix (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// run executes one relcat command line and returns the exit code. Tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return a.code
	}
	code := exitCode(err)
	fmt.Fprintf(stderr, "relcat: %s\n", clean(err.Error()))
	if code == exitUsage && !errors.As(err, new(usageError)) && !errors.Is(err, catalog.ErrBadArgument) {
		fmt.Fprintln(stderr, "Run 'relcat --help' for usage.")
	}
	return code
}

func exitCode(err error) int {
	switch {
	case errors.Is(err, catalog.ErrInterrupted), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, catalog.ErrLocked):
		return exitLocked
	case errors.Is(err, catalog.ErrDamaged):
		return exitError // before the usage heuristics: a damage message may contain any words
	case errors.As(err, new(usageError)), errors.Is(err, catalog.ErrBadArgument):
		return exitUsage
	case isCobraUsage(err):
		return exitUsage
	}
	return exitError
}

// isCobraUsage recognises cobra's and pflag's own usage errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument",
		"flag needs an argument", "accepts ", "requires at least", "required flag", "bad flag syntax"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "relcat",
		Short: "Catalog photo releases: find recycled photos, provenance and metadata",
		Long: `relcat catalogs the photo sets ("releases") that armed groups and their affiliates
publish: every file hashed (SHA-256, MD5, PDQ), its EXIF read, a thumbnail made, and the batch, its
images and the affiliate stored in one local catalog. It tells which photos are new, which are
recycled, who published them first, and what their metadata gives away.

What is measured: byte-identical copies always; re-encoded, resized, brightened, watermarked,
mirrored and rotated copies by PDQ distance (on the corpus: 95-100% of such copies found, no false
match among unrelated photos); by region hashes, centred crops keeping 80-95% (39 of 39 each), a
caption band or letterbox added (38-39 of 39) and reposts (cropped, shrunk, captioned, re-encoded:
38 of 39). Not found: a crop that keeps a corner, or cuts one side by more than about 2% (see the
README, "Crops, caption bands and reposts").

Catalog location: --catalog DIR, else $RELCAT_CATALOG, else $XDG_DATA_HOME/relcat
(~/.local/share/relcat).

` + exitHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().StringVar(&a.catalogDir, "catalog", "", "catalog directory (default $RELCAT_CATALOG or $XDG_DATA_HOME/relcat)")
	root.PersistentFlags().BoolVar(&a.jsonOut, "json", false, "print JSON lines (one object per record) instead of text")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.ingestCommand(), a.batchesCommand(), a.affiliatesCommand(), a.showCommand(),
		a.lookupCommand(), a.dupesCommand(), a.hashCommand(), a.historyCommand(), a.logCommand(), a.verifyCommand(),
		a.reportCommand(), a.serveCommand(), a.reindexCommand(), a.compactCommand())
	root.AddCommand(a.shareCommands()...) // export, watchlist, bundle (cmd_share.go)
	root.AddCommand(a.camerasCommand(), a.searchCommand(), a.affiliateCommand(), a.batchCommand(), a.timelineCommand(), a.repairCommand())
	return root
}

// dir resolves the catalog directory.
func (a *app) dir() (string, error) {
	if a.catalogDir != "" {
		return a.catalogDir, nil
	}
	if d := os.Getenv("RELCAT_CATALOG"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "relcat"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", usagef("no catalog location: pass --catalog DIR or set RELCAT_CATALOG")
	}
	return filepath.Join(home, ".local", "share", "relcat"), nil
}

// open opens the catalog; readers open it read-only.
func (a *app) open(readOnly bool) (*catalog.Catalog, error) {
	dir, err := a.dir()
	if err != nil {
		return nil, err
	}
	return catalog.Open(dir, catalog.Options{ReadOnly: readOnly, Version: version})
}

// reader opens the catalog read-only for fn and closes it after. Damage the answer stepped around
// (a batch record missing) is named on stderr and makes the exit code 3 (partial).
func (a *app) reader(fn func(c *catalog.Catalog) error) error {
	c, err := a.open(true)
	if err != nil {
		return err
	}
	defer c.Close()
	err = fn(c)
	a.reportDamage(c)
	return err
}

// reportDamage names on stderr the damage the command's answers left out (see catalog.Damage).
func (a *app) reportDamage(c *catalog.Catalog) {
	d := c.Damage()
	for _, m := range d {
		fmt.Fprintf(a.stderr, "relcat: warning: catalog %s is damaged: %s\n", clean(c.Dir()), clean(m))
	}
	if len(d) > 0 {
		fmt.Fprintf(a.stderr, "relcat: the answer above leaves the damaged parts out; run `relcat verify` for the full list\n")
		if a.code == exitOK {
			a.code = exitPartial
		}
	}
}

func (a *app) printer() *printer { return newPrinter(a.stdout, a.jsonOut) }

// Command relcat catalogs photo releases: see README.md and `relcat --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the Go runtime's soft heap limit unless GOMEMLIMIT says otherwise: near it the
// garbage collector returns decode buffers sooner, which keeps the peak RSS of an ingest of large
// photos close to the decode-memory budget.
const memoryLimit = 768 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

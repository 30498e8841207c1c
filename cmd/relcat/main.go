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

// setMemoryLimit, when set (by main, unless GOMEMLIMIT says otherwise; never in tests), lets a
// command fit the soft heap limit to its memory budget: ingest sets it to --decode-memory plus
// 128 MiB, so that the garbage collector reclaims one decoded image before the next one makes the
// heap grow past the budget (four 100 MP PNGs: 647 MB peak instead of 813 MB).
var setMemoryLimit func(int64)

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
		setMemoryLimit = func(n int64) { debug.SetMemoryLimit(n) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

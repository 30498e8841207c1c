//go:build unix

package web

import (
	"syscall"
	"time"
)

// cpuTime is the user+system CPU time of this process so far: on a shared machine it reflects the
// work of a benchmark better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

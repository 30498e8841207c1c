//go:build unix

package media

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time this process has used: on a
// shared machine it measures the work, where wall time measures the load.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

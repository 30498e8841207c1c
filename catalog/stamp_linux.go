package catalog

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// statStamp reads the device, inode and both times of a file (size and meta digest are the caller's).
func statStamp(fi os.FileInfo) (fileStamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStamp{}, false
	}
	return fileStamp{dev: uint64(st.Dev), ino: st.Ino, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}, true
}

// fileTimeTick is the granularity of file times: the kernel stamps them from its coarse clock
// (CLOCK_REALTIME_COARSE: a jiffy, 4 ms at HZ=250, 10 ms at HZ=100); 0 when it cannot be read.
func fileTimeTick() time.Duration {
	var ts unix.Timespec
	if unix.ClockGetres(unix.CLOCK_REALTIME_COARSE, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

package catalog

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The writer records who holds the catalog in catalog.pid: its pid and the process's start time
// (field 22 of /proc/<pid>/stat, in clock ticks since boot). A process killed while writing leaves the
// file behind, and its pid can be reused by any process; so the pid is named to a user waiting for
// the lock only when a process with that pid exists now and started at the recorded time. Where
// /proc is not available the pid is never named (it could not be told from a stale one).

// writePIDFile records this process as the writer of the catalog in dir.
func writePIDFile(dir string) {
	pid := os.Getpid()
	line := strconv.Itoa(pid)
	if st, ok := procStartTime(pid); ok {
		line += " " + st
	}
	_ = os.WriteFile(filepath.Join(dir, pidFileName), []byte(line+"\n"), 0o644)
}

// otherPID is " (pid N)" when catalog.pid names a live process that started when the file says, else "".
func otherPID(dir string) string {
	b, err := readRegular(filepath.Join(dir, pidFileName), 100) // never blocks on a FIFO planted there
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return ""
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return ""
	}
	if st, ok := procStartTime(pid); !ok || st != f[1] {
		return ""
	}
	return " (pid " + f[0] + ")"
}

// procStartTime is the start time of process pid from /proc/<pid>/stat.
func procStartTime(pid int) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields resume after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return "", false
	}
	f := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // field 22 of the line, counted from field 3 (state)
	if len(f) <= startField {
		return "", false
	}
	return f[startField], true
}

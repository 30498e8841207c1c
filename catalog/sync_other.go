//go:build !linux

package catalog

// batchSync is false where there is no syncfs(2): writeContentFile fsyncs each file itself.
const batchSync = false

// syncContent has nothing left to do: every content file was fsynced when written.
func syncContent(dir string) error { return nil }

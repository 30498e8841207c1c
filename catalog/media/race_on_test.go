//go:build race

package media

// raceEnabled: the race detector's runtime allocates more than a normal build (allocation counts
// are only compared with estimates without it).
const raceEnabled = true

//go:build race

package hindex

// raceDiv divides the sizes of the largest tests: the race detector makes
// them about ten times slower, and CI runs the whole suite under it on two
// cores. The full sizes run without -race.
const raceDiv = 5

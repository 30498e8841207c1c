//go:build !race

package hindex

// raceDiv divides the sizes of the largest tests under the race detector
// (see race_on_test.go); without it they run at full size.
const raceDiv = 1

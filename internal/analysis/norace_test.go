//go:build !race

package analysis

// raceEnabled scales the simulation down under the race detector.
const raceEnabled = false

//go:build race

package clean

// raceEnabled: the race detector slows extraction about tenfold; tests over the shared
// evaluation sets then sample their HTML pages.
const raceEnabled = true

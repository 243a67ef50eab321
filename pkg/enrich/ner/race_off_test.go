//go:build !race

package ner

// raceEnabled reports a -race build (slow gzip: see TestShippedModelRoundTrip).
const raceEnabled = false

package alert

// esSpikeMatch is ElastAlert2's SpikeRule.find_matches for count data, with one deliberate
// difference, the ref=0 guard.
//
// ElastAlert2 (elastalert/ruletypes.py, SpikeRule): no match if cur < threshold_cur or
// ref < threshold_ref; spike up when cur >= ref*spike_height; spike down when
// cur <= ref/spike_height; spike_type selects which counts. With ref = 0 that makes any cur
// (even 1, or 0 with the default threshold_cur 0) an "up" spike and cur = 0 a "down" spike.
// Guard: an up spike against an empty reference window needs cur >= spike_height (ref is
// counted as 1), and a down spike needs ref > 0 (a dip from nothing is not a dip).
//
// The windows around it (see SpikeDetector.testES) follow handle_event: the current window is
// the last timeframe, the reference the timeframe before it; no alert for a key until two
// timeframes after its first event unless alert_on_new_data (and some key has already filled
// its windows) and the key is past its skip period; after a match the reference window is
// cleared, the key's first event forgotten and it is skipped for two timeframes. Counts are
// per bucket (1m) rather than per event timestamp.
func esSpikeMatch(r Rule, ref, cur int) (up, down bool) {
	if cur < r.ThresholdCur || ref < r.ThresholdRef {
		return false, false
	}
	effRef := float64(ref)
	if ref == 0 {
		effRef = 1 // guard
	}
	spikeUp := float64(cur) >= effRef*r.SpikeHeight
	spikeDown := ref > 0 && float64(cur) <= float64(ref)/r.SpikeHeight
	switch r.SpikeType {
	case "up":
		return spikeUp, false
	case "down":
		return false, spikeDown
	default:
		return spikeUp, spikeDown
	}
}

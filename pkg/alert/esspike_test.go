package alert

import (
	"testing"
	"time"
)

func TestESSpikeMatch(t *testing.T) {
	base := Rule{ID: "es", Type: RuleESSpike, Timeframe: Duration(10 * time.Minute), SpikeHeight: 3}
	with := func(f func(*Rule)) Rule { r := base; f(&r); return r }
	up := with(func(r *Rule) { r.SpikeType = "up" })
	down := with(func(r *Rule) { r.SpikeType = "down" })
	both := with(func(r *Rule) { r.SpikeType = "both" })
	tests := []struct {
		name     string
		rule     Rule
		ref, cur int
		up, down bool
	}{
		{"up: cur = ref*height matches (>=)", up, 5, 15, true, false},
		{"up: just below height", up, 5, 14, false, false},
		{"up: ignores a dip", up, 9, 3, false, false},
		{"down: cur = ref/height matches (<=)", down, 9, 3, false, true},
		{"down: ignores a rise", down, 5, 15, false, false},
		{"both: rise", both, 5, 15, true, false},
		{"both: dip", both, 9, 3, false, true},
		{"threshold_cur blocks", with(func(r *Rule) { r.SpikeType = "up"; r.ThresholdCur = 20 }), 5, 15, false, false},
		{"threshold_ref blocks", with(func(r *Rule) { r.SpikeType = "up"; r.ThresholdRef = 6 }), 5, 15, false, false},
		{"threshold_cur met", with(func(r *Rule) { r.SpikeType = "up"; r.ThresholdCur = 15 }), 5, 15, true, false},
		// ref = 0: ElastAlert2 would fire on any cur (cur >= 0*height); guarded: ref counts as 1.
		{"ref=0 guard: 1 vs 0 does not fire", up, 0, 1, false, false},
		{"ref=0 guard: 2 vs 0 does not fire at height 3", up, 0, 2, false, false},
		{"ref=0 guard: height reached fires", up, 0, 3, true, false},
		{"ref=0 guard: 0 vs 0 is no dip", down, 0, 0, false, false},
		{"ref=0 guard: both 0 vs 0", both, 0, 0, false, false},
		{"ref=0 with threshold_cur 10", with(func(r *Rule) { r.SpikeType = "up"; r.ThresholdCur = 10 }), 0, 10, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gu, gd := esSpikeMatch(tc.rule, tc.ref, tc.cur)
			if gu != tc.up || gd != tc.down {
				t.Fatalf("esSpikeMatch(ref=%d, cur=%d, %s) = up %v down %v, want %v %v", tc.ref, tc.cur, tc.rule.SpikeType, gu, gd, tc.up, tc.down)
			}
		})
	}
}

// TestESSpikeWindows checks the handle_event window semantics through the detector.
func TestESSpikeWindows(t *testing.T) {
	rule := func(newData bool) Rule {
		return Rule{ID: "es", Type: RuleESSpike, Timeframe: Duration(10 * time.Minute), SpikeHeight: 3,
			SpikeType: "up", ThresholdCur: 5, AlertOnNewData: newData}
	}
	tests := []struct {
		name string
		rule Rule
		run  func(h *detHarness)
		want int
	}{
		{
			name: "spike after the key filled two timeframes fires",
			rule: rule(false),
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 60)...)
				h.add("ORG:x", every(t0.Add(60*time.Minute), 5*time.Minute, 6)...) // ref 2 per 10m
				h.add("ORG:x", every(t0.Add(91*time.Minute), 20*time.Second, 8)...)
			},
			want: 1,
		},
		{
			name: "new key without alert_on_new_data waits two timeframes",
			rule: rule(false),
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 90)...)
				h.add("ORG:new", every(t0.Add(90*time.Minute), 10*time.Second, 10)...)
			},
			want: 0,
		},
		{
			name: "new key with alert_on_new_data fires (guarded ref=0)",
			rule: rule(true),
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 90)...)
				h.add("ORG:new", every(t0.Add(90*time.Minute), 10*time.Second, 10)...)
			},
			want: 1,
		},
		{
			name: "down: a dip below ref/height fires at bucket close",
			rule: Rule{ID: "es", Type: RuleESSpike, Timeframe: Duration(5 * time.Minute), SpikeHeight: 3, SpikeType: "down"},
			run: func(h *detHarness) {
				for m := 0; m < 60; m++ {
					at := t0.Add(time.Duration(m) * time.Minute)
					h.add("ORG:filler", at)
					if m >= 30 && m < 45 { // x: 3/min for 15m, then quiet
						h.add("ORG:x", at.Add(time.Second), at.Add(20*time.Second), at.Add(40*time.Second))
					}
				}
			},
			want: 1,
		},
		{
			name: "after a match the key is skipped for two timeframes",
			rule: rule(true),
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 90)...)
				h.add("ORG:new", every(t0.Add(90*time.Minute), 10*time.Second, 40)...)
			},
			want: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, DetectorConfig{Warmup: -1}, tc.rule)
			tc.run(h)
			if got := h.count(StatusFiring, RuleESSpike, ""); got != tc.want {
				for _, e := range h.out {
					t.Logf("%s %s %s: %s", e.Alert.FiredAt.Format("15:04:05"), e.Alert.Term, e.Alert.Status, e.Alert.Reason)
				}
				t.Fatalf("got %d es_spike alerts, want %d", got, tc.want)
			}
		})
	}
}

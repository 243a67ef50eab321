package alert

import (
	"strings"
	"testing"
	"time"
)

// rate returns times at n per minute from start for d.
func rate(start time.Time, perMin int, d time.Duration) []time.Time {
	var out []time.Time
	for m := time.Duration(0); m < d; m += time.Minute {
		for i := 0; i < perMin; i++ {
			out = append(out, start.Add(m+time.Duration(i)*time.Minute/time.Duration(perMin)))
		}
	}
	return out
}

// addWithBackground adds the acme mentions at times interleaved with a steady 20/min of other
// terms, so the all-terms seasonal profile does not follow acme.
func addWithBackground(h *detHarness, from time.Time, d time.Duration, acmePerMin int) {
	for m := time.Duration(0); m < d; m += time.Minute {
		at := from.Add(m)
		for i := 0; i < 20; i++ {
			h.add("ORG:bg"+string(rune('a'+i)), at.Add(time.Duration(i)*time.Second))
		}
		h.add("ORG:acme", rate(at, acmePerMin, time.Minute)...)
	}
}

// TestChangeAndRiseTests runs a steady term into a jump and into a slow rise with the seasonal
// test disabled (min_score 300), each with and without the test that should catch it.
func TestChangeAndRiseTests(t *testing.T) {
	base := Rule{ID: "s", Type: RuleSpike, MinScore: 300}
	withChange, withRise := base, base
	withChange.ChangeScore = 8
	withRise.RiseScore = 6
	steady := 6 * time.Hour
	jump := func(h *detHarness) {
		addWithBackground(h, t0, steady, 1)
		addWithBackground(h, t0.Add(steady), 10*time.Minute, 8)
		addWithBackground(h, t0.Add(steady+10*time.Minute), time.Hour, 1)
		h.advance(t0.Add(steady + 2*time.Hour))
	}
	day := 25 * time.Hour // the rise test needs a day of history
	rise := func(h *detHarness) {
		addWithBackground(h, t0, day, 1)
		// A rise in two steps, each too small for the change test's min_ratio 3, lasting hours.
		addWithBackground(h, t0.Add(day), time.Hour, 2)
		addWithBackground(h, t0.Add(day+time.Hour), 5*time.Hour, 4)
		h.advance(t0.Add(day + 7*time.Hour))
	}
	tests := []struct {
		name       string
		rule       Rule
		run        func(*detHarness)
		wantFiring int
		wantReason string
	}{
		{name: "jump: change test fires", rule: withChange, run: jump, wantFiring: 1, wantReason: "its rate over the"},
		{name: "jump: no change test, no alert", rule: base, run: jump},
		{name: "slow rise: rise test fires once and does not re-fire while it lasts", rule: withRise, run: rise, wantFiring: 1, wantReason: "a sustained rise since"},
		{name: "slow rise: no rise test, no alert", rule: base, run: rise},
		{name: "steady: neither test fires", rule: func() Rule { r := withRise; r.ChangeScore = 8; return r }(),
			run: func(h *detHarness) { addWithBackground(h, t0, 2*day, 1); h.advance(t0.Add(2*day + time.Hour)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, DetectorConfig{}, tc.rule)
			tc.run(h)
			if got := h.count(StatusFiring, "", "ORG:acme"); got != tc.wantFiring {
				for _, e := range h.out {
					t.Log(e.Alert.Status, e.Alert.Reason)
				}
				t.Fatalf("firings = %d, want %d", got, tc.wantFiring)
			}
			for _, e := range h.out {
				if e.Alert.Status == StatusFiring && !strings.Contains(e.Alert.Reason, tc.wantReason) {
					t.Errorf("reason %q lacks %q", e.Alert.Reason, tc.wantReason)
				}
			}
		})
	}
}

func TestChangeRiseRuleValidation(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		ok   bool
	}{
		{name: "off", rule: Rule{ID: "a", Type: RuleSpike}, ok: true},
		{name: "on with default ratio", rule: Rule{ID: "a", Type: RuleSpike, ChangeScore: 8, RiseScore: 6}, ok: true},
		{name: "negative change score", rule: Rule{ID: "a", Type: RuleSpike, ChangeScore: -1}},
		{name: "negative rise score", rule: Rule{ID: "a", Type: RuleSpike, RiseScore: -2}},
		{name: "change ratio below 1", rule: Rule{ID: "a", Type: RuleSpike, ChangeScore: 8, ChangeRatio: 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateRules([]Rule{tc.rule})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

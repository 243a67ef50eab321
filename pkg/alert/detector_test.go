package alert

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

type detHarness struct {
	t   *testing.T
	d   *SpikeDetector
	out []Emitted
}

func newHarness(t *testing.T, cfg DetectorConfig, rules ...Rule) *detHarness {
	t.Helper()
	if len(rules) == 0 {
		rules = []Rule{{ID: "s", Type: RuleSpike}}
	}
	d, err := NewSpikeDetector(cfg, rules)
	if err != nil {
		t.Fatal(err)
	}
	return &detHarness{t: t, d: d}
}

// add records mentions of key at times and advances the watermark to each.
func (h *detHarness) add(key string, ts ...time.Time) {
	kind, _, _ := strings.Cut(key, ":")
	for _, at := range ts {
		h.d.Add(Term{Key: key, Kind: kind, Display: key}, at)
		h.d.Advance(at.Add(-10 * time.Second))
		h.out = append(h.out, h.d.Drain()...)
	}
}

func (h *detHarness) advance(to time.Time) {
	h.d.Advance(to)
	h.out = append(h.out, h.d.Drain()...)
}

func (h *detHarness) count(status, ruleType, term string) int {
	n := 0
	for _, e := range h.out {
		if e.Alert.Status == status && (ruleType == "" || e.Alert.RuleType == ruleType) && (term == "" || e.Alert.Term == term) {
			n++
		}
	}
	return n
}

// every returns times from start, step apart, n of them.
func every(start time.Time, step time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * step)
	}
	return out
}

// background gives key a steady 6/h history for 3h (past the 1h warm-up) plus a filler term.
func (h *detHarness) background(key string) time.Time {
	h.add(key, every(t0, 10*time.Minute, 18)...)
	return t0.Add(3 * time.Hour)
}

func TestDetector(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *detHarness)
		want map[string]int // "status/ruleType" → count
	}{
		{
			name: "one mention after silence never fires",
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 200)...)
				h.add("ORG:quiet", t0.Add(3*time.Hour))
				h.add("PER:brand new", t0.Add(3*time.Hour+time.Second))
			},
			want: map[string]int{"firing/": 0},
		},
		{
			name: "two mentions of a never-seen term in one second do not fire",
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 200)...)
				at := t0.Add(3 * time.Hour)
				h.add("PER:pair", at, at)
			},
			want: map[string]int{"firing/": 0},
		},
		{
			name: "no alerts during warm-up",
			run: func(h *detHarness) {
				h.add("ORG:early", every(t0.Add(10*time.Minute), time.Second, 50)...)
			},
			want: map[string]int{"firing/": 0},
		},
		{
			name: "burst against baseline fires once",
			run: func(h *detHarness) {
				at := h.background("ORG:acme")
				h.add("ORG:acme", every(at, 5*time.Second, 8)...)
			},
			want: map[string]int{"firing/spike": 1, "firing/new_term": 0},
		},
		{
			name: "steady rate at baseline does not fire",
			run: func(h *detHarness) {
				at := h.background("ORG:acme")
				h.add("ORG:acme", every(at, 10*time.Minute, 30)...)
			},
			want: map[string]int{"firing/": 0},
		},
		{
			name: "sustained spike sends still_firing, not a second firing",
			run: func(h *detHarness) {
				at := h.background("ORG:acme")
				h.add("ORG:acme", every(at, 10*time.Second, 6*20)...)
			},
			want: map[string]int{"firing/spike": 1, "still_firing/spike": 1},
		},
		{
			name: "resolved after the spike ends, then cooldown suppresses a re-fire",
			run: func(h *detHarness) {
				at := h.background("ORG:acme")
				h.add("ORG:acme", every(at, 5*time.Second, 10)...)
				// The hour window stays elevated for an hour; the episode resolves 10m later.
				h.advance(at.Add(80 * time.Minute))
				// Second, smaller burst inside the 30m cooldown.
				h.add("ORG:acme", every(at.Add(85*time.Minute), 5*time.Second, 10)...)
			},
			want: map[string]int{"firing/spike": 1, "resolved/spike": 1},
		},
		{
			name: "re-fires after cooldown",
			run: func(h *detHarness) {
				at := h.background("ORG:acme")
				h.add("ORG:acme", every(at, 5*time.Second, 10)...)
				h.advance(at.Add(110 * time.Minute))
				// After the cooldown, a burst faster than the first one's peak is news again.
				h.add("ORG:acme", every(at.Add(120*time.Minute), 3*time.Second, 20)...)
			},
			want: map[string]int{"firing/spike": 2, "resolved/spike": 1},
		},
		{
			name: "a decaying burst does not re-fire after the cooldown",
			run: func(h *detHarness) {
				at := h.background("ORG:acme")
				h.add("ORG:acme", every(at, 5*time.Second, 10)...)
				h.advance(at.Add(110 * time.Minute))
				// Same story, slower: below the first burst's peak rate within RefireWithin.
				h.add("ORG:acme", every(at.Add(120*time.Minute), 10*time.Second, 8)...)
			},
			want: map[string]int{"firing/spike": 1, "resolved/spike": 1},
		},
		{
			name: "never-seen term at volume is a new_term alert",
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 200)...)
				h.add("MISC:newco", every(t0.Add(3*time.Hour), 10*time.Second, 6)...)
			},
			want: map[string]int{"firing/new_term": 1, "firing/spike": 0},
		},
		{
			name: "never-seen term below the new-term floor does not fire",
			run: func(h *detHarness) {
				h.add("ORG:filler", every(t0, time.Minute, 200)...)
				h.add("MISC:newco", every(t0.Add(3*time.Hour), 10*time.Second, 4)...)
			},
			want: map[string]int{"firing/": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, DetectorConfig{})
			tc.run(h)
			for k, want := range tc.want {
				status, rt, _ := strings.Cut(k, "/")
				if got := h.count(status, rt, ""); got != want {
					for _, e := range h.out {
						t.Logf("%s %s %s: %s", e.Alert.Status, e.Alert.RuleType, e.Alert.Term, e.Alert.Reason)
					}
					t.Fatalf("%s: got %d alerts, want %d", k, got, want)
				}
			}
		})
	}
}

func TestDetectorAlertExplainsItself(t *testing.T) {
	h := newHarness(t, DetectorConfig{})
	at := h.background("ORG:acme")
	h.add("ORG:acme", every(at, 5*time.Second, 8)...)
	if len(h.out) != 1 {
		t.Fatalf("got %d alerts", len(h.out))
	}
	a := h.out[0].Alert
	if a.Current < 3 || a.Baseline <= 0 || a.Score < 6.5 || a.FirstSeen != t0 || !a.WindowEnd.After(a.WindowStart) {
		t.Fatalf("alert fields: %+v", a)
	}
	for _, want := range []string{"mentions in 1 min", "the usual for a Monday at 03:00 UTC", "expected 0.09 ± 0.30", "overdispersed", "floors"} {
		if !strings.Contains(a.Reason, want) {
			t.Errorf("reason %q lacks %q", a.Reason, want)
		}
	}
	if h.out[0].ID == "" || len(h.out[0].ID) != 32 {
		t.Errorf("id %q", h.out[0].ID)
	}
}

func TestDetectorExpiredTermIsNotNew(t *testing.T) {
	h := newHarness(t, DetectorConfig{IdleTTL: 2 * time.Hour})
	h.add("ORG:filler", every(t0, time.Minute, 90)...)
	h.add("ORG:old", t0.Add(90*time.Minute))
	h.add("ORG:filler", every(t0.Add(91*time.Minute), time.Minute, 270)...)
	h.advance(t0.Add(6 * time.Hour))
	if _, live := h.d.terms["ORG:old"]; live {
		t.Fatal("idle term not expired")
	}
	h.add("ORG:old", every(t0.Add(6*time.Hour), 5*time.Second, 8)...)
	if h.count(StatusFiring, KindNewTerm, "") != 0 || h.count(StatusFiring, RuleSpike, "") != 1 {
		for _, e := range h.out {
			t.Logf("%s %s: %s", e.Alert.Status, e.Alert.RuleType, e.Alert.Reason)
		}
		t.Fatal("want one spike alert and no new_term for a returning term")
	}
}

func TestDetectorMaxTerms(t *testing.T) {
	h := newHarness(t, DetectorConfig{MaxTerms: 10})
	for i := 0; i < 20; i++ {
		h.add("ORG:t"+string(rune('a'+i)), t0)
	}
	if h.d.Live() != 10 || h.d.Dropped() != 10 {
		t.Fatalf("live %d dropped %d", h.d.Live(), h.d.Dropped())
	}
}

func TestPoissonScore(t *testing.T) {
	tests := []struct {
		name   string
		c      int
		lambda float64
		lo, hi float64
	}{
		{"zero count", 0, 1, 0, 0},
		{"mean", 1, 1, 0.1, 0.3},         // P(X>=1)=0.632
		{"tail", 5, 0.1, 7.0, 7.2},       // 7.7e-8
		{"big lambda", 200, 100, 17, 22}, // ~1e-19
		{"lambda zero", 3, 0, 300, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := poissonScore(tc.c, tc.lambda)
			if s < tc.lo || s > tc.hi {
				t.Fatalf("score(%d, %v) = %v, want [%v, %v]", tc.c, tc.lambda, s, tc.lo, tc.hi)
			}
		})
	}
	// With c² = 0 the firing count is the Poisson one.
	if c := nbMinFiringCount(0.001, 0, 3, 2.5, 6.5); c != 3 {
		t.Errorf("min firing count at tiny lambda = %d, want the floor 3", c)
	}
	if c := nbMinFiringCount(100, 0, 3, 2.5, 6.5); c != 250 {
		t.Errorf("min firing count at lambda 100 = %d, want ratio floor 250", c)
	}
}

package alert

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestNBScore(t *testing.T) {
	tests := []struct {
		name     string
		c        int
		mu, c2   float64
		min, max float64
	}{
		{name: "c2 0 is Poisson", c: 10, mu: 2, c2: 0, min: poissonScore(10, 2) - 1e-9, max: poissonScore(10, 2) + 1e-9},
		{name: "tiny c2 approaches Poisson", c: 10, mu: 2, c2: 1e-4, min: poissonScore(10, 2) - 0.05, max: poissonScore(10, 2) + 0.001},
		// Geometric (c2 = 1, r = 1): P(X >= c) = (mu/(1+mu))^c.
		{name: "c2 1 is geometric", c: 10, mu: 2, c2: 1, min: -10*math.Log10(2.0/3) - 1e-6, max: -10*math.Log10(2.0/3) + 1e-6},
		{name: "overdispersion lowers the score", c: 30, mu: 10, c2: 0.3, min: 0.5, max: poissonScore(30, 10) - 2},
		{name: "count at or below zero scores 0", c: 0, mu: 5, c2: 0.2, min: 0, max: 0},
		{name: "nothing expected, something seen", c: 3, mu: 0, c2: 0.2, min: 300, max: 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := nbScore(tc.c, tc.mu, tc.c2)
			if got < tc.min || got > tc.max || math.IsNaN(got) {
				t.Fatalf("nbScore(%d, %v, %v) = %v, want in [%v, %v]", tc.c, tc.mu, tc.c2, got, tc.min, tc.max)
			}
		})
	}
}

func TestNBMinFiringCount(t *testing.T) {
	for _, mu := range []float64{0.05, 1, 12, 300} {
		for _, c2 := range []float64{0, 0.1, 1} {
			c := nbMinFiringCount(mu, c2, 3, 2.5, 6.5)
			if c >= 65535 {
				continue
			}
			if nbScore(c, mu, c2) < 6.5 || float64(c) < 2.5*mu || c < 3 {
				t.Fatalf("mu %v c2 %v: %d does not pass the test", mu, c2, c)
			}
			if c-1 >= 3 && float64(c-1) >= 2.5*mu && nbScore(c-1, mu, c2) >= 6.5 {
				t.Fatalf("mu %v c2 %v: %d is not the smallest", mu, c2, c)
			}
		}
	}
}

// feedNoisy gives key a rate of perMin mentions per minute for hours, with every tenth minute
// a burst of burstX times that (a term whose ordinary days are spiky).
func feedNoisy(h *detHarness, key string, start time.Time, hours int, perMin, burstX int) time.Time {
	for m := 0; m < hours*60; m++ {
		n := perMin
		if m%10 == 7 {
			n = perMin * burstX
		}
		at := start.Add(time.Duration(m) * time.Minute)
		ts := make([]time.Time, n)
		for i := range ts {
			ts[i] = at.Add(time.Duration(i) * time.Minute / time.Duration(n+1))
		}
		h.add(key, ts...)
	}
	return start.Add(time.Duration(hours) * time.Hour)
}

func TestSpikyTermLearnsItsDispersion(t *testing.T) {
	// 2 mentions a minute with 20 in every tenth minute: its own c² is
	// (var − mean)/mean² = (29.16 − 3.8)/3.8² ≈ 1.76. Under Poisson those routine 20s score ≈ 7.
	h := newHarness(t, DetectorConfig{})
	end := feedNoisy(h, "ORG:spiky", t0, 30, 2, 10)
	st := h.d.terms["ORG:spiky"]
	b := h.d.bucketOf(end)
	mu := h.d.expected(st, b, 1)
	if c2 := h.d.c2(st, 0, mu); c2 < 1 {
		t.Fatalf("1-min dispersion c² = %.3f after 30 h of 10× minutes every 10 min; want it learned (≈ 1.76)", c2)
	}
	if s := poissonScore(20, mu); s < 6.5 {
		t.Fatalf("test setup: a routine minute of 20 scores %.1f under Poisson; it must be enough to fire", s)
	}
	// Its routine 10× minute no longer fires once the model has learned it.
	before := h.count(StatusFiring, "", "")
	feedNoisy(h, "ORG:spiky", end, 6, 2, 10)
	if after := h.count(StatusFiring, "", ""); after != before {
		t.Fatalf("routine bursts of a spiky term fired %d times after it was learned", after-before)
	}
}

func TestTermProfileFollowsItsOwnDay(t *testing.T) {
	// A night-time term: 6 mentions per minute from 00:00 to 06:00, 1 the rest of the day. After
	// three days its own profile must expect the night rush (the global profile, dominated by
	// a day-time filler, expects the opposite) and a night at the usual level must not fire.
	h := newHarness(t, DetectorConfig{})
	for m := 0; m < 4*24*60; m++ {
		at := t0.Add(time.Duration(m) * time.Minute)
		n := 1
		if at.Hour() < 6 {
			n = 6
		}
		day := 1
		if at.Hour() >= 9 && at.Hour() < 17 {
			day = 20
		}
		var ts []time.Time
		for i := 0; i < n; i++ {
			ts = append(ts, at.Add(time.Duration(i)*time.Second))
		}
		h.add("ORG:night", ts...)
		for i := 0; i < day; i++ {
			h.d.Add(Term{Key: "ORG:filler" + string(rune('a'+i)), Kind: "ORG", Display: "f"}, at.Add(time.Duration(30+i)*time.Second))
		}
	}
	st := h.d.terms["ORG:night"]
	if st.prof == nil {
		t.Fatal("no profile after 4 days of a busy term")
	}
	night := h.d.bucketOf(t0.Add(4*24*time.Hour + 3*time.Hour))
	noon := h.d.bucketOf(t0.Add(4*24*time.Hour + 13*time.Hour))
	if r := h.d.expected(st, night, 60) / h.d.expected(st, noon, 60); r < 3 {
		t.Fatalf("expected night/noon ratio %.2f, want the term's own ≈6×", r)
	}
	for _, e := range h.out {
		if e.Alert.Status == StatusFiring && e.Alert.Term == "ORG:night" && e.Alert.FiredAt.After(t0.Add(2*24*time.Hour)) {
			t.Fatalf("usual night rush fired on day 3+: %s", e.Alert.Reason)
		}
	}
}

func TestModelSnapshotRoundTripAndCorruption(t *testing.T) {
	h := newHarness(t, DetectorConfig{})
	feedNoisy(h, "ORG:spiky", t0, 8, 2, 4)
	st := h.d.terms["ORG:spiky"]
	if st.prof == nil || st.disp == nil {
		t.Fatal("term has no model to snapshot")
	}
	prof, disp := st.prof.clone(), st.disp.clone()
	if got := prof.sane(); got == nil || !reflect.DeepEqual(got.HodS, st.prof.HodS) {
		t.Fatal("a sound profile must survive sane()")
	}
	tests := []struct {
		name    string
		corrupt func()
		profNil bool
		dispNew bool
	}{
		{name: "NaN profile slot", corrupt: func() { prof.HodS[3] = float32(math.NaN()) }, profNil: true},
		{name: "negative expectation", corrupt: func() { prof.DowE[1] = -1 }, profNil: true},
		{name: "infinite dispersion sum", corrupt: func() { disp.A[0] = float32(math.Inf(1)) }, dispNew: true},
		{name: "calibration out of range", corrupt: func() { disp.Q[2] = 1e9 }, dispNew: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prof, disp = st.prof.clone(), st.disp.clone()
			tc.corrupt()
			if got := prof.sane(); (got == nil) != tc.profNil {
				t.Fatalf("profile sane() = %v, want nil=%v", got, tc.profNil)
			}
			if got := disp.sane(); tc.dispNew && *got != (dispersion{}) {
				t.Fatalf("corrupt dispersion kept: %+v", got)
			}
		})
	}
}

func TestDefaultRulesShippedEverywhere(t *testing.T) {
	want := DefaultRules()
	if len(want) == 0 {
		t.Fatal("no default rules")
	}
	enabled := 0
	for _, r := range want {
		if !r.Disabled {
			enabled++
		}
	}
	if enabled == 0 {
		t.Fatal("every shipped rule is disabled")
	}
	docker, err := os.ReadFile("../../deploy/docker/alert-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docker, DefaultRulesYAML()) {
		t.Error("deploy/docker/alert-rules.yaml differs from pkg/alert/default-rules.yaml (copy it)")
	}
	k8s, err := os.ReadFile("../../deploy/k8s/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(k8s), "\n---") {
		var cm struct {
			Data map[string]string `yaml:"data"`
		}
		if yaml.Unmarshal([]byte(doc), &cm) != nil || cm.Data["alert-rules.yaml"] == "" {
			continue
		}
		got, err := ParseRules([]byte(cm.Data["alert-rules.yaml"]))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("deploy/k8s/config.yaml alert-rules.yaml differs from the shipped defaults")
		}
		return
	}
	t.Error("deploy/k8s/config.yaml has no alert-rules.yaml")
}

func TestDetectorClockJumpsAndRareTerms(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *detHarness)
	}{
		{name: "clock jumps forward by three days", run: func(h *detHarness) {
			end := feedNoisy(h, "ORG:steady", t0, 6, 2, 1)
			feedNoisy(h, "ORG:steady", end.Add(72*time.Hour), 2, 2, 1)
		}},
		{name: "clock jumps back by a day", run: func(h *detHarness) {
			end := feedNoisy(h, "ORG:steady", t0, 6, 2, 1)
			feedNoisy(h, "ORG:steady", end.Add(-24*time.Hour), 2, 2, 1)
		}},
		{name: "a term seen once a year", run: func(h *detHarness) {
			feedNoisy(h, "ORG:steady", t0, 3, 2, 1)
			for y := 0; y < 3; y++ {
				at := t0.AddDate(y, 0, 0).Add(4 * time.Hour)
				h.add("ORG:yearly", at)
				feedNoisy(h, "ORG:steady", at.Add(time.Minute), 1, 2, 1)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, DetectorConfig{})
			tc.run(h)
			if n := h.count(StatusFiring, "", ""); n > 1 {
				for _, e := range h.out {
					t.Logf("%s: %s", e.Alert.Status, e.Alert.Reason)
				}
				t.Fatalf("%d alerts from a steady stream around a clock jump, want at most 1", n)
			}
			for _, st := range h.d.terms {
				if math.IsNaN(st.level) || math.IsInf(st.level, 0) || st.level < 0 {
					t.Fatalf("level %v after the jump", st.level)
				}
			}
		})
	}
}

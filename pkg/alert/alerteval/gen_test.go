package alerteval

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"testing"
	"time"
)

// fingerprint hashes every event and label of a stream.
func fingerprint(s *Stream) string {
	h := fnv.New64a()
	for _, ev := range s.events {
		fmt.Fprint(h, ev.t, ev.terms, ev.cluster, ev.source, ";")
	}
	for _, b := range s.Bursts {
		fmt.Fprint(h, b.Key, b.Shape, b.New, b.Start.UnixNano(), b.End.UnixNano(), b.Mentions, b.BasePerH, ";")
	}
	for _, f := range s.Floods {
		fmt.Fprint(h, f.Keys, f.Cluster, f.Start.UnixNano(), f.End.UnixNano(), f.Copies, ";")
	}
	return fmt.Sprintf("%016x/%d/%d", h.Sum64(), s.Len(), s.Mentions)
}

// TestGeneratePoissonIsTheOldStream: Poisson: true reproduces, event for event, the streams of
// the generator before overdispersion, per-term profiles and decay bursts were added
// (fingerprints taken from that version).
func TestGeneratePoissonIsTheOldStream(t *testing.T) {
	for _, c := range []struct {
		cfg  GenConfig
		want string
	}{
		{GenConfig{Terms: 200, Hours: 12, Seed: 5, Poisson: true}, "cd143c604715713c/3927/9951"},
		{GenConfig{Terms: 600, Hours: 24, Seed: 7, Poisson: true}, "f7bcf3f4384da5f2/25914/83316"},
	} {
		if got := fingerprint(Generate(c.cfg)); got != c.want {
			t.Errorf("Terms %d Hours %d Seed %d: fingerprint %s, want %s", c.cfg.Terms, c.cfg.Hours, c.cfg.Seed, got, c.want)
		}
	}
}

func TestGenerateDeterministicBySeed(t *testing.T) {
	for _, poisson := range []bool{false, true} {
		cfg := GenConfig{Terms: 150, Hours: 12, Seed: 3, Poisson: poisson}
		a, b := fingerprint(Generate(cfg)), fingerprint(Generate(cfg))
		if a != b {
			t.Errorf("Poisson=%v: same seed, different streams: %s vs %s", poisson, a, b)
		}
		cfg.Seed = 4
		if c := fingerprint(Generate(cfg)); c == a {
			t.Errorf("Poisson=%v: seeds 3 and 4 give the same stream", poisson)
		}
	}
}

// bucketCounts counts term i's mentions per 15 minutes, for terms without bursts or floods.
func bucketCounts(s *Stream) map[int32][]float64 {
	skip := map[string]bool{}
	for _, b := range s.Bursts {
		skip[b.Key] = true
	}
	for _, f := range s.Floods {
		for _, k := range f.Keys {
			skip[k] = true
		}
	}
	n := s.cfg.Hours * 4
	out := map[int32][]float64{}
	for i := 0; i < s.cfg.Terms; i++ {
		if !skip[s.key(int32(i))] {
			out[int32(i)] = make([]float64, n)
		}
	}
	start := s.cfg.Start.UnixNano()
	for _, ev := range s.events {
		b := int((ev.t - start) / int64(15*time.Minute))
		for _, ti := range ev.terms {
			if c := out[ti]; c != nil && b < n {
				c[b]++
			}
		}
	}
	return out
}

// dispersion is the Pearson statistic of term i's 15-minute counts against its seasonal
// profile: mean of (x − μ)²/μ with μ = rate × profile × 15 min, which is ≈1 for Poisson counts
// and is the variance/mean ratio with the daily and weekly cycles taken out.
func dispersion(s *Stream, i int32, counts []float64) float64 {
	var sum float64
	for b, x := range counts {
		mid := s.cfg.Start.Add(time.Duration(b)*15*time.Minute + 450*time.Second)
		mu := s.rates[i] * s.profileAt(i, mid) / 4
		sum += (x - mu) * (x - mu) / mu
	}
	return sum / float64(len(counts))
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// loudDispersions returns the dispersion of every burst- and flood-free term at ≥ minRate/h.
func loudDispersions(s *Stream, minRate float64) []float64 {
	var ds []float64
	for i, c := range bucketCounts(s) {
		if s.rates[i] >= minRate {
			ds = append(ds, dispersion(s, i, c))
		}
	}
	return ds
}

func TestBackgroundOverdispersed(t *testing.T) {
	s := Generate(GenConfig{Terms: 900, Hours: 48, Seed: 1})
	ds := loudDispersions(s, 30)
	if len(ds) < 10 {
		t.Fatalf("only %d loud terms", len(ds))
	}
	sort.Float64s(ds)
	t.Logf("default stream: variance/mean of 15-min counts of %d loud terms: min %.2f median %.2f max %.2f", len(ds), ds[0], median(ds), ds[len(ds)-1])
	if m := median(ds); m < 3 {
		t.Errorf("median dispersion of loud terms %.2f, want well above 1 (>= 3)", m)
	}
	if ds[len(ds)-1] < 3*ds[0] {
		t.Errorf("dispersion does not differ across terms: %.2f … %.2f", ds[0], ds[len(ds)-1])
	}
	for _, c := range []struct {
		name string
		cfg  GenConfig
		min  float64
	}{
		{"Poisson: true", GenConfig{Terms: 900, Hours: 48, Seed: 1, Poisson: true}, 10},
		{"Dispersion: -1", GenConfig{Terms: 900, Hours: 48, Seed: 1, Dispersion: -1}, 30},
	} {
		ds := loudDispersions(Generate(c.cfg), c.min)
		m := median(ds)
		t.Logf("%s: median variance/mean of %d terms at >= %g/h: %.3f", c.name, len(ds), c.min, m)
		if len(ds) < 10 || m < 0.85 || m > 1.15 {
			t.Errorf("%s: median dispersion %.3f over %d terms, want ≈1", c.name, m, len(ds))
		}
	}
}

func TestTermProfilesDiffer(t *testing.T) {
	s := Generate(GenConfig{Terms: 600, Hours: 72, Seed: 2})
	if len(s.profiles) < s.cfg.Terms {
		t.Fatalf("%d profiles for %d terms", len(s.profiles), s.cfg.Terms)
	}
	peaks := map[int]int{}
	var lowWeekend, highWeekend int
	for i := 0; i < s.cfg.Terms; i++ {
		p := &s.profiles[i]
		// Wednesday's peak hour; weekend (Sat+Sun) mean vs Tue–Thu mean.
		best := 0
		for h := 0; h < 24; h++ {
			if p[3*24+h] > p[3*24+best] {
				best = h
			}
		}
		peaks[best]++
		var we, wd float64
		for h := 0; h < 24; h++ {
			we += float64(p[h]+p[6*24+h]) / 2
			wd += float64(p[2*24+h]+p[3*24+h]+p[4*24+h]) / 3
		}
		switch r := we / wd; {
		case r < 0.6:
			lowWeekend++
		case r > 1.4:
			highWeekend++
		}
	}
	t.Logf("weekday peak hours: %v; weekend-quiet terms %d, weekend-loud terms %d", peaks, lowWeekend, highWeekend)
	if len(peaks) < 16 {
		t.Errorf("per-term peak hours take only %d values", len(peaks))
	}
	if lowWeekend < s.cfg.Terms/10 || highWeekend < s.cfg.Terms/20 {
		t.Errorf("weekly profiles too alike: %d weekend-quiet, %d weekend-loud of %d", lowWeekend, highWeekend, s.cfg.Terms)
	}
	// In the data: the hour of day with most mentions differs between loud terms.
	counts := bucketCounts(s)
	obsPeaks := map[int]bool{}
	for i, c := range counts {
		if s.rates[i] < 30 {
			continue
		}
		var byHour [24]float64
		for b, x := range c {
			byHour[s.cfg.Start.Add(time.Duration(b)*15*time.Minute).Hour()] += x
		}
		best := 0
		for h := range byHour {
			if byHour[h] > byHour[best] {
				best = h
			}
		}
		obsPeaks[best] = true
	}
	if len(obsPeaks) < 5 {
		t.Errorf("loud terms' busiest hours take only %d values", len(obsPeaks))
	}
	if Generate(GenConfig{Terms: 50, Hours: 6, Seed: 2, Weekly: -1}).profiles != nil {
		t.Error("Weekly: -1 still has per-term profiles")
	}
}

func TestBurstSizesHeavyTailed(t *testing.T) {
	s := Generate(GenConfig{Terms: 800, Hours: 8, Seed: 2, Bursts: 600, HeavyTail: 1, Dispersion: -1, Weekly: -1})
	var logSum float64
	n := 0
	var sizes []float64
	for _, b := range s.Bursts {
		if b.Shape != "decay" {
			t.Fatalf("HeavyTail 1: %s burst", b.Shape)
		}
		if b.End.UnixNano() < b.times[len(b.times)-1] || b.End.Sub(b.Start) < 50*time.Minute {
			t.Errorf("decay burst %s: label %s → %s does not cover its 1–6h tail", b.Key, b.Start, b.End)
		}
		sizes = append(sizes, float64(b.Mentions))
		xm := math.Max(paretoMinPerM, 3.5*b.BasePerH/60)
		if b.New || b.PeakPerH/60 >= maxPeakPerM {
			continue
		}
		logSum += math.Log(b.PeakPerH / 60 / xm)
		n++
	}
	alpha := float64(n) / logSum // Pareto maximum likelihood (Hill) estimate
	sort.Sort(sort.Reverse(sort.Float64Slice(sizes)))
	var top, all float64
	for i, x := range sizes {
		all += x
		if i < len(sizes)/10 {
			top += x
		}
	}
	t.Logf("%d decay bursts: Pareto index of peak rates %.2f (generated with %.1f); largest %.0f, median %.0f mentions; top 10%% hold %.0f%% of burst mentions",
		len(sizes), alpha, paretoAlpha, sizes[0], median(sizes), 100*top/all)
	if alpha < 1.2 || alpha > 1.9 {
		t.Errorf("peak-rate tail index %.2f, want ≈ %.1f", alpha, paretoAlpha)
	}
	if top/all < 0.4 || sizes[0] < 20*median(sizes) {
		t.Errorf("burst sizes not heavy-tailed: top 10%% hold %.2f, max %.0f vs median %.0f", top/all, sizes[0], median(sizes))
	}
	// The old shapes alone are light-tailed.
	old := Generate(GenConfig{Terms: 800, Hours: 8, Seed: 2, Bursts: 600, Poisson: true})
	var oldSizes []float64
	for _, b := range old.Bursts {
		oldSizes = append(oldSizes, float64(b.Mentions))
	}
	sort.Float64s(oldSizes)
	oldMax := oldSizes[len(oldSizes)-1]
	t.Logf("Poisson stream bursts: largest %.0f, median %.0f mentions", oldMax, median(oldSizes))
	if oldMax > 20*median(oldSizes) {
		t.Errorf("Poisson stream's bursts unexpectedly heavy-tailed")
	}
}

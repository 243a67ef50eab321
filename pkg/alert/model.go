package alert

import (
	"math"
	"time"
)

// The per-term count model behind the spike test (issue 13). A term's expected count in a
// window of w buckets ending at bucket b is
//
//	μ = level × w × global(b) × own(b)
//
// where level is the term's robust deseasonalised EWMA rate, global(b) the shared hour-of-day ×
// day-of-week profile of all mentions (season.go) and own(b) the term's own hour-of-day ×
// day-of-week profile relative to the global one, shrunk towards 1 (= the global profile) while
// the term has few mentions in a slot. Counts are negative binomial around μ: variance
// μ + c²·μ², with c² (the squared coefficient of variation of the term's underlying rate) its
// own per window size, estimated online by a ratio estimator Σ((x−μ)² − x) / Σμ² over
// non-overlapping windows (winsorised at 10 sd) and shrunk towards the
// all-terms estimate while the term's evidence is thin. Real mention streams are far burstier
// than Poisson (../shared/eval/alerts: tweet volumes with c² of 0.05–0.3 at hour scale); a
// Poisson test on them fires on every busy hour.

// termProfile is a term's own seasonal profile: for each hour-of-day and day-of-week slot the
// term's (clipped) mentions S and what the global profile predicted E for them. Allocated only
// for terms with at least ProfileMinMentions mentions (~250 bytes).
type termProfile struct {
	HodS, HodE [24]float32
	DowS, DowE [7]float32
	Hour       int64   // hour being accumulated (bucket index / buckets per hour)
	Cnt, Exp   float32 // that hour's mentions and global-profile expectation so far
	cacheHour  int64
	cacheF     float32
}

// dispersion holds a term's ratio-estimator sums per detector window, and the calibration of
// its scores: Q is a running estimate of the 99th percentile of the scores of its ordinary
// (non-overlapping) windows, N how many windows it has seen.
type dispersion struct {
	A, B, Q, N [8]float32
	// CA, CB are the change test's ratio-estimator sums of the short-term c² (around the
	// term's recent rate; change.go), CQ the running 99.9th percentile of its change scores.
	CA, CB, CQ [8]float32
	// Rise is the term's CUSUM of the rise test (log10 likelihood ratio of a rate RiseRatio ×
	// expected against 1 × expected, summed over 15-minute blocks, floored at 0); RiseFrom is the
	// bucket where it last left 0.
	Rise     float32
	RiseFrom int64
}

// Score calibration. Even a negative binomial fitted by moments has thinner tails than real
// mention counts (heavy-tailed bursts of retweets and reprints): on ../shared/eval/alerts its
// 1-in-10^7 events happen daily. So each term (and, as the prior of young terms, all terms
// together) tracks the 99th percentile of its own window scores with a frugal streaming
// quantile estimator; under a well-fitted model that percentile is 2 (= −log10 0.01). A term
// whose 99th percentile is q > 2 has its scores divided by q/2 before the min_score test —
// "as surprising for this term as a 1e-7 event is for a Poisson term". Calibration only ever
// makes a term less sensitive.
const (
	calQuantile = 0.999
	calTarget   = 3.0  // −log10(1 − calQuantile)
	calStep     = 0.05 // score units per update
	calYoung    = 200  // windows before a term's own estimate outweighs the all-terms one
)

// Winsorising: a window's deviation counts at most dispWinsorSD standard deviations, computed
// with c² at least dispWinsorFloor (a lower floor lets a low estimate clip away the very tail
// that should raise it).
const (
	dispMinAge      = 30 // buckets a term must have been seen before its windows teach dispersion
	dispWinsorSD    = 10.0
	dispWinsorFloor = 0.3
)

// dispMemoryBuckets is the memory of the dispersion estimator (decay per update w/this).
const dispMemoryBuckets = 3 * 24 * 60

func (d *SpikeDetector) bucketsPerHour() int64 {
	n := int64(time.Hour) / d.bucketNs
	if n < 1 {
		n = 1
	}
	return n
}

// own returns the term's own profile factor for bucket b (1 without a profile).
func (d *SpikeDetector) own(st *termState, b int64) float64 {
	p := st.prof
	if p == nil {
		return 1
	}
	h := b / d.bucketsPerHour()
	if p.cacheHour == h && p.cacheF > 0 {
		return float64(p.cacheF)
	}
	a := float64(d.cfg.ProfilePrior)
	rel := func(s, e []float32, i int) float64 {
		var sum float64
		for j := range s {
			sum += (float64(s[j]) + a) / (float64(e[j]) + a)
		}
		mean := sum / float64(len(s))
		if mean <= 0 {
			return 1
		}
		return (float64(s[i]) + a) / (float64(e[i]) + a) / mean
	}
	t := d.timeOf(b)
	f := rel(p.HodS[:], p.HodE[:], t.Hour()) * rel(p.DowS[:], p.DowE[:], int(t.Weekday()))
	f = math.Min(8, math.Max(0.125, f))
	p.cacheHour, p.cacheF = h, float32(f)
	return f
}

// factor is the full seasonal factor of the term at bucket b.
func (d *SpikeDetector) factor(st *termState, b int64) float64 { return d.sf(b) * d.own(st, b) }

// profileAdd accumulates bucket e's (clipped) count x and the global-profile expectation of
// the term into its profile, flushing the previous hour into its slots when the hour changes.
func (d *SpikeDetector) profileAdd(st *termState, e int64, x float64) {
	p := st.prof
	h := e / d.bucketsPerHour()
	if h != p.Hour {
		if p.Exp > 0 || p.Cnt > 0 {
			t := time.Unix(0, p.Hour*d.bucketsPerHour()*d.bucketNs).UTC()
			p.HodS[t.Hour()] += p.Cnt
			p.HodE[t.Hour()] += p.Exp
			p.DowS[t.Weekday()] += p.Cnt
			p.DowE[t.Weekday()] += p.Exp
		}
		p.Hour, p.Cnt, p.Exp = h, 0, 0
		p.cacheHour = -1
	}
	lvl := math.Max(st.level, d.minLevel)
	p.Cnt += float32(x)
	p.Exp += float32(lvl * d.sf(e))
}

// c2 is the term's overdispersion (squared rate CV) for window index wi at expected count mu:
// its own estimate for that window size, shrunk towards the all-terms one with the weight of
// DispersionWeight windows, and at least the estimate of any longer window — a rate that
// wanders over an hour wanders within each of its minutes too, and long windows, with more
// mentions each, measure that wander with far less noise than short ones.
func (d *SpikeDetector) c2(st *termState, wi int, mu float64) float64 {
	c := d.c2At(st, wi, mu)
	for wj, w := range d.cfg.Windows {
		if wj < 8 && wj != wi && w > d.cfg.Windows[wi] {
			muj := mu * float64(w) / float64(d.cfg.Windows[wi])
			c = math.Max(c, d.c2At(st, wj, muj))
		}
	}
	return c
}

// c2At is the shrunk estimate of window index wi alone.
func (d *SpikeDetector) c2At(st *termState, wi int, mu float64) float64 {
	prior := d.cfg.DispersionPrior
	if gb := d.dispG.B[wi]; gb > 0 {
		const pw = 1000.0 // the configured prior's weight in μ² units
		prior = (float64(d.dispG.A[wi]) + pw*prior) / (float64(gb) + pw)
	}
	prior = math.Max(0, prior)
	pw := d.cfg.DispersionWeight * math.Max(mu, 1) * math.Max(mu, 1)
	var a, bb float64
	if st.disp != nil {
		a, bb = float64(st.disp.A[wi]), float64(st.disp.B[wi])
	}
	c := (a + pw*prior) / (bb + pw)
	return math.Min(4, math.Max(d.cfg.DispersionFloor, c))
}

// dispUpdate folds the windows that end at bucket e (non-overlapping: (e+1) % w == 0) into the
// term's and the global dispersion sums and score calibration. Windows inside episodes count
// too (winsorised): skipping them let a low estimate hide the tail that should raise it.
func (d *SpikeDetector) dispUpdate(st *termState, e int64) {
	if e-st.created < dispMinAge {
		return // the level is still forming
	}
	for wi, w := range d.cfg.Windows {
		if wi >= 8 || (e+1)%int64(w) != 0 {
			continue
		}
		mu := d.expected(st, e, w)
		if mu < 0.5 {
			continue // nothing to learn about dispersion from near-empty windows
		}
		x := float64(st.windowSum(e, w))
		c2 := math.Max(d.c2(st, wi, mu), dispWinsorFloor)
		sd := math.Sqrt(mu + c2*mu*mu)
		dev := x - mu
		if lim := dispWinsorSD * sd; dev > lim {
			dev, x = lim, mu+lim
		}
		num := dev*dev - x
		den := mu * mu
		if st.disp == nil {
			st.disp = &dispersion{}
			for i := range st.disp.Q {
				st.disp.Q[i] = calTarget
			}
		}
		if d.dispG.Q[wi] == 0 {
			d.dispG.Q[wi] = calTarget
		}
		sc := 0.0
		if raw := float64(st.windowSum(e, w)); raw > mu {
			sc = nbScore(int(raw), mu, d.c2(st, wi, mu))
		}
		calUpdate(&st.disp.Q[wi], sc)
		calUpdate(&d.dispG.Q[wi], sc)
		st.disp.N[wi]++
		k := float32(1 - float64(w)/dispMemoryBuckets)
		st.disp.A[wi] = st.disp.A[wi]*k + float32(num)
		st.disp.B[wi] = st.disp.B[wi]*k + float32(den)
		kg := float32(1 - float64(w)/(dispMemoryBuckets*100))
		d.dispG.A[wi] = d.dispG.A[wi]*kg + float32(num)
		d.dispG.B[wi] = d.dispG.B[wi]*kg + float32(den)
		d.changeUpdate(st, e, w, wi, k, kg)
	}
	if (e+1)%riseBlock == 0 && st.disp != nil {
		d.riseUpdate(st, e)
	}
}

// calUpdate moves a running quantile estimate q towards the calQuantile of the scores it sees.
func calUpdate(q *float32, score float64) {
	if score > float64(*q) {
		*q += calStep * calQuantile
	} else {
		*q -= calStep * (1 - calQuantile)
	}
	if *q < calTarget {
		*q = calTarget
	}
}

// calFactor is what min_score is multiplied by for the term's window wi (>= 1).
func (d *SpikeDetector) calFactor(st *termState, wi int) float64 {
	g := float64(d.dispG.Q[wi])
	if g < calTarget {
		g = calTarget
	}
	q := g
	if st.disp != nil {
		n := float64(st.disp.N[wi])
		q = (n*float64(st.disp.Q[wi]) + calYoung*g) / (n + calYoung)
	}
	return math.Max(1, q/calTarget)
}

// usualFor describes the slot of bucket b for explanations: "a Tuesday at 14:00".
func (d *SpikeDetector) usualFor(b int64) string {
	t := d.timeOf(b)
	return "a " + t.Weekday().String() + " at " + t.Format("15:00") + " UTC"
}

func (p *termProfile) clone() *termProfile {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func (p *dispersion) clone() *dispersion {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// sane returns p, or nil when a restored profile holds values no run can produce (NaN,
// infinite or negative sums: a corrupt snapshot), so the term relearns it instead of alerting
// on garbage.
func (p *termProfile) sane() *termProfile {
	if p == nil {
		return nil
	}
	for _, slots := range [][]float32{p.HodS[:], p.HodE[:], p.DowS[:], p.DowE[:]} {
		for _, v := range slots {
			if !finite32(v) || v < 0 {
				return nil
			}
		}
	}
	p.cacheHour, p.cacheF = -1, 0
	return p
}

// sane returns p (nil stays nil), or a fresh model when a restored one holds impossible values.
func (p *dispersion) sane() *dispersion {
	if p == nil {
		return nil
	}
	for i := range p.A {
		if !finite32(p.A[i]) || !finite32(p.B[i]) || p.B[i] < 0 || !finite32(p.Q[i]) || p.Q[i] < 0 || p.Q[i] > 300 || !finite32(p.N[i]) || p.N[i] < 0 ||
			!finite32(p.CA[i]) || !finite32(p.CB[i]) || p.CB[i] < 0 || !finite32(p.CQ[i]) || p.CQ[i] < 0 || p.CQ[i] > 300 || !finite32(p.Rise) || p.Rise < 0 {
			return &dispersion{}
		}
	}
	return p
}

func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

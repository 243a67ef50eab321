package alert

import (
	"fmt"
	"math"
	"time"
)

// The change test (a spike rule's change_score). The seasonal test asks whether a window is
// improbable for this term at this weekday and hour; its dispersion c² carries the day-to-day
// variation of a term's level, so on real mention streams (../shared/eval/alerts) a count 3×
// the usual for the slot is often unremarkable (c² 0.1–0.3 gives a coefficient of variation of
// 0.3–0.55 at every window size). People judge a burst against the last hour instead: a term
// that was steady at 9 per 5 minutes for an hour and jumps to 35 has changed, whatever its
// usual Monday evening looks like. The change test compares the window with the term's own
// rate over the rest of the ring (the changeMinBase..ringBuckets−w buckets just before it),
// carried to the window by the seasonal profile, under a negative binomial whose c² is the
// short-term dispersion changeC2 plus the sampling error of that recent rate. It fires only
// where the count is also ExitRatio × the seasonal expectation, so a return to normal after
// a quiet hour is not news.

// changeMinBase is the fewest baseline buckets the change test needs: windows longer than
// ringBuckets − changeMinBase buckets have no change test.
const changeMinBase = 30

// changeC2Prior is the short-term overdispersion of a term's rate around its recent level
// (minutes to an hour, as opposed to the day-to-day variation in the seasonal model's c²)
// assumed before evidence; each term's own estimate (dispersion.CA/CB) replaces it, shrunk
// towards the all-terms one. changeC2Floor bounds it below.
const (
	changeC2Prior = 0.05
	changeC2Floor = 0.02
)

// changePrior is the pseudo-count shrinking the recent rate towards the seasonal expectation
// (a term with 2 mentions in the last hour is not a term whose rate is known to be 2).
const changePrior = 3.0

// changeModel returns the change test's expectation and c² for the w buckets ending at b:
// μ = the seasonal expectation of the window × (recent count + prior)/(recent expectation +
// prior). ok is false when the ring does not hold changeMinBase buckets of the term's history
// before the window.
func (d *SpikeDetector) changeModel(st *termState, b int64, w int) (mu, c2 float64, ok bool) {
	mu, sampling, ok := d.changeBase(st, b, w)
	if !ok {
		return 0, 0, false
	}
	return mu, d.changeC2(st, d.windowIndex(w), mu) + sampling, true
}

// changeBase is changeModel's μ and the recent rate's own sampling error 1/(recent+prior), the
// part of c² that is not the term's short-term dispersion.
func (d *SpikeDetector) changeBase(st *termState, b int64, w int) (mu, sampling float64, ok bool) {
	base := ringBuckets - w
	if base < changeMinBase {
		return 0, 0, false
	}
	end := b - int64(w) // last baseline bucket
	if end-int64(base)+1 <= st.created || !d.warm(end-int64(base)+1) {
		return 0, 0, false
	}
	recent := float64(st.windowSum(end, base))
	recentExp := d.expected(st, end, base)
	mu = d.expected(st, b, w) * (recent + changePrior) / (recentExp + changePrior)
	return mu, 1 / (recent + changePrior), true
}

// changeC2 is the term's short-term c² for window index wi, shrunk towards the all-terms
// estimate (itself shrunk towards changeC2Prior) like c2At.
func (d *SpikeDetector) changeC2(st *termState, wi int, mu float64) float64 {
	prior := changeC2Prior
	if gb := d.dispG.CB[wi]; gb > 0 {
		const pw = 1000.0
		prior = (float64(d.dispG.CA[wi]) + pw*prior) / (float64(gb) + pw)
	}
	prior = math.Max(0, prior)
	pw := d.cfg.DispersionWeight * math.Max(mu, 1) * math.Max(mu, 1)
	var a, bb float64
	if st.disp != nil {
		a, bb = float64(st.disp.CA[wi]), float64(st.disp.CB[wi])
	}
	return math.Min(4, math.Max(changeC2Floor, (a+pw*prior)/(bb+pw)))
}

// changeCal is what change_score is multiplied by for the term's window wi (>= 1): the
// change test's own calibration, as calFactor is the seasonal test's.
func (d *SpikeDetector) changeCal(st *termState, wi int) float64 {
	g := math.Max(calTarget, float64(d.dispG.CQ[wi]))
	q := g
	if st.disp != nil {
		n := float64(st.disp.N[wi])
		q = (n*math.Max(calTarget, float64(st.disp.CQ[wi])) + calYoung*g) / (n + calYoung)
	}
	return math.Max(1, q/calTarget)
}

// changeUpdate folds the window of w buckets ending at e into the change test's dispersion
// sums and calibration (called from dispUpdate for non-overlapping windows, with its decay
// factors k for the term and kg for all terms). The excess variance over the negative binomial
// counts the recent rate's own sampling error (μ²/(recent+prior)) as known.
func (d *SpikeDetector) changeUpdate(st *termState, e int64, w, wi int, k, kg float32) {
	mu, sampling, ok := d.changeBase(st, e, w)
	if !ok || mu < 0.5 {
		return
	}
	c2 := d.changeC2(st, wi, mu) + sampling
	raw := float64(st.windowSum(e, w))
	x := raw
	sd := math.Sqrt(mu + math.Max(c2, dispWinsorFloor)*mu*mu)
	dev := x - mu
	if lim := dispWinsorSD * sd; dev > lim {
		dev, x = lim, mu+lim
	}
	num := dev*dev - x - sampling*mu*mu
	den := mu * mu
	if d.dispG.CQ[wi] == 0 {
		d.dispG.CQ[wi] = calTarget
	}
	if st.disp.CQ[wi] == 0 {
		st.disp.CQ[wi] = calTarget
	}
	sc := 0.0
	if raw > mu {
		sc = nbScore(int(raw), mu, c2)
	}
	calUpdate(&st.disp.CQ[wi], sc)
	calUpdate(&d.dispG.CQ[wi], sc)
	st.disp.CA[wi] = st.disp.CA[wi]*k + float32(num)
	st.disp.CB[wi] = st.disp.CB[wi]*k + float32(den)
	d.dispG.CA[wi] = d.dispG.CA[wi]*kg + float32(num)
	d.dispG.CB[wi] = d.dispG.CB[wi]*kg + float32(den)
}

// explainChange is the reason, expectation and score of a change-test firing.
func (d *SpikeDetector) explainChange(st *termState, b int64, w, c int, r *cRule) (reason string, mu, score float64) {
	mu, c2, _ := d.changeModel(st, b, w)
	base := ringBuckets - w
	recent := st.windowSum(b-int64(w), base)
	usual := d.expected(st, b, w)
	score = nbScore(c, mu, c2)
	reason = fmt.Sprintf("%s %q: %d mentions in %s, about %.1f× its rate over the %s before (%d mentions; expected %s ± %s at that rate) and %.1f× the usual for %s (%s); p=%.0e (change score %.1f ≥ %.1f × %.2f calibration, ≥%.1f× the recent rate); syndicated copies counted once",
		st.kind, st.display, c, shortDur(time.Duration(w)*d.cfg.Bucket), float64(c)/math.Max(mu, 1e-9),
		shortDur(time.Duration(base)*d.cfg.Bucket), recent, fmtNum(mu), fmtNum(math.Sqrt(mu+c2*mu*mu)),
		float64(c)/math.Max(usual, 1e-9), d.usualFor(b), fmtNum(usual), math.Pow(10, -score), score, r.ChangeScore, d.changeCal(st, d.windowIndex(w)), r.ChangeRatio)
	return reason, mu, score
}

// The rise test (a spike rule's rise_score): a CUSUM per term over 15-minute blocks of the
// log-likelihood ratio of "the rate is riseRatio × the seasonal expectation" against "the rate
// is as expected", under the seasonal model's negative binomial. Slow rises — a story that
// builds over an afternoon to twice or three times a term's usual level — give no single
// window the seasonal or change test finds improbable, but each block adds evidence.

// riseBlock is the rise test's block in buckets.
const riseBlock = 15

// riseMinMu: a block expected to hold fewer mentions resets the rise test (a light term's
// quarter hour says nothing about its rate; its bursts are the seasonal and change tests').
const riseMinMu = 2.0

// riseMinAge: no rise evidence before the term and the stream are a day old — "the usual" of
// an hour means nothing before the detector has seen that hour.
const riseMinAge = 24 * time.Hour

// riseRatio is the rate, relative to the seasonal expectation, the rise test's alternative
// hypothesis assumes (2–3 gave about the same on ../shared/eval/alerts while it was developed; 3 fires less on the
// synthetic stream's hours-long level wander).
const riseRatio = 3.0

// riseMaxRun bounds how old the rise test's evidence may be (12 h): a CUSUM that has hovered
// above 0 since yesterday describes no rise.
const riseMaxRun = 12 * time.Hour

// riseUpdate adds the block of riseBlock buckets ending at e to the term's CUSUM.
func (d *SpikeDetector) riseUpdate(st *termState, e int64) {
	if !d.warm(e-riseBlock+1) || time.Duration(e-riseBlock+1-st.created)*d.cfg.Bucket < riseMinAge || time.Duration(e-riseBlock+1-d.first)*d.cfg.Bucket < riseMinAge {
		return
	}
	mu := d.expected(st, e, riseBlock)
	if mu < riseMinMu {
		st.disp.Rise, st.disp.RiseFrom = 0, e+1
		return
	}
	x := float64(st.windowSum(e, riseBlock))
	c2 := d.c2(st, d.windowIndex(riseBlock), mu)
	r := 1 / c2
	k := riseRatio
	llr := r*math.Log((r+mu)/(r+k*mu)) + x*math.Log(k*(r+mu)/(r+k*mu))
	s := float64(st.disp.Rise) + llr/math.Ln10
	if time.Duration(e+1-st.disp.RiseFrom)*d.cfg.Bucket > riseMaxRun {
		// Evidence older than riseMaxRun is not a rise any more: restart from this block.
		s, st.disp.RiseFrom = llr/math.Ln10, e-riseBlock+1
	}
	if s <= 0 {
		st.disp.Rise, st.disp.RiseFrom = 0, e+1
		return
	}
	st.disp.Rise = float32(s)
}

// explainRise is the reason, seasonal expectation and accumulated evidence (the score) of a
// rise-test firing; call it before the firing resets the CUSUM.
func (d *SpikeDetector) explainRise(st *termState, b int64, w, c int, r *cRule) (reason string, usual, evidence float64) {
	from := d.timeOf(st.disp.RiseFrom)
	evidence = float64(st.disp.Rise)
	usual = d.expected(st, b, w)
	reason = fmt.Sprintf("%s %q: a sustained rise since %s: %d mentions in the last %s, %.1f× the usual for %s (expected %s); evidence for a rate %.1f× the usual accumulated over %s blocks reached %.1f (rise score ≥ %.1f); syndicated copies counted once",
		st.kind, st.display, from.Format("15:04 UTC"), c, shortDur(time.Duration(w)*d.cfg.Bucket), float64(c)/math.Max(usual, 1e-9),
		d.usualFor(b), fmtNum(usual), riseRatio, shortDur(riseBlock*d.cfg.Bucket), evidence, r.RiseScore)
	return reason, usual, evidence
}

package alert

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// poissonLogSF returns log10 P(X >= c) for X ~ Poisson(lambda). It sums the upper tail from c
// (exact up to float rounding) for c above the mean and uses the complement below it. It is
// pure and cheap for the counts the detector sees (c up to a few thousand).
func poissonLogSF(c int, lambda float64) float64 {
	if c <= 0 {
		return 0
	}
	if lambda <= 0 {
		return math.Inf(-1)
	}
	// log pmf(k) = k ln λ − λ − ln k!
	logPMF := func(k int) float64 {
		lg, _ := math.Lgamma(float64(k) + 1)
		return float64(k)*math.Log(lambda) - lambda - lg
	}
	if float64(c) > lambda {
		// Upper tail: terms decrease; sum relative to the first term.
		l0 := logPMF(c)
		sum, term := 1.0, 1.0
		for k := c + 1; k < c+100000; k++ {
			term *= lambda / float64(k)
			sum += term
			if term < sum*1e-12 {
				break
			}
		}
		return (l0 + math.Log(sum)) / math.Ln10
	}
	// c <= λ: P(X>=c) = 1 − P(X<=c−1); the tail is large, so direct complement is accurate.
	cdf := 0.0
	for k := 0; k < c; k++ {
		cdf += math.Exp(logPMF(k))
	}
	if cdf >= 1 {
		return math.Log10(1e-300)
	}
	return math.Log10(1 - cdf)
}

// poissonScore is −log10 P(X >= c | λ): how surprising c mentions are when λ are expected.
func poissonScore(c int, lambda float64) float64 {
	s := -poissonLogSF(c, lambda)
	if math.IsInf(s, 1) || s > 300 {
		return 300
	}
	if s < 0 {
		return 0
	}
	return s
}

// nbScore is −log10 P(X >= c) for X negative binomial with mean mu and variance
// mu + c2·mu² (c2 is the squared coefficient of variation of the term's underlying rate; 0 is
// Poisson). It uses the regularised incomplete beta function, P(X >= c) = I_{1−p}(c, r) with
// r = 1/c2 and p = r/(r+mu), so it costs a few dozen operations at any count.
func nbScore(c int, mu, c2 float64) float64 {
	if c2 < 1e-6 {
		return poissonScore(c, mu)
	}
	if c <= 0 {
		return 0
	}
	if mu <= 0 {
		return 300
	}
	r := 1 / c2
	q := mu / (r + mu) // 1 − p
	sf := mathext.RegIncBeta(float64(c), r, q)
	if sf <= 0 || math.IsNaN(sf) {
		return 300
	}
	s := -math.Log10(sf)
	if s > 300 {
		return 300
	}
	if s < 0 {
		return 0
	}
	return s
}

// nbMinFiringCount returns the smallest count c with c >= minCount, c >= ratio*mu and
// nbScore(c, mu, c2) >= minScore, capped at 65535 (exponential then binary search: the score
// grows with c).
func nbMinFiringCount(mu, c2 float64, minCount int, ratio, minScore float64) int {
	lo := minCount
	if r := int(math.Ceil(ratio * mu)); r > lo {
		lo = r
	}
	if lo < 1 {
		lo = 1
	}
	if lo >= 65535 {
		return 65535
	}
	if nbScore(lo, mu, c2) >= minScore {
		return lo
	}
	step := max(1, lo/4)
	hi := lo + step
	for nbScore(hi, mu, c2) < minScore {
		lo = hi
		step *= 2
		hi = lo + step
		if hi >= 65535 {
			if nbScore(65535, mu, c2) < minScore {
				return 65535
			}
			hi = 65535
			break
		}
	}
	// score(lo) < minScore <= score(hi)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if nbScore(mid, mu, c2) >= minScore {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

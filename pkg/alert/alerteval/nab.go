package alerteval

import (
	"math"
	"sort"
	"time"
)

// NAB cost matrix of the "standard" application profile (Lavin & Ahmad 2015, Table 1).
const (
	nabTP        = 1.0
	nabFP        = 0.11
	nabFN        = 1.0
	nabProbation = 0.15
)

// nabScaledSigmoid is the NAB position weight: 2·sigmoid(−5x) − 1, so −1 (the left edge of a
// window) scores 0.987, 0 (its right edge) 0, and positions past a window approach −1 (−1 from
// 3 window lengths on).
func nabScaledSigmoid(x float64) float64 {
	if x >= 3 {
		return -1
	}
	return 2/(1+math.Exp(5*x)) - 1
}

// NABRaw is a detector's raw NAB score on one series with the bounds it is normalised by.
type NABRaw struct {
	Score   float64 // raw score
	Null    float64 // score of a detector that never fires (−A_FN per scored window)
	Perfect float64 // score of a perfect detector (A_TP per scored window)
}

// Normalized is 100·(score−null)/(perfect−null): 0 never fires, 100 perfect.
func (n NABRaw) Normalized() float64 {
	if n.Perfect == n.Null {
		return 0
	}
	return 100 * (n.Score - n.Null) / (n.Perfect - n.Null)
}

// Add sums raw scores (the benchmark normalises over the whole corpus).
func (n NABRaw) Add(o NABRaw) NABRaw {
	return NABRaw{Score: n.Score + o.Score, Null: n.Null + o.Null, Perfect: n.Perfect + o.Perfect}
}

// NABScore scores detections on one series the way NAB's sweeper does for a binary detector:
// each detection is placed on the row (bucket) that contains it; rows in the probationary
// period (the first 15% of the file, at most 750 rows) are ignored; inside a window only the
// best (earliest) detection counts, weighted A_TP·σ(position)/σ(−1) with position −(right−i+1)/
// width; outside, every detection counts A_FP·σ(distance past the previous window's right
// edge / (its width−1)), and detections before the first window count −A_FP; every scored
// window with no detection costs −A_FN.
func NABScore(s *Series, detections []time.Time) NABRaw {
	n := len(s.Times)
	flag := make([]bool, n)
	for _, d := range detections {
		i := sort.Search(n, func(i int) bool { return s.Times[i].After(d) }) - 1
		if i >= 0 {
			flag[i] = true
		}
	}
	prob := int(math.Min(math.Floor(nabProbation*float64(n)), nabProbation*5000))
	maxTP := nabScaledSigmoid(-1)
	type win struct{ l, r int }
	var wins []win
	for _, w := range s.Windows {
		l := sort.Search(n, func(i int) bool { return !s.Times[i].Before(w[0]) })
		r := sort.Search(n, func(i int) bool { return s.Times[i].After(w[1]) }) - 1
		if l < n && r >= l {
			wins = append(wins, win{l, r})
		}
	}
	var res NABRaw
	best := map[int]float64{} // window → best score, only windows with a scored row
	fp := 0.0
	wi := 0
	prevRight, prevWidth := -1, 0.0
	for i := 0; i < n; i++ {
		for wi < len(wins) && wins[wi].r < i {
			prevRight, prevWidth = wins[wi].r, float64(wins[wi].r-wins[wi].l+1)
			wi++
		}
		in := wi < len(wins) && wins[wi].l <= i
		if i < prob {
			continue
		}
		if in {
			if _, ok := best[wi]; !ok {
				best[wi] = -nabFN
			}
		}
		if !flag[i] {
			continue
		}
		if in {
			width := float64(wins[wi].r - wins[wi].l + 1)
			sc := nabScaledSigmoid(-float64(wins[wi].r-i+1)/width) * nabTP / maxTP
			best[wi] = math.Max(best[wi], sc)
			continue
		}
		pos := 3.0
		if prevRight >= 0 {
			pos = float64(i-prevRight) / (prevWidth - 1)
		}
		fp += nabScaledSigmoid(pos) * nabFP
	}
	res.Score = fp
	for _, v := range best {
		res.Score += v
	}
	res.Null = -nabFN * float64(len(best))
	res.Perfect = nabTP * float64(len(best))
	return res
}

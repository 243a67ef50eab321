package ner

import "sort"

// Counts accumulates true positives, false positives and false negatives.
type Counts struct{ TP, FP, FN int }

// P returns precision.
func (c Counts) P() float64 { return ratio(c.TP, c.TP+c.FP) }

// R returns recall.
func (c Counts) R() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 returns the harmonic mean of P and R.
func (c Counts) F1() float64 {
	p, r := c.P(), c.R()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Scorer computes entity-level exact-match precision/recall/F1 per type.
// Not safe for concurrent use.
type Scorer struct {
	ByType map[string]*Counts
}

// NewScorer returns an empty Scorer.
func NewScorer() *Scorer { return &Scorer{ByType: map[string]*Counts{}} }

// Add scores one sentence's predicted spans against gold spans.
func (s *Scorer) Add(gold, pred []TokenSpan) {
	g := map[TokenSpan]bool{}
	for _, x := range gold {
		g[x] = true
		s.c(x.Type).FN++
	}
	for _, x := range pred {
		if g[x] {
			s.c(x.Type).TP++
			s.c(x.Type).FN--
		} else {
			s.c(x.Type).FP++
		}
	}
}

func (s *Scorer) c(t string) *Counts {
	c := s.ByType[t]
	if c == nil {
		c = &Counts{}
		s.ByType[t] = c
	}
	return c
}

// Micro returns the micro-averaged counts over the given types.
func (s *Scorer) Micro(types ...string) Counts {
	var out Counts
	for _, t := range types {
		if c := s.ByType[t]; c != nil {
			out.TP += c.TP
			out.FP += c.FP
			out.FN += c.FN
		}
	}
	return out
}

// Types returns the types seen, sorted.
func (s *Scorer) Types() []string {
	var out []string
	for t := range s.ByType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

package evalscore

import "strings"

// Snippets are the counts of the snippet metric of ../shared/eval/multilingual (trafilatura's
// evaluation): a "with" snippet found in the extraction is a true positive, missed a false
// negative; a "without" snippet found is a false positive, absent a true negative. Text and
// snippets are compared after collapsing every run of whitespace to one space.
type Snippets struct {
	TP, FP, FN, TN int
}

// ScoreSnippets counts one page's snippets against its extracted text.
func ScoreSnippets(text string, with, without []string) Snippets {
	t := collapse(text)
	var s Snippets
	for _, w := range with {
		if strings.Contains(t, collapse(w)) {
			s.TP++
		} else {
			s.FN++
		}
	}
	for _, w := range without {
		if strings.Contains(t, collapse(w)) {
			s.FP++
		} else {
			s.TN++
		}
	}
	return s
}

// Add sums counts over pages (the metric is micro-averaged).
func (s Snippets) Add(o Snippets) Snippets {
	return Snippets{s.TP + o.TP, s.FP + o.FP, s.FN + o.FN, s.TN + o.TN}
}

// Precision is TP/(TP+FP).
func (s Snippets) Precision() float64 { return ratio(s.TP, s.TP+s.FP) }

// Recall is TP/(TP+FN).
func (s Snippets) Recall() float64 { return ratio(s.TP, s.TP+s.FN) }

// F1 is the harmonic mean of Precision and Recall.
func (s Snippets) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Accuracy is (TP+TN)/all.
func (s Snippets) Accuracy() float64 { return ratio(s.TP+s.TN, s.TP+s.FP+s.FN+s.TN) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

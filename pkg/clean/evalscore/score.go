// Package evalscore implements the article-extraction benchmark metric used by
// ../shared/eval/extraction: 4-token shingles over \w+ tokens, per-page
// precision/recall over shingle multisets, macro-averaged, F1 of the means.
package evalscore

import (
	"unicode"
)

// Tokens returns every maximal run of Unicode word characters (letters, marks,
// digits, connector punctuation — Python's \w), case kept.
func Tokens(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if isWord(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func isWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.IsMark(r) || r == '_' || unicode.Is(unicode.Pc, r)
}

// Shingles counts the 4-token shingles of s; a text with 1–3 tokens is one shingle, an empty
// text has none.
func Shingles(s string) map[string]int {
	toks := Tokens(s)
	m := map[string]int{}
	if len(toks) == 0 {
		return m
	}
	if len(toks) < 4 {
		m[join(toks)]++
		return m
	}
	for i := 0; i+4 <= len(toks); i++ {
		m[join(toks[i:i+4])]++
	}
	return m
}

func join(t []string) string {
	n := 0
	for _, s := range t {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for i, s := range t {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, s...)
	}
	return string(b)
}

// Page holds one page's normalised counts.
type Page struct {
	TP, FP, FN float64
}

// ScorePage compares a prediction with the truth.
func ScorePage(truth, pred string) Page {
	t, p := Shingles(truth), Shingles(pred)
	var tp, fp, fn float64
	for k, tc := range t {
		pc := p[k]
		tp += float64(min(tc, pc))
		if tc > pc {
			fn += float64(tc - pc)
		}
	}
	for k, pc := range p {
		if tc := t[k]; pc > tc {
			fp += float64(pc - tc)
		}
	}
	if s := tp + fp + fn; s > 0 {
		tp, fp, fn = tp/s, fp/s, fn/s
	}
	return Page{tp, fp, fn}
}

// Precision is the page precision (1 when fp = fn = 0; 0 when tp = fp = 0).
func (p Page) Precision() float64 {
	if p.FP == 0 && p.FN == 0 {
		return 1
	}
	if p.TP+p.FP == 0 {
		return 0
	}
	return p.TP / (p.TP + p.FP)
}

// Recall is the page recall (1 when fp = fn = 0; 0 when tp = fn = 0).
func (p Page) Recall() float64 {
	if p.FP == 0 && p.FN == 0 {
		return 1
	}
	if p.TP+p.FN == 0 {
		return 0
	}
	return p.TP / (p.TP + p.FN)
}

// F1 of a single page (for diagnostics only; the benchmark uses Aggregate).
func (p Page) F1() float64 {
	pr, rc := p.Precision(), p.Recall()
	if pr+rc == 0 {
		return 0
	}
	return 2 * pr * rc / (pr + rc)
}

// Result is the aggregate score.
type Result struct {
	Precision, Recall, F1 float64
	Pages                 int
}

// Aggregate macro-averages precision over pages with tp+fp > 0 and recall over pages with
// tp+fn > 0, then takes F1 of the two means.
func Aggregate(pages []Page) Result {
	var ps, rs float64
	var pn, rn int
	for _, p := range pages {
		if p.TP+p.FP > 0 {
			ps += p.Precision()
			pn++
		}
		if p.TP+p.FN > 0 {
			rs += p.Recall()
			rn++
		}
	}
	r := Result{Pages: len(pages)}
	if pn > 0 {
		r.Precision = ps / float64(pn)
	}
	if rn > 0 {
		r.Recall = rs / float64(rn)
	}
	if r.Precision+r.Recall > 0 {
		r.F1 = 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
	}
	return r
}

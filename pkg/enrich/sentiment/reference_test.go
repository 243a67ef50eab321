package sentiment

// Score, splitSentences and Compound as they were before Score reused one scratch across
// sentences (the oracle of TestScoreMatchesReference and FuzzScoreMatchesReference).

import (
	"math"
	"strings"
	"unicode"
)

// Score returns the mean sentence compound score of text and the number of sentences that
// carried sentiment. Text without any lexicon word scores 0.
func scoreReference(text string) (score float64, n int) {
	sum, cnt := 0.0, 0
	for _, s := range splitSentencesReference(text) {
		c, ok := compoundReference(s)
		if !ok {
			continue
		}
		sum += c
		cnt++
	}
	if cnt == 0 {
		return 0, 0
	}
	return sum / float64(cnt), cnt
}

func splitSentencesReference(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '.', '!', '?', '\n':
			if i+1 >= len(text) || text[i+1] == ' ' || text[i+1] == '\n' || text[i+1] == '"' {
				if i+1-start > 1 {
					out = append(out, text[start:i+1])
				}
				start = i + 1
			}
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// Compound returns VADER's normalised compound score of one sentence; ok is false when no
// word of the sentence is in the lexicon.
func compoundReference(sentence string) (float64, bool) {
	lx := lexicon()
	raw := strings.Fields(sentence)
	words := make([]string, 0, len(raw))
	caps := make([]bool, 0, len(raw))
	anyLower := false
	for _, w := range raw {
		w = strings.TrimFunc(w, func(r rune) bool {
			return unicode.IsPunct(r) && r != '\'' && r != '-' || r == '“' || r == '”' || r == '‘' || r == '’'
		})
		if w == "" {
			continue
		}
		w = strings.ReplaceAll(w, "’", "'")
		up := shouted(w)
		if !up {
			anyLower = true
		}
		words = append(words, strings.ToLower(w))
		caps = append(caps, up)
	}
	var vals []float64
	butAt := -1
	found := false
	for i, w := range words {
		if w == "but" && butAt < 0 {
			butAt = i
		}
		v, ok := lx[w]
		if !ok || boosters[w] != 0 {
			vals = append(vals, 0)
			continue
		}
		found = true
		if caps[i] && anyLower {
			if v > 0 {
				v += cIncr
			} else {
				v -= cIncr
			}
		}
		for k := 1; k <= 3 && i-k >= 0; k++ {
			p := words[i-k]
			if b, ok := boosters[p]; ok {
				s := b
				if v < 0 {
					s = -b
				}
				if caps[i-k] && anyLower {
					if v > 0 {
						s += cIncr
					} else {
						s -= cIncr
					}
				}
				switch k {
				case 2:
					s *= 0.95
				case 3:
					s *= 0.9
				}
				v += s
			}
			if negations[p] || strings.HasSuffix(p, "n't") {
				v *= nScalar
			}
		}
		vals = append(vals, v)
	}
	if !found {
		return 0, false
	}
	sum := 0.0
	for i, v := range vals {
		if butAt >= 0 {
			if i < butAt {
				v *= 0.5
			} else if i > butAt {
				v *= 1.5
			}
		}
		sum += v
	}
	if strings.Count(sentence, "!") > 0 {
		amp := math.Min(float64(strings.Count(sentence, "!")), 4) * 0.292
		if sum > 0 {
			sum += amp
		} else if sum < 0 {
			sum -= amp
		}
	}
	c := sum / math.Sqrt(sum*sum+alpha)
	return math.Max(-1, math.Min(1, c)), true
}

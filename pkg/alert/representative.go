package alert

import (
	"sort"
	"strings"
	"unicode"

	"github.com/newsflow/newsflow/pkg/article"
)

// maxRepresentativeCandidates bounds the articles of a burst compared pairwise (200² title
// comparisons per alert at most).
const maxRepresentativeCandidates = 200

// sameStory is the title-word Jaccard similarity from which two articles tell the same story.
const sameStory = 0.5

// representative picks up to n articles that show what a burst is about: the candidates
// (newest first) are ranked by centrality — the summed title-word similarity to every other
// candidate, so the story most of the burst tells comes first — and taken greedily, skipping
// any that tells the same story as one already taken (distinct stories), then, if fewer than
// n distinct stories exist, the next most central. Ties keep the newer article. Pure; cost
// O(len(cands)²) word-set comparisons.
func representative(cands []article.AlertArticle, n int) []article.AlertArticle {
	if n <= 0 || len(cands) == 0 {
		return nil
	}
	words := make([]map[string]struct{}, len(cands))
	for i, c := range cands {
		words[i] = titleWords(c.Title)
	}
	central := make([]float64, len(cands))
	for i := range cands {
		for j := i + 1; j < len(cands); j++ {
			s := jaccard(words[i], words[j])
			central[i] += s
			central[j] += s
		}
	}
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return central[order[x]] > central[order[y]] })
	var picked []int
	taken := make([]bool, len(cands))
	for _, i := range order {
		if len(picked) == n {
			break
		}
		dup := false
		for _, p := range picked {
			if jaccard(words[i], words[p]) >= sameStory {
				dup = true
				break
			}
		}
		if !dup {
			picked = append(picked, i)
			taken[i] = true
		}
	}
	for _, i := range order {
		if len(picked) == n {
			break
		}
		if !taken[i] {
			picked = append(picked, i)
		}
	}
	out := make([]article.AlertArticle, len(picked))
	for k, i := range picked {
		out[k] = cands[i]
	}
	return out
}

// titleWords is the set of lower-cased words of at least 3 letters or digits of a title.
func titleWords(t string) map[string]struct{} {
	out := map[string]struct{}{}
	for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) >= 3 {
			out[w] = struct{}{}
		}
	}
	return out
}

func jaccard(a, b map[string]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	inter := 0
	for w := range a {
		if _, ok := b[w]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

package enrich

import (
	"sort"
	"strings"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// categoryCues are word prefixes per IPTC-like top-level media topic (English). A category
// is assigned when its cues make up at least 0.6% of the article's words and at least three
// distinct cue words occur; at most three categories, strongest first. Deliberately simple and
// explainable: the matched cues are the explanation.
var categoryCues = map[string][]string{
	"politics":                        {"president", "minister", "government", "parliament", "election", "vote", "senat", "congress", "diplomac", "diplomat", "treaty", "sanction", "policy", "party", "kremlin", "white house", "campaign", "lawmaker", "opposition"},
	"conflict, war and peace":         {"war", "troop", "military", "invasion", "invade", "attack", "army", "soldier", "missile", "border", "conflict", "ceasefire", "rebel", "weapon", "nato", "combat", "defence", "defense", "bomb", "nuclear arms"},
	"economy, business and finance":   {"market", "econom", "inflation", "bank", "stock", "share", "investor", "company", "compan", "profit", "revenue", "trade", "tariff", "gdp", "price", "oil", "currency", "interest rate", "earnings"},
	"crime, law and justice":          {"police", "court", "judge", "trial", "arrest", "crime", "criminal", "prosecut", "lawsuit", "sentence", "murder", "investigat", "fraud", "prison", "suspect"},
	"health":                          {"health", "hospital", "virus", "vaccin", "disease", "patient", "covid", "pandemic", "doctor", "medical", "infection", "cancer"},
	"science and technology":          {"scien", "research", "technolog", "software", "artificial intelligence", "robot", "computer", "internet", "digital", "space", "satellite", "data", "cyber", "smartphone"},
	"sport":                           {"match", "league", "championship", "tournament", "goal", "coach", "olympic", "football", "soccer", "tennis", "player", "team", "season", "cup"},
	"environment":                     {"climate", "emission", "environment", "pollution", "carbon", "wildfire", "drought", "flood", "renewable", "biodiversity", "weather", "storm"},
	"arts, culture and entertainment": {"film", "movie", "music", "album", "concert", "actor", "actress", "festival", "museum", "art", "novel", "theatre", "theater", "television", "series"},
}

// cue is one entry of categoryCues split into words: an occurrence is a run of article words
// equal to words[:len-1] whose next word starts with the last one.
type cue struct {
	cat   string
	words []string
}

// allCues holds every cue; cuesByByte indexes them by their first byte; cueCats lists the
// categories in order.
var allCues, cuesByByte, cueCats = indexCues()

func indexCues() ([]cue, map[byte][]int, []string) {
	var all []cue
	by := map[byte][]int{}
	var cats []string
	for cat, cs := range categoryCues {
		cats = append(cats, cat)
		for _, c := range cs {
			by[c[0]] = append(by[c[0]], len(all))
			all = append(all, cue{cat, strings.Fields(c)})
		}
	}
	sort.Strings(cats)
	return all, by, cats
}

// categorize scores the categories of a text from its tokens (textutil.Tokenize): a cue's
// count is that of " "+cue in the text's lower-cased words joined by spaces.
func categorize(toks []textutil.Token, lang string) []string {
	if lang != "en" && lang != "" {
		return nil
	}
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		if textutil.IsWord(t.Text) {
			words = append(words, strings.ToLower(t.Text))
		}
	}
	if len(words) < 30 {
		return nil
	}
	counts := make([]int, len(allCues))
	for i, w := range words {
		for _, k := range cuesByByte[w[0]] {
			if cueAt(words[i:], allCues[k].words) {
				counts[k]++
			}
		}
	}
	n, distinct := map[string]int{}, map[string]int{}
	for k, c := range counts {
		if c > 0 {
			distinct[allCues[k].cat]++
			n[allCues[k].cat] += c
		}
	}
	type sc struct {
		cat string
		n   int
	}
	var scores []sc
	for _, cat := range cueCats {
		if distinct[cat] >= 3 && float64(n[cat]) >= 0.006*float64(len(words)) {
			scores = append(scores, sc{cat, n[cat]})
		}
	}
	sort.Slice(scores, func(i, j int) bool {
		if scores[i].n != scores[j].n {
			return scores[i].n > scores[j].n
		}
		return scores[i].cat < scores[j].cat
	})
	var out []string
	for i, s := range scores {
		if i == 3 {
			break
		}
		out = append(out, s.cat)
	}
	return out
}

// cueAt reports whether the cue words cw occur at the start of words: all but the last equal,
// the last a prefix.
func cueAt(words, cw []string) bool {
	if len(words) < len(cw) {
		return false
	}
	last := len(cw) - 1
	for j := 0; j < last; j++ {
		if words[j] != cw[j] {
			return false
		}
	}
	return strings.HasPrefix(words[last], cw[last])
}

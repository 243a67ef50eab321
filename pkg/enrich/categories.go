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

func categorize(text, lang string) []string {
	if lang != "en" && lang != "" {
		return nil
	}
	toks := textutil.Tokenize(text)
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		if textutil.IsWord(t.Text) {
			words = append(words, strings.ToLower(t.Text))
		}
	}
	if len(words) < 30 {
		return nil
	}
	joined := " " + strings.Join(words, " ") + " "
	type sc struct {
		cat string
		n   int
	}
	var scores []sc
	for cat, cues := range categoryCues {
		n, distinct := 0, 0
		for _, c := range cues {
			k := strings.Count(joined, " "+c)
			if k > 0 {
				distinct++
				n += k
			}
		}
		if distinct >= 3 && float64(n) >= 0.006*float64(len(words)) {
			scores = append(scores, sc{cat, n})
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

package alert

import (
	"hash/fnv"
	"strings"
	"unicode"

	"github.com/newsflow/newsflow/pkg/article"
)

// Term is one thing the alerter counts: a normalised entity, a keyword or a watch rule.
type Term struct {
	Key     string // stable key, "<kind>:<normalized>" ("ORG:acme corp", "keyword:rate cut", "watch:<rule id>")
	Kind    string // PER, ORG, LOC, MISC, keyword, watch
	Display string // human form for alerts
}

// termHash is the 64-bit FNV-1a hash of a term key, used for sharding and dedup.
func termHash(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return h.Sum64()
}

// Shard selects the terms this replica tracks: those whose key hash mod Count == Index.
// Each replica must see ALL articles (its own consumer group / distinct durable), so every
// term is tracked by exactly one replica and no alert is produced twice.
type Shard struct {
	Index int
	Count int
}

// Owns reports whether the shard tracks a term hash. The zero Shard owns everything.
func (s Shard) Owns(h uint64) bool {
	if s.Count <= 1 {
		return true
	}
	return h%uint64(s.Count) == uint64(s.Index)
}

// normalizeKey lowercases, trims and collapses spaces.
func normalizeKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.IndexFunc(s, unicode.IsSpace) < 0 {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// watchMatcher is a compiled watch rule.
type watchMatcher struct {
	rule      *Rule
	key       string
	words     []string // whole-word matches in title+text
	phrases   []string // substring matches
	entities  map[string]bool
	sources   map[string]bool
	languages map[string]bool
	tags      map[string]bool
}

func lowerSet(xs []string) map[string]bool {
	if len(xs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[normalizeKey(x)] = true
	}
	return m
}

func compileWatch(r *Rule) *watchMatcher {
	w := &watchMatcher{rule: r, key: KindWatch + ":" + r.ID,
		entities: lowerSet(r.Entities), sources: lowerSet(r.Sources),
		languages: lowerSet(r.Languages), tags: lowerSet(r.Tags)}
	for _, t := range r.Terms {
		w.words = append(w.words, normalizeKey(t))
	}
	for _, p := range r.Phrases {
		w.phrases = append(w.phrases, normalizeKey(p))
	}
	return w
}

// containsWord reports whether hay contains w delimited by non-letters/digits.
func containsWord(hay, w string) bool {
	for off := 0; ; {
		i := strings.Index(hay[off:], w)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(w)
		okL := i == 0 || !isWordByte(hay[i-1])
		okR := j == len(hay) || !isWordByte(hay[j])
		if okL && okR {
			return true
		}
		off = i + 1
	}
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80 || b == '_'
}

// match reports whether the article matches the watch entry. lowerText is the lowercased
// "title\ntext" (computed once per article, lazily).
func (w *watchMatcher) match(e *article.Enriched, lowerText func() string) bool {
	if w.sources != nil && !w.sources[normalizeKey(e.Source.Name)] && !w.sources[normalizeKey(e.Source.Domain)] {
		return false
	}
	if w.languages != nil {
		lang := e.Language
		if lang == "" {
			lang = e.Source.Language
		}
		if !w.languages[normalizeKey(lang)] {
			return false
		}
	}
	if w.tags != nil {
		ok := false
		for _, t := range e.Source.Tags {
			ok = ok || w.tags[normalizeKey(t)]
		}
		for _, t := range e.Tags {
			ok = ok || w.tags[normalizeKey(t)]
		}
		for _, t := range e.Categories {
			ok = ok || w.tags[normalizeKey(t)]
		}
		if !ok {
			return false
		}
	}
	if w.entities != nil {
		for _, en := range e.Entities {
			if w.entities[normalizeKey(en.Normalized)] || w.entities[normalizeKey(en.Name)] {
				return true
			}
		}
	}
	if len(w.words)+len(w.phrases) == 0 {
		return false
	}
	txt := lowerText()
	for _, p := range w.phrases {
		if strings.Contains(txt, p) {
			return true
		}
	}
	for _, t := range w.words {
		if containsWord(txt, t) {
			return true
		}
	}
	return false
}

// ExtractTerms returns the distinct terms of an article: its entities by type (keyed by
// Entity.Normalized, falling back to the lowercased Name), its keywords, and the watch
// entries it matches. It appends to dst and returns it.
func ExtractTerms(dst []Term, e *article.Enriched, watches []*watchMatcher) []Term {
	seen := make(map[string]struct{}, len(e.Entities)+len(e.Keywords)+len(watches))
	add := func(kind, norm, display string) {
		if norm == "" {
			return
		}
		key := kind + ":" + norm
		if _, dup := seen[key]; dup {
			return
		}
		seen[key] = struct{}{}
		dst = append(dst, Term{Key: key, Kind: kind, Display: display})
	}
	for _, en := range e.Entities {
		kind := strings.ToUpper(strings.TrimSpace(en.Type))
		switch kind {
		case "PER", "ORG", "LOC", "MISC":
		default:
			kind = "MISC"
		}
		norm := normalizeKey(en.Normalized)
		if norm == "" {
			norm = normalizeKey(en.Name)
		}
		disp := en.Name
		if disp == "" {
			disp = norm
		}
		add(kind, norm, disp)
	}
	for _, k := range e.Keywords {
		norm := normalizeKey(k.Term)
		add(KindKeyword, norm, k.Term)
	}
	if len(watches) > 0 {
		var lt string
		done := false
		lower := func() string {
			if !done {
				lt = strings.ToLower(e.Title + "\n" + e.Text)
				done = true
			}
			return lt
		}
		for _, w := range watches {
			if w.match(e, lower) {
				add(KindWatch, w.rule.ID, w.rule.ID)
			}
		}
	}
	return dst
}

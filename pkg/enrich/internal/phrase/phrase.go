// Package phrase finds multi-token gazetteer phrases in tokenised text by longest match on
// folded token sequences. A Matcher is immutable after Build and safe for concurrent use.
package phrase

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// Matcher maps folded token sequences to payload indexes.
type Matcher struct {
	m      map[string][]int
	maxLen int
	// CaseSensitive requires the first token of a match to be capitalised (or all caps for
	// acronyms) in the text, and all-caps phrases to be all caps in the text.
	caps map[string]bool
	// first maps a phrase's folded first token to the longest phrase length starting with it.
	first map[string]int
}

// Builder accumulates phrases for a Matcher.
type Builder struct{ m *Matcher }

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{m: &Matcher{m: map[string][]int{}, caps: map[string]bool{}, first: map[string]int{}}}
}

// Key returns the lookup key of a surface form: its tokens folded and joined by spaces.
func Key(surface string) (string, int) {
	if simple(surface) { // fast path: ASCII letters and single spaces tokenise trivially
		return strings.ToLower(surface), strings.Count(surface, " ") + 1
	}
	toks := textutil.Tokenize(surface)
	parts := make([]string, 0, len(toks))
	for _, t := range toks {
		parts = append(parts, t.Text)
	}
	return textutil.Fold(strings.Join(parts, " ")), len(toks)
}

// Add registers surface with payload id. Surfaces with no tokens are ignored.
func (b *Builder) Add(surface string, id int) {
	k, n := Key(surface)
	if n == 0 {
		return
	}
	for _, x := range b.m.m[k] {
		if x == id {
			return
		}
	}
	b.m.m[k] = append(b.m.m[k], id)
	if textutil.IsAllCaps(surface) && n == 1 {
		b.m.caps[k] = true
	}
	if n > b.m.maxLen {
		b.m.maxLen = n
	}
	f, _, _ := strings.Cut(k, " ")
	if n > b.m.first[f] {
		b.m.first[f] = n
	}
}

// Build returns the Matcher; the Builder must not be used afterwards.
func (b *Builder) Build() *Matcher { return b.m }

// Match is one phrase occurrence: tokens [From, To) and byte offsets [Start, End).
type Match struct {
	From, To   int
	Start, End int
	IDs        []int
}

// FindAll returns the leftmost-longest, non-overlapping matches in toks. A match must start
// with a capitalised token (phrases registered in all caps must match in all caps) and may
// not start in the middle of a capitalised run ("New" "York" is not matched as "York").
func (m *Matcher) FindAll(toks []textutil.Token) []Match {
	return m.FindAllFolded(toks, nil)
}

// Fold returns the folded text of each token, for reuse across several matchers.
func Fold(toks []textutil.Token) []string { return FoldInto(nil, toks) }

// FoldInto is Fold writing into dst's storage when it is large enough.
func FoldInto(dst []string, toks []textutil.Token) []string {
	out := dst[:0]
	if cap(out) < len(toks) {
		out = make([]string, 0, len(toks))
	}
	for _, t := range toks {
		out = append(out, textutil.Fold(t.Text))
	}
	return out
}

// FindAllFolded is FindAll with the tokens' folded forms precomputed by Fold (nil: computed
// lazily here).
func (m *Matcher) FindAllFolded(toks []textutil.Token, folded []string) []Match {
	var out []Match
	var sb strings.Builder
	fold := func(i int) string {
		if folded != nil {
			return folded[i]
		}
		return textutil.Fold(toks[i].Text)
	}
	for i := 0; i < len(toks); {
		if !textutil.IsCap(toks[i].Text) && !hanStart(toks[i].Text) {
			i++
			continue
		}
		maxN, ok := m.first[fold(i)]
		if !ok {
			i++
			continue
		}
		found := false
		lim := min(len(toks), i+maxN)
		for j := lim; j > i; j-- { // longest first
			sb.Reset()
			for k := i; k < j; k++ {
				if k > i {
					sb.WriteByte(' ')
				}
				sb.WriteString(fold(k))
			}
			key := sb.String()
			ids, ok := m.m[key]
			if !ok {
				continue
			}
			if m.caps[key] && !textutil.IsAllCaps(toks[i].Text) {
				continue
			}
			out = append(out, Match{From: i, To: j, Start: toks[i].Start, End: toks[j-1].End, IDs: ids})
			i = j
			found = true
			break
		}
		if !found {
			i++
		}
	}
	return out
}

func simple(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if s[i-1] == ' ' {
				return false
			}
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// hanStart reports whether s starts with a Han character: Chinese names have no capital
// letter to gate a match on.
func hanStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.Han, r)
}

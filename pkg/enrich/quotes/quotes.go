// Package quotes finds quotations and their speakers in English news text: direct quotes with
// a speech verb before or after them (“…,” X said / said X / X said: “…” / “…,” he added),
// "according to X", and reported speech ("X said that …", "X told reporters that …").
// Speakers are linked to the document's entity mentions: a named speaker to its canonical
// entity, "he"/"she" to the most recent person, and a description ("a Kremlin spokesman")
// to a person named right after it in apposition. Unlinked speakers keep their description.
//
// Find is pure, uses only linear-time scanning and RE2 expressions, and is safe for
// concurrent use.
package quotes

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/article"
)

// Ref is an entity mention with its canonical name.
type Ref struct {
	Start, End int
	Name       string // canonical entity name
	Type       string // PER, ORG, LOC, MISC
}

// Options tune Find.
type Options struct {
	MinWords int // minimum words in a direct quote (default 4; shorter ones are scare quotes)
	Max      int // maximum quotes returned (default 50)
}

const verbs = `said|says|added|adds|told|tells|stated|states|announced|confirmed|explained|noted|warned|insisted|declared|wrote|writes|tweeted|asked|replied|continued|stressed|claimed|argued|acknowledged|admitted|urged|reiterated|emphasized|emphasised|remarked|recalled|concluded|commented|assured|promised|vowed|cautioned|maintained`

var (
	verbRE = regexp.MustCompile(`\b(` + verbs + `)\b`)
	// after a closing quote: [,] speaker verb  |  verb speaker
	postSpeakerVerb = regexp.MustCompile(`^[\s,.;:—–-]*((?:[Hh]e|[Ss]he|[Tt]hey|[Ww]e|I|(?:[Tt]he|[Aa]n?|[A-Z][\p{L}'’.-]*)(?:\s+[\p{L}'’.-]+){0,6}?))\s+(` + verbs + `)\b`)
	postVerbSpeaker = regexp.MustCompile(`^[\s,]*(` + verbs + `)\s+((?:the\s+|a\s+|an\s+)?[\p{L}'’.-]+(?:\s+[\p{L}'’.-]+){0,5})`)
	// before an opening quote: speaker verb [that|:|,]
	preSpeakerVerb = regexp.MustCompile(`((?:[Hh]e|[Ss]he|[Tt]hey|(?:[Tt]he|[Aa]n?|[A-Z][\p{L}'’.-]*)(?:\s+[\p{L}'’.-]+){0,6}?))\s+(` + verbs + `)\b`)
	participle     = regexp.MustCompile(`\b(adding|saying|noting|warning|stressing|insisting|explaining)(?:\s+that)?[\s,:]*$`)
	accordingTo    = regexp.MustCompile(`(?i)\baccording to\s+((?:the\s+|a\s+|an\s+)?[\p{L}'’.-]+(?:\s+[\p{L}'’.-]+){0,4})`)
	reported       = regexp.MustCompile(`((?:[Hh]e|[Ss]he|(?:[Tt]he|[Aa]n?|[A-Z][\p{L}'’.-]*)(?:\s+[\p{L}'’.-]+){0,6}?))\s+(said|says|told reporters|told journalists|announced|warned|stated|added|confirmed|insisted|claimed|argued)\s+that\s+`)
)

var pronouns = map[string]bool{"he": true, "she": true, "they": true, "we": true, "i": true}

// role words that make a description a plausible speaker.
var roles = regexp.MustCompile(`(?i)\b(official|spokesman|spokeswoman|spokesperson|minister|president|secretary|source|diplomat|aide|adviser|advisor|officer|statement|ministry|department|agency|government|police|army|military|leader|chief|director|analyst|expert|envoy|ambassador|chairman|chairwoman|senator|governor|mayor)s?\b`)

type qspan struct{ open, start, end, close int }

// directQuotes pairs quotation marks: “…”, «…», ‘…’ (curly singles only), and straight "…".
func directQuotes(text string) []qspan {
	var out []qspan
	pairs := map[rune]rune{'“': '”', '«': '»', '„': '“', '‘': '’'}
	for i := 0; i < len(text); {
		r, sz := utf8.DecodeRuneInString(text[i:])
		if cl, ok := pairs[r]; ok {
			j := strings.IndexRune(text[i+sz:], cl)
			if r == '‘' { // avoid apostrophes: the closer must be followed by a non-letter
				j = closingSingle(text[i+sz:])
			}
			if j >= 0 && j < 3000 {
				e := i + sz + j
				_, csz := utf8.DecodeRuneInString(text[e:])
				out = append(out, qspan{i, i + sz, e, e + csz})
				i = e + csz
				continue
			}
		}
		if r == '"' {
			j := strings.IndexByte(text[i+1:], '"')
			if j >= 0 && j < 3000 {
				e := i + 1 + j
				out = append(out, qspan{i, i + 1, e, e + 1})
				i = e + 1
				continue
			}
		}
		i += sz
	}
	return out
}

func closingSingle(s string) int {
	for off := 0; off < len(s) && off < 3000; {
		j := strings.Index(s[off:], "’")
		if j < 0 {
			return -1
		}
		k := off + j
		next, _ := utf8.DecodeRuneInString(s[k+len("’"):])
		if !unicode.IsLetter(next) {
			return k
		}
		off = k + len("’")
	}
	return -1
}

func words(s string) int { return len(strings.Fields(s)) }

// Find returns the quotes of text in order.
func Find(text string, refs []Ref, opt Options) []article.Quote {
	if opt.MinWords <= 0 {
		opt.MinWords = 4
	}
	if opt.Max <= 0 {
		opt.Max = 50
	}
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].Start < refs[j].Start })
	var out []article.Quote
	covered := []qspan{}
	lastClose := 0
	for _, q := range directQuotes(text) {
		body := strings.TrimSpace(text[q.start:q.end])
		if words(body) < opt.MinWords {
			continue
		}
		covered = append(covered, q)
		speaker, cue := "", ""
		// after the quote, up to the end of the sentence
		post := text[q.close:min(len(text), q.close+160)]
		if m := postSpeakerVerb.FindStringSubmatchIndex(post); m != nil && m[2]-0 < 40 {
			speaker = resolve(text, refs, q.close+m[2], q.close+m[3], q.open)
			cue = post[m[4]:m[5]]
		} else if m := postVerbSpeaker.FindStringSubmatchIndex(post); m != nil {
			speaker = resolve(text, refs, q.close+m[4], q.close+m[5], q.open)
			cue = post[m[2]:m[3]]
		}
		if speaker == "" {
			// before the quote, within its sentence
			a := sentenceStart(text, q.open)
			pre := text[a:q.open]
			if m := participleAfter(pre, len(out) > 0 && out[len(out)-1].Speaker != "" && q.open-lastClose < 300); m != nil {
				speaker, cue = out[len(out)-1].Speaker, pre[m[2]:m[3]]
			} else if ms, from := preSpeakerVerbMatches(pre); ms != nil {
				m := ms[len(ms)-1]
				speaker = resolve(text, refs, a+from+m[2], a+from+m[3], q.open)
				cue = pre[from+m[4] : from+m[5]]
			} else if m := accordingTo.FindStringSubmatchIndex(text[a:min(len(text), q.close+100)]); m != nil {
				speaker = resolve(text, refs, a+m[2], a+m[3], q.open)
				cue = "according to"
			}
		}
		out = append(out, article.Quote{Text: body, Speaker: speaker, Cue: cue, Offset: q.start})
		lastClose = q.close
		if len(out) >= opt.Max {
			return out
		}
	}
	// reported speech: "X said that …" outside direct quotes
	for _, m := range reportedMatches(text) {
		if len(out) >= opt.Max {
			break
		}
		if inside(covered, m[0]) {
			continue
		}
		start := m[1]
		end := sentenceEnd(text, start)
		body := strings.TrimSpace(text[start:end])
		if words(body) < opt.MinWords {
			continue
		}
		speaker := resolve(text, refs, m[2], m[3], m[0])
		if speaker == "" {
			continue
		}
		out = append(out, article.Quote{Text: body, Speaker: speaker, Cue: strings.TrimSpace(text[m[4]:m[5]]) + " that", Offset: start})
	}
	// a direct quote inside reported speech takes its speaker
	for i := range out {
		if out[i].Speaker != "" {
			continue
		}
		for _, r := range out {
			if r.Speaker != "" && strings.HasSuffix(r.Cue, " that") && out[i].Offset > r.Offset && out[i].Offset < r.Offset+len(r.Text) {
				out[i].Speaker, out[i].Cue = r.Speaker, r.Cue
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Offset < out[j].Offset })
	return out
}

func inside(qs []qspan, off int) bool {
	for _, q := range qs {
		if off >= q.open && off < q.close {
			return true
		}
	}
	return false
}

// resolve maps the speaker phrase text[s:e] to a name. at is the quote's position, used for
// pronoun resolution.
func resolve(text string, refs []Ref, s, e, at int) string {
	s = tailSpeaker(text, s, e)
	phrase := strings.TrimSpace(text[s:e])
	if phrase == "" {
		return ""
	}
	var per, org *Ref
	for i := range refs {
		r := &refs[i]
		if r.Start >= s && r.End <= e {
			switch r.Type {
			case "PER":
				per = r
			case "ORG":
				if org == nil {
					org = r
				}
			}
		}
	}
	if per != nil {
		return per.Name
	}
	first := strings.ToLower(strings.Fields(phrase)[0])
	if pronouns[first] {
		if first != "he" && first != "she" {
			return ""
		}
		// the attribution continues in the next clause: "“…,” he added. Smith said in …"
		if r := namedSpeakerAfter(text, refs, e); r != nil {
			return r.Name
		}
		// most recent person before the quote
		var last *Ref
		for i := range refs {
			if refs[i].Type == "PER" && refs[i].End <= at {
				last = &refs[i]
			}
		}
		if last != nil {
			return last.Name
		}
		return ""
	}
	if !roles.MatchString(phrase) && org == nil {
		return ""
	}
	// apposition: a person named right after the speaker phrase ("a Kremlin spokesman, Dmitry
	// Peskov," / "confirmed. Dmitriy Peskov, citing")
	after := e
	if v := verbRE.FindStringIndex(text[e:min(len(text), e+30)]); v != nil {
		after = e + v[1]
	}
	for i := range refs {
		r := refs[i]
		if r.Type == "PER" && r.Start >= after && r.Start-after <= 6 && strings.ContainsAny(text[after:r.Start], ",.:;(—–") {
			return r.Name
		}
	}
	if org != nil {
		return org.Name
	}
	return lowerDesc(phrase)
}

// namedSpeakerAfter returns a person mentioned within 40 bytes after pos that is directly
// followed by a speech verb.
func namedSpeakerAfter(text string, refs []Ref, pos int) *Ref {
	for i := range refs {
		r := &refs[i]
		if r.Type != "PER" || r.Start < pos || r.Start-pos > 40 {
			continue
		}
		if v := verbRE.FindStringIndex(text[r.End:min(len(text), r.End+15)]); v != nil && strings.TrimSpace(text[r.End:r.End+v[0]]) == "" {
			return r
		}
	}
	return nil
}

var speakerStop = map[string]bool{"for": true, "with": true, "to": true, "that": true, "and": true, "but": true,
	"in": true, "on": true, "at": true, "by": true, "from": true, "as": true, "while": true, "when": true,
	"after": true, "before": true, "because": true, "if": true, "who": true, "which": true, "also": true,
	"then": true, "is": true, "was": true, "will": true, "would": true, "has": true, "had": true}

// tailSpeaker narrows a greedy speaker match text[s:e] to the noun phrase adjacent to the
// verb: words are taken from the end back to a determiner (included) or a function word
// (excluded); a glued token ("ThursdayThe") is cut at its inner lower→upper junction.
func tailSpeaker(text string, s, e int) int {
	seg := text[s:e]
	fields := strings.Fields(seg)
	start := len(fields)
	for i := len(fields) - 1; i >= 0; i-- {
		w := fields[i]
		lw := strings.ToLower(w)
		if speakerStop[lw] {
			break
		}
		start = i
		if lw == "the" || lw == "a" || lw == "an" {
			break
		}
		if j := gluedJunction(w); j > 0 {
			fields[i] = w[j:]
			break
		}
	}
	if start == len(fields) {
		return e
	}
	// locate fields[start] in seg from the end
	tail := strings.Join(fields[start:], " ")
	if k := strings.LastIndex(seg, tail); k >= 0 {
		return s + k
	}
	// glued word or irregular spacing: find by the last field count
	if k := strings.LastIndex(seg, fields[start]); k >= 0 {
		return s + k
	}
	return s
}

func gluedJunction(w string) int {
	prevLower := false
	for i, r := range w {
		if unicode.IsUpper(r) && prevLower && i > 1 {
			return i
		}
		prevLower = unicode.IsLower(r)
	}
	return 0
}

// lowerDesc normalises a description speaker: "The official" → "the official".
func lowerDesc(p string) string {
	f := strings.Fields(p)
	if len(f) > 0 {
		switch strings.ToLower(f[0]) {
		case "the", "a", "an":
			f[0] = strings.ToLower(f[0])
		}
	}
	return strings.Join(f, " ")
}

func sentenceStart(text string, at int) int {
	a := max(0, at-300)
	if i := strings.LastIndexAny(text[a:at], ".!?\n"); i >= 0 {
		return a + i + 1
	}
	return a
}

func sentenceEnd(text string, from int) int {
	b := min(len(text), from+400)
	for i := from; i < b; i++ {
		switch text[i] {
		case '\n':
			return i
		case '.', '!', '?':
			if i+1 >= len(text) || text[i+1] == ' ' || text[i+1] == '\n' {
				return i + 1
			}
		}
	}
	return b
}

// participleAfter is participle.FindStringSubmatchIndex(pre) when continues (the quote can
// continue the previous speaker's), else nil; the expression runs only when pre has one of
// its participles.
func participleAfter(pre string, continues bool) []int {
	if !continues {
		return nil
	}
	for _, w := range participles {
		if strings.Contains(pre, w) {
			return participle.FindStringSubmatchIndex(pre)
		}
	}
	return nil
}

// participles are the words one of which every match of participle contains.
var participles = []string{"adding", "saying", "noting", "warning", "stressing", "insisting", "explaining"}

// preSpeakerVerbMatches is preSpeakerVerb.FindAllStringSubmatchIndex(pre, -1) with indexes
// relative to pre[from:]: the expression runs from the earliest place a match can start,
// the speaker words before the first verb word (a verb after white space and before a
// non-letter, as \s+(verbs)\b reads it), and not at all without one. Dropping start
// positions where nothing matches leaves FindAll's matches as they were (the expression
// has no ^ or leading \b).
func preSpeakerVerbMatches(pre string) ([][]int, int) {
	v := firstVerbWord(pre)
	if v < 0 {
		return nil, 0
	}
	from := speakerChainStart(pre[:v])
	return preSpeakerVerb.FindAllStringSubmatchIndex(pre[from:], -1), from
}

// verbWords are the alternatives of verbs.
var verbWords = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range strings.Split(verbs, "|") {
		m[v] = true
	}
	return m
}()

// firstVerbWord returns the index in s of the first run of ASCII letters that follows white
// space and is one of verbs, or -1.
func firstVerbWord(s string) int {
	for i := 1; i < len(s); i++ {
		if !isASCIILetter(s[i]) || !isRESpace(s[i-1]) {
			continue
		}
		j := i + 1
		for j < len(s) && isASCIILetter(s[j]) {
			j++
		}
		if verbWords[s[i:j]] {
			return i
		}
		i = j
	}
	return -1
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// reportedMatches finds "X said that " by scanning for " that " and running the (end-anchored)
// reported-speech expression only on the sentence before it.
func reportedMatches(text string) [][]int {
	var out [][]int
	for off := 0; off < len(text); {
		i := strings.Index(text[off:], " that ")
		if i < 0 {
			break
		}
		end := off + i + len(" that ")
		off = end
		a := sentenceStart(text, end-len(" that "))
		a = max(a, end-200)
		for a < end && !utf8.RuneStart(text[a]) {
			a++
		}
		v := firstReportVerb(text[a:end])
		if v < 0 {
			continue // the expression needs one of its verbs
		}
		// No match starts before the speaker words that can precede the first verb (the
		// expression has no \b or ^ whose reading depends on what comes before).
		from := a + speakerChainStart(text[a:a+v])
		m := reported.FindStringSubmatchIndex(text[from:end])
		if m == nil {
			continue
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += from
			}
		}
		out = append(out, m)
	}
	return out
}

// reportVerbs are the words one of which every match of reported contains.
var reportVerbs = []string{"said", "says", "told", "announced", "warned", "stated", "added", "confirmed", "insisted", "claimed", "argued"}

// firstReportVerb returns the index of the first occurrence in s of one of reportVerbs, or
// -1 (a cheap test before the expression).
func firstReportVerb(s string) int {
	first := -1
	for _, v := range reportVerbs {
		limit := s
		if first >= 0 {
			limit = s[:min(len(s), first+len(v))]
		}
		if i := strings.Index(limit, v); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

// speakerMaxWords bounds the words of reported's speaker (1 + {0,6}), with one to spare.
const speakerMaxWords = 8

// speakerChainStart returns where in s a match of reported that ends its speaker at or
// after the end of s can start at the earliest: the start of the speakerMaxWords-th word
// back, words being runs of letters, ' ’ . - separated by white space only (\s). A match's
// speaker is such a chain ending at its verb, and it starts inside the chain's first word
// (its [A-Z] or "he" need not start a word).
func speakerChainStart(s string) int {
	i := len(s)
	for i > 0 && isRESpace(s[i-1]) {
		i--
	}
	for w := 0; w < speakerMaxWords; w++ {
		j := i
		for j > 0 {
			r, size := utf8.DecodeLastRuneInString(s[:j])
			if !isSpeakerRune(r) {
				break
			}
			j -= size
		}
		if j == i { // no word here: the chain ends
			return i
		}
		i = j
		k := i
		for k > 0 && isRESpace(s[k-1]) {
			k--
		}
		if k == i { // no white space before the word: the chain ends
			return i
		}
		if w+1 < speakerMaxWords {
			i = k
		}
	}
	return i
}

// isRESpace is RE2's \s.
func isRESpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// isSpeakerRune is reported's word character class [\p{L}'’.-].
func isSpeakerRune(r rune) bool {
	return unicode.IsLetter(r) || r == '\'' || r == '’' || r == '.' || r == '-'
}

package alias

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// titleWords are words that form titles before a name ("US Secretary of State Antony Blinken").
// coreTitles are the ones that by themselves mark the following name as a person.
var (
	coreTitles = set("president", "vice-president", "minister", "secretary", "spokesman", "spokeswoman", "spokesperson",
		"senator", "sen.", "rep.", "representative", "congressman", "congresswoman", "governor", "gov.", "mayor",
		"chancellor", "king", "queen", "prince", "princess", "pope", "general", "gen.", "colonel", "col.",
		"lieutenant", "lt.", "captain", "capt.", "sergeant", "sgt.", "admiral", "adm.", "commander", "ceo",
		"chairman", "chairwoman", "chairperson", "director", "judge", "ambassador", "envoy", "mr.", "mrs.", "ms.",
		"mr", "mrs", "ms", "dr.", "dr", "prof.", "professor", "sir", "dame", "lord", "lady", "premier", "sheikh",
		"emir", "archbishop", "bishop", "rev.", "reverend", "ayatollah", "adviser", "advisor", "coach", "president-elect",
		"leader", "chief", "speaker", "attorney", "economist", "analyst", "officer", "official", "journalist", "correspondent")
	titleWords = set("vice", "prime", "foreign", "defence", "defense", "interior", "finance", "health", "economy",
		"of", "state", "former", "then", "deputy", "acting", "interim", "crown", "first", "press", "national",
		"security", "general", "the", "a", "an", "'s", "’s", "senior", "top", "executive", "supreme", "opposition",
		"party", "house", "white", "kremlin", "government", "foreign-affairs", "affairs", "us", "u.s.", "uk", "eu", "un")
)

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// Normalized is a mention after Normalize.
type Normalized struct {
	Start, End  int    // byte offsets of the name part in the document
	Text        string // name without titles and possessive
	PersonTitle bool   // a person title (President, Mr., spokesman …) was stripped
}

// Normalize strips leading titles (with any nationality/country adjectives among them, as in
// "Ukrainian President Volodymyr Zelensky" or "Russian Foreign Minister Sergei Lavrov"),
// trailing possessives and punctuation from a mention at [start,end) of doc. isPlace reports
// whether a token is a country name or demonym. ok is false when nothing name-like remains.
func Normalize(doc string, start, end int, isPlace func(string) bool) (n Normalized, ok bool) {
	if start < 0 || end > len(doc) || start >= end {
		return n, false
	}
	toks := textutil.Tokenize(doc[start:end])
	// trailing possessive / punctuation
	for len(toks) > 0 {
		last := toks[len(toks)-1].Text
		if last == "'s" || last == "’s" || last == "'" || last == "’" || last == "'S" || !textutil.IsWord(last) {
			toks = toks[:len(toks)-1]
			continue
		}
		break
	}
	// leading punctuation
	for len(toks) > 0 && !textutil.IsWord(toks[0].Text) {
		toks = toks[1:]
	}
	// trailing lower-case words are not part of a proper name ("Donetsk region")
	for len(toks) > 1 && !textutil.IsCap(toks[len(toks)-1].Text) && textutil.IsWord(toks[len(toks)-1].Text) {
		r, _ := utf8.DecodeRuneInString(toks[len(toks)-1].Text)
		if !unicode.IsLower(r) {
			break
		}
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 {
		return n, false
	}
	// leading titles: longest prefix made only of title words / place adjectives that contains a
	// core title, leaving at least one capitalised token.
	cut, core := 0, false
	for i := 0; i < len(toks)-1; i++ {
		lw := strings.ToLower(toks[i].Text)
		if coreTitles[lw] {
			core = true
		} else if !(titleWords[lw] || lw == "." && i > 0 || isPlace != nil && isPlace(toks[i].Text)) {
			break
		}
		cut = i + 1
	}
	if core && cut < len(toks) && textutil.IsCap(toks[cut].Text) {
		toks = toks[cut:]
		n.PersonTitle = true
	} else if strings.EqualFold(toks[0].Text, "the") && len(toks) > 1 {
		toks = toks[1:]
	}
	if len(toks) == 1 && suffixes[strings.ToLower(toks[0].Text)] {
		return n, false
	}
	n.Start = start + toks[0].Start
	n.End = start + toks[len(toks)-1].End
	n.Text = doc[n.Start:n.End]
	return n, textutil.IsWord(n.Text)
}

// Mention is one typed mention fed to Merge.
type Mention struct {
	Start, End int
	Text       string // normalised surface
	Type       string // PER ORG LOC MISC, or "" when unknown (kept only if it matches a person)
	Canonical  string // forced canonical name (alias table, country name); "" if none
	Strong     bool   // type is certain (alias table, country gazetteer, confident model)
	idx        int
}

type cluster struct {
	typ      string
	forced   string
	forms    map[string]int // surface → count
	order    []string
	mentions int
	first    int
	surname  string // folded last token (PER)
	given    string // folded first token (PER, when ≥2 tokens)
	full     bool
	members  []int // indexes into the (sorted) mention slice
}

func (c *cluster) add(m Mention) {
	c.members = append(c.members, m.idx)
	if c.forms == nil {
		c.forms = map[string]int{}
		c.first = m.Start
	}
	if _, ok := c.forms[m.Text]; !ok {
		c.order = append(c.order, m.Text)
	}
	c.forms[m.Text]++
	c.mentions++
	if m.Start < c.first {
		c.first = m.Start
	}
	if m.Canonical != "" && c.forced == "" {
		c.forced = m.Canonical
	}
}

// nameParts returns the folded given name and surname of a name ("" given for one token).
func nameParts(s string) (given, surname string, n int) {
	fs := strings.Fields(textutil.Fold(s))
	for len(fs) > 1 && suffixes[fs[len(fs)-1]] {
		fs = fs[:len(fs)-1]
	}
	if len(fs) == 0 {
		return "", "", 0
	}
	if len(fs) == 1 {
		return "", fs[0], 1
	}
	return fs[0], fs[len(fs)-1], len(fs)
}

// suffixes are generational suffixes ignored when comparing names ("Martin Truex Jr.").
var suffixes = map[string]bool{"jr": true, "jr.": true, "sr": true, "sr.": true, "ii": true, "iii": true, "iv": true}

// nearName reports whether two folded name parts are the same name spelled differently:
// equal, or within edit distance 1 (2 for ≥ 8 letters) with the same first letter.
func nearName(a, b string) bool {
	if a == b {
		return true
	}
	if a == "" || b == "" || a[0] != b[0] {
		return false
	}
	la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	if min(la, lb) < 5 {
		return false
	}
	d := textutil.Levenshtein(a, b)
	return d <= 1 || d <= 2 && min(la, lb) >= 8
}

// Merge groups the mentions of one document into entities. Rules:
//   - PER: full names (≥ 2 tokens) merge when their surnames are near-equal spellings and
//     their given names are compatible (equal, an initial, or near-equal); a one-token mention
//     joins the person whose surname (exactly, else nearly) matches, if exactly one does. A
//     weak (untyped) mention that matches a person this way becomes PER.
//   - ORG/LOC/MISC: merge on the folded name; an all-caps acronym joins the entity of the same
//     type whose initials it spells ("NSC" → National Security Council).
//   - Canonical name: the alias-table / gazetteer canonical of any member, else the most
//     frequent multi-token form, else the most frequent form (ties: longest, then first seen).
//
// Output is ordered by first offset.
//
// Merge returns the entities and, for each input mention (in input order), the index of its
// entity in the output (-1 if none).
func Merge(in []Mention) ([]article.Entity, []int) {
	ms := make([]Mention, len(in))
	copy(ms, in)
	for i := range ms {
		ms[i].idx = i
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Start < ms[j].Start })
	var pers []*cluster
	other := map[string]*cluster{} // type|key
	var others []*cluster
	var singles []Mention
	weak := make([]Mention, 0, len(ms))
	// pass 1: PER full names and forced PERs
	for _, m := range ms {
		if m.Type != "PER" {
			continue
		}
		given, sur, n := nameParts(m.Text)
		if n < 2 && m.Canonical == "" {
			singles = append(singles, m)
			continue
		}
		if m.Canonical != "" {
			given, sur, n = nameParts(m.Canonical)
		}
		var hit *cluster
		for _, c := range pers {
			if m.Canonical != "" && c.forced == m.Canonical {
				hit = c
				break
			}
			if nearName(c.surname, sur) && compatibleGiven(c.given, given) && (m.Canonical == "" || c.forced == "") {
				hit = c
				break
			}
		}
		if hit == nil {
			hit = &cluster{typ: "PER", surname: sur, given: given, full: n >= 2}
			pers = append(pers, hit)
		}
		hit.add(m)
	}
	// pass 2: single-token PERs and weak mentions matching a person
	attach := func(m Mention) bool {
		_, sur, n := nameParts(m.Text)
		if n != 1 {
			return false
		}
		var exact, near []*cluster
		for _, c := range pers {
			if c.surname == sur {
				exact = append(exact, c)
			} else if nearName(c.surname, sur) {
				near = append(near, c)
			}
		}
		switch {
		case len(exact) == 1:
			exact[0].add(m)
		case len(exact) == 0 && len(near) == 1:
			near[0].add(m)
		default:
			return false
		}
		return true
	}
	for _, m := range singles {
		if !attach(m) {
			_, sur, _ := nameParts(m.Text)
			c := &cluster{typ: "PER", surname: sur}
			c.add(m)
			pers = append(pers, c)
		}
	}
	for _, m := range ms {
		if m.Type == "PER" {
			continue
		}
		if !m.Strong && attach(Mention{Start: m.Start, End: m.End, Text: m.Text, Type: "PER", idx: m.idx}) {
			continue
		}
		weak = append(weak, m)
	}
	// pass 3: other types by folded key; untyped mentions that matched no person are dropped
	for _, m := range weak {
		if m.Type == "" {
			continue
		}
		name := m.Text
		if m.Canonical != "" {
			name = m.Canonical
		}
		key := m.Type + "|" + textutil.Fold(name)
		c, ok := other[key]
		if !ok {
			c = &cluster{typ: m.Type}
			other[key] = c
			others = append(others, c)
		}
		c.add(m)
	}
	// one name, one type per document: "Toyota" tagged LOC once and ORG five times is ORG
	byName := map[string]*cluster{}
	for _, c := range others {
		k := textutil.Fold(canonical(c))
		d, ok := byName[k]
		if !ok {
			byName[k] = c
			continue
		}
		win, lose := d, c
		if c.mentions > d.mentions {
			win, lose = c, d
		}
		for _, f := range lose.order {
			if _, ok := win.forms[f]; !ok {
				win.order = append(win.order, f)
			}
			win.forms[f] += lose.forms[f]
		}
		win.mentions += lose.mentions
		win.members = append(win.members, lose.members...)
		win.first = min(win.first, lose.first)
		lose.mentions = 0
		byName[k] = win
	}
	// acronyms
	for _, c := range others {
		if c.mentions == 0 {
			continue
		}
		if len(c.order) != 1 || !textutil.IsAllCaps(c.order[0]) || strings.ContainsAny(c.order[0], " .") || c.forced != "" {
			continue
		}
		for _, d := range others {
			if d == c || d.typ != c.typ || d.mentions == 0 {
				continue
			}
			if initials(canonical(d)) == c.order[0] {
				for _, f := range c.order {
					for k := 0; k < c.forms[f]; k++ {
						d.add(Mention{Start: c.first, Text: f, idx: -1})
					}
				}
				d.members = append(d.members[:len(d.members)-c.mentions], c.members...)
				c.mentions = 0
				break
			}
		}
	}
	type built struct {
		e article.Entity
		c *cluster
	}
	bs := make([]built, 0, len(pers)+len(others))
	for _, cs := range [2][]*cluster{pers, others} {
		for _, c := range cs {
			if c.mentions == 0 {
				continue
			}
			name := canonical(c)
			e := article.Entity{Type: c.typ, Name: name, Normalized: textutil.Fold(name), Mentions: c.mentions, FirstOffset: c.first}
			for _, f := range c.order {
				if f != name {
					e.Aliases = append(e.Aliases, f)
				}
			}
			bs = append(bs, built{e, c})
		}
	}
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].e.FirstOffset < bs[j].e.FirstOffset })
	out := make([]article.Entity, len(bs))
	assign := make([]int, len(in))
	for i := range assign {
		assign[i] = -1
	}
	for i, b := range bs {
		out[i] = b.e
		for _, m := range b.c.members {
			if m >= 0 {
				assign[m] = i
			}
		}
	}
	return out, assign
}

func compatibleGiven(a, b string) bool {
	if a == "" || b == "" || a == b {
		return true
	}
	if len(a) <= 2 || len(b) <= 2 { // initials "J." / "J"
		return a[0] == b[0]
	}
	return a[0] == b[0] && textutil.Levenshtein(a, b) <= 2
}

func canonical(c *cluster) string {
	if c.forced != "" {
		return c.forced
	}
	best, bestN, bestMulti := "", -1, false
	for _, f := range c.order {
		multi := strings.Contains(f, " ")
		n := c.forms[f]
		better := false
		switch {
		case multi != bestMulti:
			better = multi
		case n != bestN:
			better = n > bestN
		default:
			better = len(f) > len(best)
		}
		if better {
			best, bestN, bestMulti = f, n, multi
		}
	}
	return best
}

func initials(s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(s) {
		if textutil.IsCap(w) {
			r, _ := utf8.DecodeRuneInString(w)
			b.WriteRune(r)
		}
	}
	if b.Len() < 2 {
		return ""
	}
	return b.String()
}

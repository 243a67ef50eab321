package keywords

// The scanner and scorer as they were before the per-surface-form memo, slab-allocated word
// statistics and pooled scanners (kept as the oracle of TestExtractMatchesOracle and
// FuzzExtractMatchesOracle).

import (
	"math"
	"sort"
	"strings"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

type oWstat struct {
	id              uint32 // order of first occurrence (pairs keys)
	tf, upper, acro float64
	nSents          int
	lastSent        int
	firstSents      []int
	nLeft, nRight   int
}

type oCand struct {
	words []string
	forms []form // distinct surface forms (usually one)
	tf    float64
}

// oracleExtract returns up to opt.Max keyphrases of text, best first, with scores in (0, 1]
// (1 for the best phrase).
func oracleExtract(text string, opt Options) []article.Keyword {
	if opt.Max <= 0 {
		opt.Max = 10
	}
	if opt.MaxWords <= 0 {
		opt.MaxWords = 3
	}
	toks := opt.Tokens
	if toks == nil {
		toks = textutil.Tokenize(text)
	}
	sc := oNewScanner(opt, len(toks))
	for _, t := range toks {
		sc.token(t)
	}
	sc.flush()
	if len(sc.cands) == 0 {
		return nil
	}
	ws := oNewWordScorer(sc, opt)
	return selectKeywords(ws.rank(sc.cands), opt.Max)
}

// oScanner collects oWord statistics and candidate phrases token by token.
type oScanner struct {
	opt         Options
	words       map[string]*oWstat
	cands       map[string]*oCand
	pairs       map[uint64]bool // distinct adjacent oWord pairs seen (oWstat ids)
	sent        int             // current sentence index
	chunk       []oWord         // run of words without punctuation between
	newSentence bool
	prev        *oWstat // previous oWord in the chunk
	paren       int     // parenthetical asides (credits, captions) give poor keyphrases
	buf         []byte  // phrase keys and forms being looked up
}

// oWord is a oWord token of the current chunk with what candidate asks of it.
type oWord struct {
	text, lw              string // as written, lower-cased
	stop, useful, allCaps bool   // IsStopword, useful, textutil.IsAllCaps
	cap                   bool   // textutil.IsCap
}

// oNewScanner returns a oScanner sized for about n tokens.
func oNewScanner(opt Options, n int) *oScanner {
	return &oScanner{opt: opt, words: make(map[string]*oWstat, n/2), cands: make(map[string]*oCand, n), pairs: make(map[uint64]bool, n/2), newSentence: true}
}

// token processes one token: brackets, punctuation and clitics end the
// current chunk; words update their statistics and join it.
func (s *oScanner) token(t textutil.Token) {
	switch t.Text {
	case "(", "[":
		s.paren++
	case ")", "]":
		if s.paren > 0 {
			s.paren--
		}
	}
	if s.paren > 0 && textutil.IsWord(t.Text) {
		s.flush()
		s.prev = nil
		return
	}
	if !textutil.IsWord(t.Text) || textutil.IsClitic(t.Text) {
		s.flush()
		if t.Text == "." || t.Text == "!" || t.Text == "?" || t.Text == "\n" {
			s.sent++
			s.newSentence = true
		}
		s.prev = nil
		return
	}
	lw := strings.ToLower(t.Text)
	wd := oWord{text: t.Text, lw: lw, stop: IsStopword(s.opt.Lang, lw), useful: useful(lw), allCaps: textutil.IsAllCaps(t.Text), cap: textutil.IsCap(t.Text)}
	s.prev = s.countWord(&wd)
	s.chunk = append(s.chunk, wd)
	s.newSentence = false
}

// countWord updates the statistics of oWord wd: frequency, casing, sentences and distinct
// left/right neighbours; it returns them.
func (s *oScanner) countWord(wd *oWord) *oWstat {
	w := s.words[wd.lw]
	if w == nil {
		w = &oWstat{id: uint32(len(s.words)), lastSent: -1}
		s.words[wd.lw] = w
	}
	w.tf++
	if wd.allCaps {
		w.acro++
	} else if wd.cap && !s.newSentence {
		w.upper++
	}
	if w.lastSent != s.sent {
		w.nSents++
		w.lastSent = s.sent
	}
	if len(w.firstSents) < 50 {
		w.firstSents = append(w.firstSents, s.sent)
	}
	if pw := s.prev; pw != nil {
		if k := uint64(pw.id)<<32 | uint64(w.id); !s.pairs[k] {
			s.pairs[k] = true
			w.nLeft++
			pw.nRight++
		}
	}
	return w
}

// flush adds the candidate phrases of the current chunk and empties it.
func (s *oScanner) flush() {
	for i := range s.chunk {
		for n := 1; n <= s.opt.MaxWords && i+n <= len(s.chunk); n++ {
			if s.candidate(i, n) {
				s.addCandidate(s.chunk[i : i+n])
			}
		}
	}
	s.chunk = s.chunk[:0]
}

// candidate reports whether the n words of the chunk from i make a
// candidate phrase: no stopword or non-oWord at either end, not shouted,
// oHomogeneous in case, and not cutting a name.
func (s *oScanner) candidate(i, n int) bool {
	c := s.chunk
	first, last := &c[i], &c[i+n-1]
	if first.stop || last.stop || !first.useful || !last.useful {
		return false
	}
	caps := 0
	for k := 0; k < n; k++ {
		if c[i+k].allCaps {
			caps++
		}
	}
	if caps >= 2 { // shouted headlines, credits
		return false
	}
	if !oHomogeneous(c[i : i+n]) {
		return false // "Rafael Nadal kept", "rusher Myles Garrett": half a name, half not
	}
	if i+n < len(c) && c[i+n-1].cap && c[i+n].cap {
		return false // would cut a name: "Ukrainian President Volodymyr | Zelensky"
	}
	return true
}

// addCandidate counts one occurrence of phrase (keyed by its lower-cased words joined by
// spaces) and its surface form.
func (s *oScanner) addCandidate(phrase []oWord) {
	key := s.join(phrase, true)
	c := s.cands[string(key)]
	if c == nil {
		ws := make([]string, len(phrase))
		for k := range phrase {
			ws[k] = phrase[k].lw
		}
		c = &oCand{words: ws}
		if len(phrase) == 1 {
			s.cands[phrase[0].lw] = c
		} else {
			s.cands[string(key)] = c
		}
	}
	c.tf++
	text := s.join(phrase, false)
	for i := range c.forms {
		if c.forms[i].text == string(text) {
			c.forms[i].n++
			return
		}
	}
	f := form{n: 1}
	if len(phrase) == 1 {
		f.text = phrase[0].text
	} else {
		f.text = string(text)
	}
	c.forms = append(c.forms, f)
}

// join writes phrase's words (lower-cased, or as written) separated by spaces into s.buf.
func (s *oScanner) join(phrase []oWord, lower bool) []byte {
	s.buf = s.buf[:0]
	for k := range phrase {
		if k > 0 {
			s.buf = append(s.buf, ' ')
		}
		if lower {
			s.buf = append(s.buf, phrase[k].lw...)
		} else {
			s.buf = append(s.buf, phrase[k].text...)
		}
	}
	return s.buf
}

// oWordScorer computes YAKE oWord scores (lower is better), cached per oWord.
type oWordScorer struct {
	opt        Options
	words      map[string]*oWstat
	nSent      float64
	mean, std  float64 // of non-stopword frequencies
	maxTF      float64
	titleWords map[string]bool
	cache      map[string]float64
}

func oNewWordScorer(sc *oScanner, opt Options) *oWordScorer {
	ws := &oWordScorer{opt: opt, words: sc.words, nSent: float64(sc.sent + 1), titleWords: map[string]bool{}, cache: make(map[string]float64, len(sc.words))}
	var tfs []float64
	for lw, w := range sc.words {
		if IsStopword(opt.Lang, lw) {
			continue
		}
		tfs = append(tfs, w.tf)
		ws.maxTF = math.Max(ws.maxTF, w.tf)
	}
	// summed in a fixed order: map order made the deviation differ in its last bits from run
	// to run, which flipped near-tied phrases (same text, different keywords)
	sort.Float64s(tfs)
	ws.mean, ws.std = meanStd(tfs)
	for _, t := range textutil.Tokenize(opt.Title) {
		ws.titleWords[strings.ToLower(t.Text)] = true
	}
	return ws
}

// score returns lw's oWord score.
func (ws *oWordScorer) score(lw string) float64 {
	if v, ok := ws.cache[lw]; ok {
		return v
	}
	v := ws.compute(lw)
	ws.cache[lw] = v
	return v
}

// compute combines casing, position, frequency, context relatedness and
// sentence spread; title words and (with DF) common words score better.
func (ws *oWordScorer) compute(lw string) float64 {
	w := ws.words[lw]
	if IsStopword(ws.opt.Lang, lw) {
		return 1 // neutral inside a phrase
	}
	tCase := math.Max(w.upper, w.acro) / (1 + math.Log(w.tf))
	tPos := math.Log(math.Log(3 + median(w.firstSents)))
	tFreq := w.tf / (ws.mean + ws.std + 1e-9)
	dl := float64(w.nLeft) / w.tf
	dr := float64(w.nRight) / w.tf
	tRel := 1 + (dl+dr)*w.tf/(ws.maxTF+1e-9)
	tSent := float64(w.nSents) / ws.nSent
	s := tRel * tPos / (tCase + tFreq/tRel + tSent/tRel + 1e-9)
	if ws.titleWords[lw] {
		s /= 2
	}
	if ws.opt.DF != nil {
		s /= ws.opt.DF.IDFWeight(lw)
	}
	return s
}

// rank scores every candidate and sorts them best first (ties by key).
func (ws *oWordScorer) rank(cands map[string]*oCand) []scored {
	var list []scored
	for key, c := range cands {
		prod, sum := 1.0, 0.0
		for _, w := range c.words {
			v := ws.score(w)
			prod *= v
			sum += v
		}
		s := prod / (c.tf * (1 + sum))
		list = append(list, scored{key, bestForm(c.forms), s})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].s != list[j].s {
			return list[i].s < list[j].s
		}
		return list[i].key < list[j].key
	})
	return list
}

// oHomogeneous reports whether a phrase's content words are all capitalised or all lower case
// (short words such as "of" are ignored).
func oHomogeneous(ws []oWord) bool {
	caps, lower := 0, 0
	for i := range ws {
		if ws[i].cap {
			caps++
		} else if len(ws[i].text) > 3 {
			lower++
		}
	}
	return caps == 0 || lower == 0
}

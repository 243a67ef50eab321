// Package keywords extracts keyphrases with YAKE-style unsupervised statistics (term casing,
// position, frequency, context diversity and sentence spread; Campos et al. 2020), optionally
// re-weighted by inverse document frequencies maintained over the article stream (DocFreq).
//
// Extract is pure and safe for concurrent use; a *DocFreq is safe for concurrent use.
package keywords

import (
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// Options tune Extract.
type Options struct {
	Lang     string   // ISO 639-1; selects stopwords ("" → English list)
	Max      int      // keyphrases returned (default 10)
	MaxWords int      // words per phrase (default 3)
	DF       *DocFreq // optional stream document frequencies
	Title    string   // optional title: its words get a boost
	// Tokens optionally gives text's tokens as textutil.Tokenize(text) returns them, for a
	// caller that has them already (not modified).
	Tokens []textutil.Token
}

type wstat struct {
	lw              string // the lower-cased word
	stop            bool   // IsStopword(opt.Lang, lw)
	tf, upper, acro float64
	nSents          int
	lastSent        int
	firstSents      []int
	nLeft, nRight   int
}

type cand struct {
	key   string  // lower-cased words joined by spaces
	words []int32 // indices in scanner.stats
	forms []form  // distinct surface forms (usually one)
	tf    float64
}

// form is a surface form of a candidate and its occurrences.
type form struct {
	text string
	n    int
}

// Extract returns up to opt.Max keyphrases of text, best first, with scores in (0, 1]
// (1 for the best phrase).
func Extract(text string, opt Options) []article.Keyword {
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
	sc := getScanner(opt, len(toks))
	defer putScanner(sc)
	for _, t := range toks {
		sc.token(t.Text)
	}
	sc.flush()
	if len(sc.cands) == 0 {
		return nil
	}
	ws := newWordScorer(sc, opt)
	return selectKeywords(ws.rank(sc), opt.Max)
}

// scanner collects word statistics and candidate phrases token by token. Scanners are pooled
// (scanners): their maps and slabs are reused from document to document.
type scanner struct {
	opt         Options
	surf        map[string]int32 // token text → index in infos (a memo of what token asks of it)
	infos       []tokInfo
	words       map[string]int32 // lower-cased word → index in stats
	stats       []wstat          // in order of first occurrence (the index is the pairs id)
	cands       map[string]int32 // phrase key → index in candv
	candv       []cand
	pairs       map[uint64]struct{} // distinct adjacent word pairs seen (stats indices)
	sent        int                 // current sentence index
	chunk       []word              // run of words without punctuation between
	newSentence bool
	prev        int32  // index in stats of the previous word in the chunk, -1 for none
	paren       int    // parenthetical asides (credits, captions) give poor keyphrases
	buf         []byte // phrase keys and forms being looked up
	list        []scored
	scores      []float64 // word scores by stats index (wordScorer)
	scored      []bool
	peak        int // the most map entries held for one document (map capacities never shrink)
}

// tokInfo is what token asks of a distinct token text.
type tokInfo struct {
	word                  bool  // textutil.IsWord and not textutil.IsClitic
	isWord                bool  // textutil.IsWord
	w                     int32 // index in stats once counted, else -1
	lw                    string
	stop, useful, allCaps bool
	cap                   bool
}

// word is a word token of the current chunk with what candidate asks of it.
type word struct {
	text, lw              string // as written, lower-cased
	w                     int32  // index in stats
	stop, useful, allCaps bool   // IsStopword, useful, textutil.IsAllCaps
	cap                   bool   // textutil.IsCap
}

var scanners sync.Pool

// maxPooledWords bounds the scanners kept for reuse: one that saw a larger document is
// dropped so that a rare huge text does not pin its large maps (and every later reuse does
// not pay to clear them: clearing a map costs its capacity, not its length).
const maxPooledWords = 1 << 14

// pooled reports whether s is small enough to keep: distinct words, candidates, distinct
// token texts (words inside brackets and case variants have no statistics of their own),
// distinct word pairs, the longest chunk and the phrase buffer; and whether its maps are not
// much larger than this document needed (clearing a map costs its capacity, which stays that
// of the largest document the scanner saw: after one long article, every short one paid to
// clear the long one's maps).
func (s *scanner) pooled() bool {
	n := len(s.surf) + len(s.words) + len(s.cands) + len(s.pairs)
	s.peak = max(s.peak, n)
	return len(s.stats) <= maxPooledWords && len(s.candv) <= 4*maxPooledWords && len(s.infos) <= 4*maxPooledWords &&
		len(s.pairs) <= 4*maxPooledWords && cap(s.chunk) <= maxPooledWords && cap(s.buf) <= 1<<16 &&
		(s.peak <= minShrinkEntries || s.peak <= 4*n)
}

// minShrinkEntries is the map size below which a scanner is pooled whatever its documents'
// sizes (clearing maps of that size is cheap).
const minShrinkEntries = 1 << 12

// getScanner returns an empty scanner sized for about n tokens.
func getScanner(opt Options, n int) *scanner {
	s, _ := scanners.Get().(*scanner)
	if s == nil {
		s = &scanner{surf: make(map[string]int32, n/2), words: make(map[string]int32, n/2), cands: make(map[string]int32, n), pairs: make(map[uint64]struct{}, n/2)}
	}
	s.opt = opt
	s.newSentence = true
	s.prev = -1
	return s
}

// putScanner empties s (dropping its references to the document) and pools it unless it is
// too large to keep; it reports whether it pooled s.
func putScanner(s *scanner) bool {
	if !s.pooled() {
		return false
	}
	s.reset()
	scanners.Put(s)
	return true
}

// reset empties s, dropping its references to the document.
func (s *scanner) reset() {
	clear(s.surf)
	clear(s.words)
	clear(s.cands)
	clear(s.pairs)
	clear(s.infos)
	s.infos = s.infos[:0]
	for i := range s.stats {
		s.stats[i] = wstat{firstSents: s.stats[i].firstSents[:0]}
	}
	s.stats = s.stats[:0]
	for i := range s.candv {
		s.candv[i] = cand{words: s.candv[i].words[:0], forms: clear0(s.candv[i].forms)}
	}
	s.candv = s.candv[:0]
	clear(s.chunk)
	s.chunk = s.chunk[:0]
	clear(s.list)
	s.list = s.list[:0]
	s.opt = Options{}
	s.sent, s.paren = 0, 0
}

// clear0 returns fs emptied, with its strings dropped.
func clear0(fs []form) []form {
	clear(fs)
	return fs[:0]
}

// info returns what token asks of text, computed once per distinct text.
func (s *scanner) info(text string) *tokInfo {
	if i, ok := s.surf[text]; ok {
		return &s.infos[i]
	}
	ti := tokInfo{isWord: textutil.IsWord(text), w: -1}
	if ti.isWord && !textutil.IsClitic(text) {
		lw := strings.ToLower(text)
		ti.word = true
		ti.lw = lw
		ti.stop = IsStopword(s.opt.Lang, lw)
		ti.useful = useful(lw)
		ti.allCaps = textutil.IsAllCaps(text)
		ti.cap = textutil.IsCap(text)
	}
	s.surf[text] = int32(len(s.infos))
	s.infos = append(s.infos, ti)
	return &s.infos[len(s.infos)-1]
}

// wordIndex returns the index in stats of word lw, adding it.
func (s *scanner) wordIndex(lw string, stop bool) int32 {
	w, ok := s.words[lw]
	if !ok {
		w = int32(len(s.stats))
		s.words[lw] = w
		if len(s.stats) < cap(s.stats) {
			s.stats = s.stats[:len(s.stats)+1]
			st := &s.stats[w]
			st.lw, st.stop, st.lastSent = lw, stop, -1
		} else {
			s.stats = append(s.stats, wstat{lw: lw, stop: stop, lastSent: -1})
		}
	}
	return w
}

// token processes one token: brackets, punctuation and clitics end the
// current chunk; words update their statistics and join it.
func (s *scanner) token(text string) {
	switch text {
	case "(", "[":
		s.paren++
	case ")", "]":
		if s.paren > 0 {
			s.paren--
		}
	}
	ti := s.info(text)
	if s.paren > 0 && ti.isWord {
		s.flush()
		s.prev = -1
		return
	}
	if !ti.word {
		s.flush()
		if text == "." || text == "!" || text == "?" || text == "\n" {
			s.sent++
			s.newSentence = true
		}
		s.prev = -1
		return
	}
	if ti.w < 0 { // first counted occurrence of this text
		ti.w = s.wordIndex(ti.lw, ti.stop)
	}
	s.chunk = append(s.chunk, word{text: text, lw: ti.lw, w: ti.w, stop: ti.stop, useful: ti.useful, allCaps: ti.allCaps, cap: ti.cap})
	s.countWord(&s.chunk[len(s.chunk)-1])
	s.prev = ti.w
	s.newSentence = false
}

// countWord updates the statistics of word wd: frequency, casing, sentences and distinct
// left/right neighbours.
func (s *scanner) countWord(wd *word) {
	w := &s.stats[wd.w]
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
	if s.prev >= 0 {
		k := uint64(s.prev)<<32 | uint64(wd.w)
		if _, seen := s.pairs[k]; !seen {
			s.pairs[k] = struct{}{}
			w.nLeft++
			s.stats[s.prev].nRight++
		}
	}
}

// flush adds the candidate phrases of the current chunk and empties it.
func (s *scanner) flush() {
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
// candidate phrase: no stopword or non-word at either end, not shouted,
// homogeneous in case, and not cutting a name.
func (s *scanner) candidate(i, n int) bool {
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
	if !homogeneous(c[i : i+n]) {
		return false // "Rafael Nadal kept", "rusher Myles Garrett": half a name, half not
	}
	if i+n < len(c) && c[i+n-1].cap && c[i+n].cap {
		return false // would cut a name: "Ukrainian President Volodymyr | Zelensky"
	}
	return true
}

// addCandidate counts one occurrence of phrase (keyed by its lower-cased words joined by
// spaces) and its surface form.
func (s *scanner) addCandidate(phrase []word) {
	var key string
	var ci int32
	var ok bool
	if len(phrase) == 1 {
		key = phrase[0].lw
		ci, ok = s.cands[key]
	} else {
		ci, ok = s.cands[string(s.join(phrase, true))]
	}
	if !ok {
		if len(phrase) > 1 {
			key = string(s.buf)
		}
		ci = int32(len(s.candv))
		s.cands[key] = ci
		if len(s.candv) < cap(s.candv) {
			s.candv = s.candv[:len(s.candv)+1]
		} else {
			s.candv = append(s.candv, cand{})
		}
		c := &s.candv[ci]
		c.key = key
		for k := range phrase {
			c.words = append(c.words, phrase[k].w)
		}
	}
	c := &s.candv[ci]
	c.tf++
	if len(phrase) == 1 {
		text := phrase[0].text
		for i := range c.forms {
			if c.forms[i].text == text {
				c.forms[i].n++
				return
			}
		}
		c.forms = append(c.forms, form{text: text, n: 1})
		return
	}
	text := s.join(phrase, false)
	for i := range c.forms {
		if c.forms[i].text == string(text) {
			c.forms[i].n++
			return
		}
	}
	c.forms = append(c.forms, form{text: string(text), n: 1})
}

// join writes phrase's words (lower-cased, or as written) separated by spaces into s.buf.
func (s *scanner) join(phrase []word, lower bool) []byte {
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

// wordScorer computes YAKE word scores (lower is better), cached per word.
type wordScorer struct {
	opt        Options
	stats      []wstat
	nSent      float64
	mean, std  float64 // of non-stopword frequencies
	maxTF      float64
	titleWords map[string]bool
	cache      []float64 // by stats index
	done       []bool
}

func newWordScorer(sc *scanner, opt Options) *wordScorer {
	ws := &wordScorer{opt: opt, stats: sc.stats, nSent: float64(sc.sent + 1)}
	tfs := make([]float64, 0, len(sc.stats))
	for i := range sc.stats {
		w := &sc.stats[i]
		if w.stop {
			continue
		}
		tfs = append(tfs, w.tf)
		ws.maxTF = math.Max(ws.maxTF, w.tf)
	}
	// summed in a fixed order: map order made the deviation differ in its last bits from run
	// to run, which flipped near-tied phrases (same text, different keywords)
	sort.Float64s(tfs)
	ws.mean, ws.std = meanStd(tfs)
	if opt.Title != "" {
		ws.titleWords = map[string]bool{}
		for _, t := range textutil.Tokenize(opt.Title) {
			ws.titleWords[strings.ToLower(t.Text)] = true
		}
	}
	n := len(sc.stats)
	sc.scores = append(sc.scores[:0], make([]float64, n)...)
	sc.scored = append(sc.scored[:0], make([]bool, n)...)
	ws.cache, ws.done = sc.scores, sc.scored
	return ws
}

// score returns word i's score.
func (ws *wordScorer) score(i int32) float64 {
	if ws.done[i] {
		return ws.cache[i]
	}
	v := ws.compute(&ws.stats[i])
	ws.cache[i], ws.done[i] = v, true
	return v
}

// compute combines casing, position, frequency, context relatedness and
// sentence spread; title words and (with DF) common words score better.
func (ws *wordScorer) compute(w *wstat) float64 {
	if w.stop {
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
	if ws.titleWords[w.lw] {
		s /= 2
	}
	if ws.opt.DF != nil {
		s /= ws.opt.DF.IDFWeight(w.lw)
	}
	return s
}

// scored is a candidate phrase with its most frequent surface form and its
// score (lower is better).
type scored struct {
	key, form string
	s         float64
}

// rank scores every candidate of sc and sorts them best first (ties by key); the list is
// sc's.
func (ws *wordScorer) rank(sc *scanner) []scored {
	list := sc.list[:0]
	for i := range sc.candv {
		c := &sc.candv[i]
		prod, sum := 1.0, 0.0
		for _, w := range c.words {
			v := ws.score(w)
			prod *= v
			sum += v
		}
		s := prod / (c.tf * (1 + sum))
		list = append(list, scored{c.key, bestForm(c.forms), s})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].s != list[j].s {
			return list[i].s < list[j].s
		}
		return list[i].key < list[j].key
	})
	sc.list = list
	return list
}

// selectKeywords takes up to limit phrases from the ranked list, skipping
// near-duplicates of those already taken, scored relative to the best.
func selectKeywords(list []scored, limit int) []article.Keyword {
	var out []article.Keyword
	var keys []string
	best := 0.0
	for _, c := range list {
		if len(out) >= limit {
			break
		}
		dup := false
		for _, k := range keys {
			if similar(k, c.key) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if best == 0 {
			best = c.s
		}
		keys = append(keys, c.key)
		out = append(out, article.Keyword{Term: c.form, Score: round3(best / c.s)})
	}
	return out
}

// homogeneous reports whether a phrase's content words are all capitalised or all lower case
// (short words such as "of" are ignored).
func homogeneous(ws []word) bool {
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

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// useful rejects numbers-only and one-letter tokens as phrase edges.
func useful(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

// bestForm returns the most frequent form, the first in string order among equals.
func bestForm(forms []form) string {
	best, n := "", -1
	for _, f := range forms {
		if f.n > n || f.n == n && f.text < best {
			best, n = f.text, f.n
		}
	}
	return best
}

func similar(a, b string) bool {
	if strings.Contains(a, b) || strings.Contains(b, a) {
		// "ukraine" vs "ukraine crisis": keep both unless the shorter covers most of the longer
		la, lb := len(a), len(b)
		return float64(min(la, lb))/float64(max(la, lb)) > 0.7
	}
	d := textutil.Levenshtein(a, b)
	return float64(d)/float64(max(len(a), len(b))) < 0.2
}

func meanStd(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)))
}

func median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	c := append([]int(nil), xs...)
	sort.Ints(c)
	if len(c)%2 == 1 {
		return float64(c[len(c)/2])
	}
	return float64(c[len(c)/2-1]+c[len(c)/2]) / 2
}

// DocFreq counts, over a stream of documents, how many documents contain each word. It keeps
// at most MaxTerms words: when full, counts are halved and words that drop to zero are
// forgotten (an exponential-decay sketch that favours recent and frequent words). Safe for
// concurrent use.
type DocFreq struct {
	mu       sync.RWMutex
	df       map[string]uint32
	docs     float64
	maxTerms int
	minDocs  float64
}

// NewDocFreq returns a DocFreq holding at most maxTerms words (default 200,000); IDF weights
// stay neutral until minDocs documents (default 100) have been observed.
func NewDocFreq(maxTerms, minDocs int) *DocFreq {
	if maxTerms <= 0 {
		maxTerms = 200000
	}
	if minDocs <= 0 {
		minDocs = 100
	}
	return &DocFreq{df: map[string]uint32{}, maxTerms: maxTerms, minDocs: float64(minDocs)}
}

// seenSets pools ObserveTokens' sets of a document's distinct words (*seenSet).
var seenSets sync.Pool

// seenSet is a pooled set of a document's distinct words.
type seenSet struct {
	m    map[string]struct{}
	peak int // the most words m has held (its capacity, which never shrinks, follows it)
}

// keep reports whether ss may be pooled after a document of len(ss.m) words: not too many,
// and its map not much larger than the document needed (iterating and clearing a map cost
// its capacity: after one long article, every short one iterated, under d.mu, and cleared
// the long one's map).
func (ss *seenSet) keep() bool {
	n := len(ss.m)
	ss.peak = max(ss.peak, n)
	return n <= maxPooledWords && (ss.peak <= minShrinkEntries || ss.peak <= 4*n)
}

// Observe counts the distinct lower-cased words of one document.
func (d *DocFreq) Observe(text string) { d.ObserveTokens(textutil.Tokenize(text)) }

// ObserveTokens is Observe of a document's tokens (textutil.Tokenize).
func (d *DocFreq) ObserveTokens(toks []textutil.Token) {
	ss, _ := seenSets.Get().(*seenSet)
	if ss == nil {
		ss = &seenSet{m: make(map[string]struct{}, len(toks)/2)}
	}
	seen := ss.m
	for _, t := range toks {
		if textutil.IsWord(t.Text) {
			seen[strings.ToLower(t.Text)] = struct{}{}
		}
	}
	d.count(seen)
	if ss.keep() {
		clear(seen)
		seenSets.Put(ss)
	}
}

// count adds one document of distinct words seen.
func (d *DocFreq) count(seen map[string]struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs++
	for w := range seen {
		if c, ok := d.df[w]; ok {
			d.df[w] = c + 1
		} else {
			// w may be a substring of the article's text (ToLower returns a lower-case word
			// as it is): a key of its own keeps the text from living as long as the table.
			d.df[strings.Clone(w)] = 1
		}
	}
	if len(d.df) > d.maxTerms {
		for w, c := range d.df {
			if c /= 2; c == 0 {
				delete(d.df, w)
			} else {
				d.df[w] = c
			}
		}
		d.docs /= 2
	}
}

// IDFWeight returns a multiplicative weight ≥ 0.25 that is larger for rarer words: 1 until
// enough documents were observed, then log((N+1)/(df+1)) normalised by log(N+1) and scaled
// to [0.25, 2].
func (d *DocFreq) IDFWeight(w string) float64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.docs < d.minDocs {
		return 1
	}
	idf := math.Log((d.docs+1)/(float64(d.df[w])+1)) / math.Log(d.docs+1)
	return 0.25 + 1.75*idf
}

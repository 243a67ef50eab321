package ner

import (
	"archive/zip"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"unicode/utf8"
)

// WordLexicon holds per-word statistics drawn from large unlabelled
// corpora: a Brown cluster path (bit i of the code is step i of the path
// from the root) and a quantised log probability of the word as written
// (case matters: "Mozilla" and "mozilla" are different entries). Both tell
// the tagger things a 200k-token training set cannot: which unseen
// capitalised words behave like other names, and whether a word is usually
// capitalised at all. spaCy stores a path as the integer of its reversed
// bit string, so trailing zeros are lost: a path that continues with zeros
// shares its longer prefixes with the shorter path, and the all-zero path
// cannot be told from "no cluster". A *WordLexicon is immutable after
// construction and safe for concurrent use.
type WordLexicon struct {
	m map[string]uint32 // brown code (bits 0..19) | (quantised -2*logprob + 1) << 20
}

const (
	lexBrownBits = 20
	lexBrownMask = 1<<lexBrownBits - 1
)

// Len returns the number of words in the lexicon.
func (l *WordLexicon) Len() int {
	if l == nil {
		return 0
	}
	return len(l.m)
}

// Brown returns the Brown cluster code of w as written (0 = none).
func (l *WordLexicon) Brown(w string) uint32 {
	if l == nil {
		return 0
	}
	return l.m[w] & lexBrownMask
}

// LogProb returns the natural log probability of w as written, rounded to
// half units, and whether w is in the lexicon.
func (l *WordLexicon) LogProb(w string) (float64, bool) {
	if l == nil {
		return 0, false
	}
	v, ok := l.m[w]
	q := v >> lexBrownBits
	if !ok || q == 0 {
		return 0, false
	}
	return -float64(q-1) / 2, true
}

// SpacyLookupsFile is the spacy-lookups-data wheel ReadSpacyLookups reads:
// its English lexeme tables are the Brown clusters (1,000 clusters over
// 190k words of newswire) and unigram log probabilities (1M cased words)
// that spaCy v2 shipped. MIT licence; see NOTICE.
const (
	SpacyLookupsFile   = "spacy_lookups_data-1.0.5-py2.py3-none-any.whl"
	SpacyLookupsURL    = "https://files.pythonhosted.org/packages/9f/9e/dae3acaacc7cbe8140acb181e09b9920f8b3ee81d2f1cd838d160c78f0c2/" + SpacyLookupsFile
	SpacyLookupsSHA256 = "466f21f087e4144bc93800679437ec5a17be7d0888734b1ba880b3ecb0978bc6"
)

// ReadSpacyLookups builds a WordLexicon from the English lexeme tables of
// a spacy-lookups-data wheel at path. It keeps every word with a Brown
// cluster (190k) and every word whose log probability is at least
// minLogProb (-17.5 keeps 217k; 323k words in all).
func ReadSpacyLookups(path string, minLogProb float64) (*WordLexicon, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("ner: lexicon: %w", err)
	}
	defer zr.Close()
	var clus map[string]uint32
	var prob map[string]float64
	read := func(name string, v any) error {
		f, err := zr.Open("spacy_lookups_data/data/" + name)
		if err != nil {
			return err
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := json.NewDecoder(io.LimitReader(gz, 1<<30)).Decode(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := read("en_lexeme_cluster.json.gz", &clus); err != nil {
		return nil, fmt.Errorf("ner: lexicon: %w", err)
	}
	if err := read("en_lexeme_prob.json.gz", &prob); err != nil {
		return nil, fmt.Errorf("ner: lexicon: %w", err)
	}
	return buildWordLexicon(clus, prob, minLogProb), nil
}

func buildWordLexicon(clus map[string]uint32, prob map[string]float64, minLogProb float64) *WordLexicon {
	l := &WordLexicon{m: make(map[string]uint32, len(clus))}
	for w, c := range clus {
		if c != 0 && c <= lexBrownMask {
			l.m[w] = c
		}
	}
	for w, p := range prob {
		if p < minLogProb && l.m[w] == 0 {
			continue
		}
		q := uint32(max(0, min(250, math.Round(-2*p)))) + 1
		l.m[w] |= q << lexBrownBits
	}
	return l
}

// brownPrefixes are the Brown path lengths used as features (as in Ratinov
// and Roth 2009).
var brownPrefixes = [...]uint32{4, 8, 12, 20}

// lexPrepare looks up the Brown code of every token once (a sentence-initial
// word without one falls back to its lower-case form).
// It keeps each token's lexicon entries (as written and lower-cased) for
// lexFeatures.
func (f *featurizer) lexPrepare(words []string) {
	f.brown, f.lexW, f.lexL = f.brown[:0], f.lexW[:0], f.lexL[:0]
	for j, w := range words {
		c, ew, el := f.lex.lookup(w, f.lw[j], j == 0)
		f.brown = append(f.brown, c)
		f.lexW, f.lexL = append(f.lexW, ew), append(f.lexL, el)
	}
}

// lookup returns the Brown code of w (lower-cased lw; a sentence-initial
// word without one falls back to lw's) and the lexicon entries of w and lw.
func (l *WordLexicon) lookup(w, lw string, first bool) (c uint32, ew, el lexEntry) {
	vw, okw := l.m[w]
	ew, el = lexEntry{vw, okw}, lexEntry{vw, okw}
	if lw != w {
		v, ok := l.m[lw]
		el = lexEntry{v, ok}
	}
	c = vw & lexBrownMask
	if c == 0 && first {
		c = el.v & lexBrownMask
	}
	return c, ew, el
}

// lexEntry is a word's lexicon value and whether it has one.
type lexEntry struct {
	v  uint32
	ok bool
}

// logProb is WordLexicon.LogProb of the word e was looked up for.
func (e lexEntry) logProb() (float64, bool) {
	q := e.v >> lexBrownBits
	if !e.ok || q == 0 {
		return 0, false
	}
	return -float64(q-1) / 2, true
}

// lexFeatures adds the lexicon features of token i (after lexPrepare):
// Brown cluster prefixes of the token and its neighbours, and buckets of how
// often the word is written with this casing against lower-cased and of how
// frequent it is.
func (f *featurizer) lexFeatures(words []string, i int) {
	n := len(words)
	for d, tpl := range [3]uint64{tBrownM1, tBrown, tBrownP1} {
		j := i - 1 + d
		if j < 0 || j >= n {
			continue
		}
		f.brownTemplate(tpl, f.brown[j])
	}
	f.lexFreqFeatures(words[i], f.lw[i], f.lexW[i], f.lexL[i], i == 0)
}

// brownTemplate adds template tpl (tBrownM1, tBrown or tBrownP1) for a word
// with Brown code c (0 none).
func (f *featurizer) brownTemplate(tpl uint64, c uint32) {
	if c == 0 {
		f.add(hint(hseed(tpl), 1<<30))
		return
	}
	ks := brownPrefixes[:]
	if tpl != tBrown {
		ks = ks[:2] // neighbours: coarse prefixes only
	}
	for _, L := range ks {
		f.add(hint(hint(hseed(tpl), uint64(c&(1<<L-1))), uint64(L)))
	}
}

// lexFreqFeatures adds the buckets of how often the word w (lower-cased lw,
// lexicon entries ew and el) is written this way against lower-cased, and
// how frequent its lower-case form is; first: w starts the sentence.
func (f *featurizer) lexFreqFeatures(w, lw string, ew, el lexEntry, isFirst bool) {
	if !lexWord(w) {
		return
	}
	first := uint64(0)
	if isFirst {
		first = 1
	}
	pl, okl := el.logProb()
	fb := uint64(0) // unknown lower-case form
	if okl {
		fb = 1 + uint64(min(12, max(0, int(-pl-4))))
	}
	if w == lw {
		f.add(hint(hint(hseed(tLexFreq), fb), 0))
		return
	}
	pw, okw := ew.logProb()
	var rb uint64
	switch {
	case !okw && !okl:
		rb = 0
	case !okw:
		rb = 1
	case !okl:
		rb = 2
	default:
		r := int(math.Round(pw - pl))
		rb = 3 + uint64(min(12, max(0, r+5)))
	}
	f.add(hint(hint(hseed(tLexFreq), fb), 1))
	f.add(hint(hint(hseed(tLexRatio), rb), first))
	if okw {
		f.add(hint(hint(hseed(tLexFreqW), uint64(min(12, max(0, int(-pw-4))))), first))
	}
}

// lexWord reports whether s gets frequency features: it has an ASCII
// letter or any non-ASCII rune. Typographic punctuation (“ ” – …) is
// included on purpose: counting only letters scored lower on EWT dev (seed
// 1: 0.740 against 0.747; seed 2: 0.736 both).
func lexWord(s string) bool {
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// keys returns the lexicon's words sorted (for WriteTo).
func (l *WordLexicon) keys() []string {
	ks := make([]string, 0, l.Len())
	if l != nil {
		for k := range l.m {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

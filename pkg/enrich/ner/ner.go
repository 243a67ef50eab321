// Package ner finds named entities (PER, ORG, LOC, MISC) in text.
//
// The models are structured averaged perceptrons with hashed word, shape,
// affix, context, gazetteer and word-cluster features, decoded with Viterbi
// over IOB2 labels, plus document-level label consistency. The English model
// is stacked: a second pass sees how the first pass labelled the other
// mentions of each word in the document (see TrainStacked). They are trained by
// cmd/train-ner from ../shared/ml and embedded in the binary (see Default);
// nothing is downloaded at run time. All exported functions and methods are
// safe for concurrent use.
package ner

import (
	"embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Span is one entity mention: byte offsets [Start, End) into the text, the
// type (PER, ORG, LOC or MISC), the covered text and a confidence score in
// [0,1]: the mean over its tokens of the model's probability of that type,
// or, for tokens document consistency typed, of the document's vote share
// for it. Perceptron margins make these probabilities mostly 0 or 1: even
// spans scoring below 0.2 are right 78% of the time on EWT dev.
type Span struct {
	Start, End int
	Type       string
	Text       string
	Score      float64
}

//go:embed model
var modelFS embed.FS

// ModelFile is the file name of a language's model inside the model directory.
func ModelFile(lang string) string { return lang + ".ner.gz" }

// embedded holds the embedded models, each decoded on first use; the map is
// read-only, so lookups need no lock and loading one model does not block
// the others.
var embedded = map[string]*lazyModel{"en": {}, "multi": {}, "zh": {}}

type lazyModel struct {
	once sync.Once
	m    *Model
}

// ForLanguage returns the embedded model for an ISO 639 language code, or nil
// if none fits. English has its own model ("en") and Chinese ("zh") a
// character model (FeatHanChars); every other language written with spaces
// between words gets "multi" (trained on pt, hr, sr, da, sk, sv, de, fr, nl;
// on a language it has not seen it generalises better than the English
// model: Slovak test F1 0.486 for multi trained without Slovak against
// 0.300 for English). "" gives nil, and so do Japanese, Thai, Lao, Khmer,
// Burmese and Tibetan (written without spaces) and Korean (Hangul, which no
// model has seen). Models are decoded once, on first use; safe for
// concurrent use.
func ForLanguage(lang string) *Model {
	name := lang
	switch lang {
	case "en", "zh":
	case "", "ja", "ko", "th", "lo", "km", "my", "bo":
		return nil
	default:
		name = "multi"
	}
	lm := embedded[name]
	lm.once.Do(func() {
		if b, err := modelFS.ReadFile("model/" + ModelFile(name)); err == nil {
			lm.m, _ = LoadModelBytes(b)
		}
	})
	return lm.m
}

var (
	defOnce  sync.Once
	defModel *Model
)

// Default returns the embedded English model, loading it once (about 0.16
// CPU-s on first call; BenchmarkLoadModel/en). If no model is
// embedded it returns an empty model that finds nothing.
func Default() *Model {
	defOnce.Do(func() {
		defModel = ForLanguage("en")
		if defModel == nil {
			defModel = &Model{bits: 20, gaz: NewGazetteer(), consistency: true}
		}
	})
	return defModel
}

// Extract returns the entity spans of text in order. Input beyond
// MaxInputBytes is ignored, so time per call is bounded (linear in input).
// The whole text is treated as one document for label consistency.
// Safe for concurrent use.
func (m *Model) Extract(text string) []Span {
	if len(text) > MaxInputBytes {
		cut := MaxInputBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	return m.extract(text, Tokenize(text))
}

// ExtractTokens is Extract for a caller that has already tokenised text:
// toks must be Tokenize(text) (they are not modified). Text beyond
// MaxInputBytes is handled as Extract does.
func (m *Model) ExtractTokens(text string, toks []Token) []Span {
	if len(text) > MaxInputBytes {
		return m.Extract(text)
	}
	return m.extract(text, toks)
}

func (m *Model) extract(text string, toks []Token) []Span {
	if m.feats&FeatHanChars != 0 {
		toks = splitHanTokens(toks)
	}
	sents := chunkSentences(Sentences(text, toks), maxSentence)
	ws := m.ws()
	defer m.pool.Put(ws)
	words := make([][]string, len(sents))
	labs := make([][]int, len(sents))
	confs := make([][]float32, len(sents))
	// one backing array each for the whole document
	n := 0
	for _, s := range sents {
		n += len(s)
	}
	allW, allL, allC := make([]string, n), make([]int, n), make([]float32, n*numTypes)
	for i, s := range sents {
		w := allW[:len(s):len(s)]
		for j, t := range s {
			w[j] = t.Text
		}
		words[i], labs[i], confs[i] = w, allL[:len(s):len(s)], allC[:len(s)*numTypes:len(s)*numTypes]
		allW, allL, allC = allW[len(s):], allL[len(s):], allC[len(s)*numTypes:]
	}
	m.tagDoc(ws, words, labs, confs)
	if m.consistency {
		docConsistency(words, labs, confs)
	}
	var out []Span
	for i, s := range sents {
		for _, sp := range spansOf(labs[i]) {
			// the model's probability of the span's final type (after
			// document consistency, which may have relabelled it)
			var c float64
			t := typeIndex(sp.Type)
			for j := sp.Start; j < sp.End; j++ {
				c += float64(confs[i][j*numTypes+t])
			}
			st, en := s[sp.Start].Start, s[sp.End-1].End
			out = append(out, Span{Start: st, End: en, Type: sp.Type, Text: text[st:en], Score: c / float64(sp.End-sp.Start)})
		}
	}
	return out
}

// maxSentence bounds the tokens tagged as one sentence; longer runs (text
// without punctuation) are tagged in chunks.
const maxSentence = 400

// chunkSentences splits sentences longer than n tokens into pieces of at
// most n, preferring a cut after punctuation (the pieces alias the input).
func chunkSentences(sents [][]Token, n int) [][]Token {
	long := false
	for _, s := range sents {
		if len(s) > n {
			long = true
			break
		}
	}
	if !long {
		return sents
	}
	out := make([][]Token, 0, len(sents)+1)
	for _, s := range sents {
		for len(s) > n {
			// cut after the last punctuation token of the final eighth, so a
			// name is rarely split
			cut := n
			for k := n; k > n-n/8; k-- {
				if r, _ := utf8.DecodeRuneInString(s[k-1].Text); unicode.IsPunct(r) {
					cut = k
					break
				}
			}
			out = append(out, s[:cut:cut])
			s = s[cut:]
		}
		out = append(out, s)
	}
	return out
}

func spansOf(labs []int) []TokenSpan {
	var out []TokenSpan
	start, typ := -1, 0
	for i := 0; i <= len(labs); i++ {
		l := lO
		if i < len(labs) {
			l = labs[i]
		}
		if start >= 0 && (l == lO || l%2 == 1 || (l+1)/2 != typ) {
			out = append(out, TokenSpan{start, i, labelNames[typ*2][2:]})
			start = -1
		}
		if l != lO && start < 0 {
			start, typ = i, (l+1)/2
		}
	}
	return out
}

// docConsistency makes labels of repeated names agree within a document:
// each surface form takes its majority type, and untagged capitalised
// occurrences of a tagged name (or of the last word of a multi-word person
// name) are tagged too, as are untagged occurrences of tagged names of two
// or more Han characters.
//
// When conf is non-nil (per token, numTypes probabilities as filled by
// tagInto), a relabelled token's probability of its new type is raised to
// the document's vote share for that type (for a bare surname, the full
// name's share): the evidence that typed it.
func docConsistency(words [][]string, labs [][]int, conf [][]float32) {
	type vote [5]int
	votes := map[string]*vote{}
	keyOf := func(ws []string) string { return strings.Join(ws, " ") }
	for i, ls := range labs {
		for _, sp := range spansOf(ls) {
			k := keyOf(words[i][sp.Start:sp.End])
			v := votes[k]
			if v == nil {
				v = &vote{}
				votes[k] = v
			}
			v[typeIndex(sp.Type)]++
		}
	}
	if len(votes) == 0 {
		return
	}
	best := map[string]int{}
	share := map[string]float32{}
	for k, v := range votes {
		bt, bc, tie := 0, 0, false
		for t := 1; t < 5; t++ {
			if v[t] > bc {
				bt, bc, tie = t, v[t], false
			} else if v[t] == bc && bc > 0 {
				tie = true
			}
		}
		if !tie {
			best[k] = bt
			tot := 0
			for _, c := range v {
				tot += c
			}
			share[k] = float32(bc) / float32(tot)
		}
	}
	mark := func(i, s, e, t int, sh float32) {
		if conf == nil {
			return
		}
		for j := s; j < e; j++ {
			c := &conf[i][j*numTypes+t]
			*c = max(*c, sh)
		}
	}
	// partial person names: last token of a multi-token PER
	partial := map[string]int{}
	for k, t := range best {
		if t == 1 && strings.Contains(k, " ") {
			last := k[strings.LastIndexByte(k, ' ')+1:]
			if r, _ := utf8.DecodeRuneInString(last); unicode.IsUpper(r) && utf8.RuneCountInString(last) > 1 {
				if _, ok := best[last]; !ok {
					partial[last] = 1
					share[last] = max(share[last], share[k])
				}
			}
		}
	}
	maxLen := 0
	for k := range best {
		maxLen = max(maxLen, strings.Count(k, " ")+1)
	}
	maxLen = min(maxLen, 8)
	for i, ls := range labs {
		// relabel to majority
		for _, sp := range spansOf(ls) {
			k := keyOf(words[i][sp.Start:sp.End])
			if t, ok := best[k]; ok && t != typeIndex(sp.Type) {
				setSpan(ls, sp.Start, sp.End, t)
				mark(i, sp.Start, sp.End, t, share[k])
			}
		}
		// propagate to untagged capitalised occurrences
		ws := words[i]
		for j := 0; j < len(ws); j++ {
			if ls[j] != lO {
				continue
			}
			r, _ := utf8.DecodeRuneInString(ws[j])
			han := isHan(r) // Han characters have no case; a name there needs two or more
			if !unicode.IsUpper(r) && !han {
				continue
			}
			for L := min(maxLen, len(ws)-j); L >= 1+boolInt(han); L-- {
				ok := true
				for q := j; q < j+L; q++ {
					if ls[q] != lO {
						ok = false
						break
					}
				}
				if !ok {
					continue
				}
				k := keyOf(ws[j : j+L])
				t, found := best[k]
				if !found && L == 1 {
					t, found = partial[k]
				}
				if found {
					// don't glue onto an adjacent capitalised word
					if j+L < len(ws) && ls[j+L] == lO {
						if r, _ := utf8.DecodeRuneInString(ws[j+L]); unicode.IsUpper(r) {
							break
						}
					}
					setSpan(ls, j, j+L, t)
					mark(i, j, j+L, t, share[k])
					j += L - 1
					break
				}
			}
		}
	}
}

func typeIndex(t string) int {
	switch t {
	case "PER":
		return 1
	case "ORG":
		return 2
	case "LOC":
		return 3
	case "MISC":
		return 4
	}
	return 0
}

func setSpan(ls []int, s, e, t int) {
	ls[s] = 2*t - 1
	for j := s + 1; j < e; j++ {
		ls[j] = 2 * t
	}
}

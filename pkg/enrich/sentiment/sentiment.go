// Package sentiment scores the tone of English text with a VADER-style analyser: the VADER
// lexicon (C.J. Hutto, MIT licence, see data/VADER-LICENSE.txt), booster/dampener words,
// negation within three words ("not good"), contrast on "but", and all-caps emphasis. An
// article's score is the mean of its sentences' VADER compound scores, in [-1, 1].
//
// The lexicon loads once on first use; Score is pure and safe for concurrent use.
package sentiment

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

//go:embed data/vader_lexicon.tsv.gz
var lexGz []byte

const (
	bIncr   = 0.293
	bDecr   = -0.293
	cIncr   = 0.733
	nScalar = -0.74
	alpha   = 15.0
)

var (
	once sync.Once
	lex  map[string]float64
)

func lexicon() map[string]float64 {
	once.Do(func() {
		lex = make(map[string]float64, 7600)
		zr, err := gzip.NewReader(bytes.NewReader(lexGz))
		if err != nil {
			panic(err) // embedded data; covered by tests
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			w, v, ok := strings.Cut(sc.Text(), "\t")
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				lex[w] = f
			}
		}
	})
	return lex
}

var negations = map[string]bool{}
var boosters = map[string]float64{}

func init() {
	for _, w := range strings.Fields(`aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't doesn't
		dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't mightn't mustn't
		neednt needn't never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh wasnt werent
		oughtn't shan't shouldn't uh-uh wasn't weren't without wont wouldnt won't wouldn't rarely seldom despite no`) {
		negations[w] = true
	}
	for _, w := range strings.Fields(`absolutely amazingly awfully completely considerable considerably decidedly deeply enormous enormously
		entirely especially exceptional exceptionally extreme extremely fabulously fully greatly highly hugely incredible incredibly
		intensely major majorly more most particularly purely quite really remarkably so substantially thoroughly total totally
		tremendous tremendously uber unbelievably unusually utter utterly very`) {
		boosters[w] = bIncr
	}
	for _, w := range strings.Fields(`almost barely hardly just enough kinda kindof less little marginal marginally occasional
		occasionally partly scarce scarcely slight slightly somewhat sorta sortof`) {
		boosters[w] = bDecr
	}
}

// Supported reports whether lang (ISO 639-1) has a lexicon.
func Supported(lang string) bool { return lang == "en" }

// Score returns the mean sentence compound score of text and the number of sentences that
// carried sentiment. Text without any lexicon word scores 0.
func Score(text string) (score float64, n int) {
	sum, cnt := 0.0, 0
	sc := scratches.Get().(*scratch)
	defer putScratch(sc)
	for s := range sentences(text) {
		c, ok := sc.compound(s)
		if !ok {
			continue
		}
		sum += c
		cnt++
	}
	if cnt == 0 {
		return 0, 0
	}
	return sum / float64(cnt), cnt
}

// sentences yields the sentences of text: runs ending at '.', '!', '?' or a line break
// followed by a space, a line break, '"' or the end (a one-byte run is not a sentence).
func sentences(text string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start := 0
		for i := 0; i < len(text); i++ {
			switch text[i] {
			case '.', '!', '?', '\n':
				if i+1 >= len(text) || text[i+1] == ' ' || text[i+1] == '\n' || text[i+1] == '"' {
					if i+1-start > 1 && !yield(text[start:i+1]) {
						return
					}
					start = i + 1
				}
			}
		}
		if start < len(text) {
			yield(text[start:])
		}
	}
}

// Compound returns VADER's normalised compound score of one sentence; ok is false when no
// word of the sentence is in the lexicon.
func Compound(sentence string) (float64, bool) {
	var sc scratch
	return sc.compound(sentence)
}

// scratch holds Compound's per-sentence slices, reused across the sentences of a text.
type scratch struct {
	words []string
	caps  []bool
	vals  []float64
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledWords bounds the scratches kept for reuse: one grown by a longer sentence (a text
// without sentence ends can be one sentence of its whole length) is dropped, not pinned in
// the pool.
const maxPooledWords = 1 << 12

// putScratch pools sc unless it is too large to keep; it reports whether it pooled sc.
func putScratch(sc *scratch) bool {
	if cap(sc.words) > maxPooledWords || cap(sc.vals) > maxPooledWords {
		return false
	}
	scratches.Put(sc)
	return true
}

// compound is Compound with sc's slices.
func (sc *scratch) compound(sentence string) (float64, bool) {
	lx := lexicon()
	words, caps := sc.words[:0], sc.caps[:0]
	defer func() { clear(words); sc.words, sc.caps = words[:0], caps[:0] }()
	anyLower := false
	for w := range strings.FieldsSeq(sentence) {
		w = strings.TrimFunc(w, func(r rune) bool {
			return unicode.IsPunct(r) && r != '\'' && r != '-' || r == '“' || r == '”' || r == '‘' || r == '’'
		})
		if w == "" {
			continue
		}
		w = strings.ReplaceAll(w, "’", "'")
		up := shouted(w)
		if !up {
			anyLower = true
		}
		words = append(words, strings.ToLower(w))
		caps = append(caps, up)
	}
	vals := sc.vals[:0]
	defer func() { sc.vals = vals[:0] }()
	butAt := -1
	found := false
	for i, w := range words {
		if w == "but" && butAt < 0 {
			butAt = i
		}
		v, ok := lx[w]
		if !ok || boosters[w] != 0 {
			vals = append(vals, 0)
			continue
		}
		found = true
		if caps[i] && anyLower {
			if v > 0 {
				v += cIncr
			} else {
				v -= cIncr
			}
		}
		for k := 1; k <= 3 && i-k >= 0; k++ {
			p := words[i-k]
			if b, ok := boosters[p]; ok {
				s := b
				if v < 0 {
					s = -b
				}
				if caps[i-k] && anyLower {
					if v > 0 {
						s += cIncr
					} else {
						s -= cIncr
					}
				}
				switch k {
				case 2:
					s *= 0.95
				case 3:
					s *= 0.9
				}
				v += s
			}
			if negations[p] || strings.HasSuffix(p, "n't") {
				v *= nScalar
			}
		}
		vals = append(vals, v)
	}
	if !found {
		return 0, false
	}
	sum := 0.0
	for i, v := range vals {
		if butAt >= 0 {
			if i < butAt {
				v *= 0.5
			} else if i > butAt {
				v *= 1.5
			}
		}
		sum += v
	}
	if strings.Count(sentence, "!") > 0 {
		amp := math.Min(float64(strings.Count(sentence, "!")), 4) * 0.292
		if sum > 0 {
			sum += amp
		} else if sum < 0 {
			sum -= amp
		}
	}
	c := sum / math.Sqrt(sum*sum+alpha)
	return math.Max(-1, math.Min(1, c)), true
}

// shouted reports strings.ToUpper(w) == w && strings.ToLower(w) != w without building either:
// no rune changes when upper-cased (invalid UTF-8 would be replaced) and one does when
// lower-cased.
func shouted(w string) bool {
	lowers := false
	for i := 0; i < len(w); {
		r, sz := utf8.DecodeRuneInString(w[i:])
		if r == utf8.RuneError && sz == 1 || unicode.ToUpper(r) != r {
			return false
		}
		if unicode.ToLower(r) != r {
			lowers = true
		}
		i += sz
	}
	return lowers
}

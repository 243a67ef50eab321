package keywords

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// TestScannerPoolBounded: a scanner that saw a document with few distinct words but many
// distinct token texts, word pairs or a very long run of words is not pooled (it would pin
// its large maps and slices, and every later document would pay to clear the maps); an
// ordinary article's scanner is. Each oversized text also keeps the output of the scanner it
// replaced.
func TestScannerPoolBounded(t *testing.T) {
	var inBrackets, pairs, run strings.Builder
	inBrackets.WriteString("An unclosed bracket ( ")
	for i := range 5 * maxPooledWords { // distinct tokens, no statistics (inside brackets)
		fmt.Fprintf(&inBrackets, "w%d ", i)
	}
	for a := range 300 { // 90,000 distinct pairs of 300 words, one pair per sentence
		for b := range 300 {
			fmt.Fprintf(&pairs, "x%d y%d. ", a, b)
		}
	}
	for range 2 * maxPooledWords { // one chunk of 32,768 words
		run.WriteString("again ")
	}
	cases := []struct {
		name string
		text string
		opt  Options
		keep bool
	}{
		{"article", oracleCorpus(t)[6], Options{Lang: "en"}, true},
		{"distinct tokens in brackets", inBrackets.String(), Options{Lang: "en"}, false},
		{"distinct pairs", pairs.String(), Options{Lang: "en", MaxWords: 1}, false},
		{"long chunk", run.String(), Options{Lang: "en"}, false},
	}
	for _, c := range cases {
		opt := c.opt
		if opt.MaxWords == 0 {
			opt.MaxWords = 3
		}
		toks := textutil.Tokenize(c.text)
		sc := getScanner(opt, len(toks))
		for _, tk := range toks {
			sc.token(tk.Text)
		}
		sc.flush()
		sizes := fmt.Sprintf("%d token texts, %d pairs, chunk cap %d", len(sc.infos), len(sc.pairs), cap(sc.chunk))
		if len(sc.stats) > maxPooledWords || len(sc.candv) > 4*maxPooledWords {
			t.Fatalf("%s: %d words, %d candidates: not the case meant", c.name, len(sc.stats), len(sc.candv))
		}
		if got := putScanner(sc); got != c.keep {
			t.Errorf("%s: pooled = %v, want %v (%s)", c.name, got, c.keep, sizes)
		}
		if got, want := fmt.Sprint(Extract(c.text, c.opt)), fmt.Sprint(oracleExtract(c.text, c.opt)); got != want {
			t.Errorf("%s: Extract %s, oracle %s", c.name, got, want)
		}
	}
}

// TestScannerPoolShrinks: a scanner whose maps grew for a long article is not pooled after a
// short one (its maps, 4x larger than the short article needed, would be cleared at that
// cost for every later short article); one that served articles of similar sizes is.
func TestScannerPoolShrinks(t *testing.T) {
	var long strings.Builder
	for i := range 8000 {
		fmt.Fprintf(&long, "w%d w%d. ", i, i+1)
	}
	short := oracleCorpus(t)[6]
	scan := func(sc *scanner, text string) {
		for _, tk := range textutil.Tokenize(text) {
			sc.token(tk.Text)
		}
		sc.flush()
	}
	sc := getScanner(Options{Lang: "en", MaxWords: 3}, 0)
	for _, step := range []struct {
		text string
		keep bool
	}{{short, true}, {short, true}, {long.String(), true}, {long.String(), true}, {short, false}} {
		sc.opt, sc.newSentence, sc.prev = Options{Lang: "en", MaxWords: 3}, true, -1
		scan(sc, step.text)
		if got := sc.pooled(); got != step.keep {
			t.Fatalf("%d-byte text: pooled = %v, want %v (peak %d map entries)", len(step.text), got, step.keep, sc.peak)
		}
		sc.reset()
	}
}

// BenchmarkExtractAfterLong is Extract of a short article by a pooled scanner that has
// served a long one (16,000 distinct words, 32,000 candidates).
func BenchmarkExtractAfterLong(b *testing.B) {
	var long strings.Builder
	for i := range 16000 {
		fmt.Fprintf(&long, "w%d w%d. ", i, i+1)
	}
	short := oracleCorpus(b)[6]
	Extract(long.String(), Options{Lang: "en"})
	for b.Loop() {
		Extract(short, Options{Lang: "en"})
	}
}

// BenchmarkExtractMixed runs Extract over the keyword corpus, whole articles and their
// paragraphs in turn (texts of very different sizes sharing the pooled scanners).
func BenchmarkExtractMixed(b *testing.B) {
	texts := oracleCorpus(b)
	for b.Loop() {
		for _, tx := range texts {
			Extract(tx, Options{Lang: "en"})
		}
	}
}

// TestSeenSetShrinks: ObserveTokens' set of distinct words is not pooled after a short
// article once it has held a long one's words (iterating and clearing it would cost the long
// article's map size for every later short one), nor when it holds more than maxPooledWords.
func TestSeenSetShrinks(t *testing.T) {
	ss := &seenSet{m: map[string]struct{}{}}
	for _, step := range []struct {
		words int
		keep  bool
	}{{300, true}, {5000, true}, {2000, true}, {300, false}, {maxPooledWords + 1, false}} {
		ss.m = make(map[string]struct{}) // as cleared: keep reads the count and the peak
		for i := range step.words {
			ss.m[fmt.Sprint(i)] = struct{}{}
		}
		if got := ss.keep(); got != step.keep {
			t.Fatalf("%d words (peak %d): keep = %v, want %v", step.words, ss.peak, got, step.keep)
		}
	}
}

// BenchmarkObserveAfterLong is ObserveTokens of a short article with a pooled set that has
// held a long one's 16,000 distinct words.
func BenchmarkObserveAfterLong(b *testing.B) {
	var long strings.Builder
	for i := range 16000 {
		fmt.Fprintf(&long, "w%d ", i)
	}
	short := textutil.Tokenize(oracleCorpus(b)[6])
	d := NewDocFreq(0, 0)
	d.Observe(long.String())
	for b.Loop() {
		d.ObserveTokens(short)
	}
}

// TestDocFreqKeysDoNotPinText: the words DocFreq keeps are copies, not substrings of the
// article they were first seen in (which would keep every such article's text alive as long
// as the table, up to 200,000 of them).
func TestDocFreqKeysDoNotPinText(t *testing.T) {
	text := strings.Repeat("plain lower case words stay as they are in the text ", 50) + "unique"
	d := NewDocFreq(0, 0)
	d.ObserveTokens(textutil.Tokenize(text))
	lo := uintptr(unsafe.Pointer(unsafe.StringData(text)))
	hi := lo + uintptr(len(text))
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.df) == 0 {
		t.Fatal("no words counted")
	}
	for w := range d.df {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(w))); p >= lo && p < hi {
			t.Errorf("key %q points into the article's text", w)
		}
	}
}

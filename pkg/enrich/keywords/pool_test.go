package keywords

import (
	"fmt"
	"strings"
	"testing"

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

package keywords

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// oracleCorpus returns the enrich testdata articles, whole and paragraph by paragraph, and
// adversarial texts.
func oracleCorpus(t testing.TB) []string {
	paths, err := filepath.Glob("../testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("corpus: %v (%d files)", err, len(paths))
	}
	sort.Strings(paths)
	texts := []string{"", " ", "(", "((a b)) c", "The THE the The. Ünïcödé Ünïcödé ÜNÏCÖDÉ", "don't can't it's (x) [y] z.\nA B C D E F"}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
		for _, para := range strings.Split(string(b), "\n\n") {
			texts = append(texts, para)
		}
	}
	return texts
}

func oracleOptions(df *DocFreq) []Options {
	return []Options{
		{},
		{Lang: "en", Max: 25, MaxWords: 4},
		{Lang: "de", Max: 5, MaxWords: 1},
		{Lang: "fr", Max: 50, MaxWords: 2},
		{Lang: "en", DF: df, Title: "Biden offers Putin a diplomatic path over Ukraine"},
	}
}

// TestExtractMatchesOracle compares Extract with the scanner it replaced (oracleExtract) on
// every text under several options; the texts run in sequence so that pooled scanners are
// reused across documents of different sizes and languages.
func TestExtractMatchesOracle(t *testing.T) {
	texts := oracleCorpus(t)
	df := NewDocFreq(0, 2)
	for _, tx := range texts {
		df.Observe(tx)
	}
	n := 0
	for _, o := range oracleOptions(df) {
		for i, tx := range texts {
			got, want := Extract(tx, o), oracleExtract(tx, o)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("text %d, options %+v:\ngot  %v\nwant %v", i, o, got, want)
			}
			n += len(got)
		}
	}
	if n == 0 {
		t.Fatal("no keywords compared")
	}
}

// FuzzExtractMatchesOracle compares Extract with oracleExtract on arbitrary text, twice in a
// row (the second run reuses the pooled scanner of the first).
func FuzzExtractMatchesOracle(f *testing.F) {
	for _, tx := range oracleCorpus(f)[:20] {
		f.Add(tx, "en", uint8(3))
	}
	f.Add("Die Regierung (in Berlin) sagte: Berlin, BERLIN und berlin.", "de", uint8(1))
	f.Fuzz(func(t *testing.T, text, lang string, maxWords uint8) {
		o := Options{Lang: lang, MaxWords: int(maxWords % 6), Max: 20, Title: text[:len(text)/3]}
		for range 2 {
			if got, want := Extract(text, o), oracleExtract(text, o); !reflect.DeepEqual(got, want) {
				t.Fatalf("Extract(%q, %+v):\ngot  %v\nwant %v", text, o, got, want)
			}
		}
	})
}

// observeReference is DocFreq.ObserveTokens before its pooled word sets (the oracle).
func observeReference(d *DocFreq, text string) {
	toks := textutil.Tokenize(text)
	seen := make(map[string]bool, len(toks)/2)
	for _, t := range toks {
		if textutil.IsWord(t.Text) {
			seen[strings.ToLower(t.Text)] = true
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs++
	for w := range seen {
		d.df[w]++
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

// TestObserveMatchesReference feeds the corpus to a DocFreq and to the reference, with room
// for every word and with evictions, and compares the counts after every document.
func TestObserveMatchesReference(t *testing.T) {
	texts := oracleCorpus(t)
	for _, maxTerms := range []int{0, 300} {
		got, want := NewDocFreq(maxTerms, 1), NewDocFreq(maxTerms, 1)
		for i, tx := range texts {
			got.Observe(tx)
			observeReference(want, tx)
			if got.docs != want.docs || !reflect.DeepEqual(got.df, want.df) {
				t.Fatalf("maxTerms %d, after text %d: %v docs, %d words; want %v docs, %d words", maxTerms, i, got.docs, len(got.df), want.docs, len(want.df))
			}
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	toks := textutil.Tokenize(strings.Repeat(climate+" ", 3))
	df := NewDocFreq(0, 1)
	b.ReportAllocs()
	for b.Loop() {
		df.ObserveTokens(toks)
	}
}

package ner

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// cachePair is one shipped model loaded three times: with the word cache
// (as shipped), with a tiny one (emptied every few sentences, long
// sentences tagged without it) and without one (the featurizer's path).
type cachePair struct {
	lang               string
	cached, tiny, full *Model
}

var (
	cachePairsOnce sync.Once
	cachePairsVal  []cachePair
	cachePairsErr  error
)

// tinyCacheWords bounds the tiny cache: sentences of more than 14 tokens
// bypass it, and it is emptied every few sentences, mid-document.
const tinyCacheWords = 16

func cachePairs(tb testing.TB) []cachePair {
	tb.Helper()
	cachePairsOnce.Do(func() {
		for _, lang := range []string{"en", "multi", "zh"} {
			b, err := modelFS.ReadFile("model/" + ModelFile(lang))
			if err != nil {
				cachePairsErr = err
				return
			}
			p := cachePair{lang: lang}
			for _, mp := range []**Model{&p.cached, &p.tiny, &p.full} {
				if *mp, err = LoadModelBytes(b); err != nil {
					cachePairsErr = err
					return
				}
			}
			p.tiny.cacheWords = tinyCacheWords
			p.full.wordCacheOff = true
			cachePairsVal = append(cachePairsVal, p)
		}
	})
	if cachePairsErr != nil {
		tb.Fatal(cachePairsErr)
	}
	return cachePairsVal
}

// docResult is everything tagging a document produces: every pass's
// emissions of every sentence (as bits), the labels and the confidences.
type docResult struct {
	emit  []string
	labs  [][]int
	confs [][]uint32
}

// traceMu serialises the tests that set traceEmit.
var traceMu sync.Mutex

// tagTraced tags doc with m (tagDoc, as Extract does) and records its
// emissions.
func tagTraced(m *Model, doc [][]string) docResult {
	var r docResult
	traceEmit = func(pm *Model, emit []float32) {
		var b strings.Builder
		if pm == m {
			b.WriteString("final:")
		} else {
			b.WriteString("first:")
		}
		for _, v := range emit {
			fmt.Fprintf(&b, "%08x,", math.Float32bits(v))
		}
		r.emit = append(r.emit, b.String())
	}
	defer func() { traceEmit = nil }()
	ws := m.ws()
	defer m.pool.Put(ws)
	r.labs = make([][]int, len(doc))
	confs := make([][]float32, len(doc))
	for i, s := range doc {
		r.labs[i] = make([]int, len(s))
		confs[i] = make([]float32, len(s)*numTypes)
	}
	m.tagDoc(ws, doc, r.labs, confs)
	for _, c := range confs {
		bits := make([]uint32, len(c))
		for j, v := range c {
			bits[j] = math.Float32bits(v)
		}
		r.confs = append(r.confs, bits)
	}
	return r
}

// checkSameDoc fails t unless the cached models tag doc exactly as the
// model without a cache: same emissions of both passes, labels and
// confidences, bit for bit.
func checkSameDoc(t testing.TB, p cachePair, name string, doc [][]string) {
	t.Helper()
	want := tagTraced(p.full, doc)
	for _, c := range []struct {
		kind string
		m    *Model
	}{{"cache", p.cached}, {"tiny cache", p.tiny}} {
		got := tagTraced(c.m, doc)
		if len(got.emit) != len(want.emit) {
			t.Fatalf("%s %s with %s: %d sentence emissions, want %d", p.lang, name, c.kind, len(got.emit), len(want.emit))
		}
		for i := range want.emit {
			if got.emit[i] != want.emit[i] {
				t.Fatalf("%s %s with %s: emissions %d differ:\n got %.200s\nwant %.200s", p.lang, name, c.kind, i, got.emit[i], want.emit[i])
			}
		}
		if !reflect.DeepEqual(got.labs, want.labs) || !reflect.DeepEqual(got.confs, want.confs) {
			t.Fatalf("%s %s with %s: labels or confidences differ", p.lang, name, c.kind)
		}
	}
}

// adversarialDocs are documents at the edges of the cache: empty words and
// sentences, one-word sentences, words spelling the boundary markers,
// sentence-initial words whose Brown code comes from the lower-case form,
// non-ASCII and Han text, and sentences longer than the tiny cache and
// than the real one (tagged without it).
func adversarialDocs() map[string][][]string {
	long := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			switch i % 7 {
			case 0:
				s[i] = "The"
			case 1:
				s[i] = fmt.Sprintf("Word%d", i)
			case 2:
				s[i] = "Smith"
			case 3:
				s[i] = "of"
			case 4:
				s[i] = "Bank"
			case 5:
				s[i] = fmt.Sprintf("w%d", i%1000)
			default:
				s[i] = "."
			}
		}
		return s
	}
	return map[string][][]string{
		"empty doc":         nil,
		"empty sentences":   {{}, {"Obama"}, {}, {}},
		"empty words":       {{"", "", ""}, {"", "Paris", ""}, {""}},
		"one-word":          {{"Obama"}, {"the"}, {"."}, {"IBM"}, {"Obama"}},
		"two-word":          {{"Angela", "Merkel"}, {"Merkel", "said"}},
		"boundary markers":  {{"<s>", "</s>", "<S>", "Paris", "</s>"}, {"</s>"}, {"<s>"}},
		"sentence-initial":  {{"Apple", "sued", "Apple", "."}, {"Sued", "Apple", "sued", "."}, {"Barack", "Obama", "met", "Barack"}},
		"case variants":     {{"NEW", "YORK", "new", "york", "New", "York", "nEw", "yOrK"}},
		"non-ASCII":         {{"Zürich", "ist", "größer", "als", "Genève", "—", "“Ωμέγα”", "İstanbul", "ǅemal"}, {"Москва", "и", "Санкт-Петербург", "."}},
		"Han":               {{"北", "京", "是", "中", "国", "的", "首", "都", "。"}, {"习", "近", "平", "访", "问", "美", "国"}},
		"mixed script":      {{"Tokyo", "东", "京", "2024", "$", "1,000", "@user", "#tag", "e-mail", "O'Neil", "McDonald's"}},
		"invalid UTF-8":     {{"\xff\xfe", "Ab\xc3", "\xe4\xb8"}, {"caf\xe9", "Paris"}},
		"long sentence":     {long(40), {"Then", "Smith", "left"}, long(15), long(14)},
		"past cache":        {long(maxCacheWords + 5), {"Smith", "of", "Bank"}},
		"repeat":            {{"Smith", "Smith", "Smith", "Smith"}, {"Smith"}, {"Smith", "Smith"}},
		"punctuation only":  {{".", ",", "!", "?"}, {"-", "-"}},
		"digits and shapes": {{"2024-01-02", "12:30", "A1", "a1B2", "X", "x", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}},
	}
}

// TestWordCacheSameEmissions proves that tagging with the word cache gives
// exactly the emissions (both passes of the stacked English model),
// labels and confidences of the full feature lists, for every shipped
// model, on the NER corpora and on adversarial documents, with the
// shipped cache size and with a tiny one emptied mid-document.
func TestWordCacheSameEmissions(t *testing.T) {
	traceMu.Lock()
	defer traceMu.Unlock()
	corpora := append([]equivCorpus{inRepoCorpus(t)}, sharedCorpora(t)...)
	adv := adversarialDocs()
	for _, p := range cachePairs(t) {
		if p.cached.cachePasses() == 0 || p.full.cachePasses() != 0 || p.tiny.cachePasses() == 0 {
			t.Fatalf("%s: cache passes %d/%d/%d: the shipped model does not take the cached path", p.lang, p.cached.cachePasses(), p.tiny.cachePasses(), p.full.cachePasses())
		}
		for _, c := range corpora {
			docs := c.docs
			if testing.Short() && len(docs) > 20 {
				docs = docs[:20]
			}
			for i, doc := range docs {
				checkSameDoc(t, p, fmt.Sprintf("%s doc %d", c.name, i), doc)
			}
		}
		for name, doc := range adv {
			checkSameDoc(t, p, name, doc)
		}
	}
}

// TestWordCacheUsed proves that the cached path is taken: a cache's entry
// sums, once corrupted, change the emissions (so the equivalence test
// above compares two different computations).
func TestWordCacheUsed(t *testing.T) {
	traceMu.Lock()
	defer traceMu.Unlock()
	for _, p := range cachePairs(t) {
		doc := [][]string{{"Angela", "Merkel", "visited", "Paris", "."}}
		if p.lang == "zh" {
			doc = [][]string{{"北", "京", "是", "中", "国", "的", "首", "都", "。"}}
		}
		m, err := LoadModelBytes(mustModelBytes(t, p.lang))
		if err != nil {
			t.Fatal(err)
		}
		before := tagTraced(m, doc)
		c := m.getCache()
		if len(c.words) <= numReserved {
			t.Fatalf("%s: the cache has no words after tagging", p.lang)
		}
		for i := numReserved * c.stride; i < len(c.sums); i++ {
			c.sums[i]++
		}
		m.putCache(c)
		after := tagTraced(m, doc)
		if reflect.DeepEqual(before.emit, after.emit) {
			t.Fatalf("%s: corrupting the cache's sums left the emissions unchanged", p.lang)
		}
	}
}

func mustModelBytes(t testing.TB, lang string) []byte {
	b, err := modelFS.ReadFile("model/" + ModelFile(lang))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzWordCache compares, for arbitrary text, the cached and uncached
// paths of every shipped model: emissions, labels, confidences and the
// spans Extract returns.
func FuzzWordCache(f *testing.F) {
	for _, s := range []string{
		"", "Barack Obama visited Paris.", "THE NEW YORK TIMES said\n\nApple Inc. sued Samsung.",
		"北京是中国的首都。习近平访问美国。", "Zürich — Genève. İstanbul!", "<s> </s> a\xffb", "a b c d e f g h i j k l m n o p q r s t",
	} {
		f.Add(s)
	}
	pairs := cachePairs(f)
	f.Fuzz(func(t *testing.T, text string) {
		traceMu.Lock()
		defer traceMu.Unlock()
		for _, p := range pairs {
			toks := Tokenize(text)
			if p.full.feats&FeatHanChars != 0 {
				toks = splitHanTokens(toks)
			}
			var doc [][]string
			for _, s := range chunkSentences(Sentences(text, toks), maxSentence) {
				w := make([]string, len(s))
				for j, tk := range s {
					w[j] = tk.Text
				}
				doc = append(doc, w)
			}
			checkSameDoc(t, p, "fuzz", doc)
			want := p.full.Extract(text)
			for _, m := range []*Model{p.cached, p.tiny} {
				if got := m.Extract(text); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: spans %v with the cache, %v without", p.lang, got, want)
				}
			}
		}
	})
}

// TestWordCacheEvict proves that a full cache keeps its most used words
// and drops those used once, with their sums intact.
func TestWordCacheEvict(t *testing.T) {
	m, err := LoadModelBytes(mustModelBytes(t, "multi"))
	if err != nil {
		t.Fatal(err)
	}
	m.cacheWords = 16
	c := m.getCache()
	for _, w := range []string{"the", "of", "a", "b", "the", "c", "of", "the", "d", "e", "f", "g", "h", "i"} {
		c.get(w, false)
	}
	the := c.idx[0]["the"]
	want := append([]int32(nil), c.sums[int(the)*c.stride:int(the+1)*c.stride]...)
	if !c.room(make([]string, 10)) {
		t.Fatal("no room for 10 words in a 16-word cache")
	}
	if len(c.idx[0]) != 2 || len(c.words) != numReserved+2 {
		t.Fatalf("after eviction %d words indexed, %d entries; want the and of", len(c.idx[0]), len(c.words))
	}
	e, ok := c.idx[0]["the"]
	if _, ok2 := c.idx[0]["of"]; !ok || !ok2 {
		t.Fatalf("the most used words were evicted: %v", c.idx[0])
	}
	if got := c.sums[int(e)*c.stride : int(e+1)*c.stride]; !reflect.DeepEqual(got, want) {
		t.Fatalf("the sums of 'the' moved wrong: %v, want %v", got, want)
	}
}

// cacheText is the text c keeps: its words (keys) and their lower-case
// forms where they differ.
func cacheText(c *wordCache) int {
	n := 0
	for _, idx := range c.idx {
		for w, e := range idx {
			n += len(w)
			if lw := c.words[e].lw; lw != w {
				n += len(lw)
			}
		}
	}
	return n
}

// TestWordCacheBoundsText proves that a cache fed long unique words keeps
// at most maxCacheBytes of their text (32,768 words of up to MaxInputBytes
// each would otherwise stay reachable from an idle cache for good), and
// that its emissions stay those of the uncached path meanwhile.
func TestWordCacheBoundsText(t *testing.T) {
	m, err := LoadModelBytes(mustModelBytes(t, "multi"))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Q", 4<<10)
	for d := 0; d < 2*maxCacheBytes/(16*len(long)); d++ {
		var b strings.Builder
		for k := 0; k < 8; k++ {
			fmt.Fprintf(&b, "W%d%s%d\xff ", d, long, k)
		}
		m.Extract(b.String())
	}
	c := m.getCache()
	defer m.putCache(c)
	if got := cacheText(c); got > maxCacheBytes {
		t.Fatalf("the cache keeps %d bytes of word text, bound %d", got, maxCacheBytes)
	}
	if c.bytes != cacheText(c) {
		t.Fatalf("the cache counts %d bytes of word text, holds %d", c.bytes, cacheText(c))
	}
	// a sentence whose text alone passes the bound is tagged without the
	// cache, and alike
	traceMu.Lock()
	defer traceMu.Unlock()
	p := cachePairs(t)[1]
	huge := []string{"The", strings.Repeat("Xy", maxCacheBytes/4+1), "of", "Paris", "."}
	checkSameDoc(t, p, "huge word", [][]string{{"Angela", "Merkel"}, huge, {"Merkel", "left"}})
}

// TestWordCacheKeepsWarm proves that when more tagging calls run at once
// than a model keeps idle caches, the caches dropped on return are those
// built meanwhile, not those that have learnt the text, and that the
// cache with the most words is handed out first.
func TestWordCacheKeepsWarm(t *testing.T) {
	m, err := LoadModelBytes(mustModelBytes(t, "multi"))
	if err != nil {
		t.Fatal(err)
	}
	warm := func() *wordCache {
		c := newWordCache(m, m.cachePasses())
		for _, w := range []string{"the", "of", "Paris", "said"} {
			c.get(w, false)
		}
		return c
	}
	var held []*wordCache
	for range maxCaches {
		held = append(held, warm())
	}
	cold := m.getCache() // all idle caches taken: a new one
	if len(cold.words) != numReserved {
		t.Fatalf("a new cache has %d entries", len(cold.words))
	}
	m.putCache(held[0])
	m.putCache(cold)
	if c := m.getCache(); c != held[0] {
		t.Fatalf("getCache handed out a cache of %d entries before one of %d", len(c.words), len(held[0].words))
	}
	m.putCache(held[0])
	for _, c := range held[1:] {
		m.putCache(c)
	}
	if len(m.caches) != maxCaches {
		t.Fatalf("%d idle caches, want %d", len(m.caches), maxCaches)
	}
	for _, c := range m.caches {
		if c == cold {
			t.Fatal("a warm cache was dropped for a new one")
		}
	}
}

package ner

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func testWordLexicon() *WordLexicon {
	return buildWordLexicon(
		map[string]uint32{"Acme": 0b0110, "Globex": 0b1110, "Paris": 0b101, "the": 0b11},
		map[string]float64{"the": -3.5, "Acme": -15, "acme": -18.5, "Paris": -11.8, "paris": -14.3, "zzz": -19},
		-17.5)
}

func TestWordLexicon(t *testing.T) {
	l := testWordLexicon()
	tests := []struct {
		name    string
		word    string
		brown   uint32
		logProb float64
		known   bool
	}{
		{"cluster and probability", "Acme", 0b0110, -15, true},
		{"case matters", "acme", 0, 0, false}, // below the probability floor, no cluster
		{"probability only", "paris", 0, -14.5, true},
		{"cluster, no probability", "Globex", 0b1110, 0, false},
		{"unknown", "Initech", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.Brown(tc.word); got != tc.brown {
				t.Errorf("Brown(%q) = %b, want %b", tc.word, got, tc.brown)
			}
			lp, ok := l.LogProb(tc.word)
			if ok != tc.known || lp != tc.logProb {
				t.Errorf("LogProb(%q) = %v, %v; want %v, %v", tc.word, lp, ok, tc.logProb, tc.known)
			}
		})
	}
	var nilLex *WordLexicon
	if nilLex.Len() != 0 || nilLex.Brown("Acme") != 0 {
		t.Error("a nil lexicon must be empty")
	}
}

func TestLexiconFeatures(t *testing.T) {
	l := testWordLexicon()
	extract := func(set FeatureSet, words ...string) []uint32 {
		f := featurizer{bits: 18, gaz: NewGazetteer(), lex: l, set: set}
		f.extract(words)
		return append([]uint32(nil), f.feats[f.off[1]:f.off[2]]...)
	}
	with := extract(FeatLexicon, "at", "Acme", "today")
	without := extract(0, "at", "Acme", "today")
	if len(with) <= len(without) {
		t.Fatalf("FeatLexicon adds no features: %d vs %d", len(with), len(without))
	}
	// same cluster prefix → shared features; different word and case → not all
	other := extract(FeatLexicon, "at", "Globex", "today")
	shared := 0
	seen := map[uint32]bool{}
	for _, h := range with {
		seen[h] = true
	}
	for _, h := range other {
		if seen[h] {
			shared++
		}
	}
	if shared == 0 {
		t.Error("words sharing a Brown prefix share no feature")
	}
}

func TestTrainStackedLexiconRoundTrip(t *testing.T) {
	var docs []Document
	for i := 0; i < 8; i++ {
		docs = append(docs, Document{Sentences: []Sentence{
			{Words: strings.Fields("Joe Biden visited Paris ."), Tags: []string{"B-PER", "I-PER", "O", "B-LOC", "O"}},
			{Words: strings.Fields("Biden met Acme staff ."), Tags: []string{"B-PER", "O", "B-ORG", "O", "O"}},
		}})
	}
	if _, err := Train(docs[0].Sentences, NewGazetteer(), nil, TrainConfig{Bits: 16, Epochs: 1, Features: FeatLexicon}); err == nil {
		t.Error("FeatLexicon without a lexicon must fail")
	}
	cfg := TrainConfig{Bits: 16, Epochs: 2, Features: FeatLexicon, Lexicon: testWordLexicon()}
	m, err := TrainStacked(docs, NewGazetteer(), nil, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	m2 := roundTrip(t, m)
	if m2.lex.Len() != m.lex.Len() || m2.lex.Len() == 0 || m2.lex != m2.first.lex {
		t.Fatalf("lexicon: %d words after round trip, %d before; shared with first pass: %v", m2.lex.Len(), m.lex.Len(), m2.lex == m2.first.lex)
	}
	s := "Joe Biden visited Globex in Paris."
	if a, c := m.Extract(s), m2.Extract(s); !reflect.DeepEqual(a, c) || len(a) == 0 {
		t.Fatalf("round trip: %v vs %v", a, c)
	}
}

// TestReadModelBadLexicon rewrites the lexicon flag at the end of a
// single-pass model: 1 (shared) without a first pass, or an unknown value,
// must fail to load, as must trailing bytes.
func TestReadModelBadLexicon(t *testing.T) {
	lex := testWordLexicon()
	sents := []Sentence{{Words: strings.Fields("Acme hired Joe Biden ."), Tags: []string{"B-ORG", "O", "B-PER", "I-PER", "O"}}}
	m, err := Train(sents, NewGazetteer(), nil, TrainConfig{Bits: 16, Epochs: 1, Features: FeatLexicon, Lexicon: lex})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	if _, err := m.WriteTo(&gz); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// the lexicon section is flag, count, then (word, value) pairs
	size := 1 + uvarintLen(uint64(lex.Len()))
	for _, k := range lex.keys() {
		size += uvarintLen(uint64(len(k))) + len(k) + uvarintLen(uint64(lex.m[k]))
	}
	flagAt := len(raw) - size
	if raw[flagAt] != 0 {
		t.Fatalf("lexicon flag not found at %d", flagAt)
	}
	rezip := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	if _, err := LoadModelBytes(rezip(raw)); err != nil {
		t.Fatalf("unchanged model: %v", err)
	}
	tests := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"shared without a first pass", func(b []byte) []byte { b[flagAt] = 1; return b[:flagAt+1] }},
		{"unknown flag", func(b []byte) []byte { b[flagAt] = 2; return b }},
		{"trailing data", func(b []byte) []byte { return append(b, 0) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadModelBytes(rezip(tc.edit(bytes.Clone(raw)))); err == nil {
				t.Error("loaded without error")
			}
		})
	}
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

// TestEmbeddedModelsLoad checks every embedded model decodes: ForLanguage
// falls back to "no model" on a load error, so a broken file would
// otherwise only show as missing entities.
func TestEmbeddedModelsLoad(t *testing.T) {
	files, err := modelFS.ReadDir("model")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".ner.gz") {
			continue
		}
		n++
		b, err := modelFS.ReadFile("model/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadModelBytes(b); err != nil {
			t.Errorf("%s: %v", f.Name(), err)
		}
	}
	if n < 3 {
		t.Errorf("%d embedded models, want en, multi and zh", n)
	}
}

// BenchmarkLoadEnglish decodes the embedded English model and reports the
// heap it holds (the word lexicon is most of it).
func BenchmarkLoadEnglish(b *testing.B) {
	data, err := modelFS.ReadFile("model/" + ModelFile("en"))
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	var m *Model
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&before)
		if m, err = LoadModelBytes(data); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
	b.ReportMetric(float64(m.lex.Len()), "lexicon-words")
}

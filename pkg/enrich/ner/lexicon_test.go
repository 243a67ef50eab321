package ner

import (
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
	if a, c := m.Extract(s), m2.Extract(s); len(a) != len(c) || len(a) == 0 {
		t.Fatalf("round trip: %v vs %v", a, c)
	}
}

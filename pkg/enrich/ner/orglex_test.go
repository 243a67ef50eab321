package ner

import (
	"strings"
	"testing"
)

func testOrgLex(names ...string) *OrgLex {
	o := &OrgLex{m: map[uint64]uint8{}}
	for _, n := range names {
		o.add(n)
	}
	return o
}

func TestOrgLexMatch(t *testing.T) {
	lex := testOrgLex("Walmart", "Hobby Lobby", "Acme Tools")
	seen := orgSeen([]Sentence{
		{Words: strings.Fields("Acme Tools hired"), Tags: []string{"B-ORG", "I-ORG", "O"}},
	}, func(int) int { return 1 })
	tests := []struct {
		name  string
		words string
		view  orgLexView
		want  []uint8
	}{
		{"single and multi-token", "We have Hobby Lobby and Walmart", orgLexView{lex: lex}, []uint8{0, 0, 2, 4, 0, 1}},
		{"all caps matches", "WALMART sells", orgLexView{lex: lex}, []uint8{1, 0}},
		{"lower case does not", "walmart sells", orgLexView{lex: lex}, []uint8{0, 0}},
		{"seen in another fold is hidden", "Acme Tools", orgLexView{lex: lex, seen: seen, fold: 0}, []uint8{0, 0}},
		{"seen only in own fold is kept", "Acme Tools", orgLexView{lex: lex, seen: seen, fold: 1}, []uint8{2, 4}},
		{"tagging lexicon drops seen names", "Acme Tools", orgLexView{lex: lex.without(seen)}, []uint8{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := featurizer{bits: 16, set: FeatOrgLex, olex: tc.view}
			w := strings.Fields(tc.words)
			f.extract(w)
			if got := f.olPos; string(got) != string(tc.want) {
				t.Errorf("olPos = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOrgLexRoundTrip(t *testing.T) {
	var docs []Document
	for i := 0; i < 8; i++ {
		docs = append(docs, Document{Sentences: []Sentence{
			{Words: strings.Fields("Joe Biden visited Paris ."), Tags: []string{"B-PER", "I-PER", "O", "B-LOC", "O"}},
			{Words: strings.Fields("Biden met Acme Corp staff ."), Tags: []string{"B-PER", "O", "B-ORG", "I-ORG", "O", "O"}},
		}})
	}
	cfg := TrainConfig{Bits: 16, Epochs: 2, Features: FeatOrgLex, OrgLex: testOrgLex("Acme", "Globex")}
	if _, err := TrainStacked(docs, NewGazetteer(), nil, TrainConfig{Bits: 16, Epochs: 1, Features: FeatOrgLex}, 2); err == nil {
		t.Error("FeatOrgLex without a lexicon must fail")
	}
	m, err := TrainStacked(docs, NewGazetteer(), nil, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	m2 := roundTrip(t, m)
	if m2.olex.Len() != m.olex.Len() || m2.olex.Len() == 0 {
		t.Fatalf("lexicon keys: %d after round trip, %d before", m2.olex.Len(), m.olex.Len())
	}
	s := "Joe Biden visited Globex in Paris."
	if a, c := m.Extract(s), m2.Extract(s); len(a) != len(c) || len(a) == 0 {
		t.Fatalf("round trip: %v vs %v", a, c)
	}
}

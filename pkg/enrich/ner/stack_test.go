package ner

import (
	"strings"
	"testing"
)

func TestDefaultModelIsStacked(t *testing.T) {
	m := Default()
	if !m.Stacked() || m.first == nil || m.first.Stacked() {
		t.Fatalf("embedded English model: stacked=%v, want a two-pass model with a single-pass first model", m.Stacked())
	}
	if m.feats&FeatRunCats == 0 || len(m.clus) == 0 {
		t.Errorf("embedded English model lacks run-category features or clusters (feats %b, %d clusters)", m.feats, len(m.clus))
	}
}

func TestSpanPos(t *testing.T) {
	labs := []int{lO, lBPER, lIPER, lIPER, lBORG, lBLOC, lILOC}
	want := []int{0, 2, 4, 3, 1, 2, 3}
	for j := range labs {
		if got := spanPos(labs, j); got != want[j] {
			t.Errorf("spanPos(%d) = %d, want %d", j, got, want[j])
		}
	}
}

func TestDocFeatures(t *testing.T) {
	tests := []struct {
		name  string
		words [][]string
		labs  [][]int
		// sentence, token whose features must include / exclude tDocMaj PER
		si, ti  int
		wantPER bool
	}{
		{"surname seen in full name", [][]string{{"Joe", "Biden", "spoke"}, {"Biden", "left"}},
			[][]int{{lBPER, lIPER, lO}, {lO, lO}}, 1, 0, true},
		{"own label does not count", [][]string{{"Biden", "spoke"}, {"Biden", "left"}},
			[][]int{{lBPER, lO}, {lO, lO}}, 0, 0, false},
		{"single occurrence", [][]string{{"Joe", "Biden", "spoke"}},
			[][]int{{lBPER, lIPER, lO}}, 0, 1, false},
	}
	maj := hint(hint(hseed(tDocMaj), 1), 1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := docFeatures(tc.words, tc.labs)
			if len(ex) != len(tc.words) {
				t.Fatalf("got %d sentences", len(ex))
			}
			e := ex[tc.si]
			got := false
			for _, h := range e.h[e.off[tc.ti]:e.off[tc.ti+1]] {
				got = got || h == maj
			}
			if got != tc.wantPER {
				t.Errorf("majority-PER feature = %v, want %v", got, tc.wantPER)
			}
		})
	}
}

func TestBuildClustersDeterministic(t *testing.T) {
	var sents [][]string
	for i := 0; i < 60; i++ {
		sents = append(sents,
			strings.Fields("the cat sat on the mat"),
			strings.Fields("a dog sat on a rug"),
			strings.Fields("we met John in Paris on Monday"),
			strings.Fields("they met Mary in London on Friday"))
	}
	a := BuildClusters(sents, ClusterConfig{MinCount: 3, Branch: 4})
	b := BuildClusters(sents, ClusterConfig{MinCount: 3, Branch: 4})
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("clusters: %d vs %d words", len(a), len(b))
	}
	for w, c := range a {
		if b[w] != c {
			t.Fatalf("non-deterministic cluster for %q: %d vs %d", w, c, b[w])
		}
	}
	if a["paris"]>>8 != a["london"]>>8 {
		t.Errorf("paris (%x) and london (%x) in different top-level clusters", a["paris"], a["london"])
	}
	if BuildClusters(nil, ClusterConfig{}) != nil {
		t.Error("no text should give no clusters")
	}
}

// tinyStacked trains a small stacked model on a toy corpus.
func tinyStacked(t testing.TB) *Model {
	var docs []Document
	for i := 0; i < 8; i++ {
		docs = append(docs, Document{Sentences: []Sentence{
			{Words: strings.Fields("Joe Biden visited Paris ."), Tags: []string{"B-PER", "I-PER", "O", "B-LOC", "O"}},
			{Words: strings.Fields("Biden met Acme Corp staff ."), Tags: []string{"B-PER", "O", "B-ORG", "I-ORG", "O", "O"}},
		}})
	}
	m, err := TrainStacked(docs, NewGazetteer(), nil, TrainConfig{Bits: 16, Epochs: 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTrainStackedRoundTrip(t *testing.T) {
	m := tinyStacked(t)
	m2 := roundTrip(t, m)
	if !m2.Stacked() {
		t.Fatal("stacked model lost its first pass")
	}
	s := "Joe Biden visited Paris. Biden met Acme Corp staff."
	if a, c := m.Extract(s), m2.Extract(s); len(a) != len(c) || len(a) == 0 {
		t.Fatalf("round trip: %v vs %v", a, c)
	}
	if _, err := TrainStacked(nil, NewGazetteer(), nil, TrainConfig{}, 1); err == nil {
		t.Error("folds < 2 must fail")
	}
}

func FuzzLoadModelBytes(f *testing.F) {
	m := tinyStacked(f)
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		f.Fatal(err)
	}
	good := []byte(b.String())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadModelBytes(data)
		if err == nil && m != nil {
			m.Extract("Joe Biden visited Paris.")
		}
	})
}

// BenchmarkExtractFirstPass is BenchmarkExtract with the stacked model's
// first pass alone (a single-pass model with the same features): the ratio
// of the two is the cost of the second pass.
func BenchmarkExtractFirstPass(b *testing.B) {
	m := Default()
	if m.first == nil {
		b.Skip("embedded model is not stacked")
	}
	text := strings.Repeat("President Joe Biden met NATO officials in Moscow on Thursday, the White House said. "+
		"Kremlin spokesman Dmitry Peskov told Reuters that Russia had no plans to invade Ukraine, while "+
		"Secretary of State Antony Blinken warned of \"massive consequences\" in talks with Sergei Lavrov in Geneva. ", 10)
	words := len(Tokenize(text))
	fp := m.first
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink = fp.Extract(text)
	}
	b.ReportMetric(float64(words*b.N)/b.Elapsed().Seconds(), "words/s")
}

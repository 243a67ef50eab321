package ner

import (
	"os"
	"strings"
	"testing"
)

func TestViterbiValidIOB2(t *testing.T) {
	// emissions strongly prefer I-PER everywhere; decoding must still be valid.
	n := 4
	emit := make([]float32, n*numLabels)
	for i := 0; i < n; i++ {
		emit[i*numLabels+lIPER] = 10
		emit[i*numLabels+lBPER] = 5
	}
	var trans [numLabels][numLabels]float32
	var start [numLabels]float32
	out := make([]int, n)
	viterbi(emit, n, &trans, &start, make([]int8, n*numLabels), make([]float32, 2*numLabels), out)
	want := []int{lBPER, lIPER, lIPER, lIPER}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("viterbi = %v, want %v", out, want)
		}
	}
	for i := 1; i < n; i++ {
		if !allowed(out[i-1], out[i]) {
			t.Fatalf("invalid transition %d->%d", out[i-1], out[i])
		}
	}
}

func TestSpans(t *testing.T) {
	tests := []struct {
		name string
		tags []string
		want string
	}{
		{"empty", nil, ""},
		{"one", []string{"B-PER", "I-PER", "O"}, "0-2PER"},
		{"adjacent", []string{"B-PER", "B-PER", "I-PER"}, "0-1PER 1-3PER"},
		{"type change", []string{"B-ORG", "I-LOC"}, "0-1ORG 1-2LOC"},
		{"iob1", toIOB2([]string{"I-LOC", "I-LOC", "O", "I-ORG"}), "0-2LOC 3-4ORG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range SpansFromTags(tc.tags) {
				got = append(got, strings.Join([]string{itoa(s.Start), "-", itoa(s.End), s.Type}, ""))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q want %q", strings.Join(got, " "), tc.want)
			}
			labs := make([]int, len(tc.tags))
			for i, tg := range tc.tags {
				labs[i] = labelIndex(tg)
			}
			a, b := SpansFromTags(tc.tags), spansOf(labs)
			if len(a) != len(b) {
				t.Fatalf("spansOf disagrees: %v vs %v", a, b)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("spansOf disagrees: %v vs %v", a, b)
				}
			}
		})
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestReadCoNLL(t *testing.T) {
	in := "# newdoc id = d1\n# text = Joe visited Paris\n1\tJoe\tB-PER\t-\n2\tvisited\tO\n3\tParis\tB-LOC\n\n" +
		"-DOCSTART- O\n\nAcme I-ORG\nCorp I-ORG\nhired O\nAnn I-PER\n\n"
	docs, err := ReadCoNLL(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].ID != "d1" {
		t.Fatalf("docs = %+v", docs)
	}
	if got := strings.Join(docs[1].Sentences[0].Tags, " "); got != "B-ORG I-ORG O B-PER" {
		t.Errorf("IO->IOB2 tags = %q", got)
	}
}

func TestReadCoNLLRunOn(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantSents int
	}{
		// no blank lines and no full stops (OCR): cut every maxRunOn words
		{"run-on without breaks", strings.Repeat("Wort O\n", 2*maxRunOn+10), 3},
		// a file with blank lines keeps its own long sentences
		{"long sentence with breaks", "a O\n\n" + strings.Repeat("w O\n", 2*maxRunOn+10) + "\n", 2},
		// after 60 words a full stop ends a sentence in any file
		{"full stop after 60 words", strings.Repeat("w O\n", 61) + ". O\n" + "x O\n", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := ReadCoNLL(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, d := range docs {
				for _, s := range d.Sentences {
					n++
					if len(s.Words) != len(s.Tags) {
						t.Fatalf("sentence with %d words, %d tags", len(s.Words), len(s.Tags))
					}
				}
			}
			if n != tc.wantSents {
				t.Errorf("%d sentences, want %d", n, tc.wantSents)
			}
		})
	}
}

func TestSplitTail(t *testing.T) {
	doc := func(n int) Document {
		var d Document
		for i := 0; i < n; i++ {
			d.Sentences = append(d.Sentences, Sentence{Words: []string{itoa(i)}})
		}
		return d
	}
	tests := []struct {
		name                string
		docs                []Document
		wantTrain, wantTest int
	}{
		{"ten percent", []Document{doc(15), doc(5)}, 18, 2},
		{"at least one held out", []Document{doc(3)}, 2, 1},
		{"single sentence stays in training", []Document{doc(1)}, 1, 0},
		{"empty", nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, te := SplitTail(tc.docs, HeldOutFraction)
			if len(tr.Sentences) != tc.wantTrain || len(te.Sentences) != tc.wantTest {
				t.Fatalf("split %d / %d, want %d / %d", len(tr.Sentences), len(te.Sentences), tc.wantTrain, tc.wantTest)
			}
			if len(te.Sentences) > 0 && te.Sentences[len(te.Sentences)-1].Words[0] != tc.docs[len(tc.docs)-1].Sentences[len(tc.docs[len(tc.docs)-1].Sentences)-1].Words[0] {
				t.Errorf("held-out part is not the tail")
			}
		})
	}
}

func TestExtractTagsPastLongRunOn(t *testing.T) {
	// 1,000 words without punctuation, then a name: tagged in chunks, not cut at maxSentence
	text := strings.Repeat("and then ", 500) + "President Joe Biden arrived"
	found := false
	for _, s := range Default().Extract(text) {
		if s.Text == "Joe Biden" && s.Type == "PER" {
			found = true
		}
	}
	if !found {
		t.Errorf("no PER Joe Biden after the %d-token run-on: %v", 1000, Default().Extract(text))
	}
}

func TestDefaultModelTagsNews(t *testing.T) {
	text := "President Joe Biden met NATO officials in Moscow."
	got := map[string]string{}
	for _, s := range Default().Extract(text) {
		got[s.Text] = s.Type
		if text[s.Start:s.End] != s.Text || s.Score <= 0 || s.Score > 1.0001 {
			t.Errorf("bad span %+v", s)
		}
	}
	for name, typ := range map[string]string{"Joe Biden": "PER", "NATO": "ORG", "Moscow": "LOC"} {
		if got[name] != typ {
			t.Errorf("%s: got %q, want %s (all: %v)", name, got[name], typ, got)
		}
	}
}

func TestExtractBadInput(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"spaces", "   \n\n\t "},
		{"mixed scripts", "Путин 和 Biden في Moscow 🚀 ok"},
		{"invalid utf8", "\xff\xfe Joe \xc3"},
		{"no sentences", strings.Repeat("word ", 5000)},
		{"huge", strings.Repeat("Joe Biden visited Paris. ", 50000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range Default().Extract(tc.in) {
				if s.Start < 0 || s.End > len(tc.in) || s.Start >= s.End || s.End > MaxInputBytes {
					t.Fatalf("bad span %+v", s)
				}
			}
		})
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := Default()
	m2 := roundTrip(t, m)
	s := "Angela Merkel flew to Washington to meet Microsoft executives."
	a, c := m.Extract(s), m2.Extract(s)
	if len(a) != len(c) {
		t.Fatalf("round trip changed output: %v vs %v", a, c)
	}
	if _, err := LoadModelBytes([]byte("garbage")); err == nil {
		t.Fatal("expected error for garbage model")
	}
}

// TestF1FloorEWT guards model quality on a slice of EWT test.
func TestF1FloorEWT(t *testing.T) {
	path := "../../../../shared/ml/ner/en/en_ewt-test.iob2"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("EWT test data missing: %v", err)
		}
		t.Skipf("EWT test data not available: %v", err)
	}
	docs, err := ReadCoNLLFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScorer()
	sents := 0
	m := Default()
	for _, d := range docs {
		if sents >= 800 {
			break
		}
		ws := make([][]string, len(d.Sentences))
		for i, s := range d.Sentences {
			ws[i] = s.Words
		}
		pred := m.TagDocument(ws)
		for i, s := range d.Sentences {
			sc.Add(SpansFromTags(s.Tags), SpansFromTags(pred[i]))
		}
		sents += len(d.Sentences)
	}
	f1 := sc.Micro("PER", "LOC", "ORG").F1()
	t.Logf("F1 on first %d EWT test sentences: %.3f", sents, f1)
	if f1 < 0.68 {
		t.Errorf("F1 %.3f below floor 0.68", f1)
	}
}

var sink []Span

func BenchmarkExtract(b *testing.B) {
	text := strings.Repeat("President Joe Biden met NATO officials in Moscow on Thursday, the White House said. "+
		"Kremlin spokesman Dmitry Peskov told Reuters that Russia had no plans to invade Ukraine, while "+
		"Secretary of State Antony Blinken warned of \"massive consequences\" in talks with Sergei Lavrov in Geneva. ", 10)
	words := len(Tokenize(text))
	m := Default()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink = m.Extract(text)
	}
	b.ReportMetric(float64(words*b.N)/b.Elapsed().Seconds(), "words/s")
}

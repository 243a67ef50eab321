package sentiment

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var scoreSeeds = []string{"", ".", "Good. Bad!", "It was NOT good, but the ending was GREAT!!!", "“Terrible” news… isn’t it?\nyes", "a. b.c!\"x\" ?", "\xff good \u00a0 bad\u2028worse", "no lexicon words here"}

func sameScore(t *testing.T, text string) {
	t.Helper()
	s, n := Score(text)
	rs, rn := scoreReference(text)
	if math.Float64bits(s) != math.Float64bits(rs) || n != rn {
		t.Fatalf("Score(%.60q) = %v, %d; want %v, %d", text, s, n, rs, rn)
	}
	for _, sent := range splitSentencesReference(text) {
		c, ok := Compound(sent)
		rc, rok := compoundReference(sent)
		if math.Float64bits(c) != math.Float64bits(rc) || ok != rok {
			t.Fatalf("Compound(%q) = %v, %v; want %v, %v", sent, c, ok, rc, rok)
		}
	}
}

// TestScoreMatchesReference compares Score and Compound bitwise with the versions they
// replaced on the enrich testdata articles (whole and by paragraph) and edge cases.
func TestScoreMatchesReference(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/*.txt")
	if len(paths) == 0 {
		t.Fatal("no testdata articles")
	}
	texts := append([]string(nil), scoreSeeds...)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
		texts = append(texts, strings.Split(string(b), "\n\n")...)
	}
	for _, tx := range texts {
		sameScore(t, tx)
	}
}

func FuzzScoreMatchesReference(f *testing.F) {
	for _, s := range scoreSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) { sameScore(t, text) })
}

func BenchmarkScore(b *testing.B) {
	raw, err := os.ReadFile("../testdata/seed.txt")
	if err != nil {
		b.Fatal(err)
	}
	text := string(raw)
	b.ReportAllocs()
	for b.Loop() {
		Score(text)
	}
}

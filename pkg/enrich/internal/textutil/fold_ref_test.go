package textutil

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// foldReference is Fold before its single-scan ASCII path (the oracle).
func foldReference(s string) string {
	if ascii(s) {
		if !strings.ContainsAny(s, asciiSpace) {
			return strings.ToLower(s)
		}
		return strings.Join(strings.Fields(strings.ToLower(s)), " ")
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if rep, ok := special[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

var foldSeeds = []string{"", " ", "Kyiv", "kyiv", "U.S.", "two words", "a\tb", "a\vb", "a\x1fb", "a\x0eb", "A\rB\n", "@[`{", "Zelenskyy’s  Kyïv", "ÅNGSTRÖM", "\xff", "x\u0085y", "x\u00a0y"}

// TestFoldMatchesReference checks Fold against foldReference on every ASCII control and
// boundary byte next to letters, and on mixed texts.
func TestFoldMatchesReference(t *testing.T) {
	texts := append([]string(nil), foldSeeds...)
	for c := 0; c < 0x80; c++ {
		texts = append(texts, string(rune(c)), "a"+string(rune(c))+"B", "Z"+string(rune(c)))
	}
	for _, s := range texts {
		if got, want := Fold(s), foldReference(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzFoldMatchesReference(f *testing.F) {
	for _, s := range foldSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Fold(s), foldReference(s); got != want {
			t.Fatalf("Fold(%q) = %q, want %q", s, got, want)
		}
	})
}

// BenchmarkFoldTokens folds the tokens of an English paragraph one by one, as phrase.Fold does.
func BenchmarkFoldTokens(b *testing.B) {
	toks := Tokenize(strings.Repeat("Ukrainian President Volodymyr Zelensky said on Monday that the talks in Brussels, with NATO's chief, went well. ", 20))
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range toks {
			Fold(t.Text)
		}
	}
}

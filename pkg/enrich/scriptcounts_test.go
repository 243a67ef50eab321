package enrich

import (
	"os"
	"path/filepath"
	"testing"
	"unicode"
)

// scriptCountsReference is scriptCounts before its ASCII fast path (the oracle).
func scriptCountsReference(text string) (letters, han, unspaced int, kana bool) {
	for _, r := range text[:min(len(text), 2000)] {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			unspaced++
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana = true
			unspaced++
		case unicode.In(r, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan):
			unspaced++
		}
	}
	return letters, han, unspaced, kana
}

var scriptSeeds = []string{"", "abc XYZ 123 _@[`{", "中文新闻 and English", "ひらがなカタカナ漢字", "ภาษาไทย ລາວ ខ្មែរ မြန်မာ བོད་", "Ünïcödé ſ K é", "\xff\xfeinvalid\xc3", "@[`{ az AZ \x7f\x00"}

// TestScriptCountsMatchesReference compares scriptCounts with the reference on the testdata
// articles and mixed-script texts.
func TestScriptCountsMatchesReference(t *testing.T) {
	texts := append([]string(nil), scriptSeeds...)
	paths, _ := filepath.Glob("testdata/*.txt")
	if len(paths) == 0 {
		t.Fatal("no testdata articles")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, tx := range texts {
		l, h, u, k := scriptCounts(tx)
		rl, rh, ru, rk := scriptCountsReference(tx)
		if l != rl || h != rh || u != ru || k != rk {
			t.Errorf("scriptCounts(%.40q) = %d %d %d %v, want %d %d %d %v", tx, l, h, u, k, rl, rh, ru, rk)
		}
	}
}

func FuzzScriptCounts(f *testing.F) {
	for _, s := range scriptSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tx string) {
		l, h, u, k := scriptCounts(tx)
		rl, rh, ru, rk := scriptCountsReference(tx)
		if l != rl || h != rh || u != ru || k != rk {
			t.Fatalf("scriptCounts(%q) = %d %d %d %v, want %d %d %d %v", tx, l, h, u, k, rl, rh, ru, rk)
		}
	})
}

func BenchmarkScriptCounts(b *testing.B) {
	paths, _ := filepath.Glob("testdata/*.txt")
	var texts []string
	for _, p := range paths {
		bs, _ := os.ReadFile(p)
		texts = append(texts, string(bs))
	}
	for b.Loop() {
		for _, tx := range texts {
			scriptCounts(tx)
		}
	}
}

package clean

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// measureTextRef is measureText as it was before it counted letters per script group in an
// array and walked strings.FieldsSeq: the reference it must equal.
func measureTextRef(text string) textStats {
	s := textStats{scripts: map[string]int{}}
	var prev rune = -1
	run := 0
	for _, r := range text {
		s.runes++
		if unicode.IsSpace(r) {
			prev, run = -1, 0
			continue
		}
		s.nonSpace++
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		if run > s.maxRun {
			s.maxRun, s.maxRunRune = run, r
		}
		switch {
		case r == utf8.RuneError:
			s.replacement++
		case unicode.IsLetter(r):
			s.letters++
			name, _ := scriptOf(r)
			s.scripts[name]++
		case unicode.IsDigit(r):
			s.digits++
		}
	}
	counts := map[string]int{}
	for _, w := range strings.Fields(text) {
		s.words++
		n, spaced, first, mixed := 0, true, "", false
		for _, r := range w {
			n++
			if unicode.IsLetter(r) {
				name, sp := scriptOf(r)
				if !sp {
					spaced = false
				}
				if first == "" {
					first = name
				} else if name != first {
					mixed = true
				}
			}
		}
		if spaced && !strings.Contains(w, "://") && !strings.HasPrefix(w, "www.") && !strings.ContainsAny(w, "<>") {
			s.spacedWords++
			s.spacedWordRunes += n
			if mixed {
				s.mixedWords++
			}
		}
		k := strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		if k == "" {
			continue
		}
		counts[k]++
		if c := counts[k]; c > s.topTokenCount {
			s.topToken, s.topTokenCount = k, c
		}
	}
	return s
}

var measureSeeds = []string{"", "The quick brown fox", "Быстрая лиса and a fox", "東京 かな カナ 한국어 ไทย", "aaaa\u00a0bbbb\u2003cccc",
	"\xff\xfe ok", "www.example.com http://x <b>", "Ελληνικά עברית العربية हिन्दी ქართული Հայերեն ᠮᠣᠩ"}

// TestMeasureTextMatchesReference: measureText equals the reference on the seeds and on the
// body of every shared eval document.
func TestMeasureTextMatchesReference(t *testing.T) {
	check := func(s string) {
		if got, want := measureText(s), measureTextRef(s); !reflect.DeepEqual(got, want) {
			t.Errorf("measureText(%.60q) = %+v, reference %+v", s, got, want)
		}
	}
	for _, s := range measureSeeds {
		check(s)
	}
	for _, d := range sharedEvalDocs(t) {
		check(d.raw.Body)
	}
}

func FuzzMeasureText(f *testing.F) {
	for _, s := range measureSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := measureText(s), measureTextRef(s); !reflect.DeepEqual(got, want) {
			t.Errorf("measureText(%q) = %+v, reference %+v", s, got, want)
		}
	})
}

// BenchmarkMeasureText: the quality gate's measurements of the seed article.
func BenchmarkMeasureText(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"article", readPage(b, "seed-article.txt")},
		// unspaced text: a few "words" in many bytes
		{"cjk", strings.Repeat("東京都は二十六日、新たに感染者を確認したと発表した。", 300)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				measureText(c.text)
			}
		})
	}
}

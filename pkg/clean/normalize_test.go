package clean

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizeTextRef is NormalizeText as it was before its ASCII fast path (a range over runes
// with the unicode class tests for every rune): the reference the fast path must equal.
func normalizeTextRef(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	newlines := 0
	lineStart := true
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\v' || r == '\f':
			if r == '\r' {
				continue
			}
			newlines++
			space = false
			lineStart = true
			continue
		case r == '\t' || unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
			if !lineStart {
				space = true
			}
			continue
		case isInvisible(r):
			continue
		}
		if newlines > 0 && b.Len() > 0 {
			if newlines > 2 {
				newlines = 2
			}
			for i := 0; i < newlines; i++ {
				b.WriteByte('\n')
			}
		} else if space {
			b.WriteByte(' ')
		}
		newlines = 0
		space = false
		lineStart = false
		b.WriteRune(r)
	}
	return b.String()
}

// TestNormalizeTextEveryRune: every code point, alone and between letters, lines and
// spaces, normalises as the reference does (so each ASCII class of the fast path is the
// general case's).
func TestNormalizeTextEveryRune(t *testing.T) {
	bad := 0
	for r := rune(0); r <= unicode.MaxRune && bad < 10; r++ {
		c := string(r)
		for _, s := range []string{c, "a" + c + "b", " " + c + " x", "x\n" + c + "\n\n\ny", c + c + "\r\n" + c, "é" + c + "\u00a0" + c} {
			if got, want := NormalizeText(s), normalizeTextRef(s); got != want {
				t.Errorf("NormalizeText(%q) = %q, reference %q", s, got, want)
				bad++
			}
		}
	}
}

// FuzzNormalizeText compares NormalizeText with the reference on arbitrary bytes.
func FuzzNormalizeText(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", " x \t y\n\n\n\nz ", "\u00ad\u200b\ufeffa\u2028b\u00a0c", "\xff\xfeé", "e\u0301", "\x00\x7f\u0085\u3000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := NormalizeText(s), normalizeTextRef(s); got != want {
			t.Errorf("NormalizeText(%q) = %q, reference %q", s, got, want)
		}
	})
}

// BenchmarkNormalizeText: the seed article's text, and its paragraphs one by one as the
// cleaner normalises them.
func BenchmarkNormalizeText(b *testing.B) {
	text := readPage(b, "seed-article.txt")
	b.Run("article", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			NormalizeText(text)
		}
	})
	lines := strings.Split(text, "\n")
	b.Run("lines", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			for _, l := range lines {
				NormalizeText(l)
			}
		}
	})
}

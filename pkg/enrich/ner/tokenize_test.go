package ner

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"simple", "Joe met Putin.", []string{"Joe", "met", "Putin", "."}},
		{"possessive", "Biden's plan", []string{"Biden", "'s", "plan"}},
		{"curly possessive", "Biden’s plan", []string{"Biden", "’s", "plan"}},
		{"negation", "didn't go", []string{"did", "n't", "go"}},
		{"abbreviation", "the U.S. and Mr. Smith", []string{"the", "U.S.", "and", "Mr.", "Smith"}},
		{"numbers", "$1,000.50 or 3.5%", []string{"$", "1,000.50", "or", "3.5", "%"}},
		{"quotes", `"Hello," he said.`, []string{`"`, "Hello", ",", `"`, "he", "said", "."}},
		{"hyphen", "Al-Zaman", []string{"Al", "-", "Zaman"}},
		{"AT&T", "AT&T shares", []string{"AT&T", "shares"}},
		{"apostrophe name", "O'Brien", []string{"O'Brien"}},
		{"unicode", "Zelensky (Зеленський) — Kyiv", []string{"Zelensky", "(", "Зеленський", ")", "—", "Kyiv"}},
		{"cjk", "习近平访问", []string{"习近平访问"}},
		{"invalid utf8", "a\xffb", []string{"a", "\xff", "b"}},
		{"sentence final dot", "in Moscow.", []string{"in", "Moscow", "."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, tk := range Tokenize(tc.in) {
				got = append(got, tk.Text)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSentences(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
	}{
		{"empty", "", 0},
		{"two", "Joe met Putin. They talked.", 2},
		{"abbrev", "Mr. Smith went to the U.S. on Friday.", 1},
		{"quote", `"We won." He left.`, 2},
		{"blank line", "Headline\n\nBody text here", 2},
		{"no punctuation", "just some words", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(Sentences(tc.in, Tokenize(tc.in))); got != tc.want {
				t.Errorf("Sentences(%q) = %d sentences, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func checkTokens(t *testing.T, s string, toks []Token) {
	prev := 0
	for _, tk := range toks {
		if tk.Start < prev || tk.End <= tk.Start || tk.End > len(s) {
			t.Fatalf("bad offsets %+v (prev end %d, len %d)", tk, prev, len(s))
		}
		if s[tk.Start:tk.End] != tk.Text {
			t.Fatalf("token text %q != text[%d:%d] %q", tk.Text, tk.Start, tk.End, s[tk.Start:tk.End])
		}
		r, _ := utf8.DecodeRuneInString(tk.Text)
		if unicode.IsSpace(r) {
			t.Fatalf("whitespace token %q", tk.Text)
		}
		prev = tk.End
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "President Joe Biden met NATO officials in Moscow.", "U.S.A. didn't", "a\xffb’s", "1,000.5.", "'''", "A&B&C", "x'", "Mr.", "...", "«Ça va?»", "\u200b\u200bX"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokenize(s)
		checkTokens(t, s, toks)
		n := 0
		for _, sent := range Sentences(s, toks) {
			n += len(sent)
		}
		if n != len(toks) {
			t.Fatalf("sentences cover %d tokens, want %d", n, len(toks))
		}
		Default().Extract(s)
	})
}

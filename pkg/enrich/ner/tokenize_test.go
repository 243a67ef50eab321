package ner

import (
	"bytes"
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

// FuzzReadCoNLL: any training or evaluation file reads without a panic, and every sentence
// has one normalised IOB2 tag per word.
func FuzzReadCoNLL(f *testing.F) {
	for _, s := range []string{
		"# newdoc id = d1\n# text = Joe visited Paris\n1\tJoe\tB-PER\t-\n2\tvisited\tO\n3\tParis\tB-LOC\n\n",
		"-DOCSTART- O\n\nAcme I-ORG\nCorp I-ORG\nhired O\nAnn I-PER\n\n",
		"1-2\tdel\t_\n1\tde\tO\n2\tel\tO\n",
		"Wort O\nWort B-PERS\n. O\n",
		"\t\t\n#\n# = \nx\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		docs, err := ReadCoNLL(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, d := range docs {
			for _, s := range d.Sentences {
				if len(s.Words) != len(s.Tags) || len(s.Words) == 0 {
					t.Fatalf("sentence with %d words and %d tags", len(s.Words), len(s.Tags))
				}
				for i, tg := range s.Tags {
					if tg != "O" && !strings.HasPrefix(tg, "B-") && !strings.HasPrefix(tg, "I-") {
						t.Fatalf("tag %q", tg)
					}
					if strings.HasPrefix(tg, "I-") && (i == 0 || s.Tags[i-1] == "O" || s.Tags[i-1][2:] != tg[2:]) {
						t.Fatalf("I- tag not continuing a span: %q", s.Tags)
					}
				}
			}
		}
	})
}

package textutil

import (
	"unicode"
	"unicode/utf8"
)

// Token is a token of a text with byte offsets [Start, End).
type Token struct {
	Text       string
	Start, End int
}

// Tokenize splits text into word tokens (letters/digits with inner apostrophes and the dots of
// abbreviations such as "U.S.") and single-rune punctuation tokens; whitespace is dropped and
// an English possessive "'s"/"’s" is split off as its own token. It is the enrich packages'
// own light tokenizer (the NER package has its own); it never panics on invalid UTF-8.
func Tokenize(text string) []Token {
	toks := make([]Token, 0, len(text)/5+1)
	i, n := 0, len(text)
	for i < n {
		r, sz := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			i += sz
			continue
		}
		if !wordRune(r) {
			toks = append(toks, Token{text[i : i+sz], i, i + sz})
			i += sz
			continue
		}
		start := i
		i += sz
		for i < n {
			r2, s2 := utf8.DecodeRuneInString(text[i:])
			if wordRune(r2) {
				i += s2
				continue
			}
			if (r2 == '\'' || r2 == '’' || r2 == '.') && i+s2 < n {
				r3, _ := utf8.DecodeRuneInString(text[i+s2:])
				if wordRune(r3) && (r2 != '.' || unicode.IsUpper(r3) && unicode.IsUpper(rune(text[start]))) {
					i += s2
					continue
				}
			}
			// trailing dot of an all-initials abbreviation "U.S."
			if r2 == '.' && i-start >= 3 && text[i-2] == '.' {
				i += s2
			}
			break
		}
		w := text[start:i]
		if l := len(w); l > 2 && (w[l-2:] == "'s" || w[l-2:] == "'S") {
			toks = append(toks, Token{w[:l-2], start, i - 2}, Token{w[l-2:], i - 2, i})
			continue
		}
		if l := len(w); l > 4 && w[l-4:] == "’s" {
			toks = append(toks, Token{w[:l-4], start, i - 4}, Token{w[l-4:], i - 4, i})
			continue
		}
		toks = append(toks, Token{w, start, i})
	}
	return toks
}

func wordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
}

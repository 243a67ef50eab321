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

// Tokenize splits text into word and punctuation tokens. It is Unicode-aware:
// letters/digits form words (with inner apostrophes, periods in
// abbreviations like "U.S." and digit groups like "1,000.5"), English
// possessive/clitic suffixes ('s, n't, 're, ...) become separate tokens,
// hyphens and every other punctuation or symbol rune is its own token, and
// whitespace is dropped. Invalid UTF-8 bytes become single-byte tokens.
// It never panics and is safe for concurrent use. It is the one tokenizer of
// the enrich packages (NER, keywords, places, tone).
func Tokenize(text string) []Token {
	toks := make([]Token, 0, len(text)/5+1)
	i := 0
	n := len(text)
	for i < n {
		r, sz := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && sz <= 1 {
			toks = append(toks, Token{text[i : i+1], i, i + 1})
			i++
			continue
		}
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			i += sz
			continue
		}
		if isWordRune(r) {
			start := i
			i += sz
			for i < n {
				r2, s2 := utf8.DecodeRuneInString(text[i:])
				if isWordRune(r2) {
					i += s2
					continue
				}
				// inner joiners followed by a word rune: ' ’ . , (digits) &
				if i+s2 < n && (r2 == '\'' || r2 == '’' || r2 == '.' || r2 == ',' || r2 == '&') {
					r3, _ := utf8.DecodeRuneInString(text[i+s2:])
					if !isWordRune(r3) {
						break
					}
					prev, _ := utf8.DecodeLastRuneInString(text[start:i])
					switch r2 {
					case ',':
						if unicode.IsDigit(prev) && unicode.IsDigit(r3) {
							i += s2
							continue
						}
					case '.':
						if (unicode.IsDigit(prev) && unicode.IsDigit(r3)) || isAbbrevDot(text[start:i]) {
							i += s2
							continue
						}
					case '&':
						if unicode.IsUpper(prev) && unicode.IsUpper(r3) && i-start <= 3 {
							i += s2
							continue
						}
					default: // apostrophe
						i += s2
						continue
					}
				}
				break
			}
			// abbreviation final dot: "U.S." "Mr." handled as part of token when it
			// already contains dots, or is a known title.
			if i < n && text[i] == '.' && (hasInnerDot(text[start:i]) || isTitleAbbrev(text[start:i])) {
				i++
			}
			toks = appendWord(toks, text, start, i)
			continue
		}
		toks = append(toks, Token{text[i : i+sz], i, i + sz})
		i += sz
	}
	return toks
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// isAbbrevDot reports whether a dot after w continues an abbreviation like U.S.
func isAbbrevDot(w string) bool {
	r, sz := utf8.DecodeLastRuneInString(w)
	if !unicode.IsLetter(r) {
		return false
	}
	// single letter segment: "U" in U.S, "S" in U.S.A
	before := w[:len(w)-sz]
	if before == "" {
		return true
	}
	p, _ := utf8.DecodeLastRuneInString(before)
	return p == '.'
}

func hasInnerDot(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] == '.' {
			return true
		}
	}
	return false
}

var titleAbbrev = map[string]bool{
	"Mr": true, "Mrs": true, "Ms": true, "Dr": true, "Prof": true, "Sen": true, "Rep": true,
	"Gov": true, "Gen": true, "Col": true, "Lt": true, "Sgt": true, "St": true, "Jr": true,
	"Sr": true, "Inc": true, "Corp": true, "Co": true, "Ltd": true, "Mt": true, "Capt": true,
	"Adm": true, "Maj": true, "Pres": true, "Rev": true, "Hon": true, "Fr": true, "vs": true,
	"No": true, "Jan": true, "Feb": true, "Aug": true, "Sept": true, "Sep": true, "Oct": true,
	"Nov": true, "Dec": true, "Ave": true, "Blvd": true, "Dept": true, "Univ": true, "etc": true,
}

func isTitleAbbrev(w string) bool { return titleAbbrev[w] }

var clitics = []string{"'s", "’s", "'S", "n't", "n’t", "N'T", "'re", "’re", "'ve", "’ve", "'ll", "’ll", "'d", "’d", "'m", "’m"}

// IsClitic reports whether tok is an English clitic Tokenize splits off a word ("'s", "n't",
// "'re", ...): not a word of its own for keywords.
func IsClitic(tok string) bool {
	for _, c := range clitics {
		if tok == c {
			return true
		}
	}
	return false
}

// appendWord appends text[start:end], splitting a trailing English clitic.
func appendWord(toks []Token, text string, start, end int) []Token {
	w := text[start:end]
	for _, c := range clitics {
		if len(w) > len(c) && w[len(w)-len(c):] == c {
			cut := end - len(c)
			return append(toks, Token{text[start:cut], start, cut}, Token{text[cut:end], cut, end})
		}
	}
	return append(toks, Token{w, start, end})
}

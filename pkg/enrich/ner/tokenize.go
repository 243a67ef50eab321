package ner

import (
	"unicode"
	"unicode/utf8"
)

// Token is one token of a text with its byte offsets [Start, End).
type Token struct {
	Text       string
	Start, End int
}

// MaxInputBytes caps the text Extract looks at; longer input is truncated
// (at a rune boundary) so that tagging time per call is bounded.
const MaxInputBytes = 1 << 20

// Tokenize splits text into word and punctuation tokens. It is Unicode-aware:
// letters/digits form words (with inner apostrophes, periods in
// abbreviations like "U.S." and digit groups like "1,000.5"), English
// possessive/clitic suffixes ('s, n't, 're, ...) become separate tokens,
// hyphens and every other punctuation or symbol rune is its own token, and
// whitespace is dropped. Invalid UTF-8 bytes become single-byte tokens.
// It never panics and is safe for concurrent use.
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

// Sentences groups toks (as returned by Tokenize on text) into sentences,
// splitting after . ! ? (and runs of closing quotes/brackets after them) when
// the next token starts with an upper-case letter, digit or opening quote,
// and at blank lines. Abbreviation tokens ("Mr.", "U.S.") do not end a
// sentence. The returned slices alias toks.
func Sentences(text string, toks []Token) [][]Token {
	var out [][]Token
	start := 0
	for i := 0; i < len(toks); i++ {
		end := false
		t := toks[i].Text
		if t == "." || t == "!" || t == "?" || t == "…" || t == "。" || t == "！" || t == "？" || t == "．" || t == "｡" {
			j := i + 1
			for j < len(toks) && isCloser(toks[j].Text) {
				j++
			}
			if j >= len(toks) || t == "。" || t == "！" || t == "？" || t == "．" || t == "｡" {
				// CJK full stops end a sentence whatever follows
				i = j - 1
				end = true
			} else {
				r, _ := utf8.DecodeRuneInString(toks[j].Text)
				if unicode.IsUpper(r) || unicode.IsDigit(r) || isOpener(toks[j].Text) || !unicode.IsLetter(r) {
					i = j - 1
					end = true
				}
			}
		} else if i+1 < len(toks) && blankLineBetween(text, toks[i].End, toks[i+1].Start) {
			end = true
		}
		if end {
			out = append(out, toks[start:i+1])
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

func isCloser(s string) bool {
	switch s {
	case "\"", "”", "’", "'", ")", "]", "»", "」", "』", "）", "】":
		return true
	}
	return false
}

func isOpener(s string) bool {
	switch s {
	case "\"", "“", "‘", "'", "(", "[", "«", "「":
		return true
	}
	return false
}

func blankLineBetween(text string, a, b int) bool {
	if a < 0 || b > len(text) || a >= b {
		return false
	}
	nl := 0
	for i := a; i < b; i++ {
		if text[i] == '\n' {
			nl++
			if nl >= 2 {
				return true
			}
		}
	}
	return false
}

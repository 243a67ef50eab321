package ner

import (
	"unicode"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// Token is one token of a text with its byte offsets [Start, End) (the enrich packages'
// shared tokenizer, internal/textutil).
type Token = textutil.Token

// MaxInputBytes caps the text Extract looks at; longer input is truncated
// (at a rune boundary) so that tagging time per call is bounded.
const MaxInputBytes = 1 << 20

// Tokenize splits text into word and punctuation tokens; see textutil.Tokenize.
func Tokenize(text string) []Token { return textutil.Tokenize(text) }

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

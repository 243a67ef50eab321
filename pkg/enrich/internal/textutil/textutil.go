// Package textutil holds small text helpers shared by the enrich packages: ASCII folding of
// names into aggregation keys, capitalisation tests and bounded truncation. All functions are
// pure and safe for concurrent use.
package textutil

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// special maps letters that NFD does not decompose to an ASCII form.
var special = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o", 'œ': "oe", 'Œ': "oe",
	'đ': "d", 'Đ': "d", 'ł': "l", 'Ł': "l", 'þ': "th", 'Þ': "th", 'ð': "d", 'Ð': "d",
	'ı': "i", '’': "'", '‘': "'", '‐': "-", '–': "-", '—': "-",
}

// asciiSpace holds the ASCII bytes strings.Fields splits on.
const asciiSpace = "\t\n\v\f\r "

// Fold returns s lowercased, with diacritics removed and runs of whitespace collapsed to a
// single space: "Zelenskyy’s  Kyïv" → "zelenskyy's kyiv". Non-Latin letters are kept
// (lowercased).
func Fold(s string) string {
	if isASCII, upper, space := scanASCII(s); isASCII {
		if !space { // one field (a token): nothing to collapse
			if !upper {
				return s // strings.ToLower(s) without its scan
			}
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

// IsCap reports whether s starts with an upper-case letter.
func IsCap(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// IsAllCaps reports whether s has at least two letters and all its letters are upper case.
func IsAllCaps(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			n++
		}
	}
	return n >= 2
}

// IsWord reports whether s starts with a letter or digit.
func IsWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// IsLatin reports whether every letter of s is in the Latin script.
func IsLatin(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

// Truncate cuts s to at most max bytes at a rune boundary.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Levenshtein returns the edit distance between a and b (by rune).
func Levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 {
		return len(rb)
	}
	if len(rb) == 0 {
		return len(ra)
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// scanASCII reports, in one pass, whether s is ASCII and then whether it holds an upper-case
// letter and a byte of asciiSpace.
func scanASCII(s string) (isASCII, upper, space bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			return false, false, false
		case 'A' <= c && c <= 'Z':
			upper = true
		case c <= ' ' && (c == ' ' || '\t' <= c && c <= '\r'):
			space = true
		}
	}
	return true, upper, space
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

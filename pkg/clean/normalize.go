package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeText returns s in Unicode NFC with invisible characters removed and whitespace
// tidied: soft hyphens, zero-width spaces, word joiners, BOMs, bidi marks and C0/C1 control
// characters are dropped; every Unicode space (NBSP, thin space, …) becomes an ASCII space;
// runs of spaces collapse; lines are trimmed; CR/LF, U+2028/U+2029 become \n; more than one
// blank line collapses to one. ZWJ/ZWNJ (U+200D/U+200C) are kept because they change meaning
// in Persian, Indic scripts and emoji sequences. Invalid UTF-8 bytes become U+FFFD and are then
// dropped. It is pure and safe for concurrent use.
func NormalizeText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false // pending space inside a line
	newlines := 0  // pending newlines
	lineStart := true
	for i := 0; i < len(s); {
		// ASCII bytes are classified here without the unicode table searches; the classes
		// are those of the general case below (TestNormalizeTextASCIIClasses, FuzzNormalizeText).
		var r rune
		if c := s[i]; c < utf8.RuneSelf {
			i++
			switch {
			case c == '\n' || c == '\v' || c == '\f':
				newlines++
				space = false
				lineStart = true
				continue
			case c == '\r':
				// \r\n counts once: the \n that follows adds the newline.
				continue
			case c == ' ' || c == '\t':
				if !lineStart {
					space = true
				}
				continue
			case c < 0x20 || c == 0x7F:
				continue // invisible
			}
			r = rune(c)
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
			switch {
			case r == '\u2028' || r == '\u2029':
				newlines++
				space = false
				lineStart = true
				continue
			case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
				if !lineStart {
					space = true
				}
				continue
			case isInvisible(r):
				continue
			}
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
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isInvisible reports characters that carry no visible text and only break tokenisation.
func isInvisible(r rune) bool {
	switch r {
	case '\u00AD', // soft hyphen
		'\u200B',           // zero-width space
		'\u2060',           // word joiner
		'\uFEFF',           // BOM / zero-width no-break space
		'\u180E',           // Mongolian vowel separator
		'\u200E', '\u200F', // LRM, RLM
		'\u202A', '\u202B', '\u202C', '\u202D', '\u202E', // bidi embeddings
		'\u2066', '\u2067', '\u2068', '\u2069', // bidi isolates
		'\u2061', '\u2062', '\u2063', '\u2064', // invisible math operators
		'\uFFFD', '\uFFFC': // replacement / object replacement
		return true
	}
	if r < 0x20 || (r >= 0x7F && r < 0xA0) {
		return true
	}
	return false
}

// normLine is the key used to compare lines: NormalizeText'd, lowercased, with digits
// folded to 0 and punctuation/space runs collapsed, so "Back to top" and "BACK TO TOP!" and
// "Updated 3 May" vs "Updated 4 May" compare equal.
func normLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	sep := false
	for _, r := range s {
		if r < utf8.RuneSelf { // ASCII fast path, same classes as below
			switch {
			case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
				if sep && b.Len() > 0 {
					b.WriteByte(' ')
				}
				sep = false
				b.WriteByte(byte(r) | 0x20)
			case '0' <= r && r <= '9':
				if sep && b.Len() > 0 {
					b.WriteByte(' ')
				}
				sep = false
				b.WriteByte('0')
			default:
				sep = true
			}
			continue
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsMark(r):
			if sep && b.Len() > 0 {
				b.WriteByte(' ')
			}
			sep = false
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsDigit(r):
			if sep && b.Len() > 0 {
				b.WriteByte(' ')
			}
			sep = false
			b.WriteByte('0')
		default:
			sep = true
		}
	}
	return b.String()
}

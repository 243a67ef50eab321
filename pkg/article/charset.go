package article

import (
	"bytes"
	"mime"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gogs/chardet"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"
)

// Charset sources: which evidence decided a body's encoding (Decoding.Source).
const (
	CharsetBOM      = "bom"      // a byte-order mark
	CharsetHTTP     = "http"     // the Content-Type charset, consistent with the bytes
	CharsetMeta     = "meta"     // <meta charset> / <meta http-equiv>, consistent with the bytes
	CharsetXML      = "xml"      // the XML declaration's encoding, consistent with the bytes
	CharsetBytes    = "bytes"    // the bytes are valid UTF-8 (whatever was declared)
	CharsetDetected = "detected" // a statistical detector (gogs/chardet, a port of ICU's)
	CharsetDefault  = "default"  // nothing better: windows-1252, the WHATWG default
)

// Decoding says how a body was brought to UTF-8.
type Decoding struct {
	// Charset is the encoding the bytes were read as (a WHATWG name, e.g. "windows-1251").
	Charset string
	// Source is the evidence that decided it (CharsetBOM … CharsetDefault).
	Source string
	// Declared is the charset the response declared (HTTP, <meta> or XML), "" if none; it
	// differs from Charset when the bytes contradicted it.
	Declared string
}

// metaCharsetRe finds a charset in a <meta charset> or <meta http-equiv content> tag.
var metaCharsetRe = regexp.MustCompile(`(?i)<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-z0-9_:.+-]+)`)

// maxDetectBytes bounds the input given to the statistical detector.
const maxDetectBytes = 256 << 10

// DeclaredCharset returns the charset an HTML body declares: the Content-Type charset
// parameter (source CharsetHTTP), else the first <meta> charset within the first 8 KiB
// (CharsetMeta). Both are "" when nothing is declared.
func DeclaredCharset(b []byte, contentType string) (label, source string) {
	if contentType != "" {
		if _, params, err := mime.ParseMediaType(contentType); err == nil && strings.TrimSpace(params["charset"]) != "" {
			return strings.TrimSpace(params["charset"]), CharsetHTTP
		}
	}
	if m := metaCharsetRe.FindSubmatch(b[:min(len(b), 8192)]); m != nil {
		return string(m[1]), CharsetMeta
	}
	return "", ""
}

// DecodeHTML converts an HTML or plain-text body to UTF-8. The declared charset (HTTP, then
// <meta>) is checked against the bytes rather than trusted: a BOM wins; bytes that are valid
// UTF-8 are UTF-8 whatever the declaration says (legacy text with high bytes is practically
// never valid UTF-8); a declared legacy charset is used when the text it produces is
// plausible; otherwise (no declaration, UTF-8 declared over invalid bytes, or an implausible
// result such as Cyrillic cp1251 read as Latin-1) the charset is detected statistically.
// The output is always valid UTF-8.
func DecodeHTML(b []byte, contentType string) ([]byte, Decoding) {
	label, src := DeclaredCharset(b, contentType)
	return DecodeCharset(b, label, src)
}

// DecodeCharset converts b to UTF-8 given a declared charset label (may be "") and where the
// declaration came from (CharsetHTTP, CharsetMeta, CharsetXML), following the rules of
// DecodeHTML.
func DecodeCharset(b []byte, declared, declSource string) ([]byte, Decoding) {
	declEnc, declName := lookupCharset(declared)
	d := Decoding{Declared: declName}
	if declName == "" {
		d.Declared = strings.ToLower(strings.TrimSpace(declared))
	}
	if enc, name, n := bomEncoding(b); enc != nil || n > 0 {
		d.Charset, d.Source = name, CharsetBOM
		if enc == nil { // UTF-8 BOM
			return bytes.ToValidUTF8(b[n:], []byte("\uFFFD")), d
		}
		return decodeWith(enc, b[n:]), d
	}
	// UTF-16/32 declared over the wire (no BOM): only trust it when the bytes look wide.
	if declEnc != nil && strings.HasPrefix(declName, "utf-16") && bytes.IndexByte(b[:min(len(b), 512)], 0) >= 0 {
		d.Charset, d.Source = declName, declSource
		return decodeWith(declEnc, b), d
	}
	high, multi, invalid := scanUTF8(b)
	if high == 0 && !(declEnc != nil && strings.HasPrefix(declName, "iso-2022") && bytes.IndexByte(b, 0x1b) >= 0) {
		// ASCII: every ASCII-compatible charset reads it the same.
		d.Charset, d.Source = declName, declSource
		if declName == "" {
			d.Charset, d.Source = "utf-8", CharsetBytes
		}
		return b, d
	}
	if invalid == 0 || (multi >= 8 && multi >= 4*invalid) {
		// Valid (or all but a few stray bytes of) UTF-8.
		d.Charset, d.Source = "utf-8", sourceFor(declName, "utf-8", declSource)
		if invalid > 0 || !utf8.Valid(b) {
			return bytes.ToValidUTF8(trimPartialRune(b), []byte("\uFFFD")), d
		}
		return b, d
	}
	if declEnc != nil && declName != "utf-8" {
		if out := decodeWith(declEnc, b); plausible(out) {
			d.Charset, d.Source = declName, declSource
			return out, d
		}
	}
	if enc, name, out := detect(b); enc != nil {
		d.Charset, d.Source = name, CharsetDetected
		return out, d
	}
	if declEnc != nil && declName != "utf-8" {
		d.Charset, d.Source = declName, declSource
		return decodeWith(declEnc, b), d
	}
	enc, name := lookupCharset("windows-1252")
	d.Charset, d.Source = name, CharsetDefault
	return decodeWith(enc, b), d
}

// sourceFor is the source of a UTF-8 decision: the declaration when it said UTF-8 (or said
// nothing), CharsetBytes when the bytes overrode another declaration.
func sourceFor(declName, got, declSource string) string {
	if declName == got {
		return declSource
	}
	return CharsetBytes
}

// lookupCharset resolves a label to an encoding and its canonical WHATWG name ("" when the
// label is unknown). chardet's names that WHATWG spells differently are mapped.
func lookupCharset(label string) (encoding.Encoding, string) {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if label == "" {
		return nil, ""
	}
	switch label {
	case "utf-32be":
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), label
	case "utf-32le":
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), label
	case "iso-8859-8-i":
		label = "iso-8859-8"
	}
	enc, name := charset.Lookup(label)
	if enc == nil {
		return nil, ""
	}
	if name == "replacement" { // WHATWG maps ISO-2022-KR/CN etc. to a decoder that yields U+FFFD
		return nil, ""
	}
	return enc, name
}

// bomEncoding recognises a byte-order mark: UTF-8 (enc nil, n 3), UTF-16/32 (enc set).
func bomEncoding(b []byte) (encoding.Encoding, string, int) {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return nil, "utf-8", 3
	case bytes.HasPrefix(b, []byte{0, 0, 0xfe, 0xff}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", 4
	case bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", 4
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		enc, _ := charset.Lookup("utf-16be")
		return enc, "utf-16be", 2
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		enc, _ := charset.Lookup("utf-16le")
		return enc, "utf-16le", 2
	}
	return nil, "", 0
}

// scanUTF8 counts bytes ≥ 0x80, valid multi-byte UTF-8 sequences and invalid bytes; an
// incomplete sequence at the very end of otherwise UTF-8 text (a body truncated
// mid-character) is not invalid.
func scanUTF8(b []byte) (high, multi, invalid int) {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, sz := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && sz == 1 {
			if !utf8.FullRune(b[i:]) && len(b)-i < utf8.UTFMax && multi > 0 {
				break
			}
			high++
			invalid++
			i++
			continue
		}
		high += sz
		multi++
		i += sz
	}
	return high, multi, invalid
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b (a body cut at its
// size limit).
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

func decodeWith(enc encoding.Encoding, b []byte) []byte {
	out, _, err := transform.Bytes(enc.NewDecoder(), b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return bytes.ToValidUTF8(out, []byte("\uFFFD"))
}

// detect runs the statistical detector (gogs/chardet, a port of ICU's) on b and returns the
// first candidate, best first, whose decoding is plausible.
func detect(b []byte) (encoding.Encoding, string, []byte) {
	sample := b[:min(len(b), maxDetectBytes)]
	res, err := chardet.NewHtmlDetector().DetectAll(sample)
	if err != nil {
		return nil, "", nil
	}
	tried := 0
	for _, r := range res {
		if r.Confidence < 10 || tried == 4 {
			break
		}
		enc, name := lookupCharset(r.Charset)
		if enc == nil || name == "utf-8" || strings.HasPrefix(name, "utf-16") || strings.HasPrefix(r.Charset, "UTF-32") {
			continue
		}
		tried++
		out := decodeWith(enc, b)
		if plausible(out) {
			return enc, name, out
		}
	}
	return nil, "", nil
}

// plausible reports whether decoded text looks like natural text rather than mojibake. It
// looks only at the non-ASCII part: words (letter runs) holding non-ASCII letters, which in
// real text are a minority made of one script each, and non-ASCII symbols. Mojibake fails
// one of: C1 control characters or U+FFFD (bytes the charset does not define); words that
// mix Latin with Cyrillic/Greek/Arabic/Hebrew letters (Latin-1 read as cp1251: "йtй");
// most non-ASCII words made only of accented Latin letters (cp1251 read as Latin-1:
// "Ïðèâåò"); or non-ASCII symbols outnumbering non-ASCII letters.
func plausible(text []byte) bool {
	var (
		nonASCII, bad, symbols, letters int
		words, mixedWords, soupWords    int
		wordLen, wordHigh               int
		scripts                         uint8
	)
	endWord := func() {
		if wordHigh > 0 {
			words++
			if scripts&(scripts-1) != 0 && scripts&scriptLatin != 0 && scripts&^(scriptLatin|scriptCJK|scriptOther) != 0 {
				mixedWords++
			}
			if wordHigh == wordLen && wordLen >= 3 && scripts == scriptLatin {
				soupWords++
			}
		}
		wordLen, wordHigh, scripts = 0, 0, 0
	}
	for _, r := range string(text) {
		if r < utf8.RuneSelf {
			if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
				wordLen++
				scripts |= scriptLatin
			} else {
				endWord()
			}
			continue
		}
		nonASCII++
		switch {
		case r == utf8.RuneError || (r >= 0x80 && r < 0xa0):
			bad++
			endWord()
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			letters++
			wordLen++
			wordHigh++
			scripts |= scriptBit(r)
		default:
			if !unicode.IsSpace(r) && !unicode.IsPunct(r) {
				symbols++
			}
			endWord()
		}
	}
	endWord()
	if nonASCII == 0 {
		return true
	}
	switch {
	case bad*50 > nonASCII && bad > 2:
		return false
	case words >= 5 && mixedWords*5 > words:
		return false
	case words >= 5 && soupWords*2 > words:
		return false
	case nonASCII >= 20 && symbols > letters:
		return false
	}
	return true
}

const (
	scriptLatin uint8 = 1 << iota
	scriptCyrillic
	scriptGreek
	scriptArabic
	scriptHebrew
	scriptCJK
	scriptOther
)

func scriptBit(r rune) uint8 {
	switch {
	case unicode.Is(unicode.Latin, r):
		return scriptLatin
	case unicode.Is(unicode.Cyrillic, r):
		return scriptCyrillic
	case unicode.Is(unicode.Greek, r):
		return scriptGreek
	case unicode.Is(unicode.Arabic, r):
		return scriptArabic
	case unicode.Is(unicode.Hebrew, r):
		return scriptHebrew
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return scriptCJK
	}
	return scriptOther
}

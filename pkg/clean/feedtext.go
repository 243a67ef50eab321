package clean

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding/charmap"
)

// Feed text (an item's description or content used as the body, its title, description and
// authors) is HTML by the RSS/Atom conventions, often escaped twice, and arrives as a
// fragment: no <html>, often no <p>. It is converted to plain text with the HTML parser
// whenever it contains a tag or an entity, keeping paragraph breaks, rather than guessed
// from a list of tags.

// reFeedMarkup: an HTML start/end tag, comment or entity.
var reFeedMarkup = regexp.MustCompile(`<(/?[a-zA-Z][a-zA-Z0-9-]*[\s/>]|!--)|&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});`)

// hasMarkup reports whether s contains an HTML tag, comment or entity.
func hasMarkup(s string) bool { return reFeedMarkup.MatchString(s) }

// feedBody is the body source the fetcher records for a body that is the feed item's own
// text rather than a fetched page.
func feedBody(extra map[string]string) bool {
	switch extra["body_source"] {
	case "feed_content", "feed_fallback":
		return true
	}
	return false
}

// skipped elements: their content is not text.
var feedSkip = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Iframe: true,
	atom.Object: true, atom.Embed: true, atom.Svg: true, atom.Math: true, atom.Head: true,
	atom.Select: true, atom.Title: true, atom.Button: true, atom.Audio: true, atom.Video: true, atom.Canvas: true,
}

// block elements end a paragraph.
var feedBlock = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Header: true,
	atom.Footer: true, atom.Aside: true, atom.Nav: true, atom.Main: true, atom.Blockquote: true,
	atom.Figure: true, atom.Figcaption: true, atom.Pre: true, atom.Ul: true, atom.Ol: true,
	atom.Li: true, atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Hr: true, atom.Table: true,
	atom.Tr: true, atom.Caption: true, atom.Thead: true, atom.Tbody: true, atom.Tfoot: true,
	atom.Form: true, atom.Fieldset: true, atom.Address: true, atom.Details: true, atom.Summary: true,
	atom.Body: true, atom.Html: true, atom.Center: true,
}

// FeedText returns feed text as plain text: unchanged when it has no markup, else parsed as
// an HTML fragment with tags dropped, entities decoded, scripts/styles/media skipped, table
// cells of a row on one line, and paragraphs (block elements, two <br>) separated by a blank
// line; single <br> become line breaks.
//
// UTF-8 that was read as Latin-1/cp1252 and encoded again ("â€™" for "’", often as the
// character references "&#226;&#128;&#153;") is repaired (undoubleUTF8).
func FeedText(s string) string {
	if !hasMarkup(s) {
		return undoubleUTF8(s)
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil { // the tokenizer only fails on reader errors
		return undoubleUTF8(html.UnescapeString(s))
	}
	w := &feedWriter{}
	for _, n := range nodes {
		w.walk(n)
	}
	return undoubleUTF8(strings.TrimSpace(w.b.String()))
}

// FeedLine is FeedText on one line (titles, authors, descriptions).
func FeedLine(s string) string {
	if !hasMarkup(s) {
		return undoubleUTF8(s)
	}
	return strings.Join(strings.Fields(FeedText(s)), " ")
}

// undoubleUTF8 repairs UTF-8 that was decoded as Latin-1 or cp1252 and encoded again: each
// run of characters that all map to single bytes >= 0x80 in Latin-1/cp1252 is turned back
// into those bytes, and replaced by their UTF-8 reading when the bytes are valid UTF-8 made
// of multi-byte sequences only ("Ã©" → "é", "â€¦" → "…"). Natural text almost never
// contains such a run: accented letters next to each other ("çã", "éè") are not valid UTF-8
// lead+continuation sequences, and a lone accented letter never is. C1 controls left over are
// cp1252 characters (demoronize).
func undoubleUTF8(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 && r <= 0xff }) {
		return s
	}
	var b strings.Builder
	changed := false
	run := make([]byte, 0, 16)
	start := -1 // byte offset in s of the current run
	flush := func(end int) {
		if start < 0 {
			return
		}
		if fixed, ok := utf8FromLatin(run); ok {
			b.WriteString(fixed)
			changed = true
		} else {
			b.WriteString(s[start:end])
		}
		run, start = run[:0], -1
	}
	for i, r := range s {
		if c, ok := latinByte(r); ok {
			if start < 0 {
				start = i
			}
			run = append(run, c)
			continue
		}
		flush(i)
		b.WriteRune(r)
	}
	flush(len(s))
	if changed {
		s = b.String()
	}
	return demoronize(s)
}

// demoronize turns C1 control characters (U+0080–U+009F), which text never means, into the
// cp1252 characters they stand for: cp1252 text declared or read as Latin-1 ("don\u0092t" is
// "don’t"), as the HTML parser does for character references.
func demoronize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0x80 && r <= 0x9f {
			if c := charmap.Windows1252.DecodeByte(byte(r)); c != r && c != utf8.RuneError {
				return c
			}
		}
		return r
	}, s)
}

// utf8FromLatin reads run (bytes >= 0x80) as UTF-8: ok only when it is valid, every rune
// is a multi-byte one and none is a control character.
func utf8FromLatin(run []byte) (string, bool) {
	if len(run) < 2 || !utf8.Valid(run) {
		return "", false
	}
	out := string(run)
	for _, r := range out {
		if r < 0xa0 || r == utf8.RuneError {
			return "", false
		}
	}
	return out, true
}

// latinByte is the byte r has in Latin-1 (U+0080–U+00FF) or cp1252, for bytes >= 0x80.
func latinByte(r rune) (byte, bool) {
	if r >= 0x80 && r <= 0xff {
		return byte(r), true
	}
	if b, ok := charmap.Windows1252.EncodeRune(r); ok && b >= 0x80 {
		return b, true
	}
	return 0, false
}

type feedWriter struct {
	b     strings.Builder
	space bool // a space is pending before the next text
	brk   int  // line breaks pending before the next text (capped at 2)
}

func (w *feedWriter) breakLine(n int) {
	if w.b.Len() > 0 && n > w.brk {
		w.brk = n
	}
	w.space = false
}

func (w *feedWriter) text(s string) {
	if s == "" {
		return
	}
	if isSpaceByte(s[0]) {
		w.space = true
	}
	fields := strings.Fields(s)
	for i, f := range fields {
		if w.b.Len() > 0 {
			if w.brk > 0 {
				w.b.WriteString("\n\n"[:w.brk])
			} else if w.space || i > 0 {
				w.b.WriteByte(' ')
			}
		}
		w.brk, w.space = 0, false
		w.b.WriteString(f)
	}
	if isSpaceByte(s[len(s)-1]) {
		w.space = true
	}
}

func isSpaceByte(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

func (w *feedWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
	default:
		return // comments, doctypes
	}
	a := n.DataAtom
	if feedSkip[a] {
		return
	}
	switch {
	case a == atom.Br:
		w.breakLine(min(w.brk+1, 2))
		return
	case a == atom.Td || a == atom.Th:
		if w.b.Len() > 0 && w.brk == 0 {
			w.space = true
		}
	case feedBlock[a]:
		w.breakLine(2)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	if feedBlock[a] {
		w.breakLine(2)
	} else if a == atom.Td || a == atom.Th {
		w.space = true
	}
}

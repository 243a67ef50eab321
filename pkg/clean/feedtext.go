package clean

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
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
func FeedText(s string) string {
	if !hasMarkup(s) {
		return s
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil { // the tokenizer only fails on reader errors
		return html.UnescapeString(s)
	}
	w := &feedWriter{}
	for _, n := range nodes {
		w.walk(n)
	}
	return strings.TrimSpace(w.b.String())
}

// FeedLine is FeedText on one line (titles, authors, descriptions).
func FeedLine(s string) string {
	if !hasMarkup(s) {
		return s
	}
	return strings.Join(strings.Fields(FeedText(s)), " ")
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

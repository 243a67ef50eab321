package clean

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// blockAtoms start a new paragraph when rendering extracted HTML to text.
var blockAtoms = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true,
	atom.H5: true, atom.H6: true, atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.Blockquote: true, atom.Pre: true, atom.Table: true,
	atom.Tr: true, atom.Td: true, atom.Th: true, atom.Section: true, atom.Article: true,
	atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Nav: true, atom.Figure: true,
	atom.Figcaption: true, atom.Hr: true, atom.Main: true, atom.Form: true, atom.Fieldset: true,
	atom.Address: true, atom.Details: true, atom.Summary: true, atom.Caption: true,
}

// skipAtoms are never rendered.
var skipAtoms = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Select: true, atom.Button: true, atom.Textarea: true, atom.Input: true, atom.Head: true,
}

// renderParagraphs renders n as paragraphs: one per block element, <br> splitting lines,
// whitespace collapsed. maxDepth bounds recursion (deeper content is skipped).
func renderParagraphs(n *html.Node, maxDepth int) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.Join(strings.Fields(cur.String()), " ")
		if s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		if depth > maxDepth {
			return
		}
		switch n.Type {
		case html.TextNode:
			cur.WriteString(n.Data)
			return
		case html.ElementNode:
			a := elemAtom(n)
			if skipAtoms[a] {
				return
			}
			if a == atom.Br {
				flush()
				return
			}
			if a == atom.Img {
				cur.WriteByte(' ')
				return
			}
		case html.CommentNode, html.DoctypeNode:
			return
		}
		a := elemAtom(n)
		block := n.Type == html.ElementNode && blockAtoms[a]
		if block {
			flush()
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
		if block {
			flush()
		}
	}
	walk(n, 0)
	flush()
	return out
}

// elemAtom is n's atom, looked up from its name for nodes built without one (trafilatura
// creates elements by name).
func elemAtom(n *html.Node) atom.Atom {
	if n.Type != html.ElementNode {
		return 0
	}
	if n.DataAtom != 0 {
		return n.DataAtom
	}
	return atom.Lookup([]byte(strings.ToLower(n.Data)))
}

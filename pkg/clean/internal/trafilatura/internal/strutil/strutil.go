// Package strutil (newsflow patch, not in upstream go-trafilatura) holds allocation-free
// equivalents of string helpers upstream calls on every node.
package strutil

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-shiori/dom"
	"golang.org/x/net/html"
)

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// Collapse is strings.Join(strings.Fields(s), " "): runs of white space (unicode.IsSpace)
// become one space, leading and trailing white space is dropped. An already collapsed s is
// returned as is, without allocating.
func Collapse(s string) string {
	if collapsed(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pending := false // a space to write before the next non-space
	for i := 0; i < len(s); {
		c := s[i]
		size := 1
		space := false
		if c < utf8.RuneSelf {
			space = asciiSpace[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
		}
		if space {
			pending = b.Len() > 0
		} else {
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// collapsed reports whether Collapse(s) == s.
func collapsed(s string) bool {
	prevSpace := true // a space at the start is dropped
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if prevSpace {
					return false
				}
				prevSpace = true
			case asciiSpace[c]:
				return false
			default:
				prevSpace = false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return false
		}
		prevSpace = false
		i += size
	}
	return !prevSpace || s == ""
}

// ClassName is dom.ClassName (the class attribute, white space collapsed).
func ClassName(n *html.Node) string {
	return Collapse(dom.GetAttribute(n, "class"))
}

// CollapsedTextLen is utf8.RuneCountInString(Collapse(dom.TextContent(n))) without building
// either string: the length of n's text with white-space runs collapsed and trimmed.
func CollapsedTextLen(n *html.Node) int {
	count, pending, seen := 0, false, false
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			s := n.Data
			for i := 0; i < len(s); {
				c := s[i]
				size := 1
				space := false
				if c < utf8.RuneSelf {
					space = asciiSpace[c]
				} else {
					var r rune
					r, size = utf8.DecodeRuneInString(s[i:])
					space = unicode.IsSpace(r)
				}
				if space {
					pending = seen
				} else {
					if pending {
						count++
						pending = false
					}
					count++
					seen = true
				}
				i += size
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return count
}

// TextLen is utf8.RuneCountInString(dom.TextContent(n)) without building the string.
func TextLen(n *html.Node) int {
	count := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			count += utf8.RuneCountInString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return count
}

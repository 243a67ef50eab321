package strutil

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-shiori/dom"
	"golang.org/x/net/html"
)

func TestCollapseMatchesFields(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a", "a ", "a  b", "a b", "a\tb", "\u00a0a\u00a0", "a\u0085b", "é  ü", "a \xff b", "\xff", "  x  y  ", "a\u3000b", "already collapsed text"} {
		if got, want := Collapse(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("Collapse(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzCollapse(f *testing.F) {
	f.Add(" a\u00a0 b\t")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Collapse(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Fatalf("Collapse(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestCollapsedTextLen(t *testing.T) {
	for _, src := range []string{"", "<p> a  b </p>", "<div>x<span> y </span>\u00a0z<b></b>  </div>", "<ul><li>é</li><li> ü\t</li></ul>", "<p>\xff a</p>"} {
		doc, err := html.Parse(strings.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := CollapsedTextLen(doc), utf8.RuneCountInString(Collapse(dom.TextContent(doc))); got != want {
			t.Errorf("%q: %d, want %d", src, got, want)
		}
		if got, want := TextLen(doc), utf8.RuneCountInString(dom.TextContent(doc)); got != want {
			t.Errorf("%q: TextLen %d, want %d", src, got, want)
		}
	}
}

package clean

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// tokenizerDepth is the tokenizer-based depth estimate nestingDepth replaced (kept as the
// reference it must agree with).
func tokenizerDepth(body string, limit int) int {
	z := html.NewTokenizer(strings.NewReader(body))
	z.SetMaxBuf(0)
	depth, maxD := 0, 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return maxD
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if voidOrImplied[a] {
				continue
			}
			if a == atom.Script || a == atom.Style {
				continue // raw text; the tokenizer handles their end tags itself
			}
			depth++
			if depth > maxD {
				maxD = depth
				if maxD > limit {
					return maxD
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if voidOrImplied[a] || a == atom.Script || a == atom.Style {
				continue
			}
			if depth > 0 {
				depth--
			}
		}
	}
}

var depthCases = map[string]string{
	"deep divs":         strings.Repeat("<div>", 600) + "x" + strings.Repeat("</div>", 600),
	"void and implied":  strings.Repeat("<p><li><br><img src=x>", 700),
	"self-closing":      strings.Repeat("<div/>", 700) + strings.Repeat("<div a=b/>", 3) + strings.Repeat(`<div a="b"/>`, 3),
	"unquoted slash":    strings.Repeat("<span a=/>", 20),
	"quoted gt":         `<div title="a > b"><span data-x='>'>t</span></div>`,
	"comments":          "<div><!-- <div><div> --><!--><div><!---><div><!-- a --!><div><!-- -- > <div> --></div>",
	"doctype and bogus": "<!DOCTYPE html><?xml x?><div></ div><![CDATA[<div>]]><div>",
	"raw text":          "<title><div><div></title><textarea><div></TEXTAREA ><style>div{}<div></style><div><noscript><b></noscript>",
	"script":            "<div><script>var s = '<div><div>'; if (a<b) {}</script><script src=x /></div>",
	"end tags":          "<div><span></span></div></div></div><div><div></div/></div>",
	"stray lt":          "a < b <3 <<div> <1 </ > </>",
	"unterminated tag":  "<div><div><span class='x",
	"unterminated end":  "<div><div></div",
	"attr edge cases":   "<div =a ='b' c = \"d\" e/ f=g/ h><div / ><div a=b /x=1>",
	"uppercase":         "<DIV><Section><P>x</DIV></section>",
	"long names":        "<custom-element-with-a-long-name><another-very-long-custom-tag>",
	"plaintext":         "<div><plaintext><div><div>",
}

// TestNestingDepthMatchesTokenizer checks the byte scanner against the tokenizer it replaced
// on hand-made edge cases and on the test pages (and, when present, every page of the shared
// evaluation sets), with and without the limit reached.
func TestNestingDepthMatchesTokenizer(t *testing.T) {
	pages := map[string]string{}
	for k, v := range depthCases {
		pages[k] = v
	}
	for _, name := range benchPages {
		pages[name] = readPage(t, name)
	}
	for name, body := range pages {
		for _, limit := range []int{8, 512} {
			if got, want := nestingDepth(body, limit), tokenizerDepth(body, limit); got != want {
				t.Errorf("%s (limit %d): depth %d, tokenizer %d", name, limit, got, want)
			}
		}
	}
}

func TestNestingDepthSharedPages(t *testing.T) {
	for _, d := range sharedEvalDocs(t) {
		if d.raw.ContentType != "text/html" && !strings.Contains(d.raw.Body, "<") {
			continue
		}
		if got, want := nestingDepth(d.raw.Body, 512), tokenizerDepth(d.raw.Body, 512); got != want {
			t.Errorf("%s/%s: depth %d, tokenizer %d", d.set, d.id, got, want)
		}
	}
}

// FuzzNestingDepth compares the scanner with the tokenizer on arbitrary input (script data
// excluded: the scanner does not follow the tokenizer's escaped-script states).
func FuzzNestingDepth(f *testing.F) {
	for _, v := range depthCases {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Contains(strings.ToLower(body), "<script") {
			return
		}
		if got, want := nestingDepth(body, 64), tokenizerDepth(body, 64); got != want {
			t.Fatalf("depth %d, tokenizer %d for %q", got, want, body)
		}
	})
}

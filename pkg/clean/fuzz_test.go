package clean

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// FuzzClean checks that Clean never panics or hangs and that every failure is a permanent
// error with a reason, and every success is well-formed.
func FuzzClean(f *testing.F) {
	f.Add("text/html", "<html><body><article><p>Hello world, this is a story.</p></article></body></html>")
	f.Add("text/html", strings.Repeat("<div>", 10000)+"deep"+strings.Repeat("</div>", 10000))
	f.Add("text/html", strings.Repeat("<b><i>", 3000)+"x")
	f.Add("text/html", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
	f.Add("", "\xff\xfe<\x00h\x00t\x00m\x00l\x00")
	f.Add("text/plain", "Title\n\nSee also something\nLeave a Reply\n(with information from AFP)")
	f.Add("text/html", "<p>unterminated <a href='")
	f.Add("text/html", `<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"9999-99-99","author":[[[[]]]]}</script><p>x</p>`)
	f.Add("application/pdf", "%PDF-1.7")
	f.Add("text/html; charset=", "<table><tr><td><table><tr><td>cell</td></tr></table>")
	f.Add("text/plain", "caf\xc3")
	// Large inputs (issue 17): one paragraph at and around maxTextBytes (256 KiB; one byte
	// short of it used to index past the paragraph's end in capParagraphs), a 100,000-"A"
	// paragraph, and a gzip bomb's 4 MiB of "A"s as plain text and as HTML.
	for _, n := range []int{maxTextBytes - 2, maxTextBytes - 1, maxTextBytes, maxTextBytes + 1} {
		f.Add("text/plain", strings.Repeat("word ", n/5)+strings.Repeat("x", n%5))
		f.Add("text/html", "<html><body><article><p>"+strings.Repeat("é", n/2)+"</p></article></body></html>")
	}
	f.Add("text/html", "<html><body><article><h1>Title</h1><p>"+strings.Repeat("A", 100000)+"</p></article></body></html>")
	f.Add("text/plain", strings.Repeat("A", 4<<20))
	f.Add("text/html", strings.Repeat("A", 4<<20))
	f.Add("", strings.Repeat("A", 4<<20))
	cfg := DefaultConfig()
	cfg.MaxInputBytes = 8 << 20 // above the largest seed, so it reaches extraction
	c, err := New(cfg, zap.NewNop(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ct, body string) {
		out, err := c.Clean(context.Background(), "fuzz", &article.Raw{URL: "https://example.com/a", ContentType: ct, Body: body})
		if err != nil {
			if !bus.IsPermanent(err) {
				t.Fatalf("non-permanent error for bad input: %v", err)
			}
			return
		}
		if out.Text == "" || !utf8.ValidString(out.Text) || out.WordCount < 0 || len(out.ContentHash) != 64 {
			t.Fatalf("malformed output: %+v", out)
		}
		for _, p := range out.Paragraphs {
			if strings.TrimSpace(p) != p || p == "" {
				t.Fatalf("paragraph not trimmed: %q", p)
			}
		}
	})
}

package clean

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// TestCapParagraphsBoundary: a first paragraph whose length is within the 2-byte separator
// allowance of the limit used to index past its end (issue 17: a ~256 KiB paragraph crashed
// `newsflow extract`).
func TestCapParagraphsBoundary(t *testing.T) {
	const limit = 64
	for _, n := range []int{1, limit - 3, limit - 2, limit - 1, limit, limit + 1, 3 * limit} {
		for _, unit := range []string{"a", "é", "日本", "😀"} {
			p := strings.Repeat(unit, n/len(unit))
			if p == "" {
				continue
			}
			got := capParagraphs([]string{p, "second"}, limit)
			if len(got) == 0 || len(got) > 2 {
				t.Fatalf("len(p)=%d unit %q: %d paragraphs", len(p), unit, len(got))
			}
			if len(got[0]) > limit || !utf8.ValidString(got[0]) || !strings.HasPrefix(p, got[0]) {
				t.Fatalf("len(p)=%d unit %q: first paragraph %d bytes, valid %v", len(p), unit, len(got[0]), utf8.ValidString(got[0]))
			}
			if len(p) <= limit && got[0] != p {
				t.Fatalf("len(p)=%d unit %q: paragraph within the limit was cut to %d bytes", len(p), unit, len(got[0]))
			}
			total := 0
			for _, q := range got {
				total += len(q)
			}
			if total+2*(len(got)-1) > limit {
				t.Fatalf("len(p)=%d unit %q: %d bytes kept > limit %d", len(p), unit, total, limit)
			}
		}
	}
	if got := capParagraphs(nil, limit); len(got) != 0 {
		t.Fatalf("nil input: %v", got)
	}
}

// TestCleanLargeParagraph runs a whole page with one paragraph of about 256 KiB (sizes
// around maxTextBytes) through Clean: it must not panic, and the text stays within the cap.
func TestCleanLargeParagraph(t *testing.T) {
	c := newTestCleaner(t)
	words := strings.Fields("the council voted on tuesday to extend the harbour works after residents asked for a longer consultation period and more detailed plans")
	var b strings.Builder
	for i := 0; b.Len() < maxTextBytes+64; i++ {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[i%len(words)])
	}
	long := b.String()
	for _, n := range []int{maxTextBytes - 2, maxTextBytes - 1, maxTextBytes, maxTextBytes + 1} {
		p := strings.TrimSpace(long[:n])
		for _, ct := range []string{"text/plain", "text/html"} {
			body := p
			if ct == "text/html" {
				body = "<html><body><article><p>" + p + "</p></article></body></html>"
			}
			out, err := c.Clean(context.Background(), "big", &article.Raw{URL: "https://example.com/big", ContentType: ct, Body: body})
			if err != nil {
				if !bus.IsPermanent(err) {
					t.Fatalf("%s %d bytes: non-permanent error %v", ct, n, err)
				}
				continue
			}
			if len(out.Text) > maxTextBytes || !utf8.ValidString(out.Text) {
				t.Fatalf("%s %d bytes: text %d bytes", ct, n, len(out.Text))
			}
		}
	}
}

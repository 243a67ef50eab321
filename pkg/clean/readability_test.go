package clean

import (
	"net/url"
	"strings"
	"testing"

	readability "codeberg.org/readeck/go-readability/v2"
)

// TestReadabilityWithoutLogsMatches compares readabilityFromDocument with the library's
// FromDocument (the oracle) on every shared eval page and farm page: same content node (as
// HTML), title, byline and excerpt, and the input document left untouched.
func TestReadabilityWithoutLogsMatches(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	docs := append(sharedEvalDocs(t), farmDocs(t)[:40]...)
	n := 0
	for _, d := range docs {
		if d.raw.ContentType != "text/html" || !strings.Contains(d.raw.Body, "<") {
			continue
		}
		u, _ := url.Parse(d.raw.URL)
		doc := parseHTML(t, d.raw.Body)
		before := renderNode(t, doc)
		want, wantErr := readability.FromDocument(doc, u)
		got, gotErr := readabilityFromDocument(doc, u)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%s: error %v, oracle %v", d.id, gotErr, wantErr)
		}
		if renderNode(t, got.Node) != renderNode(t, want.Node) || got.Title() != want.Title() ||
			got.Byline() != want.Byline() || got.Excerpt() != want.Excerpt() {
			t.Errorf("%s: readability result differs from FromDocument", d.id)
		}
		if renderNode(t, doc) != before {
			t.Errorf("%s: input document modified", d.id)
		}
		n++
	}
	if n < 600 {
		t.Errorf("only %d pages compared", n)
	}
}

package trafilatura

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestJsonLdPersonsInKeyOrder: persons found in different properties of a JSON-LD graph
// (an employee of the publisher, a copyright holder) become the authors in one fixed order,
// not in Go's random map order (the same page gave its authors in either order from run to
// run before the keys were sorted).
func TestJsonLdPersonsInKeyOrder(t *testing.T) {
	const page = `<html><head><script type="application/ld+json">{"@context":"https://schema.org",
"@type":"NewsArticle","headline":"A headline","author":{"@type":"Organization","name":""},
"publisher":{"@type":"Organization","name":"Publisher","employee":{"@type":"Person","name":"Anna Alpha"}},
"copyrightHolder":{"@type":"Person","name":"Bert Beta"},
"sponsor":{"@type":"Person","name":"Carl Gamma"},
"funder":{"@type":"Person","name":"Dora Delta"}}</script></head><body><p>text</p></body></html>`
	seen := jsonLdRuns(t, page, func(m Metadata) string { return m.Author })
	if len(seen) != 1 {
		t.Fatalf("authors varied between runs: %v", seen)
	}
}

// TestJsonLdHeadlineInKeyOrder: with a one-word name, the title comes from "headline" when
// there is one, whatever other headline properties the article has, on every run.
func TestJsonLdHeadlineInKeyOrder(t *testing.T) {
	const page = `<html><head><script type="application/ld+json">{"@context":"https://schema.org",
"@type":"NewsArticle","name":"Word","alternativeHeadline":"The alternative headline",
"headline":"The real headline","subHeadline":"A sub headline","author":{"@type":"Person","name":"Anna Alpha"}}
</script></head><body><p>text</p></body></html>`
	seen := jsonLdRuns(t, page, func(m Metadata) string { return m.Title })
	if len(seen) != 1 || seen["The real headline"] != 40 {
		t.Fatalf("titles over 40 runs: %v, want the headline every time", seen)
	}
}

// jsonLdRuns extracts page's JSON-LD metadata 40 times and counts the values of field.
func jsonLdRuns(t *testing.T, page string, field func(Metadata) string) map[string]int {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 40 {
		seen[field(extractJsonLd(Options{}, doc, Metadata{}))]++
	}
	return seen
}

package clean

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	upstream "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	trafilatura "github.com/newsflow/newsflow/pkg/clean/internal/trafilatura"
)

// TestVendoredTrafilaturaMatchesUpstream checks that the patched copy of go-trafilatura
// (internal/trafilatura, PATCHES.md) extracts exactly what upstream v1.12.2 does: same
// content tree and text with the default options, same content and metadata except the
// skipped fields with the newsflow options. The short pages take the rare paths whose
// document copies the patches made lazy (wild-text recovery, baseline, fallback generators).
func TestVendoredTrafilaturaMatchesUpstream(t *testing.T) {
	pages := map[string]string{
		"short":      `<html><body><div><p>One short paragraph only.</p></div><p>Another stray line of text.</p></body></html>`,
		"wild":       `<html><body><section><span>Loose text in a span, long enough to be kept as wild text by the recovery pass of the extractor. It goes on for a while so the recovery has something.</span></section><div class="teaser">teaser</div></body></html>`,
		"nav-only":   `<html><head><title>Nav | Site</title></head><body><nav><a href="/a">Home</a> <a href="/b">World</a></nav><footer>© Site</footer></body></html>`,
		"empty-body": `<html><head><title>x</title></head><body></body></html>`,
	}
	for _, name := range benchPages {
		pages[name] = readPage(t, name)
	}
	u, _ := url.Parse("https://news.example/a")
	for name, body := range pages {
		t.Run(name, func(t *testing.T) {
			for _, fallback := range []bool{false, true} {
				up, upErr := upstream.ExtractDocument(parseHTML(t, body), upstream.Options{OriginalURL: u, EnableFallback: fallback, ExcludeComments: true, HtmlDateMode: upstream.Disabled})
				// Default options: identical result.
				got, gotErr := trafilatura.ExtractDocument(parseHTML(t, body), trafilatura.Options{OriginalURL: u, EnableFallback: fallback, ExcludeComments: true, HtmlDateMode: trafilatura.Disabled})
				if (upErr == nil) != (gotErr == nil) {
					t.Fatalf("fallback=%v: error %v, upstream %v", fallback, gotErr, upErr)
				}
				if upErr != nil {
					continue
				}
				if got.ContentText != up.ContentText || renderNode(t, got.ContentNode) != renderNode(t, up.ContentNode) {
					t.Errorf("fallback=%v: content differs:\n%q\nupstream:\n%q", fallback, got.ContentText, up.ContentText)
				}
				if !reflect.DeepEqual(toUpstreamMeta(got.Metadata), up.Metadata) {
					t.Errorf("fallback=%v: metadata differs:\n%+v\nupstream:\n%+v", fallback, got.Metadata, up.Metadata)
				}
				// newsflow options: same content; language, license and DOM author left out.
				skip, err := trafilatura.ExtractDocument(parseHTML(t, body), trafilatura.Options{OriginalURL: u, EnableFallback: fallback, ExcludeComments: true, HtmlDateMode: trafilatura.Disabled,
					SkipLanguage: true, SkipMetadata: trafilatura.MetaLicense | trafilatura.MetaDomAuthor})
				if err != nil {
					t.Fatal(err)
				}
				if skip.ContentText != up.ContentText {
					t.Errorf("fallback=%v: content with skips differs", fallback)
				}
				want := up.Metadata
				want.License, want.Language = "", skip.Metadata.Language
				if skip.Metadata.Author == "" {
					// Upstream may have found a byline in the DOM, which the skip leaves out. A
					// non-empty author came from <meta>/JSON-LD, where upstream stops too, so it
					// must equal upstream's.
					want.Author = ""
				}
				if !reflect.DeepEqual(toUpstreamMeta(skip.Metadata), want) {
					t.Errorf("fallback=%v: metadata with skips differs:\n%+v\nwant:\n%+v", fallback, skip.Metadata, want)
				}
			}
		})
	}
}

func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func renderNode(t *testing.T, n *html.Node) string {
	t.Helper()
	if n == nil {
		return ""
	}
	var sb strings.Builder
	if err := html.Render(&sb, n); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

func toUpstreamMeta(m trafilatura.Metadata) upstream.Metadata {
	return upstream.Metadata(m)
}

package fetch

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestFallbackText(t *testing.T) {
	tests := []struct {
		name, content, description, want string
	}{
		{"content only", "<p>The full story.</p>", "", "<p>The full story.</p>"},
		{"description only", "", "A summary.", "A summary."},
		{"content richer", "<p>The full story, with every paragraph of it.</p>", "The full story.", "<p>The full story, with every paragraph of it.</p>"},
		// Placeholders seen in real feeds (../shared/eval/feeds: relurl_1, example_6, xml_base).
		{"ellipsis placeholder", "\n                ...\n            ", "Everyone wants good compression. But what exactly <em>is</em> good compression?",
			"Everyone wants good compression. But what exactly <em>is</em> good compression?"},
		{"title in a span", `<span style="font-size: 16px; font-weight: 900;">Vitalina Varela - Trailer</span>`,
			"A film of deeply concentrated beauty, acclaimed filmmaker Pedro Costa's VITALINA VARELA stars nonprofessional actor Vitalina Varela.",
			"A film of deeply concentrated beauty, acclaimed filmmaker Pedro Costa's VITALINA VARELA stars nonprofessional actor Vitalina Varela."},
		{"markup does not count", `<p><img src="a-very-long-file-name-for-the-picture.jpeg" alt=""/></p><p>Short.</p>`, "Longer text.", "Longer text."},
		{"entities count once", "&lt;b&gt;", "ab", "ab"},
		{"tie keeps content", "<p>Same words</p>", "Same words", "<p>Same words</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fallbackText(&Item{Content: tc.content, Description: tc.description}); got != tc.want {
				t.Errorf("fallbackText = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestItemsWithoutLinkPublishedWithFeedText: items with no usable link (none at all, a URN)
// are published once, with the feed's text and no page fetch, under a stable URL of the feed
// (feedItemURL); two link-less items with different text are two articles.
func TestItemsWithoutLinkPublishedWithFeedText(t *testing.T) {
	s := newSite(t)
	s.extra["/nolinks"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="0.92"><channel><title>t</title>`+
			`<item><description>Kevin started a &lt;a href="http://x.example/"&gt;thread&lt;/a&gt; today.</description></item>`+
			`<item><title>Second</title><description>Another story without a link.</description></item>`+
			`<item><guid isPermaLink="false">urn:uuid:1225c695</guid><link>urn:uuid:1225c695</link><title>Third</title><description>A URN is no link.</description></item>`+
			`</channel></rss>`)
	}
	src := Source{Name: "nolinks", URL: s.url("/nolinks"), Kind: KindFeed}
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, testConfig(), []Source{src}, store, pub)
	ctx := context.Background()
	f.PollFeed(ctx, 0)
	env := pub.envelopes(t)
	if len(env) != 3 {
		t.Fatalf("published %d, want the 3 link-less items", len(env))
	}
	for _, e := range env {
		r := e.Raw
		if !strings.HasPrefix(r.URL, src.URL+"?newsflow_item=") || r.Extra["body_source"] != "feed_fallback" ||
			r.Extra["fetch_error"] != "the item has no link" || r.Body == "" || r.Feed == nil {
			t.Errorf("raw = %+v", r)
		}
	}
	if hits := s.hit("/nolinks"); hits != 1 {
		t.Errorf("%d requests to the feed, want 1 (no page fetched for link-less items)", hits)
	}
	// Polled again: the same items are seen, nothing is published twice.
	makeDue(t, store, src)
	f.PollFeed(ctx, 0)
	if pub.count() != 3 {
		t.Fatalf("after a second poll: %d published, want 3", pub.count())
	}
	pub.keysOnce(t)
}

func TestFeedItemURL(t *testing.T) {
	a := feedItemURL("https://news.example/feed.xml", Item{Title: "a", Description: "x"})
	if !strings.HasPrefix(a, "https://news.example/feed.xml?newsflow_item=") {
		t.Fatalf("feedItemURL = %q", a)
	}
	if b := feedItemURL("https://news.example/feed.xml", Item{Title: "a", Description: "y"}); a == b {
		t.Error("two items with different text share a URL")
	}
	if c := feedItemURL("https://news.example/feed.xml#top", Item{Title: "a", Description: "x"}); c != a {
		t.Errorf("fragment kept: %q", c)
	}
	if e := feedItemURL("https://reader:s3cret@news.example/feed.xml", Item{Title: "a", Description: "x"}); e != a {
		t.Errorf("a feed URL's userinfo must not reach the item's URL: %q, want %q", e, a)
	}
	if d := feedItemURL("https://news.example/feed?id=1", Item{GUID: "g"}); !strings.HasPrefix(d, "https://news.example/feed?id=1&newsflow_item=") {
		t.Errorf("feedItemURL with a query = %q", d)
	}
}

func TestWithoutUserinfo(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"user and password", "https://reader:s3cret@news.example/feed.xml?x=1", "https://news.example/feed.xml?x=1"},
		{"user only", "http://reader@news.example/rss", "http://news.example/rss"},
		{"none", "https://news.example/feed.xml", "https://news.example/feed.xml"},
		{"at sign in the query", "https://news.example/feed?by=a@b.example", "https://news.example/feed?by=a@b.example"},
		{"unparsable", "http://[::1/feed@x", "http://[::1/feed@x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := withoutUserinfo(tc.in); got != tc.want {
				t.Errorf("withoutUserinfo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestStatusRedactsSourceCredentials: GET /v1/feeds (Fetcher.Status) shows a source URL's
// user:password@ redacted, never the password.
func TestStatusRedactsSourceCredentials(t *testing.T) {
	f := newTestFetcher(t, testConfig(), []Source{{Name: "private", URL: "https://reader:s3cret@news.example/feed.xml"}}, NewMemStore(), &capture{})
	st, err := f.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || strings.Contains(st[0].URL, "s3cret") || !strings.Contains(st[0].URL, "news.example/feed.xml") {
		t.Fatalf("status URL %+v: the password must be redacted, the rest kept", st)
	}
}

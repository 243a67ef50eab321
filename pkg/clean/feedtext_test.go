package clean

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/article"
)

// reMarkup finds what must not survive in cleaned feed text: an HTML tag or an HTML entity.
var reMarkup = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>|&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});`)

func markupIn(out *article.Clean) string {
	for _, s := range append([]string{out.Title, out.Description, out.Text}, out.Authors...) {
		if m := reMarkup.FindString(s); m != "" {
			return m
		}
	}
	return ""
}

// TestFeedTextIsPlain (issue 17): feed descriptions/content used as bodies and feed titles
// come out as plain text, with paragraph breaks kept.
func TestFeedTextIsPlain(t *testing.T) {
	for _, tc := range []struct {
		name       string
		feed       article.FeedItem
		body       string // the fetcher's feed_fallback body ("" = full-content item)
		title      string
		paragraphs []string
	}{
		{"figure and entity", article.FeedItem{Title: "Il nuovo libro", Description: `<figure><img src="https://x.example/a.jpg" alt=""></figure>La storia dell&#39;uomo che ha attraversato l&#39;oceano a remi &amp; senza motore.`},
			"feed", "Il nuovo libro", []string{"La storia dell'uomo che ha attraversato l'oceano a remi & senza motore."}},
		{"title with a link", article.FeedItem{Title: `<a href="http://www.docuverse.com/blog/donpark">Don Park</a>: Daily Dose`, Description: "Some links &mdash; and a note on <em>feeds</em> being read today."},
			"feed", "Don Park: Daily Dose", []string{"Some links — and a note on feeds being read today."}},
		{"paragraphs and line breaks", article.FeedItem{Title: "T&amp;C", Content: `<span>First paragraph of the story.</span><br><br><span>Second one, after a break.</span><ul><li>item one</li><li>item two</li></ul><script>alert(1)</script><table><tr><td>Version:</td><td><strong>5.7</strong></td></tr></table>`},
			"", "T&C", []string{"First paragraph of the story.", "Second one, after a break.", "item one", "item two", "Version: 5.7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCleaner(t)
			f := tc.feed
			raw := &article.Raw{URL: "https://x.example/" + strings.ReplaceAll(tc.name, " ", "-"), Feed: &f, Extra: map[string]string{}}
			if tc.body != "" {
				raw.ContentType, raw.Body, raw.Extra["body_source"] = "text/html", f.Description, "feed_fallback"
			}
			out, err := c.Clean(t.Context(), "f", raw)
			if err != nil {
				t.Fatal(err)
			}
			if m := markupIn(out); m != "" {
				t.Errorf("markup %q left in title %q / text %q", m, out.Title, out.Text)
			}
			if out.Title != tc.title {
				t.Errorf("title = %q, want %q", out.Title, tc.title)
			}
			if strings.Join(out.Paragraphs, "|") != strings.Join(tc.paragraphs, "|") {
				t.Errorf("paragraphs = %q, want %q", out.Paragraphs, tc.paragraphs)
			}
		})
	}
}

// TestSharedFeedsArePlain runs every item of ../shared/eval/feeds through the cleaner as the
// fetcher hands it over when the item's own text is the body, and counts the documents
// that keep HTML markup or entities in their title, description, authors or text.
func TestSharedFeedsArePlain(t *testing.T) {
	c := newTestCleaner(t)
	docs, cleaned, marked := 0, 0, 0
	for _, d := range sharedEvalDocs(t) {
		if d.set != "feeds" {
			continue
		}
		docs++
		out, err := c.Clean(t.Context(), d.id, d.raw)
		if err != nil {
			continue
		}
		cleaned++
		if m := markupIn(out); m != "" {
			marked++
			t.Errorf("%s: markup %q left (title %.60q, text %.100q)", d.id, m, out.Title, out.Text)
		}
	}
	t.Logf("feed documents %d, cleaned %d, with markup or entities %d", docs, cleaned, marked)
}

// FuzzFeedText: the feed-text converter never panics and returns valid UTF-8 for valid
// input, with no leading or trailing space.
func FuzzFeedText(f *testing.F) {
	for _, s := range []string{
		"plain text & no markup", "l&#39;uomo &amp; &mdash; &#x27;", `<figure><img src="x"></figure>Text`,
		`<a href="http://x">Don Park</a>:`, "<p>a</p><p>b<br>c<br><br>d</p>", "<table><tr><td>a</td><td>b</td></tr></table>",
		"<script>x</script><style>y</style>z", "<p>unterminated <a href='", "&#0; &#xD800; &#1114112;", "<!-- c -->x",
		strings.Repeat("<div>", 5000) + "deep", strings.Repeat("a &amp; ", 30000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := FeedText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q: %q", s, out)
		}
		if strings.TrimSpace(out) != out && hasMarkup(s) {
			t.Fatalf("untrimmed %q", out)
		}
		_ = FeedLine(s)
	})
}

// TestUndoubleUTF8: UTF-8 read as Latin-1/cp1252 and encoded again is repaired in feed text
// (../shared/eval/feeds/encoding/double-encoded-html.xml: "&#226;&#128;&#166;" is "…");
// natural text with accented letters is left alone.
func TestUndoubleUTF8(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"character references", "&#226;&#128;&#166;", "…"},
		{"cp1252 apostrophe", "don\u00e2\u20ac\u2122t", "don’t"},
		{"latin-1 e acute", "caf\u00c3\u00a9 cr\u00c3\u00a8me", "café crème"},
		{"cyrillic", "\u00d0\u0178\u00d1\u20ac\u00d0\u00b8\u00d0\u00b2\u00d0\u00b5\u00d1\u201a", "Привет"},
		{"in markup", "<p>It\u00e2\u20ac\u2122s here</p>", "It’s here"},
		{"portuguese untouched", "Expansão de Parâmetros, ação, português", "Expansão de Parâmetros, ação, português"},
		{"french untouched", "élève à l'école, « déjà » ±5 °C", "élève à l'école, « déjà » ±5 °C"},
		{"german untouched", "Glasfaserförderung für Straße", "Glasfaserförderung für Straße"},
		{"symbols untouched", "£“test.” – 10 € — ©2020", "£“test.” – 10 € — ©2020"},
		{"lone mojibake lead kept", "Ã alone", "Ã alone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FeedText(tc.in); got != tc.want {
				t.Errorf("FeedText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDemoronize: C1 controls in feed text are the cp1252 characters they stand for
// (../shared/eval/feeds/encoding/demoronize-1.xml: "don\u0092t").
func TestDemoronize(t *testing.T) {
	for in, want := range map[string]string{
		"don\u0092t":             "don’t",
		"\u0093quoted\u0094":     "“quoted”",
		"keeps \u0081 undefined": "keeps \u0081 undefined",
		"plain":                  "plain",
	} {
		if got := FeedText(in); got != want {
			t.Errorf("FeedText(%q) = %q, want %q", in, got, want)
		}
	}
}

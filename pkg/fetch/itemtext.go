package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/net/html"

	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// fallbackText is the feed's own text for an item whose page is not used (body_source
// feed_fallback): the item's content, unless its description has more visible text. Feeds
// put a placeholder ("...", the title in a <span>, an image alone) in content:encoded as
// often as they truncate the description, so the longer of the two, measured as text
// rather than markup, is the item's text.
func fallbackText(it *Item) string {
	if strings.TrimSpace(it.Content) == "" {
		return it.Description
	}
	if visibleRunes(it.Description) > visibleRunes(it.Content) {
		return it.Description
	}
	return it.Content
}

// visibleRunes counts the letters and digits of s read as an HTML fragment (tags dropped,
// entities decoded; a plain string is its own text).
func visibleRunes(s string) int {
	n := 0
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return n
		case html.TextToken:
			for _, r := range html.UnescapeString(string(z.Text())) {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					n++
				}
			}
		}
	}
}

// feedItemURL is the URL an item without a usable link of its own is known by: the feed's
// URL with a newsflow_item parameter hashed from the item's GUID, else its link (a URN),
// else its title and text. The same item keeps it from poll to poll (the seen-set), and
// two such items of one feed differ.
func feedItemURL(feedURL string, it Item) string {
	h := sha256.New()
	switch {
	case it.GUID != "":
		h.Write([]byte("guid\x00" + it.GUID))
	case it.Link != "":
		h.Write([]byte("link\x00" + it.Link))
	default:
		h.Write([]byte("text\x00" + it.Title + "\x00" + it.Description + "\x00" + it.Content))
	}
	feedURL = publicURL(feedURL)
	if i := strings.IndexByte(feedURL, '#'); i >= 0 {
		feedURL = feedURL[:i]
	}
	sep := "?"
	if strings.Contains(feedURL, "?") {
		sep = "&"
	}
	return feedURL + sep + "newsflow_item=" + hex.EncodeToString(h.Sum(nil)[:8])
}

// publicURL is a source URL as it may travel in messages and reach the index: without the
// user:password@ part (withoutUserinfo) and with the values of token-like query parameters
// (api_key, token, access_token, sig, …) replaced by redact.Mask, the way every log line shows
// it. The fetcher itself fetches the URL as configured.
func publicURL(u string) string { return redact.URL(withoutUserinfo(u)) }

// withoutUserinfo is u without the user:password@ part a source URL may carry for HTTP Basic
// authentication: the fetcher uses it to fetch, but it must not travel in messages or reach
// the index (a link-less item's URL, a raw message's source.feed_url). A URL that does not
// parse, or has no userinfo, is returned as it is.
func withoutUserinfo(u string) string {
	if !strings.Contains(u, "@") {
		return u
	}
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	p.User = nil
	return p.String()
}

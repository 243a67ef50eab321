package fetch

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
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

package clean

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Lead recovery. Many pages print a standfirst (teaser, lead, "chapo", abstract) between the
// headline and the article body, in an element whose class says "teaser" or "description".
// Trafilatura discards such elements on purpose (teasers are usually links to other
// articles) and readability often scores them below the body, so the article loses its first
// paragraph. The page's own meta description is almost always that standfirst, verbatim or
// cut short. recoverLead finds the body element whose text is the description and, when the
// extracted text does not contain it and it is printed above the extracted body, restores it
// as the first paragraph. A description that is only in <head> (not printed) or printed below
// the body (a footer blurb) adds nothing.

// minLeadRunes: shorter descriptions are too generic to identify a standfirst.
const minLeadRunes = 50

// recoverLead returns the standfirst paragraph to prepend to paras, or "".
func recoverLead(doc *html.Node, paras []string, descs []string, maxDepth int) string {
	key := ""
	for _, d := range descs {
		if k := leadKey(d); k != "" {
			key = k
			break
		}
	}
	if key == "" {
		return ""
	}
	// Already extracted (the common case: the description is the first paragraph).
	var all strings.Builder
	for _, p := range paras {
		all.WriteString(normLine(p))
		all.WriteByte(' ')
	}
	if strings.Contains(all.String(), key) {
		return ""
	}
	body := findBody(doc)
	if body == nil {
		return ""
	}
	page := renderParagraphs(body, maxDepth)
	// The first body paragraphs of the extraction (headlines, which precede a standfirst
	// too, excluded).
	first := make(map[string]bool, 3)
	for _, p := range paras {
		if utf8.RuneCountInString(p) >= 100 {
			first[normLine(p)] = true
			if len(first) == 3 {
				break
			}
		}
	}
	for _, p := range page {
		if len(p) < 100 {
			continue // neither a first body paragraph (>= 100 runes) nor a standfirst (>= 150)
		}
		np := normLine(p)
		if first[np] {
			return "" // the extracted body starts before any printed copy of the description
		}
		if len(np) > 8*len(key)+400 || !strings.HasPrefix(np, key) {
			continue
		}
		if utf8.RuneCountInString(p) < minLeadRunes*3 || sentenceCount(p) < 2 {
			return "" // a short dek is a subtitle, like the headline, not body text
		}
		return p
	}
	return ""
}

// leadKey is the normalised description used to find its printed copy: long enough to be
// specific, without its last word (descriptions are often cut mid-word with "…").
func leadKey(desc string) string {
	if utf8.RuneCountInString(desc) < minLeadRunes {
		return ""
	}
	n := normLine(FeedLine(desc)) // some sites escape the description twice or put tags in it
	words := strings.Fields(n)
	if len(words) < 6 {
		return ""
	}
	words = words[:len(words)-1]
	k := strings.Join(words, " ")
	if len(k) > 200 { // a prefix is enough, and a long key risks differing punctuation late
		k = k[:strings.LastIndexByte(k[:200], ' ')]
	}
	return k
}

func findBody(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Body {
			return c
		}
		if c.Type == html.ElementNode && c.DataAtom == atom.Html {
			if b := findBody(c); b != nil {
				return b
			}
		}
	}
	return nil
}

// sentenceCount counts the sentences of s: sentence-final punctuation followed by a space
// and more text, plus the last sentence.
func sentenceCount(s string) int {
	n := 1
	prev := rune(0)
	for i, r := range s {
		if r == ' ' && (prev == '.' || prev == '!' || prev == '?' || prev == '…') && strings.TrimSpace(s[i:]) != "" {
			n++
		}
		prev = r
	}
	return n
}

package clean

import (
	"encoding/json"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/markusmobius/go-dateparser"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/newsflow/newsflow/pkg/article"
)

// pageMeta is what the cleaner reads from <head>, JSON-LD and a few body hints.
type pageMeta struct {
	meta      map[string]string // lowercased name/property/itemprop → first content
	canonical string
	title     string
	lang      string
	ld        ldArticle
	timeTags  []string        // <time datetime> values in document order (first few)
	links     map[string]bool // normLine of anchor texts with >= 3 words
}

// ldArticle holds the JSON-LD fields of the page's main Article-like object.
type ldArticle struct {
	Headline, Description, Image, URL, Publisher, Section string
	Published, Modified                                   string
	Authors, Keywords                                     []string
}

// readMeta walks doc once (bounded by maxDepth) collecting metadata.
func readMeta(doc *html.Node, maxDepth int, pageURL string) *pageMeta {
	pm := &pageMeta{meta: map[string]string{}, links: map[string]bool{}}
	page, err := url.Parse(pageURL)
	if err != nil || page.Host == "" {
		page = nil
	}
	var lds []string
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		if depth > maxDepth {
			return
		}
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html:
				if pm.lang == "" {
					pm.lang = firstNonEmpty(attr(n, "lang"), attr(n, "xml:lang"))
				}
			case atom.Meta:
				content := strings.TrimSpace(attr(n, "content"))
				if content == "" {
					break
				}
				for _, k := range []string{"property", "name", "itemprop", "http-equiv"} {
					if v := strings.ToLower(strings.TrimSpace(attr(n, k))); v != "" {
						if _, ok := pm.meta[v]; !ok {
							pm.meta[v] = content
						}
					}
				}
			case atom.Link:
				if strings.EqualFold(attr(n, "rel"), "canonical") && pm.canonical == "" {
					pm.canonical = strings.TrimSpace(attr(n, "href"))
				}
			case atom.Title:
				if pm.title == "" && n.FirstChild != nil {
					pm.title = strings.TrimSpace(n.FirstChild.Data)
				}
			case atom.Script:
				if strings.Contains(strings.ToLower(attr(n, "type")), "ld+json") && n.FirstChild != nil && len(lds) < 8 {
					lds = append(lds, n.FirstChild.Data)
				}
				return
			case atom.Style, atom.Svg:
				return
			case atom.A:
				if len(pm.links) < 5000 {
					// the text test first: most links are one or two words, and resolving
					// the href costs more
					var sb strings.Builder
					innerText(n, &sb, 0)
					if k := normLine(sb.String()); strings.Count(k, " ") >= 2 && sameSiteLink(pageURL, page, attr(n, "href")) {
						pm.links[k] = true
					}
				}
			case atom.Time:
				if v := attr(n, "datetime"); v != "" && len(pm.timeTags) < 5 {
					pm.timeTags = append(pm.timeTags, v)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	walk(doc, 0)
	for _, s := range lds {
		if len(s) > 1<<20 {
			continue
		}
		var v any
		if json.Unmarshal([]byte(strings.TrimSpace(s)), &v) != nil {
			continue
		}
		if findLDArticle(v, &pm.ld, 0) {
			break
		}
	}
	return pm
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var ldArticleTypes = map[string]bool{
	"article": true, "newsarticle": true, "blogposting": true, "reportagenewsarticle": true,
	"analysisnewsarticle": true, "opinionnewsarticle": true, "backgroundnewsarticle": true,
	"reviewnewsarticle": true, "techarticle": true, "scholarlyarticle": true, "liveblogposting": true,
	"socialmediaposting": true, "posting": true, "webpage": false, "report": true,
}

// findLDArticle finds the first Article-like object in a JSON-LD value (top level, arrays,
// @graph), filling dst. depth bounds recursion.
func findLDArticle(v any, dst *ldArticle, depth int) bool {
	if depth > 6 {
		return false
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if findLDArticle(e, dst, depth+1) {
				return true
			}
		}
	case map[string]any:
		if g, ok := x["@graph"]; ok && findLDArticle(g, dst, depth+1) {
			return true
		}
		isArt := false
		for _, t := range asStrings(x["@type"]) {
			if ldArticleTypes[strings.ToLower(t)] {
				isArt = true
			}
		}
		if !isArt {
			return false
		}
		dst.Headline = firstString(x["headline"])
		if dst.Headline == "" {
			dst.Headline = firstString(x["name"])
		}
		dst.Description = firstString(x["description"])
		dst.Published = firstString(x["datePublished"])
		if dst.Published == "" {
			dst.Published = firstString(x["dateCreated"])
		}
		dst.Modified = firstString(x["dateModified"])
		dst.URL = firstString(x["url"])
		dst.Section = firstString(x["articleSection"])
		dst.Image = ldURL(x["image"])
		dst.Publisher = ldName(x["publisher"])
		dst.Authors = ldNames(x["author"])
		for _, k := range asStrings(x["keywords"]) {
			for _, p := range strings.Split(k, ",") {
				if p = strings.TrimSpace(p); p != "" {
					dst.Keywords = append(dst.Keywords, p)
				}
			}
		}
		return true
	}
	return false
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func firstString(v any) string {
	if s := asStrings(v); len(s) > 0 {
		return strings.TrimSpace(s[0])
	}
	return ""
}

func ldURL(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			return ldURL(x[0])
		}
	case map[string]any:
		if s := firstString(x["url"]); s != "" {
			return s
		}
		return firstString(x["contentUrl"])
	}
	return ""
}

func ldName(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		return firstString(x["name"])
	case []any:
		if len(x) > 0 {
			return ldName(x[0])
		}
	}
	return ""
}

func ldNames(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if n := ldName(e); n != "" {
				out = append(out, n)
			}
		}
	default:
		if n := ldName(x); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// get returns the first non-empty meta value among keys.
func (pm *pageMeta) get(keys ...string) string {
	for _, k := range keys {
		if v := pm.meta[k]; v != "" {
			return v
		}
	}
	return ""
}

var dateLayouts = []string{
	time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.000Z0700",
	"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006/01/02", "20060102",
	time.RFC1123Z, time.RFC1123, time.RFC822Z, time.RFC822, "Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST", "January 2, 2006", "Jan 2, 2006", "2 January 2006", "02.01.2006",
	// ISO forms go-dateparser used to read (~8 ms a call: it tries every locale); same
	// instants and offsets (TestISOLayoutsMatchDateparser).
	"2006-01-02T15:04Z07:00", "2006-01-02T15:04Z0700", "2006-01-02 15:04:05Z0700", "2006-1-2T15:04:05", "2006-1-2",
}

// parseDate parses the common machine-readable date forms. Dates without a zone are taken
// as UTC.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// reYear: loose dates are only trusted when they spell out a four-digit year.
var reCutZone = regexp.MustCompile(`[+-](?:\d{2}:\d|\d{3})$`)

var reYear = regexp.MustCompile(`(?:^|\D)(?:19|20)\d{2}(?:\D|$)`)

// parseLooseDate parses s with parseDate, else with go-dateparser (multilingual and loose
// forms: "mer, 16 nov 2022 00:38:15 +0100", "Sat, Dec 16 2023 02:02:33 PM",
// "2017-06-13T03:18:00+00:0"). Only absolute dates with an explicit day, month and four-digit
// year are accepted (no "yesterday", no guessed year); without a zone they are UTC.
func parseLooseDate(s string, ref time.Time) (time.Time, bool) {
	if t, ok := parseDate(s); ok {
		return t, true
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 || !reYear.MatchString(s) || alnumRuns(s) < 2 {
		// A lone year ("1988") has no day or month: go-dateparser's strict mode rejects it
		// only after trying every locale (~0.2 s).
		return time.Time{}, false
	}
	if m := reCutZone.FindStringIndex(s); m != nil {
		// A zone cut short ("+00:0"): the rest is read as UTC.
		if t, ok := parseDate(s[:m[0]]); ok {
			return t, true
		}
	}
	if ref.IsZero() {
		ref = time.Now()
	}
	cfg := &dateparser.Configuration{CurrentTime: ref.UTC(), DefaultTimezone: time.UTC, StrictParsing: true}
	d, err := dateparser.Parse(cfg, s)
	if err != nil || d.IsZero() {
		// A truncated zone ("+00:0") or trailing junk: retry without the last token.
		if i := strings.LastIndexAny(s, " +"); i > 0 {
			if d, err = dateparser.Parse(cfg, strings.TrimSpace(s[:i])); err != nil || d.IsZero() {
				return time.Time{}, false
			}
		} else {
			return time.Time{}, false
		}
	}
	return d.Time, true
}

var reURLDate = regexp.MustCompile(`/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|-|$)`)

// urlDate extracts a /2021/12/29/ style date from a URL path (UTC midnight).
func urlDate(u string) (time.Time, bool) {
	m := reURLDate.FindStringSubmatch(u)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-1-2", m[1]+"-"+m[2]+"-"+m[3])
	return t, err == nil
}

// innerText appends n's text to sb (bounded depth and length).
func innerText(n *html.Node, sb *strings.Builder, depth int) {
	if depth > 32 || sb.Len() > 1000 {
		return
	}
	if n.Type == html.TextNode {
		sb.WriteString(n.Data)
		sb.WriteByte(' ')
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		innerText(c, sb, depth+1)
	}
}

// sameSiteLink reports whether href points into the page's own site (relative, or same
// registrable domain): such anchors are navigation and related-article links, unlike
// outbound links (sources, products) that articles legitimately put on their own line.
// Links to a part of the page itself (a table of contents repeats the page's own headings)
// and to files (a PDF or a picture offered for download) are not navigation either.
func sameSiteLink(pageURL string, page *url.URL, href string) bool {
	href = strings.TrimSpace(href)
	if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(strings.ToLower(href), "javascript:") || strings.HasPrefix(strings.ToLower(href), "mailto:") {
		return false
	}
	if page != nil {
		if h, err := page.Parse(href); err == nil {
			if h.Fragment != "" && h.Host == page.Host && strings.TrimSuffix(h.Path, "/") == strings.TrimSuffix(page.Path, "/") {
				return false
			}
			if fileExt[strings.ToLower(path.Ext(h.Path))] {
				return false
			}
		}
	}
	if !strings.Contains(href, "//") {
		return true
	}
	if pageURL == "" {
		return false
	}
	if strings.HasPrefix(href, "//") {
		href = "https:" + href
	}
	return article.SameSite(pageURL, href)
}

// fileExt are extensions of downloads, not pages.
var fileExt = map[string]bool{".pdf": true, ".doc": true, ".docx": true, ".xls": true, ".xlsx": true, ".ppt": true,
	".pptx": true, ".odt": true, ".zip": true, ".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true,
	".mp3": true, ".mp4": true, ".epub": true}

// alnumRuns counts the maximal runs of letters and of digits in s ("19 Nov 2019" has 3).
func alnumRuns(s string) int {
	n, prev := 0, 0 // prev: 0 other, 1 letter, 2 digit
	for _, r := range s {
		cur := 0
		switch {
		case unicode.IsDigit(r):
			cur = 2
		case unicode.IsLetter(r):
			cur = 1
		}
		if cur != 0 && cur != prev {
			n++
		}
		prev = cur
	}
	return n
}

package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"

	"github.com/newsflow/newsflow/pkg/article"
)

// Parse errors. They are per-feed and permanent for that body (the next poll may succeed).
var (
	ErrEmptyBody    = errors.New("fetch: empty body")
	ErrHTMLNotFeed  = errors.New("fetch: html page served where a feed was expected")
	ErrNotFeed      = errors.New("fetch: not a feed or sitemap")
	ErrTooManyItems = errors.New("fetch: sitemap exceeds the url limit")
)

// Item is one entry of a feed or sitemap, normalised.
type Item struct {
	GUID        string
	Link        string
	Title       string
	Description string
	Content     string
	Authors     []string
	Categories  []string
	Published   *time.Time
	Updated     *time.Time
	Image       string
	Language    string
	// FeedLanguage is the feed's declared language (gofeed's Feed.Language: RSS <language>,
	// dc:language, Atom xml:lang, JSON Feed language).
	FeedLanguage string
	// PublishedText / UpdatedText keep the item's date strings when gofeed could not parse them.
	PublishedText, UpdatedText string

	// noLink: the item has no usable link of its own; Link is feedItemURL's (set when the
	// fetcher handles the item).
	noLink bool
}

// SitemapRef is a child sitemap listed by a sitemap index.
type SitemapRef struct {
	Loc     string
	LastMod *time.Time
}

// Parsed is a parsed feed or sitemap.
type Parsed struct {
	Format   string // "rss", "atom", "json", "sitemap", "sitemapindex"
	Title    string
	Link     string
	TTL      time.Duration // RSS <ttl>, 0 if absent
	Items    []Item
	Children []SitemapRef // sitemap index entries
	Repaired bool         // the body was ill-formed XML; items come from a repaired prefix
}

// Hash is a content fingerprint over the items' identities (GUID, link, title, dates), not
// the raw bytes, so volatile fields such as lastBuildDate do not count as changes.
func (p *Parsed) Hash() string {
	h := sha256.New()
	for _, it := range p.Items {
		io.WriteString(h, it.GUID)
		h.Write([]byte{0})
		io.WriteString(h, it.Link)
		h.Write([]byte{0})
		io.WriteString(h, it.Title)
		h.Write([]byte{0})
		if it.Updated != nil {
			io.WriteString(h, it.Updated.UTC().Format(time.RFC3339))
		}
		h.Write([]byte{1})
	}
	for _, c := range p.Children {
		io.WriteString(h, c.Loc)
		if c.LastMod != nil {
			io.WriteString(h, c.LastMod.UTC().Format(time.RFC3339))
		}
		h.Write([]byte{2})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ParseLimits bound the work done on one body.
type ParseLimits struct {
	MaxSitemapURLs int // default 50,000 (the sitemap protocol's own limit)
}

func (l ParseLimits) maxURLs() int {
	if l.MaxSitemapURLs <= 0 {
		return 50000
	}
	return l.MaxSitemapURLs
}

// Sniff classifies a body: "sitemap", "html", "feed", "unknown" (not markup or JSON) or ""
// (empty).
func Sniff(b []byte) string {
	head := b
	if len(head) > 4096 {
		head = head[:4096]
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(head) == 0 {
		return ""
	}
	if head[0] == '{' {
		return "feed"
	}
	low := bytes.ToLower(head)
	if i := rootElement(low); i != "" {
		switch i {
		case "urlset", "sitemapindex":
			return "sitemap"
		case "html":
			return "html"
		case "rss", "feed", "rdf:rdf", "rdf":
			return "feed"
		}
		if strings.HasSuffix(i, ":urlset") || strings.HasSuffix(i, ":sitemapindex") {
			return "sitemap"
		}
		return "feed"
	}
	return "unknown"
}

// atomEntryFeed is the Atom feed an Atom Entry Document is wrapped in (wrapAtomEntry).
const atomEntryFeed = `<feed xmlns="http://www.w3.org/2005/Atom">`

// wrapAtomEntry returns an Atom Entry Document (RFC 4287 §4.1.2: one <entry> as the root, as
// AtomPub servers publish a single member) as a feed of that one entry, which gofeed can
// parse; any other body is returned as it is. The prolog (XML declaration, comments) is
// dropped: it cannot stand inside the feed element, and the body is UTF-8 by now.
func wrapAtomEntry(b []byte) []byte {
	head := b[:min(len(b), 4096)]
	if rootElement(bytes.ToLower(head)) != "entry" {
		return b
	}
	at := rootStart(head)
	if at < 0 {
		return b
	}
	out := make([]byte, 0, len(atomEntryFeed)+len(b)-at+len("</feed>"))
	out = append(out, atomEntryFeed...)
	out = append(out, b[at:]...)
	return append(out, "</feed>"...)
}

// rootStart returns the offset of the first element's '<', skipping the prolog, or -1.
func rootStart(b []byte) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '<')
		if i < 0 || off+i+1 >= len(b) {
			return -1
		}
		off += i
		switch b[off+1] {
		case '?', '!':
			if bytes.HasPrefix(b[off+1:], []byte("!--")) {
				if j := bytes.Index(b[off:], []byte("-->")); j >= 0 {
					off += j
				}
			}
			off++
			continue
		}
		return off
	}
}

// rootElement returns the lowercased name of the first element, skipping the prolog.
func rootElement(low []byte) string {
	at := rootStart(low)
	if at < 0 {
		return ""
	}
	low = low[at+1:]
	end := bytes.IndexAny(low, " \t\r\n>/")
	if end < 0 {
		end = len(low)
	}
	return string(low[:end])
}

var ttlRe = regexp.MustCompile(`<ttl>\s*(\d{1,6})\s*</ttl>`)

// ParseFeed parses an RSS 0.9x/1.0/2.0, Atom or JSON Feed body, or a (news) sitemap or sitemap
// index, into items with absolute links resolved against baseURL. contentType (may be empty)
// supplies a charset for bodies that do not declare one. It never panics; errors say why.
func ParseFeed(body []byte, baseURL, contentType string, lim ParseLimits) (*Parsed, error) {
	switch Sniff(body) {
	case "":
		return nil, ErrEmptyBody
	case "html":
		return nil, ErrHTMLNotFeed
	case "unknown":
		return nil, ErrNotFeed
	case "sitemap":
		return ParseSitemap(bytes.NewReader(body), baseURL, lim)
	}
	body = toUTF8XML(body, contentType)
	body = wrapAtomEntry(body)
	p, err := parseGofeed(body)
	repaired := false
	if err != nil && strings.Contains(err.Error(), "UTF-8") {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
		p, err = parseGofeed(body)
	}
	if err != nil && !errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		if fixed, ok := repairXML(body); ok {
			if p2, err2 := parseGofeed(fixed); err2 == nil {
				p, err, repaired = p2, nil, true
			}
		}
	}
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			return nil, ErrNotFeed
		}
		return nil, fmt.Errorf("fetch: parse feed: %w", err)
	}
	out := &Parsed{Format: p.FeedType, Title: p.Title, Link: p.Link, Repaired: repaired}
	if m := ttlRe.FindSubmatch(body[:min(len(body), 65536)]); m != nil {
		if n, err := strconv.Atoi(string(m[1])); err == nil {
			out.TTL = time.Duration(n) * time.Minute
		}
	}
	base := baseURL
	if p.Link != "" {
		if abs, err := article.Resolve(baseURL, p.Link); err == nil {
			base = abs
		}
	}
	out.Items = make([]Item, 0, len(p.Items))
	for _, it := range p.Items {
		if it == nil {
			continue
		}
		link := it.Link
		if link == "" && len(it.Links) > 0 {
			link = it.Links[0]
		}
		if link == "" && looksLikeURL(it.GUID) {
			link = it.GUID
		}
		if link != "" {
			if abs, err := article.Resolve(base, link); err == nil {
				link = abs
			}
		}
		item := Item{
			GUID: strings.TrimSpace(it.GUID), Link: strings.TrimSpace(link), Title: strings.TrimSpace(it.Title),
			Description: firstNonEmpty(it.Description, mediaDescription(it)), Content: it.Content, Categories: it.Categories,
			Published: it.PublishedParsed, Updated: it.UpdatedParsed, FeedLanguage: strings.TrimSpace(p.Language),
		}
		if it.PublishedParsed == nil {
			item.PublishedText = strings.TrimSpace(it.Published)
		}
		if it.UpdatedParsed == nil {
			item.UpdatedText = strings.TrimSpace(it.Updated)
		}
		for _, a := range it.Authors {
			if a != nil && (a.Name != "" || a.Email != "") {
				item.Authors = append(item.Authors, firstNonEmpty(a.Name, a.Email))
			}
		}
		if it.Image != nil {
			item.Image = it.Image.URL
		}
		if item.Link == "" && item.GUID == "" &&
			(repaired || (item.Title == "" && strings.TrimSpace(item.Description+item.Content) == "")) {
			// Nothing to identify it by and nothing to read, or the cut-off end of a repaired
			// feed (a truncated item has lost its link).
			continue
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

func parseGofeed(b []byte) (f *gofeed.Feed, err error) {
	defer func() { // belt and braces: a parser bug must not take the fetcher down
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("fetch: feed parser panic: %v", r)
		}
	}()
	return gofeed.NewParser().Parse(bytes.NewReader(b))
}

var (
	xmlEncRe     = regexp.MustCompile(`(?i)^\s*<\?xml[^>]*encoding\s*=`)
	xmlEncAttrRe = regexp.MustCompile(`(?i)^(\s*<\?xml[^>]*?encoding\s*=\s*)["']([^"']*)["']`)
)

// wideUnicode detects UTF-16/32 (BOM or the "<?" pattern), which encoding/xml cannot read.
func wideUnicode(b []byte) encoding.Encoding {
	switch {
	case bytes.HasPrefix(b, []byte{0, 0, 0xfe, 0xff}), bytes.HasPrefix(b, []byte{0, 0, 0, '<'}):
		return utf32.UTF32(utf32.BigEndian, utf32.UseBOM)
	case bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}), bytes.HasPrefix(b, []byte{'<', 0, 0, 0}):
		return utf32.UTF32(utf32.LittleEndian, utf32.UseBOM)
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}), bytes.HasPrefix(b, []byte{0, '<', 0}):
		return unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}), bytes.HasPrefix(b, []byte{'<', 0, '?', 0}), bytes.HasPrefix(b, []byte{'<', 0, 'r', 0}), bytes.HasPrefix(b, []byte{'<', 0, 'f', 0}):
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	}
	return nil
}

// setDeclaredEncoding rewrites the XML declaration's encoding to utf-8 (after we converted
// the bytes, or when the declared label is unknown).
func setDeclaredEncoding(b []byte) []byte {
	return xmlEncAttrRe.ReplaceAll(b[:min(len(b), 512)], []byte("${1}\"utf-8\""))
}

// toUTF8XML brings a feed body to a form encoding/xml can read: UTF-16/32 transcoded, an
// unknown declared encoding replaced by utf-8, and a charset given only by the HTTP
// Content-Type (no XML declaration encoding, no BOM) applied. Other declared encodings are
// left to the XML decoder.
func toUTF8XML(b []byte, contentType string) []byte {
	if enc := wideUnicode(b); enc != nil {
		if out, _, err := transform.Bytes(enc.NewDecoder(), b); err == nil {
			out = bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))
			return append(setDeclaredEncoding(out), out[min(len(out), 512):]...)
		}
	}
	if m := xmlEncAttrRe.FindSubmatch(b[:min(len(b), 512)]); m != nil {
		if e, _ := charset.Lookup(string(m[2])); e == nil {
			return append(setDeclaredEncoding(b), b[min(len(b), 512):]...)
		}
	}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) || xmlEncRe.Match(b[:min(len(b), 256)]) {
		return b
	}
	// No declaration: the HTTP charset checked against the bytes, UTF-8 when valid, else the
	// detected charset whose text is plausible (article.DecodeCharset, as for pages). When
	// nothing is plausible the bytes are left as they are: their invalid bytes become U+FFFD
	// and the cleaner dead-letters the text as a lost encoding rather than index the
	// windows-1252 guess (Thai read as Latin-1, say) as words.
	label := ""
	if contentType != "" {
		if _, params, err := mime.ParseMediaType(contentType); err == nil {
			label = params["charset"]
		}
	}
	if label == "" && utf8.Valid(b) {
		return b
	}
	out, d := article.DecodeCharset(b, label, article.CharsetHTTP)
	if d.Source == article.CharsetDefault || (d.Source == article.CharsetDetected && latinRunsDominate(out)) {
		return b
	}
	return out
}

// latinRunsDominate reports text whose non-ASCII characters mostly stand in runs of four or
// more Latin-1 letters and symbols (U+00A0–U+00FF) with no ASCII letter among them: a
// non-Latin script (Thai, say) read as Latin-1 ("ÊÓ¹Ñ¡§Ò¹Êè§"). Latin-script languages put
// one or two accented letters between ASCII ones ("Glasfaserförderung", "ação").
func latinRunsDominate(b []byte) bool {
	high, inRuns, run := 0, 0, 0
	end := func() {
		if run >= 4 {
			inRuns += run
		}
		run = 0
	}
	for _, r := range string(b) {
		if r < 0x80 {
			end()
			continue
		}
		high++
		if r >= 0xa0 && r <= 0xff {
			run++
		} else {
			end()
		}
	}
	end()
	return high > 0 && inRuns*2 > high
}

// repairXML salvages truncated or broken XML: it keeps the well-formed prefix (up to the last
// complete token before the first syntax error) and closes the elements still open, the way
// lenient feed readers do. ok is false when there is nothing to salvage.
func repairXML(b []byte) ([]byte, bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.CharsetReader = charsetReader
	var stack []string
	var good int64
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) == 0 {
				return nil, false // well-formed as far as the tokenizer goes: nothing to fix
			}
			break
		}
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, qname(t.Name))
		case xml.EndElement:
			if n := len(stack); n > 0 {
				stack = stack[:n-1]
			}
		}
		good = d.InputOffset()
		if len(stack) > 1000 {
			return nil, false
		}
	}
	if good == 0 || len(stack) == 0 {
		return nil, false
	}
	out := append([]byte(nil), b[:good]...)
	for i := len(stack) - 1; i >= 0; i-- {
		out = append(out, "</"+stack[i]+">"...)
	}
	return out, true
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func charsetReader(label string, in io.Reader) (io.Reader, error) {
	return charset.NewReaderLabel(label, in)
}

func looksLikeURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ParseSitemap stream-parses a sitemap (urlset, with the Google News and image extensions) or
// a sitemap index, reading at most lim.MaxSitemapURLs entries (ErrTooManyItems beyond, with
// the entries read so far returned). Memory is bounded by the entries kept.
func ParseSitemap(r io.Reader, baseURL string, lim ParseLimits) (*Parsed, error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.CharsetReader = charsetReader
	out := &Parsed{}
	maxN := lim.maxURLs()
	var (
		cur     *Item
		curRef  *SitemapRef
		path    []string
		text    strings.Builder
		sawRoot bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(out.Items) > 0 || len(out.Children) > 0 {
				return out, fmt.Errorf("fetch: sitemap (partial, %d entries kept): %w", len(out.Items)+len(out.Children), err)
			}
			return nil, fmt.Errorf("fetch: sitemap: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			path = append(path, name)
			text.Reset()
			switch {
			case !sawRoot:
				sawRoot = true
				switch name {
				case "urlset":
					out.Format = "sitemap"
				case "sitemapindex":
					out.Format = "sitemapindex"
				default:
					return nil, fmt.Errorf("%w: root <%s>", ErrNotFeed, t.Name.Local)
				}
			case name == "url" && len(path) == 2:
				cur = &Item{}
			case name == "sitemap" && len(path) == 2:
				curRef = &SitemapRef{}
			}
		case xml.CharData:
			if text.Len() < 8192 {
				text.Write(t)
			}
		case xml.EndElement:
			name := strings.ToLower(t.Name.Local)
			val := strings.TrimSpace(text.String())
			text.Reset()
			space := strings.ToLower(t.Name.Space)
			inNews := strings.Contains(space, "news")
			inImage := strings.Contains(space, "image")
			switch {
			case cur != nil && name == "url" && len(path) == 2:
				if cur.Link != "" {
					if len(out.Items) >= maxN {
						return out, ErrTooManyItems
					}
					cur.GUID = cur.Link
					out.Items = append(out.Items, *cur)
				}
				cur = nil
			case curRef != nil && name == "sitemap" && len(path) == 2:
				if curRef.Loc != "" {
					if len(out.Children) >= maxN {
						return out, ErrTooManyItems
					}
					out.Children = append(out.Children, *curRef)
				}
				curRef = nil
			case cur != nil && name == "loc" && inImage:
				if cur.Image == "" {
					cur.Image = absURL(baseURL, val)
				}
			case cur != nil && name == "loc" && len(path) == 3:
				cur.Link = absURL(baseURL, val)
			case cur != nil && name == "lastmod":
				cur.Updated = parseW3CDate(val)
			case cur != nil && inNews && name == "title":
				cur.Title = val
			case cur != nil && inNews && name == "publication_date":
				cur.Published = parseW3CDate(val)
			case cur != nil && inNews && name == "language":
				cur.Language = val
			case cur != nil && inNews && name == "keywords":
				for _, k := range strings.Split(val, ",") {
					if k = strings.TrimSpace(k); k != "" {
						cur.Categories = append(cur.Categories, k)
					}
				}
			case curRef != nil && name == "loc":
				curRef.Loc = absURL(baseURL, val)
			case curRef != nil && name == "lastmod":
				curRef.LastMod = parseW3CDate(val)
			}
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		}
	}
	if !sawRoot {
		return nil, ErrEmptyBody
	}
	return out, nil
}

func absURL(base, ref string) string {
	if base == "" {
		return ref
	}
	if abs, err := article.Resolve(base, ref); err == nil {
		return abs
	}
	return ref
}

var w3cLayouts = []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "2006-01", "2006"}

func parseW3CDate(s string) *time.Time {
	for _, l := range w3cLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return &t
		}
	}
	return nil
}

// Discover returns the feed URLs a page advertises with <link rel="alternate"> (RSS, Atom,
// JSON Feed), absolute, best first (RSS/Atom before JSON, document order otherwise).
func Discover(html []byte, pageURL string) []string {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(html))
	if err != nil {
		return nil
	}
	type cand struct {
		url  string
		rank int
		pos  int
	}
	var cs []cand
	seen := map[string]bool{}
	doc.Find("link[rel][href]").Each(func(i int, s *goquery.Selection) {
		rel := strings.ToLower(s.AttrOr("rel", ""))
		if !strings.Contains(" "+rel+" ", " alternate ") && !strings.Contains(rel, "feed") {
			return
		}
		typ := strings.ToLower(strings.TrimSpace(s.AttrOr("type", "")))
		rank := -1
		switch {
		case strings.Contains(typ, "rss"), strings.Contains(typ, "atom"), strings.Contains(typ, "rdf"):
			rank = 0
		case strings.Contains(typ, "feed+json"), typ == "application/json" && strings.Contains(rel, "alternate"):
			rank = 1
		}
		if rank < 0 {
			return
		}
		u := absURL(pageURL, strings.TrimSpace(s.AttrOr("href", "")))
		if !looksLikeURL(u) || seen[u] {
			return
		}
		seen[u] = true
		cs = append(cs, cand{u, rank, i})
	})
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].rank < cs[j].rank })
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.url
	}
	return out
}

// mediaDescription is an item's Media RSS description (<media:description>, alone or in a
// <media:group>): the only text of video and podcast items (YouTube's feeds), which gofeed
// leaves among the extensions.
func mediaDescription(it *gofeed.Item) string {
	media := it.Extensions["media"]
	for _, d := range media["description"] {
		if strings.TrimSpace(d.Value) != "" {
			return d.Value
		}
	}
	for _, g := range media["group"] {
		for _, d := range g.Children["description"] {
			if strings.TrimSpace(d.Value) != "" {
				return d.Value
			}
		}
	}
	return ""
}

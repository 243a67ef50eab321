package clean

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	trafilatura "github.com/newsflow/newsflow/pkg/clean/internal/trafilatura"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/newsflow/newsflow/pkg/article"
)

// extraction is the extractor's raw result before boilerplate removal.
type extraction struct {
	paragraphs  []string
	title       string
	authors     []string
	siteName    string
	description string
	image       string
	tags        []string
	canonical   []string // rel=canonical, og:url, JSON-LD url (in that order)
	htmlLang    string
	contentLang string // <meta http-equiv="Content-Language"> / <meta name="language">
	dates       dateCandidates
	links       map[string]bool // normLine of the page's anchor texts (>= 3 words)
	titles      []string        // title variants (headline, og:title, <title>) to drop as leading lines
	replaced    int             // U+FFFD normalised away before paragraphs were built (plain text)
}

// extractHTMLBudget runs extractHTML under the page's time budget. Extraction is CPU-bound
// library code that cannot be interrupted; work is bounded by MaxHTMLBytes and MaxDepth, and
// when the budget runs out the call returns at once while the goroutine finishes its bounded
// work in the background.
func (c *Cleaner) extractHTMLBudget(ctx context.Context, id string, raw *article.Raw, body string) (*extraction, error) {
	if len(body) > c.cfg.MaxHTMLBytes {
		cut := strings.LastIndexByte(body[:c.cfg.MaxHTMLBytes], '>')
		if cut < c.cfg.MaxHTMLBytes/2 {
			cut = c.cfg.MaxHTMLBytes - 1
		}
		body = body[:cut+1]
		for !utf8.ValidString(body[max(0, len(body)-4):]) && len(body) > 0 {
			body = body[:len(body)-1]
		}
	}
	if d := nestingDepth(body, c.cfg.MaxDepth); d > c.cfg.MaxDepth {
		return nil, permanent(id, ErrTooDeep, "more than %d levels", c.cfg.MaxDepth)
	}
	bctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	type res struct {
		ex  *extraction
		err error
	}
	ch := make(chan res, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- res{nil, permanent(id, ErrEncoding, "extractor panic: %v", r)}
			}
		}()
		ex, err := c.extractHTML(raw.URL, body)
		ch <- res{ex, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			if errors.Is(r.err, ErrTooDeep) || errors.Is(r.err, ErrEncoding) {
				return nil, r.err
			}
			return nil, permanent(id, ErrNoText, "%v", r.err)
		}
		return r.ex, nil
	case <-bctx.Done():
		if ctx.Err() != nil {
			return nil, fmt.Errorf("cleaner: %s: %w", id, ctx.Err())
		}
		return nil, permanent(id, ErrTimeBudget, "extraction took longer than %s", c.cfg.Timeout)
	}
}

// voidOrImplied are elements that do not (reliably) nest in tag soup.
var voidOrImplied = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true,
	atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true, atom.Source: true,
	atom.Track: true, atom.Wbr: true, atom.P: true, atom.Li: true, atom.Td: true, atom.Th: true,
	atom.Tr: true, atom.Option: true, atom.Dt: true, atom.Dd: true, atom.Param: true,
}

// extractHTML parses body and extracts the main text and metadata.
func (c *Cleaner) extractHTML(pageURL, body string) (*extraction, error) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse html: %w", err)
	}
	u, _ := url.Parse(pageURL)
	if u != nil && u.Host == "" {
		u = nil
	}
	pm := readMeta(doc, c.cfg.MaxDepth+8, pageURL)
	ex := &extraction{htmlLang: pm.lang, contentLang: pm.get("content-language", "language", "dc.language"), links: pm.links}

	var skip trafilatura.MetadataParts = trafilatura.MetaLicense // never used
	if len(pm.ld.Authors) > 0 {
		skip |= trafilatura.MetaDomAuthor // JSON-LD authors win below: the DOM search is wasted
	}
	paras, tm := extractMain(doc, u, c.cfg.MaxDepth+8, skip)
	if lead := recoverLead(doc, paras, []string{pm.get("og:description"), pm.get("description"), pm.get("twitter:description"), pm.ld.Description}, c.cfg.MaxDepth+8); lead != "" {
		paras = append([]string{lead}, paras...)
	}

	// Metadata: JSON-LD, then OpenGraph/Twitter/meta, then trafilatura's.
	ex.paragraphs = paras
	ex.title = firstNonEmpty(pm.ld.Headline, pm.get("og:title", "twitter:title"), tm.Title, pm.title)
	ex.titles = []string{pm.ld.Headline, pm.get("og:title", "twitter:title"), tm.Title, pm.title}
	ex.description = firstNonEmpty(pm.get("og:description", "description", "twitter:description"), pm.ld.Description, tm.Description)
	ex.siteName = firstNonEmpty(pm.get("og:site_name", "application-name"), pm.ld.Publisher, tm.Sitename)
	ex.image = firstNonEmpty(pm.get("og:image", "og:image:url", "twitter:image", "twitter:image:src"), pm.ld.Image, tm.Image)
	if ex.image != "" && u != nil {
		if abs, err := article.Resolve(u.String(), ex.image); err == nil {
			ex.image = abs
		}
	}
	ex.authors = pm.ld.Authors
	if len(ex.authors) == 0 {
		for _, a := range strings.Split(firstNonEmpty(tm.Author, pm.get("author", "article:author", "parsely-author", "byl")), ";") {
			if a = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(a), "By ")); a != "" && !strings.Contains(a, "://") {
				ex.authors = append(ex.authors, a)
			}
		}
	}
	ex.authors = dedupStrings(ex.authors, 10)
	var tags []string
	tags = append(tags, pm.ld.Keywords...)
	tags = append(tags, tm.Tags...)
	tags = append(tags, tm.Categories...)
	if pm.ld.Section != "" {
		tags = append(tags, pm.ld.Section)
	}
	if kw := pm.get("news_keywords", "keywords", "article:tag"); kw != "" && len(tags) == 0 {
		for _, k := range strings.Split(kw, ",") {
			tags = append(tags, strings.TrimSpace(k))
		}
	}
	ex.tags = dedupStrings(tags, 30)
	for _, cand := range []string{pm.canonical, pm.get("og:url"), pm.ld.URL} {
		if cand != "" {
			ex.canonical = append(ex.canonical, cand)
		}
	}
	ex.dates = dateCandidates{
		jsonld:     pm.ld.Published,
		jsonldMod:  pm.ld.Modified,
		meta:       pm.get("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate", "publish-date", "dc.date.issued", "dcterms.created", "dc.date", "date", "sailthru.date", "parsely-pub-date", "cxenseparse:recs:publishtime"),
		metaMod:    pm.get("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified"),
		timeTags:   pm.timeTags,
		trafDate:   tm.Date,
		pageURL:    pageURL,
		canonicals: ex.canonical,
	}
	return ex, nil
}

// trafOptions are the go-trafilatura options the cleaner uses: fallback comparison with
// go-readability (readeck v2, passed in as a candidate) and DOM distiller, comments excluded,
// htmldate disabled (the cleaner does its own date arbitration and htmldate's extensive mode
// dominates the run time). The vendored copy (internal/trafilatura, see its PATCHES.md)
// also skips its language classifier (the cleaner detects the language itself, on a bounded
// sample) and the metadata parts in skip.
func trafOptions(u *url.URL, readability func() *html.Node, skip trafilatura.MetadataParts) trafilatura.Options {
	return trafilatura.Options{
		OriginalURL:     u,
		EnableFallback:  true,
		ExcludeComments: true,
		HtmlDateMode:    trafilatura.Disabled,
		FallbackCandidates: &trafilatura.FallbackCandidates{
			ReadabilityFunc: readability,
		},
		FallbackSkipAbove: fallbackSkipAbove,
		SkipLanguage:      true,
		SkipMetadata:      skip,
	}
}

// fallbackSkipAbove: once trafilatura's own extraction has this many characters, the
// go-readability candidate is neither computed nor compared (a whole-document copy and
// scoring pass, ~15 % of the cleaner's CPU). The comparison takes the candidate only when it
// is more than twice as long, or when the extraction has no paragraph text: over the 627
// pages of ../shared/eval it took it on 47 pages, 45 of them with an extraction under 3,000
// characters. Skipping above 3,000: dev F1 unchanged (0.9768; halves 0.9777 / 0.9759),
// multilingual 0.9375 -> 0.9384 (halves 0.9318 -> 0.9337, 0.9424 unchanged); 56 % of pages
// skip the run. (Lower values lose F1: 1,000 gave 0.9370 multilingual.)
const fallbackSkipAbove = 3000

// extractMain extracts the main text as paragraphs plus trafilatura's metadata.
func extractMain(doc *html.Node, u *url.URL, maxDepth int, skip trafilatura.MetadataParts) ([]string, trafilatura.Metadata) {
	var rNode *html.Node
	rDone := false
	runReadability := func() *html.Node {
		if !rDone {
			rDone = true
			if a, err := readabilityFromDocument(doc, u); err == nil && a.Node != nil {
				rNode = a.Node
			}
		}
		return rNode
	}
	res, err := trafilatura.ExtractDocument(doc, trafOptions(u, runReadability, skip))
	var tParas []string
	var md trafilatura.Metadata
	if err == nil && res != nil {
		md = res.Metadata
		if res.ContentNode != nil {
			tParas = renderParagraphs(res.ContentNode, maxDepth)
		}
	}
	out := tParas
	if len(tParas) == 0 || runeLen(tParas) < 250 { // choose needs the readability candidate
		var rParas []string
		if rNode := runReadability(); rNode != nil {
			rParas = renderParagraphs(rNode, maxDepth)
		}
		out = choose(tParas, rParas)
	}
	if runeLen(out) < 250 {
		// Tiny page or fragment (e.g. a feed's content:encoded): trafilatura's baseline glues
		// paragraphs together; when the whole document is short it is all content, so render
		// it with structure.
		if whole := renderParagraphs(doc, maxDepth); runeLen(whole) < 1000 && len(whole) > 0 {
			out = whole
		}
	}
	return out, md
}

// discardLog is go-readability's logger here: NewParser's default is a text handler that
// formats every Info record (a few per pass) and writes it to io.Discard; slog's discard
// handler is disabled, so nothing is formatted. Logging has no effect on the result.
var discardLog = slog.New(slog.DiscardHandler)

// readabilityFromDocument is readability.FromDocument (NewParser's settings, the document
// cloned first) without the discarded logging.
func readabilityFromDocument(doc *html.Node, u *url.URL) (readability.Article, error) {
	p := readability.NewParser()
	p.Logger = discardLog
	return p.ParseDocument(doc, u)
}

func runeLen(ps []string) int {
	n := 0
	for _, p := range ps {
		n += utf8.RuneCountInString(p)
	}
	return n
}

// choose arbitrates between the trafilatura and readability candidates. Trafilatura's (more
// precise) paragraphs win, except on very short pages: below 250 characters trafilatura falls
// back to its "baseline" that glues all <p> texts together, while readability keeps the
// paragraph structure. (Merging readability paragraphs into trafilatura's output was tried and
// lost 0.007 F1 on the dev set: duplicated, differently segmented text.)
func choose(t, r []string) []string {
	if len(t) == 0 {
		return r
	}
	if runeLen(t) < 250 && len(r) > len(t) {
		return r
	}
	return t
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}

func dedupStrings(in []string, limit int) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		s = strings.Join(strings.Fields(s), " ")
		k := strings.ToLower(s)
		if s == "" || seen[k] || len(s) > 200 {
			continue
		}
		seen[k] = true
		out = append(out, s)
		if len(out) == limit {
			break
		}
	}
	return out
}

// extractPlain handles text/plain bodies: one paragraph per non-empty line. With headline,
// the first line is a title variant (dropped from the text) when it is short and not a
// sentence, and the title when the feed gives none; a feed item's own text has no headline
// line (its title is in the feed).
func extractPlain(body string, raw *article.Raw, headline bool) *extraction {
	ex := &extraction{replaced: strings.Count(body, "\uFFFD")}
	text := NormalizeText(body)
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ex.paragraphs = append(ex.paragraphs, l)
		}
	}
	if raw.Feed != nil {
		ex.title = raw.Feed.Title // the feed's title wins; the text's headline line is still dropped
	}
	if headline && len(ex.paragraphs) > 1 {
		first := ex.paragraphs[0]
		if utf8.RuneCountInString(first) <= 200 && !strings.HasSuffix(first, ".") {
			ex.titles = append(ex.titles, first)
			if ex.title == "" {
				ex.title = first
			}
		}
	}
	ex.dates = dateCandidates{pageURL: raw.URL}
	return ex
}

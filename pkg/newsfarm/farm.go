// Package newsfarm is a local news farm for benchmarks and chaos tests: M news sites served
// on loopback, each with an RSS or Atom feed, a news sitemap, robots.txt, a home page and
// article pages in one of four page templates (navigation, bylines, related links, cookie
// banners, comment sections) in English, German, Spanish or French. Stories are published at
// a set rate after a backlog, everything deterministic from a seed: the same Config gives the
// same pages, feeds and WARC bytes (apart from the site URLs, which carry the listeners'
// ports once Start has run).
//
// The knobs the chaos and benchmark suites need: wire stories reprinted by several sites
// (different URLs, same text), feed items listed a second time behind tracking parameters
// (same article ID), poison pages (binary junk, a gzip bomb, an empty page, all HTTP 200),
// and a news burst (one term in many stories within a few minutes). Manifest lists exactly
// what the feeds have offered, each with the article ID newsflow must give it
// (article.ChooseCanonical rules), so a checker can prove exactly-once; Served counts the
// requests per URL. WriteWARC writes the same pages as a WARC file (CC-NEWS layout: one gzip
// member per record, warcinfo + request + response records).
package newsfarm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/newsflow/newsflow/pkg/article"
)

// Poison kinds served with HTTP 200.
const (
	PoisonBinary   = "binary"    // text/html with 16 KiB of random bytes
	PoisonGzipBomb = "gzip-bomb" // Content-Encoding: gzip, 32 KiB on the wire, 32 MiB of "A" inflated
	PoisonEmpty    = "empty"     // text/html, zero bytes
)

var poisonKinds = []string{PoisonBinary, PoisonGzipBomb, PoisonEmpty}

// Entry kinds in the manifest.
const (
	KindArticle  = "article"  // a story's page on its own site
	KindReprint  = "reprint"  // a wire story's page on another site (same text, its own URL and ID)
	KindTracking = "tracking" // a second feed link to an article, behind tracking parameters (same ID)
	KindPoison   = "poison"   // a poison page (see Poison)
)

// Burst is a news burst: Count stories mentioning Term published from At (relative to the
// farm's start; negative = in the backlog) over Over.
type Burst struct {
	Term  string
	Count int
	At    time.Duration
	Over  time.Duration
}

// Config is a farm's shape. Zero fields take the defaults listed (Defaults).
type Config struct {
	Seed  uint64 // default 1
	Sites int    // default 4
	// Backlog stories are already published when the farm starts, BacklogSpacing apart
	// (default 1,200 stories, 30s).
	Backlog        int
	BacklogSpacing time.Duration
	// Rate stories per second are published after the start (0: none; the farm then only
	// serves the backlog).
	Rate float64
	// Start is the farm's time zero (default: time.Now() at New, truncated to the second).
	// Fix it to get byte-identical WARC files.
	Start time.Time
	// FeedItems: newest items per feed (default 100); SitemapItems: newest URLs per
	// sitemap (default 1,000).
	FeedItems    int
	SitemapItems int
	// Every Nth story is a wire story reprinted by the other sites of its language
	// (default 10; negative disables); every Nth story is listed twice in its feed, the
	// second time with utm_* parameters (default 25; negative disables); every Nth story is
	// a poison page, the kinds in turn (default 100; negative disables).
	ReprintEvery  int
	TrackingEvery int
	PoisonEvery   int
	Burst         Burst // Count 0: no burst
	// Languages of the sites in turn (default en, en, de, es, en, fr).
	Languages []string
	// RSSOnly gives every site an RSS feed (default: RSS and Atom in turn), for crawlers that
	// read RSS only (news-please's RssCrawler).
	RSSOnly bool
}

// Defaults returns c with zero fields filled.
func (c Config) Defaults() Config {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Sites <= 0 {
		c.Sites = 4
	}
	if c.Backlog == 0 {
		c.Backlog = 1200
	}
	if c.BacklogSpacing <= 0 {
		c.BacklogSpacing = 30 * time.Second
	}
	if c.Start.IsZero() {
		c.Start = time.Now().UTC().Truncate(time.Second)
	}
	if c.FeedItems <= 0 {
		c.FeedItems = 100
	}
	if c.SitemapItems <= 0 {
		c.SitemapItems = 1000
	}
	if c.ReprintEvery == 0 {
		c.ReprintEvery = 10
	}
	if c.TrackingEvery == 0 {
		c.TrackingEvery = 25
	}
	if c.PoisonEvery == 0 {
		c.PoisonEvery = 100
	}
	if len(c.Languages) == 0 {
		c.Languages = []string{"en", "en", "de", "es", "en", "fr"}
	}
	if c.Burst.Count > 0 {
		if c.Burst.Term == "" {
			c.Burst.Term = "Vostok Bay earthquake"
		}
		if c.Burst.Over <= 0 {
			c.Burst.Over = 3 * time.Minute
		}
	}
	return c
}

// Validate reports configuration errors (call after Defaults).
func (c Config) Validate() error {
	var errs []error
	if c.Sites > 500 {
		errs = append(errs, fmt.Errorf("newsfarm: %d sites (max 500)", c.Sites))
	}
	if c.Backlog < 0 {
		errs = append(errs, fmt.Errorf("newsfarm: negative backlog %d", c.Backlog))
	}
	if c.Rate < 0 || c.Rate > 100000 {
		errs = append(errs, fmt.Errorf("newsfarm: rate %g outside [0, 100000]", c.Rate))
	}
	for _, l := range c.Languages {
		if lexicons[l] == nil {
			errs = append(errs, fmt.Errorf("newsfarm: no lexicon for language %q (have en, de, es, fr)", l))
		}
	}
	if c.Burst.Count < 0 {
		errs = append(errs, fmt.Errorf("newsfarm: negative burst count %d", c.Burst.Count))
	}
	return errors.Join(errs...)
}

// Site is one farm site.
type Site struct {
	Index    int
	Name     string
	Lang     string
	FeedKind string // "rss" or "atom"
	Template int    // page template 0..3
	BaseURL  string // http://127.0.0.1:PORT once started, else http://siteNN.newsfarm.test
}

// FeedURL is the site's feed.
func (s Site) FeedURL() string { return s.BaseURL + "/feed.xml" }

// SitemapURL is the site's news sitemap.
func (s Site) SitemapURL() string { return s.BaseURL + "/sitemap.xml" }

var siteWords = [][]string{
	{"Daily", "Evening", "Morning", "Weekly", "Metro", "City", "Coast", "Valley", "Northern", "Union"},
	{"Herald", "Courier", "Chronicle", "Gazette", "Post", "Observer", "Tribune", "Ledger", "Journal", "Express"},
}

// Farm is a news farm. Its pages are functions of the Config; Start serves them.
type Farm struct {
	cfg   Config
	sites []Site
	srv   *server
}

// New builds a farm (nothing is served until Start).
func New(cfg Config) (*Farm, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &Farm{cfg: cfg}
	for i := 0; i < cfg.Sites; i++ {
		r := rand.New(rand.NewPCG(cfg.Seed, uint64(1<<50+i)))
		kind := "rss"
		if i%2 == 1 && !cfg.RSSOnly {
			kind = "atom"
		}
		f.sites = append(f.sites, Site{
			Index: i, Lang: cfg.Languages[i%len(cfg.Languages)], FeedKind: kind, Template: i % 4,
			Name:    fmt.Sprintf("The %s %s %d", pick(r, siteWords[0]), pick(r, siteWords[1]), i+1),
			BaseURL: fmt.Sprintf("http://site%02d.newsfarm.test", i),
		})
	}
	return f, nil
}

// Config returns the farm's configuration with defaults filled.
func (f *Farm) Config() Config { return f.cfg }

// Sites returns the farm's sites.
func (f *Farm) Sites() []Site { return append([]Site(nil), f.sites...) }

// Epoch is the farm's time zero (Config.Start): the backlog was published before it, the
// live stories after.
func (f *Farm) Epoch() time.Time { return f.cfg.Start }

// page is one article page: story key on one site.
type page struct {
	key       string // "s123" (regular story) or "b4" (burst story)
	site      int
	published time.Time
	kind      string // KindArticle, KindReprint or KindPoison
	poison    string
	tracking  bool // listed a second time with tracking parameters
}

func (f *Farm) storyTime(s int) time.Time {
	if s < f.cfg.Backlog {
		return f.cfg.Start.Add(-time.Duration(f.cfg.Backlog-s) * f.cfg.BacklogSpacing)
	}
	return f.cfg.Start.Add(time.Duration(float64(s-f.cfg.Backlog) / f.cfg.Rate * float64(time.Second)))
}

// storiesBefore is the number of regular stories published at or before t.
func (f *Farm) storiesBefore(t time.Time) int {
	if t.Before(f.cfg.Start) {
		sp := f.cfg.BacklogSpacing
		n := f.cfg.Backlog - int((f.cfg.Start.Sub(t)+sp-1)/sp) + 1
		return max(n, 0)
	}
	if f.cfg.Rate == 0 {
		return f.cfg.Backlog
	}
	// +1: float rounding never hides a story (callers filter by publication time).
	return f.cfg.Backlog + int(t.Sub(f.cfg.Start).Seconds()*f.cfg.Rate) + 2
}

// sameLangSites returns the sites sharing site i's language, i first.
func (f *Farm) sameLangSites(i int) []int {
	out := []int{i}
	for j := range f.sites {
		if j != i && f.sites[j].Lang == f.sites[i].Lang {
			out = append(out, j)
		}
	}
	return out
}

// storyPages returns the pages of regular story s.
func (f *Farm) storyPages(s int) []page {
	c := f.cfg
	primary := s % c.Sites
	p := page{key: fmt.Sprintf("s%d", s), site: primary, published: f.storyTime(s), kind: KindArticle}
	if c.PoisonEvery > 0 && s%c.PoisonEvery == c.PoisonEvery/2 {
		p.kind, p.poison = KindPoison, poisonKinds[(s/c.PoisonEvery)%len(poisonKinds)]
		return []page{p}
	}
	p.tracking = c.TrackingEvery > 0 && s%c.TrackingEvery == 1
	out := []page{p}
	if c.ReprintEvery > 0 && s%c.ReprintEvery == c.ReprintEvery-1 {
		for k, j := range f.sameLangSites(primary)[1:] {
			if k == 3 {
				break
			}
			out = append(out, page{key: p.key, site: j, published: p.published.Add(time.Duration(k+1) * 2 * time.Second), kind: KindReprint})
		}
	}
	return out
}

func (f *Farm) burstPage(b int) page {
	bu := f.cfg.Burst
	at := f.cfg.Start.Add(bu.At + time.Duration(int64(bu.Over)*int64(b)/int64(max(bu.Count, 1))))
	return page{key: fmt.Sprintf("b%d", b), site: b % f.cfg.Sites, published: at, kind: KindArticle}
}

// pageFor finds the page of key on site (false if the site does not carry it).
func (f *Farm) pageFor(key string, site int) (page, bool) {
	var n int
	if _, err := fmt.Sscanf(key[1:], "%d", &n); err != nil || n < 0 || fmt.Sprintf("%c%d", key[0], n) != key {
		return page{}, false
	}
	switch key[0] {
	case 's':
		if f.cfg.Rate == 0 && n >= f.cfg.Backlog {
			return page{}, false
		}
		for _, p := range f.storyPages(n) {
			if p.site == site {
				return p, true
			}
		}
	case 'b':
		if n < f.cfg.Burst.Count {
			if p := f.burstPage(n); p.site == site {
				return p, true
			}
		}
	}
	return page{}, false
}

// story generates the text of a page's story (the same for every reprint).
func (f *Farm) story(p page) story {
	var n int
	_, _ = fmt.Sscanf(p.key[1:], "%d", &n)
	stream, burst := uint64(n), ""
	if p.key[0] == 'b' {
		stream, burst = uint64(1<<40+n), f.cfg.Burst.Term
	}
	r := rand.New(rand.NewPCG(f.cfg.Seed, stream))
	primary := p.site
	if p.key[0] == 's' {
		primary = n % f.cfg.Sites
	}
	return genStory(r, f.sites[primary].Lang, burst)
}

var asciiFold = strings.NewReplacer("á", "a", "à", "a", "â", "a", "ä", "ae", "é", "e", "è", "e", "ê", "e", "í", "i", "î", "i",
	"ó", "o", "ô", "o", "ö", "oe", "ú", "u", "û", "u", "ü", "ue", "ñ", "n", "ç", "c", "ß", "ss")

// slug makes a URL slug of a title.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, c := range asciiFold.Replace(strings.ToLower(title)) {
		switch {
		case c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c)):
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

var sections = []string{"world", "politics", "business", "society", "local"}

// path is the page's URL path; its last "-" field is the story key.
func (f *Farm) path(p page, st *story) string {
	if p.kind == KindPoison {
		return fmt.Sprintf("/%s/%s/item-%s.html", sections[len(p.key)%len(sections)], p.published.Format("2006/01/02"), p.key)
	}
	return fmt.Sprintf("/%s/%s/%s-%s.html", sections[len(st.Title)%len(sections)], p.published.Format("2006/01/02"), slug(st.Title), p.key)
}

// keyOfPath extracts the story key of an article path ("" if it is not one).
func keyOfPath(path string) string {
	if !strings.HasSuffix(path, ".html") {
		return ""
	}
	i := strings.LastIndexByte(path, '-')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(path[i+1:], ".html")
}

func (f *Farm) pageURL(p page, st *story) string { return f.sites[p.site].BaseURL + f.path(p, st) }

// trackingQuery is what a tracking duplicate appends to the URL.
const trackingQuery = "?utm_source=newsfarm&utm_medium=rss&utm_campaign=feed&fbclid=farm"

// Entry is one URL the farm's feeds have offered.
type Entry struct {
	URL       string    `json:"url"`       // as listed in the feed
	ID        string    `json:"id"`        // the article ID newsflow must give it
	Canonical string    `json:"canonical"` // its canonical URL
	Site      string    `json:"site"`      // site base URL
	Lang      string    `json:"lang"`
	Story     string    `json:"story"` // story key, shared by a wire story's reprints
	Title     string    `json:"title,omitempty"`
	Published time.Time `json:"published"` // when it appeared in the feed
	Kind      string    `json:"kind"`      // article, reprint, tracking, poison
	Poison    string    `json:"poison,omitempty"`
	Burst     bool      `json:"burst,omitempty"`
}

// pagesUntil returns every page published at or before t, oldest first.
func (f *Farm) pagesUntil(t time.Time) []page {
	var ps []page
	for s := 0; s < f.storiesBefore(t); s++ {
		for _, p := range f.storyPages(s) {
			if !p.published.After(t) {
				ps = append(ps, p)
			}
		}
	}
	for b := 0; b < f.cfg.Burst.Count; b++ {
		if p := f.burstPage(b); !p.published.After(t) {
			ps = append(ps, p)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].published.Before(ps[j].published) })
	return ps
}

// Manifest lists every URL published up to t (all published pages and their tracking
// duplicates), oldest first. Distinct IDs of the non-poison entries are exactly the
// documents a correct pipeline indexes — provided every page was in its feed at some point:
// a backlog larger than FeedItems per site leaves its oldest pages out of the feeds (the
// first site of a language also carries the others' reprints).
func (f *Farm) Manifest(t time.Time) []Entry {
	var out []Entry
	for _, p := range f.pagesUntil(t) {
		out = append(out, f.entries(p)...)
	}
	return out
}

func (f *Farm) entries(p page) []Entry {
	st := f.story(p)
	u := f.pageURL(p, &st)
	id, canon, _ := article.ID(u)
	e := Entry{URL: u, ID: id, Canonical: canon, Site: f.sites[p.site].BaseURL, Lang: st.Lang, Story: p.key,
		Published: p.published, Kind: p.kind, Poison: p.poison, Burst: p.key[0] == 'b'}
	if p.kind != KindPoison {
		e.Title = st.Title
	}
	out := []Entry{e}
	if p.tracking {
		d := e
		d.URL, d.Kind = u+trackingQuery, KindTracking
		out = append(out, d)
	}
	return out
}

// sitePages returns site i's newest n pages published at or before t, newest first.
func (f *Farm) sitePages(i int, t time.Time, n int) []page {
	var ps []page
	top := f.storiesBefore(t)
	// A site carries about one story in Sites plus reprints: scan back far enough.
	for s := top - 1; s >= 0 && s >= top-(n+8)*f.cfg.Sites*2; s-- {
		for _, p := range f.storyPages(s) {
			if p.site == i && !p.published.After(t) {
				ps = append(ps, p)
			}
		}
	}
	for b := 0; b < f.cfg.Burst.Count; b++ {
		if p := f.burstPage(b); p.site == i && !p.published.After(t) {
			ps = append(ps, p)
		}
	}
	sort.SliceStable(ps, func(a, b int) bool { return ps[a].published.After(ps[b].published) })
	if len(ps) > n {
		ps = ps[:n]
	}
	return ps
}

// SourcesYAML is a newsflow sources file (NEWSFLOW_SOURCES) for the sites' feeds, polled
// every interval (a Go duration such as "5s"; "" = adaptive).
func SourcesYAML(sites []Site, interval string) string {
	var b strings.Builder
	b.WriteString("sources:\n")
	for _, s := range sites {
		fmt.Fprintf(&b, "  - name: %q\n    url: %q\n    kind: %s\n    language: %s\n    tags: [newsfarm]\n", s.Name, s.FeedURL(), s.FeedKind, s.Lang)
		if interval != "" {
			fmt.Fprintf(&b, "    interval: %s\n", interval)
		}
	}
	return b.String()
}

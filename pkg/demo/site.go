// Package demo serves newsflow's offline demo: four small news sites (English, German,
// Spanish, a wire service) with RSS and Atom feeds, written for the project. Pages carry the
// boilerplate real sites have (navigation, related links, author bios, comment forms), wire
// stories are reprinted by several sites, one story is linked twice with tracking
// parameters, and a burst of articles about one event arrives within minutes so an alert
// fires. Publication times are relative to when the server started.
package demo

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// BurstAfter is when, after Start, the breaking-news burst begins to appear in the feeds.
const BurstAfter = 20 * time.Second

// site is one demo news site.
type site struct {
	Path, Name, Lang, FeedKind string
}

var sites = []site{
	{Path: "dailyherald", Name: "The Daily Herald", Lang: "en", FeedKind: "rss"},
	{Path: "morgenpost", Name: "Rheinische Morgenpost", Lang: "de", FeedKind: "atom"},
	{Path: "elmirador", Name: "El Mirador", Lang: "es", FeedKind: "rss"},
	{Path: "worldwire", Name: "World Wire Digest", Lang: "en", FeedKind: "atom"},
}

// page is one article page of one site.
type page struct {
	site      site
	story     story
	slug      string
	published time.Time
	dupLink   bool // also listed in the feed with tracking parameters
}

// Server is a running demo site. Close stops it.
type Server struct {
	URL   string // http://127.0.0.1:PORT
	srv   *http.Server
	pages map[string]*page // path → page
	start time.Time
}

// Start serves the demo sites on 127.0.0.1 (port 0 picks a free port). It returns once the
// listener is bound.
func Start(port int) (*Server, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), pages: map[string]*page{}, start: time.Now().UTC().Truncate(time.Second)}
	s.build()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
	})
	mux.HandleFunc("/", s.serve)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// FeedURLs returns each site's feed URL with its site name.
func (s *Server) FeedURLs() map[string]string {
	out := map[string]string{}
	for _, st := range sites {
		out[st.Name] = s.URL + "/" + st.Path + "/feed.xml"
	}
	return out
}

// Sites returns the sites' names, paths, languages and feed kinds for building a sources list.
func Sites() []struct{ Name, Path, Lang, FeedKind string } {
	out := make([]struct{ Name, Path, Lang, FeedKind string }, len(sites))
	for i, st := range sites {
		out[i] = struct{ Name, Path, Lang, FeedKind string }{st.Name, st.Path, st.Lang, st.FeedKind}
	}
	return out
}

// Articles is the number of distinct article pages served.
func (s *Server) Articles() int { return len(s.pages) }

func (s *Server) add(st site, sty story, slug string, pub time.Time, dup bool) {
	p := &page{site: st, story: sty, slug: slug, published: pub, dupLink: dup}
	s.pages["/"+st.Path+"/"+slug+".html"] = p
}

func (s *Server) build() {
	for i, sty := range stories {
		pub := s.start.Add(-time.Duration(sty.AgeHours * float64(time.Hour)))
		if sty.Wire != "" { // reprinted by the wire site and every site of its language
			for _, st := range sites {
				if st.Lang == sty.Lang || st.Path == "worldwire" {
					s.add(st, sty, sty.Slug, pub.Add(time.Duration(len(st.Path))*time.Minute), false)
				}
			}
			continue
		}
		for _, st := range sites {
			if st.Lang == sty.Lang && st.Path != "worldwire" {
				s.add(st, sty, sty.Slug, pub, i == 0)
				break
			}
		}
	}
	// The burst: articles about one event that appear in the feeds from BurstAfter on, a few
	// seconds apart, spread over two sites — breaking news arriving while newsflow runs.
	for i, lead := range burstLeads {
		st := sites[[]int{0, 3}[i%2]]
		sty := story{Lang: "en", Title: burstTitle(i), Author: "Staff reporter", Paras: append([]string{lead}, burstBody[i%len(burstBody)], burstBody[(i+1)%len(burstBody)])}
		s.add(st, sty, fmt.Sprintf("iceland-eruption-%02d", i+1), s.start.Add(BurstAfter+time.Duration(i)*3*time.Second), false)
	}
}

func burstTitle(i int) string {
	titles := []string{"Volcano erupts near Grindavik in Iceland", "Grindavik evacuated as eruption grows", "Lava reaches defences at Grindavik",
		"Keflavik flights continue despite eruption", "Strongest Reykjanes eruption in years", "Blue Lagoon closes as volcano erupts",
		"Government pledges support for Grindavik", "Earthquake swarm preceded Reykjanes eruption", "Eruption glow visible from Reykjavik",
		"Gas warning after Reykjanes eruption", "No injuries in Iceland eruption", "Tourists flock to Reykjanes eruption"}
	return titles[i%len(titles)]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	for _, st := range sites {
		if path == "/"+st.Path+"/feed.xml" {
			s.serveFeed(w, st)
			return
		}
		if path == "/"+st.Path+"/" || path == "/"+st.Path {
			s.serveHome(w, st)
			return
		}
	}
	p, ok := s.pages[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, s.renderPage(p))
}

func (s *Server) sitePages(st site) []*page {
	var ps []*page
	for _, p := range s.pages {
		if p.site.Path == st.Path && !p.published.After(time.Now()) {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].published.After(ps[j].published) })
	return ps
}

func (s *Server) pageURL(p *page) string { return s.URL + "/" + p.site.Path + "/" + p.slug + ".html" }

func (s *Server) serveHome(w http.ResponseWriter, st site) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html lang="%s"><head><title>%s</title>`, st.Lang, html.EscapeString(st.Name))
	kind := "application/rss+xml"
	if st.FeedKind == "atom" {
		kind = "application/atom+xml"
	}
	fmt.Fprintf(&b, `<link rel="alternate" type="%s" href="/%s/feed.xml"></head><body><h1>%s</h1><ul>`, kind, st.Path, html.EscapeString(st.Name))
	for _, p := range s.sitePages(st) {
		fmt.Fprintf(&b, `<li><a href="%s">%s</a></li>`, s.pageURL(p), html.EscapeString(p.story.Title))
	}
	b.WriteString("</ul></body></html>")
	fmt.Fprint(w, b.String())
}

func (s *Server) serveFeed(w http.ResponseWriter, st site) {
	ps := s.sitePages(st)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if st.FeedKind == "atom" {
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		fmt.Fprintf(&b, `<feed xmlns="http://www.w3.org/2005/Atom"><title>%s</title><id>%s/%s/</id><updated>%s</updated><link href="%s/%s/"/>`,
			html.EscapeString(st.Name), s.URL, st.Path, s.start.Format(time.RFC3339), s.URL, st.Path)
		for _, p := range ps {
			fmt.Fprintf(&b, `<entry><title>%s</title><id>%s</id><link href="%s"/><published>%s</published><updated>%s</updated><author><name>%s</name></author><summary>%s</summary></entry>`,
				html.EscapeString(p.story.Title), s.pageURL(p), s.pageURL(p), p.published.Format(time.RFC3339), p.published.Format(time.RFC3339),
				html.EscapeString(p.story.Author), html.EscapeString(p.story.Paras[0]))
		}
		b.WriteString("</feed>")
	} else {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(&b, `<rss version="2.0"><channel><title>%s</title><link>%s/%s/</link><description>Demo feed</description><language>%s</language><ttl>1</ttl>`,
			html.EscapeString(st.Name), s.URL, st.Path, st.Lang)
		for _, p := range ps {
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><author>%s</author><description>%s</description></item>`,
				html.EscapeString(p.story.Title), s.pageURL(p), s.pageURL(p), p.published.Format(time.RFC1123Z),
				html.EscapeString(p.story.Author), html.EscapeString(p.story.Paras[0]))
			if p.dupLink { // the same article again, behind tracking parameters
				u := s.pageURL(p) + "?utm_source=rss&utm_medium=feed&fbclid=demo"
				fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate></item>`,
					html.EscapeString(p.story.Title), html.EscapeString(u), html.EscapeString(u), p.published.Format(time.RFC1123Z))
			}
		}
		b.WriteString("</channel></rss>")
	}
	fmt.Fprint(w, b.String())
}

func (s *Server) renderPage(p *page) string {
	st, sty := p.site, p.story
	e := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html lang="%s"><head><meta charset="utf-8"><title>%s | %s</title>`, sty.Lang, e(sty.Title), e(st.Name))
	fmt.Fprintf(&b, `<link rel="canonical" href="%s"><meta property="og:url" content="%s"><meta property="og:title" content="%s"><meta property="og:site_name" content="%s">`,
		s.pageURL(p), s.pageURL(p), e(sty.Title), e(st.Name))
	fmt.Fprintf(&b, `<meta name="author" content="%s"><meta property="article:published_time" content="%s">`, e(sty.Author), p.published.Format(time.RFC3339))
	fmt.Fprintf(&b, `<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":%q,"datePublished":%q,"author":{"@type":"Person","name":%q}}</script>`,
		sty.Title, p.published.Format(time.RFC3339), sty.Author)
	b.WriteString(`</head><body>`)
	fmt.Fprintf(&b, `<header><nav><a href="/%s/">Home</a> | <a href="/%s/">World</a> | <a href="/%s/">Business</a> | <a href="/%s/">Sport</a> | <a href="/%s/">Subscribe</a></nav></header>`,
		st.Path, st.Path, st.Path, st.Path, st.Path)
	b.WriteString(`<main><article>`)
	fmt.Fprintf(&b, `<h1>%s</h1><p class="byline">By %s | %s</p>`, e(sty.Title), e(sty.Author), p.published.Format("January 2, 2006 15:04 MST"))
	for i, para := range sty.Paras {
		fmt.Fprintf(&b, "<p>%s</p>\n", e(para))
		if i == 1 && len(sty.Paras) > 3 {
			b.WriteString(`<aside class="related"><p>See also: <a href="/` + st.Path + `/">More stories from our newsroom</a></p></aside>`)
		}
	}
	b.WriteString(`<div class="share">Share this article: Facebook | X | Email</div>`)
	b.WriteString(`<p>Read on: <a href="/` + st.Path + `/">Latest headlines</a></p>`)
	b.WriteString(`</article>`)
	b.WriteString(`<section class="author-bio"><p>` + e(sty.Author) + ` writes about politics and the economy for ` + e(st.Name) + `. Follow them for more stories.</p></section>`)
	b.WriteString(`<section id="comments"><h3>Leave a Reply</h3><p>Your email address will not be published. Required fields are marked *</p><form><textarea></textarea></form></section>`)
	b.WriteString(`</main><footer><p><a href="#top">Back to top</a></p><p>© 2026 ` + e(st.Name) + `. All rights reserved.</p></footer></body></html>`)
	return b.String()
}

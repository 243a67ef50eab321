package newsfarm

import (
	"fmt"
	"html"
	"strings"
	"time"
)

var esc = html.EscapeString

// renderPage writes a story's page in its site's template. Each template has its own
// boilerplate (navigation, cookie banner, related links, newsletter box, comments) and puts
// the byline and date in its own markup.
func (f *Farm) renderPage(p page, st *story) string {
	s := f.sites[p.site]
	lx := lexicons[s.Lang]
	u := f.pageURL(p, st)
	pub := p.published.UTC()
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html><html lang="%s"><head><meta charset="utf-8"><title>%s | %s</title>`, st.Lang, esc(st.Title), esc(s.Name))
	fmt.Fprintf(&b, `<link rel="canonical" href="%s"><meta property="og:url" content="%s"><meta property="og:title" content="%s"><meta property="og:site_name" content="%s">`,
		u, u, esc(st.Title), esc(s.Name))
	fmt.Fprintf(&b, `<meta property="og:type" content="article"><link rel="alternate" type="application/rss+xml" href="/feed.xml">`)
	if s.Template != 2 { // the blog template dates its posts in the body only
		fmt.Fprintf(&b, `<meta property="article:published_time" content="%s">`, pub.Format(time.RFC3339))
	}
	if s.Template == 0 || s.Template == 3 {
		fmt.Fprintf(&b, `<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":%q,"datePublished":%q,"author":{"@type":"Person","name":%q},"inLanguage":%q}</script>`,
			st.Title, pub.Format(time.RFC3339), st.Author, st.Lang)
	}
	b.WriteString(`<link rel="stylesheet" href="/static/site.css"></head><body>`)
	nav := func(class string) {
		fmt.Fprintf(&b, `<nav class="%s"><ul>`, class)
		for _, n := range lx.nav {
			fmt.Fprintf(&b, `<li><a href="/%s/">%s</a></li>`, strings.ToLower(n), esc(n))
		}
		b.WriteString(`</ul></nav>`)
	}
	related := func() {
		b.WriteString(`<aside class="related"><h3>Related</h3><ul>`)
		for i, rp := range f.sitePages(p.site, p.published, 4) {
			if rp.key == p.key || i > 3 || rp.kind == KindPoison {
				continue
			}
			rs := f.story(rp)
			fmt.Fprintf(&b, `<li><a href="%s">%s</a></li>`, f.path(rp, &rs), esc(rs.Title))
		}
		b.WriteString(`</ul></aside>`)
	}
	comments := func() {
		fmt.Fprintf(&b, `<section id="comments" class="comments"><h3>%d comments</h3><ol>`, len(st.Comments))
		for i, c := range st.Comments {
			fmt.Fprintf(&b, `<li class="comment"><span class="comment-author">reader%d</span> <p>%s</p></li>`, i+1, esc(c))
		}
		b.WriteString(`</ol><form class="comment-form"><textarea name="c"></textarea><button>Post</button></form></section>`)
	}
	body := func(open, close string) {
		for _, para := range st.Paras {
			fmt.Fprintf(&b, "%s%s%s\n", open, esc(para), close)
		}
	}
	switch s.Template {
	case 0: // classic: header, article, author bio, comments
		fmt.Fprintf(&b, `<header class="masthead"><a href="/" class="logo">%s</a>`, esc(s.Name))
		nav("main-nav")
		b.WriteString(`</header><main><article class="story">`)
		fmt.Fprintf(&b, `<h1>%s</h1><p class="byline">%s %s | <time datetime="%s">%s</time></p>`, esc(st.Title), lx.said, esc(st.Author), pub.Format(time.RFC3339), pub.Format("2 January 2006 15:04"))
		for i, para := range st.Paras {
			fmt.Fprintf(&b, "<p>%s</p>\n", esc(para))
			if i == 1 {
				related()
			}
		}
		b.WriteString(`<div class="share">Share: Facebook | X | Email</div></article>`)
		fmt.Fprintf(&b, `<section class="author-bio"><p>%s reports for %s.</p></section>`, esc(st.Author), esc(s.Name))
		comments()
		b.WriteString(`</main>`)
	case 1: // modern div soup: cookie banner, newsletter box, sidebar
		b.WriteString(`<div id="cookie-banner" class="consent"><p>We use cookies to improve your experience. <button>Accept all</button> <button>Settings</button></p></div>`)
		fmt.Fprintf(&b, `<div class="site-header"><div class="brand">%s</div>`, esc(s.Name))
		nav("top-menu")
		b.WriteString(`</div><div class="layout"><div class="content-col"><div class="article-wrapper">`)
		fmt.Fprintf(&b, `<div class="kicker">%s</div><h1 class="headline">%s</h1>`, esc(st.Topic), esc(st.Title))
		fmt.Fprintf(&b, `<div class="meta"><span class="author">%s</span> <span class="date">%s</span></div><div class="article-body">`, esc(st.Author), pub.Format("02.01.2006, 15:04"))
		body(`<div class="para">`, `</div>`)
		b.WriteString(`</div><div class="newsletter"><h4>Newsletter</h4><p>Get the day's top stories in your inbox every morning.</p><input type="email"><button>Sign up</button></div></div></div>`)
		b.WriteString(`<div class="sidebar-col">`)
		related()
		b.WriteString(`<div class="ad">Advertisement</div></div></div>`)
	case 2: // blog: entry-content, tags, comment list
		fmt.Fprintf(&b, `<div id="page"><header id="masthead"><p class="site-title"><a href="/">%s</a></p>`, esc(s.Name))
		nav("menu-primary")
		b.WriteString(`</header><div id="content"><article class="post hentry">`)
		fmt.Fprintf(&b, `<header class="entry-header"><h1 class="entry-title">%s</h1><div class="entry-meta">Posted on <time class="entry-date published" datetime="%s">%s</time> by <span class="author vcard">%s</span></div></header>`,
			esc(st.Title), pub.Format(time.RFC3339), pub.Format("January 2, 2006"), esc(st.Author))
		b.WriteString(`<div class="entry-content">`)
		body(`<p>`, `</p>`)
		fmt.Fprintf(&b, `</div><footer class="entry-footer"><span class="tags-links">Tags: <a href="/tag/">%s</a></span></footer></article>`, esc(st.Topic))
		comments()
		related()
		b.WriteString(`</div></div>`)
	default: // portal: breadcrumb, most-read list, paywall teaser
		fmt.Fprintf(&b, `<header><div class="top">%s</div>`, esc(s.Name))
		nav("nav")
		fmt.Fprintf(&b, `</header><ol class="breadcrumb"><li><a href="/">%s</a></li><li>%s</li></ol>`, esc(lx.nav[0]), esc(st.Topic))
		b.WriteString(`<main><article>`)
		fmt.Fprintf(&b, `<h1 itemprop="headline">%s</h1><div class="byline"><a rel="author" href="/authors/">%s</a> · %s</div>`, esc(st.Title), esc(st.Author), pub.Format("2006-01-02 15:04"))
		body(`<p>`, `</p>`)
		b.WriteString(`<div class="paywall-teaser"><p>Support independent journalism: subscribe from 1 € a week.</p></div></article>`)
		b.WriteString(`<aside class="most-read"><h3>Most read</h3><ol>`)
		for _, rp := range f.sitePages(p.site, p.published.Add(-time.Hour), 5) {
			if rp.kind == KindPoison {
				continue
			}
			rs := f.story(rp)
			fmt.Fprintf(&b, `<li><a href="%s">%s</a></li>`, f.path(rp, &rs), esc(rs.Title))
		}
		b.WriteString(`</ol></aside></main>`)
	}
	fmt.Fprintf(&b, `<footer class="site-footer"><p>© %d %s. All rights reserved.</p><p><a href="/privacy">Privacy</a> | <a href="/imprint">Imprint</a> | <a href="/contact">Contact</a></p></footer></body></html>`,
		pub.Year(), esc(s.Name))
	return b.String()
}

// renderFeed writes site i's feed (RSS 2.0 or Atom) as of t.
func (f *Farm) renderFeed(i int, t time.Time) string {
	s := f.sites[i]
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	ps := f.sitePages(i, t, f.cfg.FeedItems)
	if s.FeedKind == "atom" {
		fmt.Fprintf(&b, `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="%s"><title>%s</title><id>%s/</id><link href="%s/"/><link rel="self" href="%s"/><updated>%s</updated>`,
			s.Lang, esc(s.Name), s.BaseURL, s.BaseURL, s.FeedURL(), t.UTC().Format(time.RFC3339))
		for _, p := range ps {
			for _, e := range f.entries(p) {
				st := f.story(p)
				fmt.Fprintf(&b, `<entry><title>%s</title><id>%s</id><link href="%s"/><published>%s</published><updated>%s</updated><author><name>%s</name></author><summary>%s</summary></entry>`,
					esc(feedTitle(e, &st)), esc(e.URL), esc(e.URL), e.Published.UTC().Format(time.RFC3339), e.Published.UTC().Format(time.RFC3339), esc(st.Author), esc(st.Paras[0]))
			}
		}
		b.WriteString("</feed>")
		return b.String()
	}
	fmt.Fprintf(&b, `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>%s</title><link>%s/</link><description>%s</description><language>%s</language><lastBuildDate>%s</lastBuildDate>`,
		esc(s.Name), s.BaseURL, esc(s.Name), s.Lang, t.UTC().Format(time.RFC1123Z))
	for _, p := range ps {
		for _, e := range f.entries(p) {
			st := f.story(p)
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid isPermaLink="true">%s</guid><pubDate>%s</pubDate><dc:creator>%s</dc:creator><description>%s</description></item>`,
				esc(feedTitle(e, &st)), esc(e.URL), esc(e.URL), e.Published.UTC().Format(time.RFC1123Z), esc(st.Author), esc(st.Paras[0]))
		}
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func feedTitle(e Entry, st *story) string {
	if e.Kind == KindPoison {
		return st.Title // the feed looks ordinary; the page is not
	}
	return e.Title
}

// renderSitemap writes site i's news sitemap as of t.
func (f *Farm) renderSitemap(i int, t time.Time) string {
	s := f.sites[i]
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">`)
	for _, p := range f.sitePages(i, t, f.cfg.SitemapItems) {
		st := f.story(p)
		fmt.Fprintf(&b, `<url><loc>%s</loc><lastmod>%s</lastmod><news:news><news:publication><news:name>%s</news:name><news:language>%s</news:language></news:publication><news:publication_date>%s</news:publication_date><news:title>%s</news:title></news:news></url>`,
			esc(f.pageURL(p, &st)), p.published.UTC().Format(time.RFC3339), esc(s.Name), s.Lang, p.published.UTC().Format(time.RFC3339), esc(st.Title))
	}
	b.WriteString("</urlset>")
	return b.String()
}

// renderHome writes site i's home page as of t.
func (f *Farm) renderHome(i int, t time.Time) string {
	s := f.sites[i]
	var b strings.Builder
	kind := "application/rss+xml"
	if s.FeedKind == "atom" {
		kind = "application/atom+xml"
	}
	fmt.Fprintf(&b, `<!DOCTYPE html><html lang="%s"><head><meta charset="utf-8"><title>%s</title><link rel="alternate" type="%s" href="/feed.xml"></head><body><h1>%s</h1><ul>`,
		s.Lang, esc(s.Name), kind, esc(s.Name))
	for _, p := range f.sitePages(i, t, 30) {
		st := f.story(p)
		fmt.Fprintf(&b, `<li><a href="%s">%s</a></li>`, f.path(p, &st), esc(st.Title))
	}
	b.WriteString(`</ul></body></html>`)
	return b.String()
}

package fetch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFeed(t *testing.T) {
	tests := []struct {
		name, file, contentType string
		wantErr                 error
		wantErrAny              bool
		wantItems               int
		wantFormat              string
		check                   func(t *testing.T, p *Parsed)
	}{
		{name: "rss2", file: "rss2.xml", wantItems: 3, wantFormat: "rss", check: func(t *testing.T, p *Parsed) {
			it := p.Items[0]
			if it.GUID != "ex-1001" || it.Title != "Council approves budget" || !strings.Contains(it.Content, "<b>budget</b>") {
				t.Errorf("item 0 = %+v", it)
			}
			if len(it.Authors) != 1 || it.Authors[0] != "Jane Roe" || it.Published == nil {
				t.Errorf("authors/date: %+v", it)
			}
			if p.Items[1].Link != "https://news.example.com/2026/11/relative" {
				t.Errorf("relative link not resolved: %q", p.Items[1].Link)
			}
			if p.Items[2].Link != "https://news.example.com/2026/11/guid-only" {
				t.Errorf("guid-as-link: %q", p.Items[2].Link)
			}
			if p.TTL != 45*time.Minute {
				t.Errorf("ttl = %s", p.TTL)
			}
		}},
		{name: "atom", file: "atom.xml", wantItems: 1, wantFormat: "atom"},
		{name: "atom entry document", file: "atom-entry.xml", wantItems: 1, wantFormat: "atom", check: func(t *testing.T, p *Parsed) {
			it := p.Items[0]
			if it.GUID != "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a" || it.Title != "Harbour bridge reopens after repairs" ||
				it.Link != "https://news.example.com/2026/11/bridge-reopens" || it.Updated == nil || len(it.Authors) != 1 ||
				!strings.Contains(it.Description, "six weeks of repairs") {
				t.Errorf("entry = %+v", it)
			}
		}},
		{name: "jsonfeed", file: "feed.json", wantItems: 2, wantFormat: "json"},
		{name: "rss1", file: "rss1.rdf", wantItems: 1, wantFormat: "rss"},
		{name: "rss091", file: "rss091.xml", wantItems: 1, wantFormat: "rss"},
		{name: "news sitemap", file: "newssitemap.xml", wantItems: 2, wantFormat: "sitemap", check: func(t *testing.T, p *Parsed) {
			it := p.Items[0]
			if it.Title != "Companies A, B in Merger Talks" || it.Published == nil || it.Language != "en" || it.Image == "" || len(it.Categories) != 2 {
				t.Errorf("news item = %+v", it)
			}
		}},
		{name: "sitemap index", file: "sitemapindex.xml", wantFormat: "sitemapindex", check: func(t *testing.T, p *Parsed) {
			if len(p.Children) != 2 || p.Children[1].Loc != "https://news.example.com/sitemap-old.xml" {
				t.Errorf("children = %+v", p.Children)
			}
		}},
		{name: "html is not a feed", file: "page.html", wantErr: ErrHTMLNotFeed},
		{name: "empty", file: "empty.xml", wantErr: ErrEmptyBody},
		{name: "no items", file: "noitems.xml", wantItems: 0, wantFormat: "rss"},
		{name: "ill-formed keeps what it can or errors", file: "illformed.xml", wantErrAny: true},
		{name: "latin1 via content-type", file: "latin1-noheader.xml", contentType: "text/xml; charset=iso-8859-1", wantItems: 1, check: func(t *testing.T, p *Parsed) {
			if p.Items[0].Title != "Résumé news" {
				t.Errorf("title = %q", p.Items[0].Title)
			}
		}},
		{name: "latin1 without charset is repaired", file: "latin1-noheader.xml", wantItems: 1},
		{name: "utf-16 with bom", file: "utf16le-bom.xml", wantItems: 1, check: func(t *testing.T, p *Parsed) {
			if p.Items[0].Title != "Grüße" {
				t.Errorf("title = %q", p.Items[0].Title)
			}
		}},
		{name: "truncated feed salvaged", file: "truncated.xml", wantItems: 1, check: func(t *testing.T, p *Parsed) {
			if !p.Repaired || p.Items[0].Title != "first" {
				t.Errorf("repaired %v, items %+v", p.Repaired, p.Items)
			}
		}},
		{name: "bogus declared encoding", file: "bogus-encoding.xml", wantItems: 1},
		{name: "undeclared cp1255 detected", file: "cp1255-undeclared.xml", wantItems: 1, check: func(t *testing.T, p *Parsed) {
			if got := p.Items[0].Title; got != "שלום עולם" {
				t.Errorf("title = %q", got)
			}
		}},
		{name: "undeclared tis-620 not read as latin-1", file: "tis620-undeclared.xml", wantItems: 1, check: func(t *testing.T, p *Parsed) {
			if got := p.Items[0].Description; strings.ContainsAny(got, "ÊÓ¹Ñ¡") {
				t.Errorf("description read as Latin-1: %q", got)
			}
		}},
		{name: "media:description is the text of items without one", file: "media-description.xml", wantItems: 2, check: func(t *testing.T, p *Parsed) {
			if got := p.Items[0].Description; got != "How a ship could find its way without satellites." {
				t.Errorf("item 0 description from media:group = %q", got)
			}
			if got := p.Items[1].Description; got != "The entry's own summary." {
				t.Errorf("item 1 description = %q, want the entry's summary", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseFeed(readTestdata(t, tc.file), "https://news.example.com/rss.xml", tc.contentType, ParseLimits{})
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			case tc.wantErrAny:
				if err == nil && p == nil {
					t.Fatal("nil, nil")
				}
				return
			case err != nil:
				t.Fatalf("ParseFeed: %v", err)
			}
			if len(p.Items) != tc.wantItems {
				t.Errorf("items = %d, want %d", len(p.Items), tc.wantItems)
			}
			if tc.wantFormat != "" && p.Format != tc.wantFormat {
				t.Errorf("format = %q, want %q", p.Format, tc.wantFormat)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestParseSitemapLimit(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for i := 0; i < 100; i++ {
		b.WriteString(`<url><loc>https://x.example.com/a` + string(rune('a'+i%26)) + `</loc></url>`)
	}
	b.WriteString(`</urlset>`)
	p, err := ParseSitemap(&b, "", ParseLimits{MaxSitemapURLs: 10})
	if !errors.Is(err, ErrTooManyItems) || p == nil || len(p.Items) != 10 {
		t.Fatalf("got %v items, err %v", p, err)
	}
}

func TestHashIgnoresVolatileFields(t *testing.T) {
	a := []byte(`<rss version="2.0"><channel><lastBuildDate>Mon, 01 Jan 2026 00:00:00 GMT</lastBuildDate><item><link>https://a.example.com/1</link></item></channel></rss>`)
	b := bytes.Replace(a, []byte("Mon, 01 Jan"), []byte("Tue, 02 Jan"), 1)
	pa, _ := ParseFeed(a, "", "", ParseLimits{})
	pb, _ := ParseFeed(b, "", "", ParseLimits{})
	if pa.Hash() != pb.Hash() {
		t.Error("hash changed with lastBuildDate only")
	}
}

func TestDiscover(t *testing.T) {
	got := Discover(readTestdata(t, "page.html"), "https://blog.example.org/")
	want := []string{"https://blog.example.org/rss.xml", "https://blog.example.org/feed.json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Discover = %v, want %v", got, want)
	}
}

func TestLoadSources(t *testing.T) {
	t.Run("yaml", func(t *testing.T) {
		ss, err := LoadSources("testdata/sources.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 3 {
			t.Fatalf("got %d sources (duplicate not dropped?)", len(ss))
		}
		s := ss[0]
		if s.Kind != KindRSS || s.Interval != 15*time.Minute || !s.Options.FullContent || s.Options.UserAgent == "" || s.Language != "en" || len(s.Tags) != 2 {
			t.Errorf("source 0 = %+v", s)
		}
		if ss[1].Name != "paper.example.com" || ss[2].Kind != KindSite {
			t.Errorf("defaults: %+v %+v", ss[1], ss[2])
		}
	})
	t.Run("opml", func(t *testing.T) {
		ss, err := LoadSources("testdata/sources.opml")
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 3 || ss[1].Name != "Feed B" || strings.Join(ss[1].Tags, "/") != "Tech/Deep" {
			t.Errorf("opml = %+v", ss)
		}
	})
	t.Run("bad kind", func(t *testing.T) {
		if _, err := ParseSourcesYAML([]byte("- url: https://a.example.com/\n  kind: podcast\n")); err == nil {
			t.Error("want error")
		}
	})
	t.Run("bad url", func(t *testing.T) {
		if _, err := ParseSourcesYAML([]byte("- url: file:///etc/passwd\n")); err == nil {
			t.Error("want error")
		}
	})
}

func FuzzParseFeed(f *testing.F) {
	for _, n := range []string{"rss2.xml", "atom.xml", "feed.json", "rss1.rdf", "rss091.xml", "newssitemap.xml", "sitemapindex.xml", "page.html", "illformed.xml", "latin1-noheader.xml"} {
		f.Add(readTestdata(f, n))
	}
	f.Add([]byte(`<?xml version="1.0" encoding="bogus"?><rss><channel><item><link>x</link></item></channel></rss>`))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseFeed(b, "https://fuzz.example.com/feed", "text/xml", ParseLimits{MaxSitemapURLs: 100})
		if err == nil && p == nil {
			t.Fatal("nil result without error")
		}
		if p != nil {
			_ = p.Hash()
		}
	})
}

func FuzzParseSitemap(f *testing.F) {
	f.Add(readTestdata(f, "newssitemap.xml"))
	f.Add(readTestdata(f, "sitemapindex.xml"))
	f.Add([]byte(`<urlset><url><loc>../x</loc><lastmod>2020-13-45</lastmod></url></urlset>`))
	f.Add([]byte(`<sitemapindex><sitemap><loc>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseSitemap(bytes.NewReader(b), "https://fuzz.example.com/sitemap.xml", ParseLimits{MaxSitemapURLs: 50})
		if p != nil && len(p.Items) > 50 {
			t.Fatalf("limit exceeded: %d", len(p.Items))
		}
		_ = err
	})
}

package fetch

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func synthFeed(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench</title><link>https://bench.example.com/</link>`)
	base := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<item><title>Headline number %d about something</title><link>https://bench.example.com/2026/11/story-%d?utm_source=rss</link><guid isPermaLink="false">bench-%d</guid><pubDate>%s</pubDate><dc:creator>Reporter %d</dc:creator><category>News</category><description>A short summary of story %d, with a few words.</description><content:encoded><![CDATA[<p>Paragraph one of story %d.</p><p>Paragraph two.</p>]]></content:encoded></item>`,
			i, i, i, base.Add(-time.Duration(i)*time.Minute).Format(time.RFC1123Z), i%7, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

// BenchmarkParseFeed reports feed items parsed per second (RSS 2.0, 100 items per feed).
func BenchmarkParseFeed(b *testing.B) {
	for _, n := range []int{100} {
		body := synthFeed(n)
		b.Run(fmt.Sprintf("baseline_encoding_xml_items=%d", n), func(b *testing.B) {
			// The floor: encoding/xml into a minimal struct, no normalisation.
			type item struct {
				Title, Link, GUID, PubDate, Description string
			}
			var doc struct {
				Items []item `xml:"channel>item"`
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				doc.Items = doc.Items[:0]
				if err := xml.Unmarshal(body, &doc); err != nil || len(doc.Items) != n {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
		})
		b.Run(fmt.Sprintf("rss_items=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := ParseFeed(body, "https://bench.example.com/rss", "", ParseLimits{})
				if err != nil || len(p.Items) != n {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkParseSitemap reports sitemap URLs parsed per second (news sitemap, 5,000 URLs).
func BenchmarkParseSitemap(b *testing.B) {
	var s bytes.Buffer
	s.WriteString(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">`)
	const n = 5000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&s, `<url><loc>https://paper.example.com/a/%d.html</loc><news:news><news:publication><news:name>P</news:name><news:language>en</news:language></news:publication><news:publication_date>2026-11-27T13:00:00Z</news:publication_date><news:title>Title %d</news:title></news:news></url>`, i, i)
	}
	s.WriteString(`</urlset>`)
	body := s.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseSitemap(bytes.NewReader(body), "https://paper.example.com/", ParseLimits{})
		if err != nil || len(p.Items) != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "urls/s")
}

// BenchmarkSchedulerTick measures the scheduler with 10,000 feeds: one tick pops the feeds
// that are due (1% of them) and pushes them back with their next due time, which is the
// whole per-tick work of the Run loop besides channel sends.
func BenchmarkSchedulerTick(b *testing.B) {
	const feeds = 10000
	var s schedule
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < feeds; i++ {
		s.push(i, now.Add(time.Duration(i)*36*time.Millisecond)) // spread over 6 minutes
	}
	due := make([]int, 0, feeds)
	tick := 3600 * time.Millisecond // 1% of the feeds (100) due per tick
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(tick)
		due = s.popDue(now, due[:0])
		for _, idx := range due {
			s.push(idx, now.Add(6*time.Minute))
		}
	}
	b.ReportMetric(float64(len(due)), "feeds/tick")
	b.ReportMetric(float64(cap(s.h)*16), "heap_bytes")
}

// BenchmarkPollNotDue is the per-feed cost of a due check that finds the feed not due (state
// read from the MemStore), the common case for replicas sharing a store.
func BenchmarkPollNotDue(b *testing.B) {
	store := NewMemStore()
	src := Source{Name: "x", URL: "https://x.example.com/rss", Kind: KindFeed}
	store.SaveFeed(context.Background(), src.Key(), FeedState{NextDue: time.Now().Add(time.Hour), ETag: `"abc"`, LastHash: "0123456789abcdef"}, 0)
	f, err := New(testConfig(), []Source{src}, store, &capture{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f.PollFeed(context.Background(), 0)
	}
}

// benchSite serves article pages of ~20 KB and a feed listing fresh slugs.
func benchSite(b *testing.B) *httptest.Server {
	page := "<html><head><title>t</title></head><body>" + strings.Repeat("<p>Some article text goes here, sentence after sentence.</p>", 350) + "</body></html>"
	var gen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rss" {
			g := gen.Add(1)
			var sb strings.Builder
			sb.WriteString(`<rss version="2.0"><channel><title>b</title>`)
			for i := 0; i < 50; i++ {
				fmt.Fprintf(&sb, `<item><title>t</title><link>http://%s/a/%d-%d</link></item>`, r.Host, g, i)
			}
			sb.WriteString(`</channel></rss>`)
			io.WriteString(w, sb.String())
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkFetchPages measures pages fetched per second from a local site with politeness off,
// through the fetcher's client (SSRF guard, decompression, limit, charset), against a plain
// net/http GET baseline in the same run.
func BenchmarkFetchPages(b *testing.B) {
	srv := benchSite(b)
	cfg := testConfig()
	cfg.DisablePoliteness = true
	c, err := newClient(cfg.Defaults())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.close)
	b.Run("baseline_net_http", func(b *testing.B) {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := hc.Get(srv.URL + "/a/1")
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("fetch_client", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.get(context.Background(), request{URL: srv.URL + "/a/1", MaxBytes: 4 << 20, Truncate: true, ToUTF8: true}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}

// BenchmarkPollEndToEnd polls a feed with 50 new items per poll: feed fetch + parse, 50 page
// fetches, canonical/ID, seen-set, envelope encode and publish. Reports articles/s.
func BenchmarkPollEndToEnd(b *testing.B) {
	srv := benchSite(b)
	cfg := testConfig()
	cfg.DisablePoliteness = true
	store := NewMemStore()
	src := Source{Name: "bench", URL: srv.URL + "/rss"}
	f, err := New(cfg, []Source{src}, store, &capture{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.client.close)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		st, rev, _ := store.LoadFeed(ctx, src.Key())
		st.NextDue = time.Time{}
		store.SaveFeed(ctx, src.Key(), st, rev)
		f.PollFeed(ctx, 0)
	}
	b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "articles/s")
}

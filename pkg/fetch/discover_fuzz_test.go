package fetch

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzDiscover(f *testing.F) {
	page, err := os.ReadFile(filepath.Join("testdata", "page.html"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(page, "https://example.com/news/")
	f.Add([]byte(`<link rel="alternate" type="application/rss+xml" href="/rss">`), "https://a.example/")
	f.Add([]byte(`<link rel="alternate feed" type="application/feed+json" href="feed.json"><link rel="alternate" type="application/atom+xml" href="//b.example/atom">`), "http://a.example/x/y")
	f.Add([]byte(`<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">`), "https://a.example/")
	f.Add([]byte(`<link rel="alternate" type="application/rss+xml" href="http://[::1">`), "")
	f.Add([]byte(`<link rel="alternate" type="application/rss+xml" href="https://x.example/r">`), "%zz")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, html []byte, pageURL string) {
		urls := Discover(html, pageURL)
		seen := map[string]bool{}
		for i, u := range urls {
			if u == "" {
				t.Fatalf("url #%d empty", i)
			}
			if !looksLikeURL(u) {
				t.Fatalf("url #%d %q not http(s)", i, u)
			}
			if seen[u] {
				t.Fatalf("url #%d %q duplicated", i, u)
			}
			seen[u] = true
		}
	})
}

// FuzzRetryAfter checks the Retry-After parser never panics and never returns a negative
// or absurd delay for an HTTP date.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", " 30 ", "-5", "1e3", "99999999999999999999",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "garbage"} {
		f.Add(s)
	}
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(v, now)
		if d < 0 {
			t.Fatalf("retryAfter(%q) = %v < 0", v, d)
		}
	})
}

// FuzzFreshness checks Cache-Control / Expires / Date parsing never panics or goes negative,
// and that no-store/no-cache always wins.
func FuzzFreshness(f *testing.F) {
	f.Add("max-age=300", "", "")
	f.Add("public, s-maxage=60, max-age=300", "", "")
	f.Add(`max-age="120"`, "", "")
	f.Add("no-cache, max-age=300", "", "")
	f.Add("max-age=-1", "Wed, 21 Oct 2015 08:00:00 GMT", "Wed, 21 Oct 2015 07:00:00 GMT")
	f.Add("", "Wed, 21 Oct 2015 08:00:00 GMT", "")
	f.Add("", "0", "garbage")
	f.Add("max-age=99999999999999999999", "", "")
	f.Add("s-maxage=9227000000", "", "") // overflowed to a negative Duration before seconds()
	f.Add(",,=,", "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT")
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, cc, expires, date string) {
		h := http.Header{}
		if cc != "" {
			h.Set("Cache-Control", cc)
		}
		if expires != "" {
			h.Set("Expires", expires)
		}
		if date != "" {
			h.Set("Date", date)
		}
		d := freshness(h, now)
		if d < 0 {
			t.Fatalf("freshness(cc=%q expires=%q date=%q) = %v < 0", cc, expires, date, d)
		}
	})
}

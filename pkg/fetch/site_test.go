package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// capture is an in-memory bus.Publisher recording what was published.
type capture struct {
	mu   sync.Mutex
	msgs []bus.Outgoing // news.raw
	fail error
	// submits are the messages published to news.submit; failSubmit (if set) decides the
	// error of each such publish (nil: stored).
	submits    []bus.Outgoing
	failSubmit func(ctx context.Context, m bus.Outgoing) error
}

func (c *capture) Publish(ctx context.Context, subject string, m bus.Outgoing) error {
	c.mu.Lock()
	failSubmit := c.failSubmit
	c.mu.Unlock()
	if subject == article.SubjectSubmit && failSubmit != nil {
		if err := failSubmit(ctx, m); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	if subject != article.SubjectRaw && subject != article.SubjectSubmit {
		return fmt.Errorf("unexpected subject %q", subject)
	}
	if m.Header[bus.HeaderMsgID] != m.Key {
		return fmt.Errorf("msg id header %q != key %q", m.Header[bus.HeaderMsgID], m.Key)
	}
	if subject == article.SubjectSubmit {
		c.submits = append(c.submits, m)
		return nil
	}
	c.msgs = append(c.msgs, m)
	return nil
}

// submitted returns what was published to news.submit so far.
func (c *capture) submitted() []bus.Outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bus.Outgoing(nil), c.submits...)
}

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// envelopes decodes everything published.
func (c *capture) envelopes(t *testing.T) []*article.Envelope {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*article.Envelope
	for _, m := range c.msgs {
		e, err := article.Decode(m.Data)
		if err != nil {
			t.Fatalf("published envelope does not decode: %v", err)
		}
		if e.ID != m.Key {
			t.Fatalf("envelope id %s != key %s", e.ID, m.Key)
		}
		out = append(out, e)
	}
	return out
}

// keysOnce fails when a key was published more than once.
func (c *capture) keysOnce(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]int{}
	for _, m := range c.msgs {
		seen[m.Key]++
		if seen[m.Key] > 1 {
			t.Errorf("key %s published %d times", m.Key, seen[m.Key])
		}
	}
}

// site is a local news site whose feeds change over time. Handlers are configurable per path.
type site struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	items  map[string][]string // feed path -> article slugs (newest first)
	hits   map[string]int
	etags  bool // honour If-None-Match
	liar   bool // always answer 304 to conditional requests
	extra  map[string]http.HandlerFunc
	robots string
}

func newSite(t *testing.T) *site {
	s := &site{t: t, items: map[string][]string{}, hits: map[string]int{}, etags: true, extra: map[string]http.HandlerFunc{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) url(p string) string { return s.srv.URL + p }

func (s *site) add(feed string, slugs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[feed] = append(append([]string(nil), slugs...), s.items[feed]...)
}

func (s *site) hit(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	h := s.extra[r.URL.Path]
	items, isFeed := s.items[r.URL.Path]
	items = append([]string(nil), items...)
	etags, liar, robots := s.etags, s.liar, s.robots
	s.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	switch {
	case r.URL.Path == "/robots.txt":
		if robots == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, robots)
	case isFeed:
		etag := fmt.Sprintf(`"v%d"`, len(items))
		if inm := r.Header.Get("If-None-Match"); inm != "" && (liar || (etags && inm == etag)) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if etags {
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><link>%s/</link><lastBuildDate>%s</lastBuildDate>`, s.srv.URL, time.Now().Format(time.RFC1123))
		base := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		for i, slug := range items {
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s/a/%s?utm_source=feed</link><guid>%s</guid><pubDate>%s</pubDate><description>desc %s</description><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;full %s&lt;/p&gt;</content:encoded></item>`,
				slug, s.srv.URL, slug, slug, base.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), slug, slug)
		}
		b.WriteString(`</channel></rss>`)
		fmt.Fprint(w, b.String())
	case strings.HasPrefix(r.URL.Path, "/a/"):
		slug := strings.TrimPrefix(r.URL.Path, "/a/")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><head><title>%s</title><link rel="canonical" href="/a/%s"></head><body><p>Article %s body.</p></body></html>`, slug, slug, slug)
	default:
		http.NotFound(w, r)
	}
}

// testConfig is a fast, loopback-allowed configuration.
func testConfig() Config {
	return Config{
		AllowAddresses: []string{"127.0.0.1", "::1"},
		RequestTimeout: 5 * time.Second, HeaderTimeout: 5 * time.Second, DialTimeout: 2 * time.Second,
		MinInterval: 50 * time.Millisecond, DefaultInterval: 100 * time.Millisecond, MaxInterval: time.Second,
		MaxBackoff: time.Second, ParkedRetry: time.Second, StartSpread: time.Millisecond,
		HostInterval: time.Millisecond, MaxHostWait: time.Second, LeaseTTL: 10 * time.Second,
		DrainTimeout: 5 * time.Second, Workers: 4, PerFeedMetrics: true,
	}
}

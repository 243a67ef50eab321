package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
	"golang.org/x/time/rate"

	"github.com/newsflow/newsflow/pkg/bus"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newTestFetcher(t *testing.T, cfg Config, srcs []Source, st Store, pub *capture) *Fetcher {
	t.Helper()
	f, err := New(cfg, srcs, st, pub, zaptest.NewLogger(t), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.client.close)
	return f
}

// makeDue clears NextDue so the next PollFeed polls (instead of waiting for the interval).
func makeDue(t *testing.T, st Store, src Source) {
	t.Helper()
	ctx := context.Background()
	s, rev, err := st.LoadFeed(ctx, src.Key())
	if err != nil {
		t.Fatal(err)
	}
	s.NextDue = time.Time{}
	if _, err := st.SaveFeed(ctx, src.Key(), s, rev); err != nil {
		t.Fatal(err)
	}
}

func state(t *testing.T, st Store, src Source) FeedState {
	t.Helper()
	s, _, err := st.LoadFeed(context.Background(), src.Key())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewItemsPublishedOnceAndNotRefetched(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "one", "two")
	src := Source{Name: "site", URL: s.url("/rss"), Kind: KindFeed, Tags: []string{"t"}, Language: "en"}
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, testConfig(), []Source{src}, store, pub)
	ctx := context.Background()

	f.PollFeed(ctx, 0)
	if pub.count() != 2 {
		t.Fatalf("first poll published %d, want 2", pub.count())
	}
	// Not due yet: PollFeed must not fetch.
	f.PollFeed(ctx, 0)
	if got := s.hit("/rss"); got != 1 {
		t.Fatalf("feed fetched %d times before due", got)
	}
	// Due, unchanged: 304, nothing published, no pages refetched.
	makeDue(t, store, src)
	f.PollFeed(ctx, 0)
	if pub.count() != 2 || s.hit("/a/one") != 1 {
		t.Fatalf("after 304: published %d, page hits %d", pub.count(), s.hit("/a/one"))
	}
	if testutil.ToFloat64(f.m.polls.WithLabelValues("not_modified")) != 1 {
		t.Error("304 not counted")
	}
	// A new item appears.
	s.add("/rss", "three")
	makeDue(t, store, src)
	f.PollFeed(ctx, 0)
	if pub.count() != 3 {
		t.Fatalf("after new item: published %d, want 3", pub.count())
	}
	pub.keysOnce(t)
	for _, e := range pub.envelopes(t) {
		r := e.Raw
		if r.Body == "" || !strings.Contains(r.Body, "Article") || r.HTTP == nil || r.HTTP.Status != 200 {
			t.Errorf("raw %s: body/http missing: %+v", e.ID, r)
		}
		if strings.Contains(r.CanonicalURL, "utm_") || r.Source.Name != "site" || r.Source.Language != "en" || r.Feed == nil || r.Feed.GUID == "" {
			t.Errorf("raw %s: %+v", e.ID, r)
		}
	}
	if testutil.ToFloat64(f.m.items.WithLabelValues("new")) != 3 || testutil.ToFloat64(f.m.items.WithLabelValues("seen")) != 2 {
		t.Errorf("items metrics: new %v seen %v", testutil.ToFloat64(f.m.items.WithLabelValues("new")), testutil.ToFloat64(f.m.items.WithLabelValues("seen")))
	}
}

func TestStateRestoredAfterRestart(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "a1", "a2")
	src := Source{Name: "site", URL: s.url("/rss")}
	store := NewMemStore()
	pub1 := &capture{}
	newTestFetcher(t, testConfig(), []Source{src}, store, pub1).PollFeed(context.Background(), 0)
	if pub1.count() != 2 {
		t.Fatalf("published %d", pub1.count())
	}
	etag := state(t, store, src).ETag
	if etag == "" {
		t.Fatal("etag not stored")
	}
	// "Restart": a new Fetcher on the same store, with validators disabled server-side so a
	// full body comes back: still nothing re-published.
	s.mu.Lock()
	s.etags = false
	s.mu.Unlock()
	pub2 := &capture{}
	f2 := newTestFetcher(t, testConfig(), []Source{src}, store, pub2)
	makeDue(t, store, src)
	f2.PollFeed(context.Background(), 0)
	if pub2.count() != 0 {
		t.Fatalf("restart re-published %d items", pub2.count())
	}
	if got := s.hit("/a/a1"); got != 1 {
		t.Errorf("page refetched after restart: %d", got)
	}
}

func TestLyingValidatorsDetected(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "x1")
	s.liar = true
	src := Source{Name: "liar", URL: s.url("/rss")}
	cfg := testConfig()
	cfg.FullCheckEvery, cfg.LieStrikes = 2, 1
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	ctx := context.Background()
	f.PollFeed(ctx, 0) // unconditional first poll
	s.add("/rss", "x2")
	makeDue(t, store, src)
	f.PollFeed(ctx, 0) // conditional: the liar says 304
	if pub.count() != 1 {
		t.Fatalf("published %d after lying 304", pub.count())
	}
	makeDue(t, store, src)
	f.PollFeed(ctx, 0) // unconditional check: content changed → lie detected
	if pub.count() != 2 {
		t.Fatalf("unconditional check missed the new item: %d", pub.count())
	}
	st := state(t, store, src)
	if !st.ValidatorsDisabled {
		t.Fatalf("validators still trusted: %+v", st)
	}
	if testutil.ToFloat64(f.m.distrusted) != 1 {
		t.Error("distrusted metric")
	}
	// From now on requests carry no validators.
	s.add("/rss", "x3")
	makeDue(t, store, src)
	f.PollFeed(ctx, 0)
	if pub.count() != 3 {
		t.Fatalf("new item after distrust: %d", pub.count())
	}
}

func TestRetryAfterAndBackoffAndParking(t *testing.T) {
	s := newSite(t)
	var mu sync.Mutex
	code := 429
	s.extra["/busy"] = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(code)
	}
	src := Source{Name: "busy", URL: s.url("/busy")}
	cfg := testConfig()
	cfg.ParkAfter = 3
	cfg.ParkedRetry = 48 * time.Hour
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	ctx := context.Background()
	before := time.Now()
	next := f.PollFeed(ctx, 0)
	if next.Sub(before) < 50*time.Minute { // Retry-After 1h (minus jitter) beats MaxBackoff 1s
		t.Errorf("Retry-After not honoured: next in %s", next.Sub(before))
	}
	if st := state(t, store, src); st.Failures != 1 || !strings.Contains(st.LastError, "429") {
		t.Errorf("state = %+v", st)
	}
	// The whole host is paused: another URL on it is deferred without a request.
	if _, err := f.client.get(ctx, request{URL: s.url("/other"), MaxBytes: 1 << 20}); !errors.Is(err, ErrHostBusy) || s.hit("/other") != 0 {
		t.Errorf("host not paused after 429: %v", err)
	}
	f.client.hostMu.Lock()
	clear(f.client.paused) // let the test go on without waiting an hour
	f.client.hostMu.Unlock()
	mu.Lock()
	code = 500
	mu.Unlock()
	for i := 0; i < 2; i++ {
		makeDue(t, store, src)
		next = f.PollFeed(ctx, 0)
		f.client.hostMu.Lock()
		clear(f.client.paused)
		f.client.hostMu.Unlock()
	}
	st := state(t, store, src)
	if !st.Parked || st.Failures != 3 {
		t.Fatalf("not parked: %+v", st)
	}
	if next.Sub(time.Now()) < 24*time.Hour {
		t.Errorf("parked feed due in %s", time.Until(next))
	}
	if testutil.ToFloat64(f.m.parked) != 1 || testutil.ToFloat64(f.m.failures.WithLabelValues("busy")) != 3 {
		t.Error("parking metrics")
	}
	if testutil.ToFloat64(f.m.errors.WithLabelValues("http_5xx")) != 2 || testutil.ToFloat64(f.m.errors.WithLabelValues("http_429")) != 1 {
		t.Error("error reasons")
	}
	// Recovery unparks.
	mu.Lock()
	delete(s.extra, "/busy")
	mu.Unlock()
	s.add("/busy", "back")
	makeDue(t, store, src)
	f.PollFeed(ctx, 0)
	if st := state(t, store, src); st.Parked || st.Failures != 0 || pub.count() != 1 {
		t.Errorf("not recovered: %+v, published %d", st, pub.count())
	}
	if testutil.ToFloat64(f.m.parked) != 0 {
		t.Error("parked gauge not cleared")
	}
	rec := httptest.NewRecorder()
	f.StatusHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/feeds", nil))
	var body struct{ Feeds []FeedStatus }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 || len(body.Feeds) != 1 || body.Feeds[0].ItemsNew != 1 || body.Feeds[0].Polls != 4 {
		t.Errorf("status: %d %s", rec.Code, rec.Body)
	}
}

func TestFullContentSkipsPageFetch(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "fc1")
	src := Source{Name: "fc", URL: s.url("/rss"), Options: SourceOptions{FullContent: true}}
	pub := &capture{}
	newTestFetcher(t, testConfig(), []Source{src}, NewMemStore(), pub).PollFeed(context.Background(), 0)
	if s.hit("/a/fc1") != 0 {
		t.Error("page fetched for a full-content feed")
	}
	env := pub.envelopes(t)
	if len(env) != 1 || env[0].Raw.Body != "<p>full fc1</p>" || env[0].Raw.Extra["body_source"] != "feed_content" {
		t.Fatalf("envelopes = %+v", env[0].Raw)
	}
}

func TestSiteAutodiscoveryAndSitemapIndex(t *testing.T) {
	s := newSite(t)
	s.add("/rss.xml", "d1")
	s.extra["/"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body>hi</body></html>`))
	}
	s.extra["/sitemap_index.xml"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/news.xml</loc><lastmod>2026-11-27</lastmod></sitemap></sitemapindex>`))
	}
	s.extra["/news.xml"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>/a/sm1</loc><news:news><news:title>SM one</news:title><news:publication_date>2026-11-27T10:00:00Z</news:publication_date></news:news></url><url><loc>/a/sm2</loc></url></urlset>`))
	}
	srcs := []Source{{Name: "home", URL: s.url("/"), Kind: KindSite}, {Name: "sm", URL: s.url("/sitemap_index.xml"), Kind: KindSitemap}}
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, testConfig(), srcs, store, pub)
	ctx := context.Background()
	f.PollFeed(ctx, 0)
	if st := state(t, store, srcs[0]); st.URL != s.url("/rss.xml") || pub.count() != 1 {
		t.Fatalf("autodiscovery: state %+v, published %d", st, pub.count())
	}
	f.PollFeed(ctx, 1)
	if pub.count() != 3 {
		t.Fatalf("sitemap index: published %d, want 3", pub.count())
	}
	// The child sitemap's lastmod did not change: it is not fetched again.
	makeDue(t, store, srcs[1])
	f.PollFeed(ctx, 1)
	if got := s.hit("/news.xml"); got != 1 {
		t.Errorf("unchanged child sitemap fetched %d times", got)
	}
	var titled bool
	for _, e := range pub.envelopes(t) {
		if e.Raw.Feed != nil && e.Raw.Feed.Title == "SM one" && e.Raw.Feed.Published != nil {
			titled = true
		}
	}
	if !titled {
		t.Error("news sitemap metadata lost")
	}
}

func TestBadInputIsolatedPerFeed(t *testing.T) {
	s := newSite(t)
	s.add("/good", "g1")
	s.extra["/html"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><html><body>no feed here</body></html>"))
	}
	s.extra["/broken"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"http://x`))
	}
	s.extra["/binary"] = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("\x00\x01\x02PK\x03\x04")) }
	s.extra["/empty"] = func(w http.ResponseWriter, r *http.Request) {}
	s.extra["/loop"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) }
	s.extra["/gone"] = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) }
	names := []string{"html", "broken", "binary", "empty", "loop", "gone", "good"}
	var srcs []Source
	for _, n := range names {
		srcs = append(srcs, Source{Name: n, URL: s.url("/" + n)})
	}
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, testConfig(), srcs, store, pub)
	for i := range srcs {
		f.PollFeed(context.Background(), i)
	}
	if pub.count() != 1 {
		t.Errorf("good feed published %d", pub.count())
	}
	want := map[string]string{"html": "html", "empty": "empty", "loop": "redirect", "gone": "410"}
	for i, n := range names[:6] {
		st := state(t, store, srcs[i])
		if st.Failures != 1 || st.LastError == "" {
			t.Errorf("%s: state %+v", n, st)
		}
		if w := want[n]; w != "" && !strings.Contains(st.LastError, w) {
			t.Errorf("%s: error %q does not mention %q", n, st.LastError, w)
		}
	}
	for _, r := range []string{"html_not_feed", "parse", "not_feed", "empty", "redirects", "http_4xx"} {
		if testutil.ToFloat64(f.m.errors.WithLabelValues(r)) != 1 {
			t.Errorf("errors_total{reason=%s} = %v", r, testutil.ToFloat64(f.m.errors.WithLabelValues(r)))
		}
	}
}

func TestSSRFGuard(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "p1")
	s.extra["/to-private"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://10.1.2.3/", http.StatusFound)
	}
	s.extra["/to-metadata"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}
	ctx := context.Background()
	t.Run("loopback refused by default", func(t *testing.T) {
		cfg := testConfig()
		cfg.AllowAddresses = nil
		c, _ := newClient(cfg.Defaults())
		defer c.close()
		_, err := c.do(ctx, request{URL: s.url("/rss"), MaxBytes: 1 << 20})
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("err = %v", err)
		}
	})
	for _, p := range []string{"/to-private", "/to-metadata"} {
		t.Run("redirect "+p, func(t *testing.T) {
			c, _ := newClient(testConfig().Defaults())
			defer c.close()
			_, err := c.do(ctx, request{URL: s.url(p), MaxBytes: 1 << 20})
			if !errors.Is(err, ErrBlockedAddress) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("ranges", func(t *testing.T) {
		g := guard{}
		for _, tc := range []struct {
			ip      string
			blocked bool
		}{{"127.0.0.1", true}, {"10.0.0.1", true}, {"172.16.5.4", true}, {"192.168.1.1", true}, {"169.254.169.254", true},
			{"100.64.0.1", true}, {"0.0.0.0", true}, {"224.0.0.1", true}, {"::1", true}, {"fe80::1", true}, {"fd00::1", true},
			{"::ffff:127.0.0.1", true}, {"64:ff9b::a00:1", true}, {"93.184.216.34", false}, {"2606:4700::1111", false}} {
			if got := g.control("tcp", netJoin(tc.ip), nil) != nil; got != tc.blocked {
				t.Errorf("%s blocked = %v, want %v", tc.ip, got, tc.blocked)
			}
		}
	})
}

func netJoin(ip string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:80"
	}
	return ip + ":80"
}

func TestBodyLimitsAfterDecompression(t *testing.T) {
	// 64 MiB of zeros gzip to ~64 KiB: a bomb against a 1 MiB limit.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		zw.Write(zero)
	}
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/html")
		w.Write(bomb.Bytes())
	}))
	defer srv.Close()
	cfg := testConfig()
	c, _ := newClient(cfg.Defaults())
	defer c.close()
	_, err := c.do(context.Background(), request{URL: srv.URL, MaxBytes: 1 << 20})
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("feed: err = %v", err)
	}
	resp, err := c.do(context.Background(), request{URL: srv.URL, MaxBytes: 1 << 20, Truncate: true})
	if err != nil || !resp.Truncated || len(resp.Body) != 1<<20 || resp.WireBytes > int64(bomb.Len()) {
		t.Fatalf("page: err %v, truncated %v, len %d", err, resp != nil && resp.Truncated, len(resp.Body))
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<rss>"))
		w.(http.Flusher).Flush()
		select { // endless trickle until the client gives up
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := testConfig()
	cfg.RequestTimeout = 200 * time.Millisecond
	cfg.LeaseTTL = time.Second
	store, pub := NewMemStore(), &capture{}
	src := Source{Name: "slow", URL: srv.URL + "/feed"}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	f.PollFeed(context.Background(), 0)
	st := state(t, store, src)
	if st.Failures != 1 || !strings.Contains(st.LastError, "deadline") {
		t.Fatalf("state = %+v", st)
	}
	if testutil.ToFloat64(f.m.errors.WithLabelValues("timeout")) != 1 {
		t.Error("timeout not counted")
	}
}

func TestRobotsAndCrawlDelay(t *testing.T) {
	s := newSite(t)
	s.robots = "User-agent: *\nCrawl-delay: 7\nDisallow: /a/private\n\nUser-agent: otherbot\nDisallow: /\n"
	s.add("/rss", "private", "public")
	src := Source{Name: "r", URL: s.url("/rss")}
	cfg := testConfig()
	cfg.MaxHostWait = time.Hour // the test must not defer on the limiter
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	// Observe the limiter instead of waiting 7s: stub its limit after robots are read.
	c := f.client
	ctx := context.Background()
	u := mustURL(s.url("/rss"))
	if err := c.allowed(ctx, u, cfg.Defaults().UserAgent, ""); err != nil {
		t.Fatal(err)
	}
	lim := c.limiter(hostKey(u))
	if lim.Limit() != rate.Every(7*time.Second) {
		t.Fatalf("crawl-delay not applied: limit %v", lim.Limit())
	}
	if err := c.allowed(ctx, mustURL(s.url("/a/private")), "newsflow/1.0", ""); !errors.Is(err, ErrRobots) {
		t.Fatalf("disallowed path: %v", err)
	}
	if err := c.allowed(ctx, mustURL(s.url("/a/public")), "otherbot/2", ""); !errors.Is(err, ErrRobots) {
		t.Fatalf("agent group not applied: %v", err)
	}
	if s.hit("/robots.txt") != 1 {
		t.Errorf("robots.txt fetched %d times (not cached)", s.hit("/robots.txt"))
	}
	// With the 7s limiter a second request within MaxHostWait=1s is deferred, not blocked.
	c.cfg.MaxHostWait = time.Second
	_ = c.wait(ctx, hostKey(u))
	if err := c.wait(ctx, hostKey(u)); !errors.Is(err, ErrHostBusy) {
		t.Fatalf("second request: %v", err)
	}
	lim.SetLimit(rate.Inf) // speed the poll up; robots rules still apply
	f.PollFeed(ctx, 0)
	if s.hit("/a/private") != 0 {
		t.Error("robots-disallowed page fetched")
	}
	// The disallowed item is still published, with the feed's text and the reason.
	var fallback int
	for _, e := range pub.envelopes(t) {
		if e.Raw.Extra["body_source"] == "feed_fallback" && strings.Contains(e.Raw.Extra["fetch_error"], "robots") {
			fallback++
		}
	}
	if pub.count() != 2 || fallback != 1 {
		t.Errorf("published %d, fallback %d", pub.count(), fallback)
	}
}

func TestLeaseSplitsWorkBetweenReplicas(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "l1")
	src := Source{Name: "l", URL: s.url("/rss")}
	store := NewMemStore()
	pa, pb := &capture{}, &capture{}
	cfgA, cfgB := testConfig(), testConfig()
	cfgA.ReplicaID, cfgB.ReplicaID = "A", "B"
	a := newTestFetcher(t, cfgA, []Source{src}, store, pa)
	b := newTestFetcher(t, cfgB, []Source{src}, store, pb)
	ctx := context.Background()
	// A holds a live lease: B must not poll.
	_, err := store.SaveFeed(ctx, src.Key(), FeedState{LeaseOwner: "A", LeaseUntil: time.Now().Add(time.Hour)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if next := b.PollFeed(ctx, 0); s.hit("/rss") != 0 || next.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("B polled a leased feed (hits %d, next %s)", s.hit("/rss"), next)
	}
	// A "dies": its lease expires and B takes over.
	st, rev, _ := store.LoadFeed(ctx, src.Key())
	st.LeaseUntil = time.Now().Add(-time.Second)
	store.SaveFeed(ctx, src.Key(), st, rev)
	b.PollFeed(ctx, 0)
	if s.hit("/rss") != 1 || pb.count() != 1 {
		t.Fatalf("B did not take over: hits %d, published %d", s.hit("/rss"), pb.count())
	}
	// A comes back: the feed is not due, A does not poll it again.
	a.PollFeed(ctx, 0)
	if s.hit("/rss") != 1 || pa.count() != 0 {
		t.Fatalf("A refetched: hits %d", s.hit("/rss"))
	}
}

func TestTwoReplicasShareStore(t *testing.T) {
	s := newSite(t)
	const nFeeds = 12
	var srcs []Source
	for i := 0; i < nFeeds; i++ {
		p := "/f" + string(rune('a'+i))
		s.add(p, p[1:]+"-1", p[1:]+"-2")
		srcs = append(srcs, Source{Name: p, URL: s.url(p)})
	}
	store := NewMemStore()
	pa, pb := &capture{}, &capture{}
	cfgA, cfgB := testConfig(), testConfig()
	cfgA.ReplicaID, cfgB.ReplicaID = "A", "B"
	cfgA.MinInterval, cfgA.DefaultInterval, cfgA.MaxInterval = time.Hour, time.Hour, time.Hour
	cfgB.MinInterval, cfgB.DefaultInterval, cfgB.MaxInterval = time.Hour, time.Hour, time.Hour
	cfgA.StartSpread, cfgB.StartSpread = 200*time.Millisecond, 200*time.Millisecond
	a := newTestFetcher(t, cfgA, srcs, store, pa)
	b := newTestFetcher(t, cfgB, srcs, store, pb)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, f := range []*Fetcher{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); f.Run(ctx) }()
	}
	deadline := time.Now().Add(20 * time.Second)
	for pa.count()+pb.count() < 2*nFeeds && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let any would-be double poll happen
	cancel()
	wg.Wait()
	if got := pa.count() + pb.count(); got != 2*nFeeds {
		t.Fatalf("published %d, want %d", got, 2*nFeeds)
	}
	all := &capture{msgs: append(append([]bus.Outgoing(nil), pa.msgs...), pb.msgs...)}
	all.keysOnce(t)
	for _, src := range srcs {
		if h := s.hit(strings.TrimPrefix(src.URL, s.srv.URL)); h != 1 {
			t.Errorf("%s fetched %d times within one interval", src.Name, h)
		}
	}
	t.Logf("replica A published %d, B %d", pa.count(), pb.count())
}

func TestPublishKeepsUnderMessageLimit(t *testing.T) {
	// Compressible text is gzipped; incompressible text must also be cut.
	var bb strings.Builder
	x := uint32(1)
	for bb.Len() < 400<<10 {
		x = x*1664525 + 1013904223
		bb.WriteByte("abcdefghijklmnopqrstuvwxyz <>"[(x>>24)%29])
	}
	big := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n", 20000) + bb.String()
	s := newSite(t)
	s.add("/rss", "big")
	s.extra["/a/big"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>" + big + "</body></html>"))
	}
	cfg := testConfig()
	cfg.MaxMessageBytes = 64 << 10
	pub := &capture{}
	newTestFetcher(t, cfg, []Source{{Name: "b", URL: s.url("/rss")}}, NewMemStore(), pub).PollFeed(context.Background(), 0)
	if pub.count() != 1 {
		t.Fatal("not published")
	}
	if n := len(pub.msgs[0].Data); n > 64<<10 {
		t.Fatalf("message %d bytes over limit", n)
	}
	r := pub.envelopes(t)[0].Raw
	if len(r.BodyGzip) == 0 || r.Body != "" || r.Extra["truncated"] == "" {
		t.Errorf("gzip %d, body %d, extra %v", len(r.BodyGzip), len(r.Body), r.Extra)
	}
	txt, err := r.Text()
	if err != nil || !strings.HasPrefix(txt, "<html><body><p>Lorem") {
		t.Errorf("Text(): %v", err)
	}
}

func TestPublishFailureRetriesItems(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "pf")
	src := Source{Name: "pf", URL: s.url("/rss")}
	store, pub := NewMemStore(), &capture{fail: errors.New("broker down")}
	f := newTestFetcher(t, testConfig(), []Source{src}, store, pub)
	f.PollFeed(context.Background(), 0)
	if store.SeenCount() != 0 {
		t.Fatal("item marked seen although not published")
	}
	pub.mu.Lock()
	pub.fail = nil
	pub.mu.Unlock()
	makeDue(t, store, src)
	f.PollFeed(context.Background(), 0)
	if pub.count() != 1 {
		t.Fatalf("item not retried: %d", pub.count())
	}
}

func TestPolicy(t *testing.T) {
	cfg := Config{Jitter: 0.0001}.Defaults()
	p := policy{cfg}
	tests := []struct {
		name      string
		st        FeedState
		fixed     time.Duration
		newItems  int
		observed  time.Duration
		hint      time.Duration
		wantRange [2]time.Duration
	}{
		{name: "first poll quiet feed slows down", newItems: 0, wantRange: [2]time.Duration{44 * time.Minute, 46 * time.Minute}},
		{name: "busy feed follows cadence", newItems: 3, observed: 20 * time.Minute, wantRange: [2]time.Duration{9 * time.Minute, 11 * time.Minute}},
		{name: "bounded by min", newItems: 3, observed: time.Minute, wantRange: [2]time.Duration{5*time.Minute - time.Second, 5*time.Minute + time.Second}},
		{name: "bounded by max", st: FeedState{Interval: 11 * time.Hour}, wantRange: [2]time.Duration{12*time.Hour - 5*time.Second, 12*time.Hour + 5*time.Second}},
		{name: "ttl hint wins", newItems: 1, observed: 20 * time.Minute, hint: 2 * time.Hour, wantRange: [2]time.Duration{2*time.Hour - time.Second, 2*time.Hour + time.Second}},
		{name: "fixed interval", fixed: 3 * time.Minute, wantRange: [2]time.Duration{3*time.Minute - time.Second, 3*time.Minute + time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			got := p.success(&st, tc.fixed, tc.newItems, tc.observed, tc.hint)
			if got < tc.wantRange[0] || got > tc.wantRange[1] {
				t.Errorf("interval %s not in %v", got, tc.wantRange)
			}
		})
	}
	st := FeedState{Failures: 4}
	if d := p.failure(&st, 0); d < 39*time.Minute || d > 41*time.Minute {
		t.Errorf("backoff after 4 failures = %s, want 40m", d)
	}
	if d := p.failure(&st, 48*time.Hour); d < 23*time.Hour {
		t.Errorf("retry-after not honoured: %s", d)
	}
}

func TestHeadCanonicals(t *testing.T) {
	got := headCanonicals([]byte(`<html><head><meta property="og:url" content="https://x.example.com/og"><LINK REL="canonical" HREF="/c"></head><body><link rel="canonical" href="/late"></body></html>`))
	if strings.Join(got, " ") != "/c https://x.example.com/og" {
		t.Errorf("got %v", got)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestDeferredItemsRetriedDespiteValidators(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "d1", "d2", "d3")
	src := Source{Name: "d", URL: s.url("/rss")}
	cfg := testConfig()
	cfg.MaxItemsPerPoll = 1
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	for i := 1; i <= 3; i++ {
		makeDue(t, store, src)
		f.PollFeed(context.Background(), 0)
		if pub.count() != i {
			t.Fatalf("poll %d: published %d", i, pub.count())
		}
	}
	if st := state(t, store, src); st.Pending || st.ETag == "" {
		t.Fatalf("after the last item: %+v", st)
	}
	makeDue(t, store, src)
	f.PollFeed(context.Background(), 0)
	if testutil.ToFloat64(f.m.polls.WithLabelValues("not_modified")) != 1 || testutil.ToFloat64(f.m.polls.WithLabelValues("partial")) != 2 {
		t.Error("poll outcomes")
	}
	pub.keysOnce(t)
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"NEWSFLOW_FETCH_WORKERS": "3", "NEWSFLOW_FETCH_MIN_INTERVAL": "1m", "NEWSFLOW_FETCH_ALLOW_ADDRESSES": "127.0.0.1, 10.0.0.0/8",
		"NEWSFLOW_FETCH_PER_FEED_METRICS": "true",
	}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Workers != 3 || c.MinInterval != time.Minute || len(c.AllowAddresses) != 2 || !c.PerFeedMetrics || c.MaxInterval != 12*time.Hour {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []map[string]string{
		{"NEWSFLOW_FETCH_WORKERS": "-1"},
		{"NEWSFLOW_FETCH_MIN_INTERVAL": "soon"},
		{"NEWSFLOW_FETCH_ALLOW_ADDRESSES": "localhost"},
		{"NEWSFLOW_FETCH_MIN_INTERVAL": "13h"},
	} {
		if _, err := ConfigFromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v: want error", bad)
		}
	}
}

func TestRobotsOnRedirectTarget(t *testing.T) {
	s := newSite(t)
	robots := "User-agent: *\nDisallow: /private/\n"
	s.extra["/robots.txt"] = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" { // a robots.txt that redirects to itself must not deadlock
			http.Redirect(w, r, "/robots.txt?v=1", http.StatusFound)
			return
		}
		w.Write([]byte(robots))
	}
	s.extra["/go"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/private/page", http.StatusFound) }
	cfg := testConfig()
	c, _ := newClient(cfg.Defaults())
	defer c.close()
	_, err := c.get(context.Background(), request{URL: s.url("/go"), UserAgent: "newsflow/1", MaxBytes: 1 << 20})
	if !errors.Is(err, ErrRobots) {
		t.Fatalf("redirect into a disallowed path: %v", err)
	}
	if s.hit("/private/page") != 0 {
		t.Error("disallowed redirect target fetched")
	}
}

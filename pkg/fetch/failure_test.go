package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/internal/nxdns"
)

// attemptMsg is a news.submit delivery with a given attempt number.
type attemptMsg struct {
	fakeMsg
	attempt int
}

func (m *attemptMsg) Attempt() int { return m.attempt }

// Delivery schedule of the news.submit consumer (stages.SubmitConsumeOptions): at least 8
// attempts, backoff 5s doubling to 2m.
const submitMaxDeliver = 8

var submitBackoff = bus.ExpBackoff(5*time.Second, 2*time.Minute)

// deliverUntilDeadLetter plays the bus's redelivery of one submission against
// HandleSubmission: attempts until the handler succeeds, returns a permanent error or the
// last attempt fails. It returns the number of attempts, the final error and the time to
// the dead letter: the handlers' measured run time plus the consumer's backoff between
// attempts (added, not slept).
func deliverUntilDeadLetter(t *testing.T, f *Fetcher, u string) (attempts int, err error, handling, total time.Duration) {
	t.Helper()
	data, _ := json.Marshal(Submission{URL: u, ID: "k", SubmittedAt: time.Now()})
	for attempt := 1; ; attempt++ {
		t0 := time.Now()
		err = f.HandleSubmission(context.Background(), &attemptMsg{fakeMsg: fakeMsg{key: "k", data: data}, attempt: attempt})
		handling += time.Since(t0)
		total = handling
		if err == nil || bus.IsPermanent(err) || attempt >= submitMaxDeliver {
			return attempt, err, handling, total + backoffBefore(attempt)
		}
	}
}

// backoffBefore sums the consumer's backoff before attempt n.
func backoffBefore(n int) time.Duration {
	var d time.Duration
	for a := 1; a < n; a++ {
		d += submitBackoff(a)
	}
	return d
}

// failureConfig resolves through d (NXDOMAIN for everything) and rechecks NXDOMAIN quickly.
func failureConfig(d *nxdns.Server) Config {
	cfg := testConfig()
	cfg.NXDomainRecheck = 100 * time.Millisecond
	cfg.Resolver = d.Resolver()
	return cfg
}

// TestPermanentSubmissionFailuresDeadLetterAtOnce: errors that cannot heal are dead-lettered
// on the first delivery with the reason; the time to the dead letter is logged per case.
func TestPermanentSubmissionFailuresDeadLetterAtOnce(t *testing.T) {
	dns := nxdns.Start(t)
	s := newSite(t)
	s.extra["/to-file"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}
	s.extra["/to-gopher"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "gopher://example.org/1", http.StatusMovedPermanently)
	}
	s.extra["/to-nx"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://moved.newsflow-test.invalid/a", http.StatusFound)
	}
	s.extra["/gone"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "gone", http.StatusGone) }
	s.extra["/forbidden"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusForbidden) }
	s.extra["/photo.png"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n"))
	}
	s.extra["/private/x"] = func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html><body>secret</body></html>") }
	s.robots = "User-agent: *\nDisallow: /private/\n"
	for _, tc := range []struct{ name, url, reason string }{
		{"redirect to file:", s.url("/to-file"), "redirect"},
		{"redirect to gopher:", s.url("/to-gopher"), "redirect"},
		{"nxdomain", "http://nowhere.newsflow-test.invalid/article", "does not resolve"},
		{"redirect to nxdomain", s.url("/to-nx"), "does not resolve"},
		{"http 410", s.url("/gone"), "http 410"},
		{"http 403", s.url("/forbidden"), "http 403"},
		{"robots", s.url("/private/x"), "robots"},
		{"not html", s.url("/photo.png"), "content-type image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestFetcher(t, failureConfig(dns), nil, NewMemStore(), &capture{})
			before := dns.Queries()
			n, err, handling, total := deliverUntilDeadLetter(t, f, tc.url)
			t.Logf("time to dead letter: %s after %d attempt(s) (handler %s + backoff %s); dns queries %d; reason: %v",
				total.Round(time.Millisecond), n, handling.Round(time.Millisecond), backoffBefore(n), dns.Queries()-before, err)
			if err == nil || !bus.IsPermanent(err) || n != 1 {
				t.Fatalf("attempts %d, error %v: want a permanent error on the first attempt", n, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("reason %q does not say %q", err, tc.reason)
			}
		})
	}
}

// TestTransientSubmissionFailuresBackOff: errors that can heal keep being retried until
// MaxDeliver; a hopelessly slow server gets maxTimeoutAttempts attempts.
func TestTransientSubmissionFailuresBackOff(t *testing.T) {
	s := newSite(t)
	s.extra["/busy"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) }
	s.extra["/timeout"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "slow", http.StatusRequestTimeout) }
	s.extra["/boom"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }
	refused, _ := net.Listen("tcp", "127.0.0.1:0")
	refusedURL := "http://" + refused.Addr().String() + "/a"
	refused.Close()
	for _, tc := range []struct{ name, url string }{
		{"http 500", s.url("/boom")},
		{"http 503", s.url("/busy")},
		{"http 408", s.url("/timeout")},
		{"connection refused", refusedURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.DisablePoliteness = true // no host pause after 503 (that is ErrHostBusy, also transient)
			f := newTestFetcher(t, cfg, nil, NewMemStore(), &capture{})
			n, err, _, total := deliverUntilDeadLetter(t, f, tc.url)
			t.Logf("dead-lettered after %d attempts, %s with backoff: %v", n, total.Round(time.Second), err)
			if n != submitMaxDeliver || bus.IsPermanent(err) {
				t.Fatalf("attempts %d, permanent %v (%v): want retries until MaxDeliver", n, bus.IsPermanent(err), err)
			}
		})
	}

	t.Run("hopelessly slow server", func(t *testing.T) {
		release := make(chan struct{})
		var hits atomic.Int64
		slow := newSite(t)
		slow.extra["/slow"] = func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		defer close(release)
		cfg := testConfig()
		cfg.RequestTimeout, cfg.HeaderTimeout = 150*time.Millisecond, 150*time.Millisecond
		f := newTestFetcher(t, cfg, nil, NewMemStore(), &capture{})
		n, err, handling, total := deliverUntilDeadLetter(t, f, slow.url("/slow"))
		prod := time.Duration(n)*Config{}.Defaults().RequestTimeout + backoffBefore(n)
		t.Logf("time to dead letter: %s after %d attempts (handler %s + backoff %s); with the default 30s RequestTimeout: %s; reason: %v",
			total.Round(time.Millisecond), n, handling.Round(time.Millisecond), backoffBefore(n), prod, err)
		if n != maxTimeoutAttempts || !bus.IsPermanent(err) || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("attempts %d, error %v: want a permanent timeout after %d attempts", n, err, maxTimeoutAttempts)
		}
		if hits.Load() != int64(maxTimeoutAttempts) {
			t.Errorf("server hit %d times", hits.Load())
		}
	})
}

// TestFeedItemFallsBackToFeedText: a feed item whose page cannot be fetched is published
// with the feed's own text, marked, after one attempt when the failure is permanent
// (NXDOMAIN confirmed, redirect to file:, 404) and after ItemAttempts polls when it is
// transient (5xx, timeout); after that no poll fetches it again.
func TestFeedItemFallsBackToFeedText(t *testing.T) {
	dns := nxdns.Start(t)
	s := newSite(t)
	var pageHits atomic.Int64
	s.extra["/p/to-file"] = func(w http.ResponseWriter, r *http.Request) {
		pageHits.Add(1)
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}
	s.extra["/p/gone"] = func(w http.ResponseWriter, _ *http.Request) { pageHits.Add(1); http.NotFound(w, nil) }
	s.extra["/p/flaky"] = func(w http.ResponseWriter, _ *http.Request) {
		pageHits.Add(1)
		http.Error(w, "boom", http.StatusBadGateway)
	}
	links := map[string]string{
		"nx":    "http://nowhere.newsflow-test.invalid/story",
		"file":  s.url("/p/to-file"),
		"gone":  s.url("/p/gone"),
		"flaky": s.url("/p/flaky"),
	}
	s.extra["/feed"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`)
		for name, link := range links {
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid>%s</guid><description>feed text of %s</description></item>`, name, link, name, name)
		}
		b.WriteString(`</channel></rss>`)
		fmt.Fprint(w, b.String())
	}
	store, pub := NewMemStore(), &capture{}
	src := Source{Name: "broken-links", URL: s.url("/feed")}
	f := newTestFetcher(t, failureConfig(dns), []Source{src}, store, pub)

	published := func() map[string]*article.Raw {
		out := map[string]*article.Raw{}
		for _, e := range pub.envelopes(t) {
			out[e.Raw.Feed.Title] = e.Raw
		}
		return out
	}
	t0 := time.Now()
	f.PollFeed(context.Background(), 0)
	got := published()
	t.Logf("poll 1 (%s): published %d of %d items", time.Since(t0).Round(time.Millisecond), len(got), len(links))
	for _, name := range []string{"nx", "file", "gone"} {
		r := got[name]
		if r == nil {
			t.Errorf("%s: not published after its permanent failure", name)
			continue
		}
		if r.Extra["body_source"] != "feed_fallback" || r.Body != "feed text of "+name || r.Extra["fetch_error"] == "" {
			t.Errorf("%s: body_source %q body %q fetch_error %q", name, r.Extra["body_source"], r.Body, r.Extra["fetch_error"])
		}
		t.Logf("%s: fetch_error %q", name, r.Extra["fetch_error"])
	}
	if got["flaky"] != nil {
		t.Errorf("the 502 item fell back on its first failure")
	}
	for poll := 2; poll <= DefaultItemAttempts; poll++ {
		makeDue(t, store, src)
		f.PollFeed(context.Background(), 0)
	}
	got = published()
	if r := got["flaky"]; r == nil {
		t.Fatalf("the 502 item is not published after %d polls (published: %d)", DefaultItemAttempts, len(got))
	} else if r.Extra["body_source"] != "feed_fallback" || r.Body != "feed text of flaky" || !strings.Contains(r.Extra["fetch_error"], "502") {
		t.Errorf("flaky: %+v body %q", r.Extra, r.Body)
	}
	hits := pageHits.Load()
	makeDue(t, store, src)
	f.PollFeed(context.Background(), 0)
	makeDue(t, store, src)
	f.PollFeed(context.Background(), 0)
	if h := pageHits.Load(); h != hits {
		t.Errorf("pages fetched again after the fallback: %d more hits", h-hits)
	}
	if n := pub.count(); n != len(links) {
		t.Errorf("published %d, want %d (once each)", n, len(links))
	}
	if st := state(t, store, src); st.Pending || len(st.ItemFailures) != 0 {
		t.Errorf("state after fallback: pending %v, item failures %v", st.Pending, st.ItemFailures)
	}
}

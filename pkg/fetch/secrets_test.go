package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestFeedURLSecretsNotLeaked polls feeds whose URLs carry secrets (a user-info password and
// token-like query parameters, the way paid feeds and feed proxies are often configured) on a
// working site, a failing one and a closed port, and checks that no secret reaches a log line
// (debug level), a published message (source.feed_url, a link-less item's URL) or the feed
// status. The same poll with the secrets' parameter names changed to innocuous ones keeps them,
// so the test cannot pass by dropping every query string.
func TestFeedURLSecretsNotLeaked(t *testing.T) {
	s := newSite(t)
	s.add("/rss", "one", "two")
	s.extra["/linkless"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>`+
			`<item><title>No link here</title><description>An item without a link, only its text, long enough to publish.</description></item>`+
			`</channel></rss>`)
	}
	s.extra["/broken"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	secrets := []string{"S3crApiKey9f2a", "S3crToken77c1", "S3crUserPass0b3e", "S3crSig5d5d"}
	host := strings.TrimPrefix(s.url(""), "http://")
	withSecrets := func(base, path string) string {
		return "http://reader:" + secrets[2] + "@" + strings.TrimPrefix(base, "http://") + path +
			"?api_key=" + secrets[0] + "&page=2&access_token=" + secrets[1] + "&sig=" + secrets[3]
	}
	srcs := []Source{
		{Name: "ok", URL: withSecrets(s.url(""), "/rss"), Kind: KindFeed},
		{Name: "linkless", URL: withSecrets(s.url(""), "/linkless"), Kind: KindFeed},
		{Name: "broken", URL: withSecrets(s.url(""), "/broken"), Kind: KindFeed},
		{Name: "closed", URL: withSecrets(closed, "/rss"), Kind: KindFeed},
		{Name: "plain", URL: "http://" + host + "/rss?edition=S3crNotSecret", Kind: KindFeed},
	}
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	store, pub := NewMemStore(), &capture{}
	f, err := New(testConfig(), srcs, store, pub, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.client.close)
	for i := range srcs {
		f.PollFeed(context.Background(), i)
	}
	var out strings.Builder
	enc := zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig())
	for _, e := range logs.All() {
		line, err := enc.EncodeEntry(e.Entry, e.Context)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(line.Bytes())
	}
	envs := pub.envelopes(t)
	if len(envs) < 3 {
		t.Fatalf("published %d messages, want the 2 linked items, the link-less one and the plain feed's", len(envs))
	}
	sawFeedURL, sawLinkless := false, false
	for _, e := range envs {
		r := e.Raw
		fmt.Fprintf(&out, "\n%s %s %s %s", e.ID, r.URL, r.CanonicalURL, r.Source.FeedURL)
		if r.Source.Name == "ok" && strings.Contains(r.Source.FeedURL, "page=2") {
			sawFeedURL = true
		}
		if r.Source.Name == "linkless" && strings.Contains(r.URL, "newsflow_item=") {
			sawLinkless = true
		}
	}
	if !sawFeedURL || !sawLinkless {
		t.Errorf("source.feed_url with its harmless parameters (%v) or the link-less item (%v) missing: %s", sawFeedURL, sawLinkless, out.String())
	}
	rec := httpGet(t, f)
	out.WriteString(rec)
	for _, sec := range secrets {
		if strings.Contains(out.String(), sec) {
			t.Errorf("secret %q leaked:\n%s", sec, grepLines(out.String(), sec))
		}
	}
	if !strings.Contains(out.String(), "S3crNotSecret") {
		t.Error("a harmless query parameter was dropped too: the check above proves nothing")
	}
}

// httpGet returns the fetcher's feed status page.
func httpGet(t *testing.T, f *Fetcher) string {
	t.Helper()
	w := &responseBuffer{header: http.Header{}}
	req, err := http.NewRequest(http.MethodGet, "/v1/feeds", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.StatusHandler().ServeHTTP(w, req)
	return w.body.String()
}

type responseBuffer struct {
	header http.Header
	body   bytes.Buffer
}

func (r *responseBuffer) Header() http.Header         { return r.header }
func (r *responseBuffer) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *responseBuffer) WriteHeader(int)             {}

func grepLines(s, sub string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

package app

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestStatus: on a NATS server of its own with three raw articles held by a cleaner group
// (its handler never settles), status shows the cleaner's backlog of 3, no consumer for the
// other stages, the dead-letter count and the fetcher's failing feeds.
func TestStatus(t *testing.T) {
	srv, url, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := natsbus.New(ctx, natsbus.Config{URL: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	held := make(chan struct{}, 3)
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, article.SubjectRaw, bus.ConsumeOptions{Group: "newsflow-cleaner", Concurrency: 3}, func(ctx context.Context, _ bus.Message) error {
			held <- struct{}{}
			<-cctx.Done() // held until the test ends (a drain waits for handlers)
			return context.Canceled
		})
	}()
	defer func() { stop(); <-done }()
	for i := range 3 {
		if err := b.Publish(ctx, article.SubjectRaw, bus.Outgoing{Key: string(rune('a' + i)), Data: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		<-held
	}
	feeds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"feeds":[{"name":"ok","failures":0},{"name":"broken","failures":4,"last_error":"HTTP 503"},{"name":"gone","parked":true}]}`))
	}))
	defer feeds.Close()
	var out, errb bytes.Buffer
	env := map[string]string{"NEWSFLOW_NATS_URL": url}
	code := Main([]string{"status", "--interval", "0", "--fetcher", feeds.URL}, func(k string) string { return env[k] }, nil, &out, &errb)
	got := out.String() + errb.String()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	for _, re := range []string{
		`cleaner\s+news.raw\s+newsflow-cleaner\s+0\s+3\s+-`,
		`enricher\s+news.clean\s+newsflow-enricher\s+no consumer`,
		`dead letters since .*: 0`,
		`feeds: 3, 1 healthy, 1 failing, 1 parked`,
		`broken\s+4 failures\s+HTTP 503`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("output does not match %q:\n%s", re, got)
		}
	}
	if code := Main([]string{"status", "--since", "yesterday"}, func(k string) string { return env[k] }, nil, &out, &errb); code != 2 {
		t.Errorf("bad --since: exit %d, want 2", code)
	}
	if strings.Contains(got, "FAILED") {
		t.Errorf("a section failed:\n%s", got)
	}
}

// TestStatusRates: status reads newsflow_stage_messages_total from every --metrics address at
// the two moments, --interval apart, and prints each stage's done/retry/DLQ rates in pipeline
// order and the totals, summed over the addresses (replicas).
func TestStatusRates(t *testing.T) {
	srv, url, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	// Two "replicas"; each scrape after the first adds to the counters, as handling would.
	replica := func(per float64) *httptest.Server {
		reg := prometheus.NewRegistry()
		ms := map[string]*service.StageMetrics{}
		for _, s := range []string{"alerter", "cleaner", "indexer"} {
			ms[s] = service.NewStageMetrics(s, reg)
		}
		items := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_indexer_items_total"}, []string{"outcome"})
		reg.MustRegister(items)
		ms["cleaner"].Messages.WithLabelValues("ok").Add(100)
		var scrapes atomic.Int32
		h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/metrics" {
				http.NotFound(w, r)
				return
			}
			if scrapes.Add(1) > 1 {
				ms["cleaner"].Messages.WithLabelValues("ok").Add(10 * per)
				ms["cleaner"].Messages.WithLabelValues("dead_letter").Add(per)
				ms["alerter"].Messages.WithLabelValues("deferred").Add(5 * per)
				ms["indexer"].Messages.WithLabelValues("deferred").Add(8 * per)
				ms["indexer"].Messages.WithLabelValues("retry").Add(2 * per)
				items.WithLabelValues("indexed").Add(8 * per)
			}
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := replica(1), replica(1)
	var out, errb bytes.Buffer
	env := map[string]string{"NEWSFLOW_NATS_URL": url}
	start := time.Now()
	code := Main([]string{"status", "--interval", "1s", "--metrics", a.URL, "--metrics", strings.TrimPrefix(b.URL, "http://")},
		func(k string) string { return env[k] }, nil, &out, &errb)
	elapsed := time.Since(start).Seconds()
	got := out.String() + errb.String()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	m := regexp.MustCompile(`(?s)rates over ([0-9.]+)s from .*/metrics, .*/metrics \(newsflow_stage_messages_total\)\n.*STAGE.*\n` +
		`\s+cleaner\s+([0-9.]+)\s+0\.0\s+([0-9.]+)\s+222\n` +
		`\s+indexer\s+([0-9.]+)\s+([0-9.]+)\s+0\.0\s+20\n` +
		`\s+alerter\s+([0-9.]+)\s+0\.0\s+0\.0\s+10\n` +
		`\s+output: 0\.0 articles fetched/s, ([0-9.]+) documents indexed/s, 0\.00 alerts/s`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no rates table as expected:\n%s", got)
	}
	over := mustFloat(t, m[1])
	if over < 1 || over > elapsed {
		t.Errorf("rates over %.1fs, want between --interval 1s and the run's %.1fs", over, elapsed)
	}
	// Each value is the increase (summed over both replicas) over the measured time (printed
	// rounded to 0.1s, hence the 6% margin).
	for i, inc := range []float64{20, 2, 16, 4, 10, 16} {
		if got, want := mustFloat(t, m[i+2]), inc/over; got < want*0.94-0.06 || got > want*1.06+0.06 {
			t.Errorf("rate #%d = %v, want %.1f (%v over %.1fs)", i+1, got, want, inc, over)
		}
	}
	// A --metrics address that does not answer fails the command; the default address is a
	// note only (TestStatus).
	out.Reset()
	code = Main([]string{"status", "--interval", "0", "--metrics", "http://" + closedAddr(t)}, func(k string) string { return env[k] }, nil, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "rates: FAILED") {
		t.Errorf("unreachable --metrics: exit %d, want 1 and rates: FAILED:\n%s", code, out.String())
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStatusRateHelpers(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set: newsflow run's address", nil, "http://127.0.0.1:8080"},
		{"random port: newsflow run's address", map[string]string{"NEWSFLOW_HTTP_ADDR": "127.0.0.1:0"}, "http://127.0.0.1:8080"},
		{"http address", map[string]string{"NEWSFLOW_HTTP_ADDR": "127.0.0.1:9100"}, "http://127.0.0.1:9100"},
		{"wildcard read on loopback", map[string]string{"NEWSFLOW_HTTP_ADDR": ":8081"}, "http://127.0.0.1:8081"},
		{"metrics address first", map[string]string{"NEWSFLOW_HTTP_ADDR": "127.0.0.1:9100", "NEWSFLOW_METRICS_ADDR": "0.0.0.0:9090"}, "http://127.0.0.1:9090"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultMetricsTarget(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("defaultMetricsTarget = %q, want %q", got, tt.want)
			}
		})
	}
	for in, want := range map[string]string{
		"127.0.0.1:8080":                 "http://127.0.0.1:8080/metrics",
		"http://cleaner:8080/":           "http://cleaner:8080/metrics",
		"https://idx.example/metrics":    "https://idx.example/metrics",
		"http://u:p@h:1/prefix/metrics/": "http://u:p@h:1/prefix/metrics",
	} {
		if got := metricsURL(in); got != want {
			t.Errorf("metricsURL(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tt := range []struct {
		before, after, want float64
	}{{10, 30, 10}, {30, 30, 0}, {30, 4, 2}} { // a restarted service counts from zero
		if got := rate(tt.before, tt.after, 2*time.Second); got != tt.want {
			t.Errorf("rate(%v, %v, 2s) = %v, want %v", tt.before, tt.after, got, tt.want)
		}
	}
}

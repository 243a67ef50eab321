package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
)

func sampleAlert() *article.Alert {
	return &article.Alert{RuleID: "s", RuleType: RuleSpike, Term: "Acme", TermKind: "ORG", Status: StatusFiring,
		WindowStart: t0, WindowEnd: t0.Add(time.Minute), Current: 8, Baseline: 0.1, Score: 9.5,
		Reason:      "ORG \"Acme\": 8 mentions in the last 1m0s vs 0.10 expected",
		TopArticles: []article.AlertArticle{{ID: "abc", Title: "Acme | news", URL: "https://x.example/a", Source: "x"}},
		TopSources:  []string{"x"}}
}

func TestWebhookNotifier(t *testing.T) {
	tests := []struct {
		name      string
		format    WebhookFormat
		statuses  []int // per attempt; last repeats
		delay     time.Duration
		wantErr   string
		wantCalls int32
	}{
		{name: "json ok", format: FormatJSON, statuses: []int{200}, wantCalls: 1},
		{name: "slack ok", format: FormatSlack, statuses: []int{204}, wantCalls: 1},
		{name: "retries 5xx then ok", format: FormatJSON, statuses: []int{500, 503, 200}, wantCalls: 3},
		{name: "retries 429", format: FormatJSON, statuses: []int{429, 200}, wantCalls: 2},
		{name: "gives up after retries", format: FormatJSON, statuses: []int{502}, wantErr: "status 502", wantCalls: 3},
		{name: "4xx is not retried", format: FormatJSON, statuses: []int{400}, wantErr: "not retried", wantCalls: 1},
		{name: "timeout per attempt is retried", format: FormatJSON, statuses: []int{200}, delay: 200 * time.Millisecond, wantErr: "deadline", wantCalls: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var mu sync.Mutex
			var bodies [][]byte
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, b)
				mu.Unlock()
				if r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("content type %q", r.Header.Get("Content-Type"))
				}
				if tc.delay > 0 {
					select {
					case <-time.After(tc.delay):
					case <-r.Context().Done():
					case <-release:
					}
				}
				st := tc.statuses[min(n, len(tc.statuses))-1]
				w.WriteHeader(st)
			}))
			defer srv.Close()
			defer close(release)
			n, err := NewWebhookNotifier(WebhookConfig{URL: srv.URL, Format: tc.format, Retries: 2,
				Timeout: 50 * time.Millisecond, Backoff: time.Millisecond}, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(context.Background(), sampleAlert())
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Fatalf("calls %d, want %d", got, tc.wantCalls)
			}
			mu.Lock()
			defer mu.Unlock()
			switch tc.format {
			case FormatSlack:
				var m map[string]any
				if err := json.Unmarshal(bodies[0], &m); err != nil {
					t.Fatal(err)
				}
				text, _ := m["text"].(string)
				if len(m) != 1 || !strings.Contains(text, "Acme") || !strings.Contains(text, "<https://x.example/a|Acme ¦ news>") {
					t.Fatalf("slack body %s", bodies[0])
				}
			case FormatJSON:
				var a article.Alert
				if err := json.Unmarshal(bodies[0], &a); err != nil || a.Term != "Acme" || a.Score != 9.5 {
					t.Fatalf("json body %s (%v)", bodies[0], err)
				}
			}
		})
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	for _, c := range []WebhookConfig{{URL: "ftp://x"}, {URL: "http://x", Format: "xml"}, {URL: "http://x", Retries: -1}} {
		if _, err := NewWebhookNotifier(c, nil); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// blockingNotifier blocks until released, to fill the queue.
type blockingNotifier struct {
	release chan struct{}
	got     atomic.Int32
}

func (b *blockingNotifier) Name() string { return "blocking" }
func (b *blockingNotifier) Notify(ctx context.Context, _ *article.Alert) error {
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.got.Add(1)
	return nil
}

func TestNotifierQueueFullDropsWithoutBlocking(t *testing.T) {
	bn := &blockingNotifier{release: make(chan struct{})}
	a, err := New(Config{NotifyQueue: 2}, nil, nil, []Notifier{bn, LogNotifier{Log: zap.NewNop()}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		a.dispatch([]*article.Alert{sampleAlert()}) // must not block
	}
	if got := testutil.ToFloat64(a.m.notify.WithLabelValues("dropped")); got < 7 {
		t.Fatalf("dropped %v, want >= 7 (queue 2 + 1 in flight)", got)
	}
	close(bn.release)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	sent := testutil.ToFloat64(a.m.notify.WithLabelValues("sent"))
	dropped := testutil.ToFloat64(a.m.notify.WithLabelValues("dropped"))
	if sent+dropped != 20 || bn.got.Load() < 1 {
		t.Fatalf("sent %v + dropped %v != 20 offers (blocking got %d)", sent, dropped, bn.got.Load())
	}
}

type recordingNotifier struct {
	mu  sync.Mutex
	got []string
}

func (r *recordingNotifier) Name() string { return "rec" }
func (r *recordingNotifier) Notify(_ context.Context, a *article.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, a.Status+"@"+a.FiredAt.Format("15:04"))
	return nil
}

func TestThrottledNotifier(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	msg := func(ep, status string, m int) *article.Alert {
		return &article.Alert{EpisodeID: ep, Status: status, FiredAt: at(m)}
	}
	grown := func(ep, status string, m int, peakPerMin float64) *article.Alert {
		a := msg(ep, status, m)
		a.PeakPerMin = peakPerMin
		return a
	}
	tests := []struct {
		name         string
		every        time.Duration
		growth       float64
		skipResolved bool
		in           []*article.Alert
		want         []string
	}{
		{name: "updates at most hourly, firing and resolved always",
			every: time.Hour,
			in: []*article.Alert{msg("a", StatusFiring, 0), msg("a", StatusStillFiring, 15), msg("a", StatusStillFiring, 30),
				msg("a", StatusStillFiring, 60), msg("a", StatusStillFiring, 75), msg("a", StatusResolved, 90)},
			want: []string{"firing@00:00", "still_firing@01:00", "resolved@01:30"}},
		{name: "no updates when disabled",
			every: 0,
			in:    []*article.Alert{msg("a", StatusFiring, 0), msg("a", StatusStillFiring, 120), msg("a", StatusResolved, 130)},
			want:  []string{"firing@00:00", "resolved@02:10"}},
		{name: "episodes are throttled independently",
			every: time.Hour,
			in:    []*article.Alert{msg("a", StatusFiring, 0), msg("b", StatusFiring, 10), msg("b", StatusStillFiring, 20), msg("a", StatusStillFiring, 61)},
			want:  []string{"firing@00:00", "firing@00:10", "still_firing@01:01"}},
		{name: "with growth 2 an update passes only once the peak rate has doubled since the last message passed",
			every: time.Hour, growth: 2,
			in: []*article.Alert{grown("a", StatusFiring, 0, 10), grown("a", StatusStillFiring, 60, 12), grown("a", StatusStillFiring, 75, 25),
				grown("a", StatusStillFiring, 140, 30), grown("a", StatusStillFiring, 150, 60), grown("a", StatusResolved, 200, 60)},
			want: []string{"firing@00:00", "still_firing@01:15", "still_firing@02:30", "resolved@03:20"}},
		{name: "growth does not lift the interval",
			every: time.Hour, growth: 2,
			in:   []*article.Alert{grown("a", StatusFiring, 0, 10), grown("a", StatusStillFiring, 15, 100), grown("a", StatusStillFiring, 61, 100)},
			want: []string{"firing@00:00", "still_firing@01:01"}},
		{name: "growth 1 is the interval alone",
			every: time.Hour, growth: 1,
			in:   []*article.Alert{grown("a", StatusFiring, 0, 10), grown("a", StatusStillFiring, 60, 5)},
			want: []string{"firing@00:00", "still_firing@01:00"}},
		{name: "resolved messages skipped on request",
			every: time.Hour, skipResolved: true,
			in:   []*article.Alert{msg("a", StatusFiring, 0), msg("a", StatusResolved, 30), msg("a", StatusFiring, 300)},
			want: []string{"firing@00:00", "firing@05:00"}},
		{name: "alerts without an episode pass",
			every: time.Hour,
			in:    []*article.Alert{msg("", StatusFiring, 0), msg("", StatusFiring, 1)},
			want:  []string{"firing@00:00", "firing@00:01"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingNotifier{}
			n := &ThrottledNotifier{Next: rec, UpdateEvery: tc.every, UpdateGrowth: tc.growth, SkipResolved: tc.skipResolved}
			for _, a := range tc.in {
				if err := n.Notify(context.Background(), a); err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(rec.got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", rec.got, tc.want)
			}
		})
	}
}

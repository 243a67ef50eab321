package app

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
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

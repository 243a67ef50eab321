package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe bytes.Buffer for the progress output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func esCount(t *testing.T, es, index, query string) int {
	req, _ := http.NewRequest(http.MethodPost, es+"/"+index+"/_count", strings.NewReader(query))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("count %s: %v", index, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return 0
	}
	var out struct{ Count int }
	_ = json.NewDecoder(res.Body).Decode(&out)
	return out.Count
}

// TestRunDemoEndToEnd is `make run` headless: the all-in-one over an embedded NATS, the offline
// demo site and the real Elasticsearch of the local stack. It checks that documents land in
// ES with entities, that the breaking-news burst fires an alert that is indexed, and that the
// run stops cleanly.
func TestRunDemoEndToEnd(t *testing.T) {
	es := testenv.Server(t, "NEWSFLOW_ES_URL")
	prefix := fmt.Sprintf("nfe2e%d", time.Now().UnixNano()%1e9)
	env := map[string]string{
		"NEWSFLOW_ES_URL":       es,
		"NEWSFLOW_INDEX_PREFIX": prefix,
		"NEWSFLOW_LOG_LEVEL":    "info",
	}
	t.Cleanup(func() { // indices, then the templates Setup installed
		for _, path := range []string{"/" + prefix + "-*", "/_index_template/" + prefix + "-*", "/_component_template/" + prefix + "-*"} {
			req, _ := http.NewRequest(http.MethodDelete, es+path, nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}
	})
	stop := make(chan struct{})
	out := &syncBuffer{}
	done := make(chan error, 1)
	httpAddr := make(chan string, 1)
	go func() {
		done <- Run(RunOptions{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", NATSPort: -1, Progress: time.Second, Out: out, Stop: stop,
			Ready: func(addr string) { httpAddr <- addr }},
			func(k string) string { return env[k] })
	}()
	deadline := time.Now().Add(3 * time.Minute)
	var docs, withEntities, alerts int
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, out.String())
		case <-time.After(2 * time.Second):
		}
		docs = esCount(t, es, prefix+"-articles", `{"query":{"match_all":{}}}`)
		withEntities = esCount(t, es, prefix+"-articles", `{"query":{"exists":{"field":"entities.all"}}}`)
		alerts = esCount(t, es, prefix+"-alerts", `{"query":{"match_all":{}}}`)
		if docs >= 30 && alerts >= 1 {
			break
		}
	}
	// The terminal search a user runs against what the demo indexed.
	var sout, serr bytes.Buffer
	if code := Main([]string{"search", "-n", "3", "Grindavik eruption"}, func(k string) string { return env[k] }, nil, &sout, &serr); code != 0 {
		t.Errorf("newsflow search exit %d: %s", code, serr.String())
	} else if !strings.Contains(sout.String(), "matching articles") || !strings.Contains(strings.ToLower(sout.String()), "grindavik") {
		t.Errorf("newsflow search output lacks the burst articles:\n%s", sout.String())
	}
	// The running all-in-one's metrics: what the shipped dashboard queries exists, and every
	// newsflow_* metric is documented (dashboard_test.go).
	select {
	case addr := <-httpAddr:
		mfs, err := scrape(context.Background(), "http://"+addr+"/metrics")
		if err != nil {
			t.Errorf("scrape the all-in-one: %v", err)
		} else {
			checkRunningMetrics(t, mfs)
		}
	default:
		t.Error("Run never called Ready with its HTTP address")
	}
	close(stop)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run did not stop cleanly: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not stop within a minute of the stop signal")
	}
	t.Logf("progress output:\n%s", out.String())
	if docs < 30 || withEntities < 25 || alerts < 1 {
		t.Fatalf("after the demo: %d documents (want >= 30), %d with entities, %d alerts (want >= 1)", docs, withEntities, alerts)
	}
	if !strings.Contains(out.String(), "stopped cleanly") {
		t.Fatalf("no clean stop message in output:\n%s", out.String())
	}
}

package stages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestSubmitOnRealBus checks POST /v1/urls end to end on each real backend: URLs are
// accepted while no fetcher consumer runs (202 = stored on news.submit, not in anyone's
// memory: the process that accepted them is gone before the consumer starts), then the
// fetcher stage, wired as the services wire it, fetches the good one onto news.raw and
// dead-letters the 404, a redirect to file: and an undecodable submission on news.dlq at once
// with the original payload and the reason; a page failing with 502 once is fetched on
// redelivery. A URL posted to the
// running service's own endpoint is fetched too.
func TestSubmitOnRealBus(t *testing.T) {
	onRealBackends(t, runSubmit)
}

// submitSite serves articles under /a/; /a/flaky fails with 502 on its first request.
func submitSite(t *testing.T) *httptest.Server {
	t.Helper()
	var flaky atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-file" { // a redirect that can never be followed
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
			return
		}
		if r.URL.Path == "/a/flaky" && flaky.Add(1) == 1 {
			http.Error(w, "upstream hiccup", http.StatusBadGateway)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/a/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html><head><title>%s</title></head><body><p>Submitted article %s.</p></body></html>", r.URL.Path, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func submitFetchConfig() fetch.Config {
	return fetch.Config{
		AllowAddresses: []string{"127.0.0.1", "::1"}, IgnoreRobots: true, HostInterval: time.Millisecond,
		RequestTimeout: 10 * time.Second, DrainTimeout: 5 * time.Second, SubmitTimeout: 20 * time.Second,
	}
}

// postURLs posts urls to h (in-process) or, with h nil, to addr over HTTP, and returns the
// status and the decoded answer.
func postURLs(t *testing.T, h http.Handler, addr string, urls ...string) (int, fetch.SubmitResponse) {
	t.Helper()
	body, _ := json.Marshal(fetch.SubmitRequest{URLs: urls})
	var code int
	var raw []byte
	if h != nil {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/urls", strings.NewReader(string(body))))
		code, raw = rec.Code, rec.Body.Bytes()
	} else {
		res, err := http.Post("http://"+addr+"/v1/urls", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if raw, err = io.ReadAll(res.Body); err != nil {
			t.Fatal(err)
		}
		code = res.StatusCode
	}
	var r fetch.SubmitResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("answer %d %s: %v", code, raw, err)
	}
	return code, r
}

func runSubmit(t *testing.T, be backend) {
	site := submitSite(t)
	okURL, goneURL, laterURL, flakyURL := site.URL+"/a/durable", site.URL+"/gone", site.URL+"/a/later", site.URL+"/a/flaky"
	fileURL := site.URL + "/to-file"
	client := testClient(t, be)
	raw := startSink(t, client, article.SubjectRaw)
	dlq := startSink(t, client, article.SubjectDLQ)

	// 1. Accept while no consumer of news.submit exists. This Fetcher is only an API: it
	// publishes to the real bus and is dropped before the fetcher stage starts.
	api, err := fetch.New(submitFetchConfig(), nil, fetch.NewMemStore(), client, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	code, ans := postURLs(t, api.Handler(), "", okURL, goneURL, flakyURL, fileURL, "ftp://not-fetchable")
	if code != http.StatusAccepted || len(ans.Accepted) != 4 || len(ans.Rejected) != 1 {
		t.Fatalf("POST: %d %+v, want 202 with 4 accepted and 1 rejected", code, ans)
	}
	broken := []byte(`{"url":"http://`)
	publish(t, client, article.SubjectSubmit, "broken-submit-1", broken)
	time.Sleep(200 * time.Millisecond)
	if n := len(raw.snapshot()); n != 0 {
		t.Fatalf("%d articles on news.raw before any fetcher ran", n)
	}

	// 2. Start the fetcher stage: it must find the stored submissions.
	cfg := stages.FetcherConfig{Fetch: submitFetchConfig(), StateNATSURL: "memory"}
	p := startPipeline(t, be, "stagetest-fetcher", service.StateDir(t.TempDir()), func(c stages.Common) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := stages.AddFetcher(ctx, c, cfg, nil)
		return err
	})
	okID, _, _ := article.ID(okURL)
	goneID, _, _ := article.ID(goneURL)
	fileID, _, _ := article.ID(fileURL)
	started := time.Now()
	rawByURL := func() map[string]*article.Envelope {
		return raw.byKey(func(e *article.Envelope) string { return e.Raw.URL })
	}
	dlqByKey := func() map[string]*article.Envelope { return dlq.byKey(envID) }
	// The flaky page needs a redelivery after the consumer's backoff (5s).
	waitFor(t, "the submitted articles on news.raw and 3 dead letters", func() bool {
		return rawByURL()[okURL] != nil && rawByURL()[flakyURL] != nil && len(dlqByKey()) >= 3
	})
	if e := rawByURL()[okURL]; e.ID != okID || e.Raw.Source.Name != "submitted" || !strings.Contains(e.Raw.Body, "Submitted article /a/durable") {
		t.Errorf("news.raw: id %s source %q body %q, want %s from the page", e.ID, e.Raw.Source.Name, e.Raw.Body, okID)
	}
	dls := dlqByKey()
	if e := dls[goneID]; e == nil || e.DLQ == nil {
		t.Errorf("the 404 is not on news.dlq (dead letters: %v)", keys(dls))
	} else {
		d := e.DLQ
		var s fetch.Submission
		if err := json.Unmarshal(d.Payload, &s); err != nil || s.URL != goneURL || s.ID != goneID || s.SubmittedAt.IsZero() {
			t.Errorf("404 dead letter payload %q (%v), want the original submission of %s", d.Payload, err, goneURL)
		}
		if d.Stage != "fetcher" || d.Subject != be.subject(article.SubjectSubmit) || d.Attempts != 1 || !strings.Contains(d.Reason, "http 404") {
			t.Errorf("404 dead letter: stage %q subject %q attempts %d reason %q", d.Stage, d.Subject, d.Attempts, d.Reason)
		}
	}
	if e := dls[fileID]; e == nil || e.DLQ == nil {
		t.Errorf("the redirect to file: is not on news.dlq (dead letters: %v)", keys(dls))
	} else {
		d := e.DLQ
		t.Logf("redirect to file: dead-lettered %s after the fetcher stage started, attempts %d, reason %q",
			d.FailedAt.Sub(started).Round(time.Millisecond), d.Attempts, d.Reason)
		if d.Attempts != 1 || !strings.Contains(d.Reason, "redirect refused") {
			t.Errorf("file: dead letter: attempts %d reason %q, want 1 attempt and the refused redirect", d.Attempts, d.Reason)
		}
	}
	if e := dls["broken-submit-1"]; e == nil || e.DLQ == nil {
		t.Errorf("the broken submission is not on news.dlq (dead letters: %v)", keys(dls))
	} else if d := e.DLQ; string(d.Payload) != string(broken) || d.Stage != "fetcher" || !strings.Contains(d.Reason, "decode") {
		t.Errorf("broken dead letter: payload %q stage %q reason %q", d.Payload, d.Stage, d.Reason)
	}

	// 3. The running service's own endpoint.
	code, ans = postURLs(t, nil, p.rt.Addr(), laterURL)
	if code != http.StatusAccepted || len(ans.Accepted) != 1 {
		t.Fatalf("POST to the service: %d %+v", code, ans)
	}
	waitFor(t, "the second submitted article on news.raw", func() bool { return rawByURL()[laterURL] != nil })

	got := gatherCounters(t, p.rt)
	for k, v := range map[string]float64{
		`newsflow_fetcher_submissions_total{outcome="fetched"}`:     3,
		`newsflow_fetcher_submissions_total{outcome="retry"}`:       1,
		`newsflow_fetcher_submissions_total{outcome="dead_letter"}`: 3,
		`newsflow_fetcher_urls_submitted_total{outcome="accepted"}`: 1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("runtime stop: %v, want a clean drain (nil)", err)
	}
	if n := len(rawByURL()); n != 3 {
		t.Errorf("%d distinct articles on news.raw, want 3", n)
	}
}

func keys(m map[string]*article.Envelope) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

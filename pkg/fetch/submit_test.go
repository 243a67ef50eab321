package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// fakeMsg is a bus.Message delivered to HandleSubmission in unit tests.
type fakeMsg struct {
	key  string
	data []byte
}

func (m *fakeMsg) Key() string                               { return m.key }
func (m *fakeMsg) Subject() string                           { return article.SubjectSubmit }
func (m *fakeMsg) Data() []byte                              { return m.data }
func (m *fakeMsg) Header() map[string]string                 { return map[string]string{bus.HeaderMsgID: m.key} }
func (m *fakeMsg) Attempt() int                              { return 1 }
func (m *fakeMsg) Ack(context.Context) error                 { return nil }
func (m *fakeMsg) Nack(context.Context, time.Duration) error { return nil }
func (m *fakeMsg) Term(context.Context) error                { return nil }

func submitMsg(t *testing.T, u string) *fakeMsg {
	t.Helper()
	id, _, err := article.ID(u)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Submission{URL: u, ID: id, SubmittedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeMsg{key: id, data: b}
}

func post(h http.Handler, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/urls", strings.NewReader(body)))
	return rec
}

func urlsBody(urls ...string) string {
	b, _ := json.Marshal(SubmitRequest{URLs: urls})
	return string(b)
}

func TestSubmitHandler(t *testing.T) {
	const (
		good  = "https://news.example.com/a/one?utm_source=x"
		good2 = "https://news.example.com/a/two"
		bad   = "ftp://nope"
	)
	down := errors.New("nats: no responders available for request")
	failAll := func(context.Context, bus.Outgoing) error { return down }
	failTwo := func(_ context.Context, m bus.Outgoing) error {
		if strings.Contains(string(m.Data), "/a/two") {
			return down
		}
		return nil
	}
	hang := func(ctx context.Context, _ bus.Outgoing) error { <-ctx.Done(); return ctx.Err() }
	tooLarge := func(context.Context, bus.Outgoing) error { return fmt.Errorf("natsbus: x: %w", bus.ErrTooLarge) }
	for _, tc := range []struct {
		name       string
		body       string
		fail       func(context.Context, bus.Outgoing) error
		code       int
		accepted   []string // URLs
		rejected   []string // substrings of the reasons, in order
		retryAfter bool
	}{
		{name: "accepted", body: urlsBody(good, good2), code: 202, accepted: []string{good, good2}},
		{name: "invalid url rejected", body: urlsBody(bad, "not a url"), code: 400, rejected: []string{"", ""}},
		{name: "publish failure", body: urlsBody(good, good2), fail: failAll, code: 503, rejected: []string{"not stored, retry later", "no responders"}, retryAfter: true},
		{name: "broker timeout", body: urlsBody(good), fail: hang, code: 503, rejected: []string{"deadline exceeded"}, retryAfter: true},
		{name: "mixed accepted, invalid and not stored", body: urlsBody(good, bad, good2), fail: failTwo, code: 202, accepted: []string{good}, rejected: []string{"", "not stored"}},
		{name: "mixed invalid and not stored", body: urlsBody(bad, good2), fail: failTwo, code: 503, rejected: []string{"", "not stored"}, retryAfter: true},
		{name: "too large is the url's fault", body: urlsBody(good), fail: tooLarge, code: 400, rejected: []string{"too large"}},
		{name: "bad json", body: `{"urls":`, code: 400},
		{name: "empty", body: `{"urls":[]}`, code: 400},
		{name: "too many", body: urlsBody(make([]string, maxSubmit+1)...), code: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := &capture{failSubmit: tc.fail}
			cfg := testConfig()
			cfg.SubmitTimeout = 200 * time.Millisecond
			f := newTestFetcher(t, cfg, nil, NewMemStore(), pub)
			rec := post(f.Handler(), tc.body)
			if rec.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if got := rec.Header().Get("Retry-After") != ""; got != tc.retryAfter {
				t.Errorf("Retry-After %q, want set=%v", rec.Header().Get("Retry-After"), tc.retryAfter)
			}
			if tc.accepted == nil && tc.rejected == nil {
				return
			}
			var r SubmitResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("response %s: %v", rec.Body, err)
			}
			if len(r.Accepted) != len(tc.accepted) || len(r.Rejected) != len(tc.rejected) {
				t.Fatalf("response %+v, want %d accepted, %d rejected", r, len(tc.accepted), len(tc.rejected))
			}
			stored := map[string]Submission{}
			for _, m := range pub.submitted() {
				var s Submission
				if err := json.Unmarshal(m.Data, &s); err != nil {
					t.Fatalf("news.submit payload %s: %v", m.Data, err)
				}
				if m.Key != s.ID || m.Header[bus.HeaderMsgID] != s.ID || s.SubmittedAt.IsZero() {
					t.Errorf("news.submit message key %q header %v payload %+v", m.Key, m.Header, s)
				}
				stored[s.ID] = s
			}
			if len(stored) != len(tc.accepted) {
				t.Errorf("%d URLs stored on news.submit, %d accepted", len(stored), len(tc.accepted))
			}
			for i, a := range r.Accepted {
				id, _, _ := article.ID(tc.accepted[i])
				if a.URL != tc.accepted[i] || a.ID != id {
					t.Errorf("accepted[%d] = %+v, want %s %s", i, a, tc.accepted[i], id)
				}
				if s, ok := stored[a.ID]; !ok || s.URL != strings.TrimSpace(a.URL) {
					t.Errorf("accepted %s but not stored (stored: %+v)", a.URL, stored)
				}
			}
			for i, rj := range r.Rejected {
				if rj.Error == "" || !strings.Contains(rj.Error, tc.rejected[i]) {
					t.Errorf("rejected[%d] = %+v, want reason containing %q", i, rj, tc.rejected[i])
				}
			}
			if got := testutil.ToFloat64(f.m.submitted.WithLabelValues("accepted")); int(got) != len(tc.accepted) {
				t.Errorf("accepted metric %v", got)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		f := newTestFetcher(t, testConfig(), nil, NewMemStore(), &capture{})
		rec := httptest.NewRecorder()
		f.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/urls", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", rec.Code)
		}
	})
}

// TestSubmitHandlerConcurrentPublishes checks that one request's publishes run in parallel
// but bounded, and that the handler returns only after all of them.
func TestSubmitHandlerConcurrentPublishes(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := 0, 0
	pub := &capture{failSubmit: func(context.Context, bus.Outgoing) error {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}}
	f := newTestFetcher(t, testConfig(), nil, NewMemStore(), pub)
	urls := make([]string, 100)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://news.example.com/a/%d", i)
	}
	rec := post(f.Handler(), urlsBody(urls...))
	if rec.Code != 202 || len(pub.submitted()) != 100 {
		t.Fatalf("code %d, stored %d", rec.Code, len(pub.submitted()))
	}
	if peak < 2 || peak > submitParallel {
		t.Errorf("peak parallel publishes %d, want 2..%d", peak, submitParallel)
	}
}

func TestHandleSubmission(t *testing.T) {
	s := newSite(t)
	s.extra["/gone"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "gone", http.StatusNotFound) }
	s.extra["/flaky"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusBadGateway) }
	s.extra["/photo.png"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n"))
	}
	s.extra["/private/x"] = func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html><body>secret</body></html>") }
	s.robots = "User-agent: *\nDisallow: /private/\n"
	for _, tc := range []struct {
		name      string
		msg       *fakeMsg
		failRaw   error
		permanent bool
		reason    string // substring of the error ("" = success)
	}{
		{name: "page", msg: submitMsg(t, s.url("/a/sub?utm_medium=x"))},
		{name: "404", msg: submitMsg(t, s.url("/gone")), permanent: true, reason: "http 404"},
		{name: "502", msg: submitMsg(t, s.url("/flaky")), reason: "http 502"},
		{name: "not html", msg: submitMsg(t, s.url("/photo.png")), permanent: true, reason: "content-type image/png"},
		{name: "robots", msg: submitMsg(t, s.url("/private/x")), permanent: true, reason: "robots"},
		{name: "broken json", msg: &fakeMsg{key: "k", data: []byte(`{"url":"http`)}, permanent: true, reason: "decode"},
		{name: "no url", msg: &fakeMsg{key: "k", data: []byte(`{"id":"x"}`)}, permanent: true, reason: "no url"},
		{name: "invalid url", msg: &fakeMsg{key: "k", data: []byte(`{"url":"ftp://x"}`)}, permanent: true, reason: "ftp"},
		{name: "news.raw publish fails", msg: submitMsg(t, s.url("/a/pf")), failRaw: errors.New("broker down"), reason: "broker down"},
		{name: "news.raw too large", msg: submitMsg(t, s.url("/a/big")), failRaw: bus.ErrTooLarge, permanent: true, reason: "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := &capture{fail: tc.failRaw}
			f := newTestFetcher(t, testConfig(), nil, NewMemStore(), pub)
			err := f.HandleSubmission(context.Background(), tc.msg)
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				env := pub.envelopes(t)
				if len(env) != 1 || env[0].Raw.Source.Name != "submitted" || !strings.HasSuffix(env[0].Raw.CanonicalURL, "/a/sub") || !strings.Contains(env[0].Raw.Body, "Article sub") {
					t.Fatalf("published %+v", env)
				}
				if testutil.ToFloat64(f.m.submissions.WithLabelValues("fetched")) != 1 {
					t.Error("fetched not counted")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error %v, want one containing %q", err, tc.reason)
			}
			if bus.IsPermanent(err) != tc.permanent {
				t.Fatalf("permanent = %v, want %v: %v", bus.IsPermanent(err), tc.permanent, err)
			}
			if pub.count() != 0 {
				t.Errorf("published %d on failure", pub.count())
			}
		})
	}
}

// TestSubmitThenConsume goes the whole way in-process: POST → news.submit message →
// HandleSubmission → news.raw, with no Run and no in-memory queue in between.
func TestSubmitThenConsume(t *testing.T) {
	s := newSite(t)
	pub := &capture{}
	f := newTestFetcher(t, testConfig(), nil, NewMemStore(), pub)
	if rec := post(f.Handler(), urlsBody(s.url("/a/e2e"))); rec.Code != 202 {
		t.Fatalf("code %d: %s", rec.Code, rec.Body)
	}
	if pub.count() != 0 {
		t.Fatal("fetched before the submission was consumed")
	}
	subs := pub.submitted()
	if len(subs) != 1 {
		t.Fatalf("%d submissions stored", len(subs))
	}
	if err := f.HandleSubmission(context.Background(), &fakeMsg{key: subs[0].Key, data: subs[0].Data}); err != nil {
		t.Fatal(err)
	}
	if env := pub.envelopes(t); len(env) != 1 || !strings.HasSuffix(env[0].Raw.URL, "/a/e2e") {
		t.Fatalf("published %+v", env)
	}
}

// FuzzDecodeSubmission: any news.submit payload decodes to a submission with a URL or to an
// error (which dead-letters the message), never a panic.
func FuzzDecodeSubmission(f *testing.F) {
	for _, s := range []string{`{"url":"https://example.com/a","id":"x","submitted_at":"2026-11-28T12:00:00Z"}`,
		`{"url":"  "}`, `{"url":1}`, `[]`, ``, `{"url":"\u0000"}`, `{"submitted_at":"not a time","url":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSubmission(b)
		if err == nil && strings.TrimSpace(s.URL) == "" {
			t.Fatalf("decoded %q without a URL", b)
		}
	})
}

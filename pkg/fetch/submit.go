package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// Submission is one URL accepted by POST /v1/urls, as stored on article.SubjectSubmit (JSON)
// until the fetcher's news.submit consumer has fetched it.
type Submission struct {
	URL         string    `json:"url"`
	ID          string    `json:"id"` // article ID of URL's canonical form; the message key
	SubmittedAt time.Time `json:"submitted_at"`
}

// SubmitRequest is the body of POST /v1/urls.
type SubmitRequest struct {
	URLs []string `json:"urls"`
}

// SubmitResponse is the 202 answer. IDs are those of the submitted URLs' canonical form; the
// published article's ID can differ when the page declares another canonical URL.
type SubmitResponse struct {
	Accepted []SubmitAccepted `json:"accepted"`
	Rejected []SubmitRejected `json:"rejected,omitempty"`
}

// SubmitAccepted is one URL durably stored on news.submit.
type SubmitAccepted struct {
	URL string `json:"url"`
	ID  string `json:"id"`
}

// SubmitRejected is one refused URL with the reason.
type SubmitRejected struct {
	URL   string `json:"url"`
	Error string `json:"error"`
}

const (
	// maxSubmit bounds one request.
	maxSubmit = 1000
	// submitParallel bounds the publishes of one request in flight at once.
	submitParallel = 16
	// submitRetryAfter is the Retry-After (seconds) of a 503 when the bus stored nothing.
	submitRetryAfter = "30"
)

// submitResult is what happened to one submitted URL.
type submitResult struct {
	sub         Submission
	err         error
	unavailable bool // err is the bus failing (503 material), not the URL being bad
}

// Handler returns the http.Handler for POST /v1/urls: {"urls": [...]} → 202 with the accepted
// URLs and their IDs. A URL is accepted only once it is durably stored on news.submit (the
// publish blocks until the broker acknowledged it, at most Config.SubmitTimeout per request,
// up to 16 URLs at a time); the fetcher's news.submit consumer (HandleSubmission) fetches
// it later, so an accepted URL survives a crash. Invalid URLs and URLs the bus did not store
// are listed as rejected with the reason. Status: 400 on a bad body or when every URL is
// invalid, 503 + Retry-After when nothing was stored because the bus is unavailable. Safe for
// concurrent use; it does not need Run.
func (f *Fetcher) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		var req SubmitRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		if err := dec.Decode(&req); err != nil {
			httpError(w, http.StatusBadRequest, "body must be {\"urls\": [...]}: "+err.Error())
			return
		}
		if len(req.URLs) == 0 || len(req.URLs) > maxSubmit {
			httpError(w, http.StatusBadRequest, fmt.Sprintf("urls must hold 1..%d entries", maxSubmit))
			return
		}
		results := f.submitAll(r.Context(), req.URLs)
		resp := SubmitResponse{Accepted: []SubmitAccepted{}}
		unavailable := false
		for i, res := range results {
			switch {
			case res.err == nil:
				f.m.submitted.WithLabelValues("accepted").Inc()
				resp.Accepted = append(resp.Accepted, SubmitAccepted{URL: req.URLs[i], ID: res.sub.ID})
			case res.unavailable:
				unavailable = true
				f.m.submitted.WithLabelValues("publish_error").Inc()
				resp.Rejected = append(resp.Rejected, SubmitRejected{URL: req.URLs[i], Error: "not stored, retry later: " + res.err.Error()})
			default:
				f.m.submitted.WithLabelValues("rejected").Inc()
				resp.Rejected = append(resp.Rejected, SubmitRejected{URL: req.URLs[i], Error: res.err.Error()})
			}
		}
		status := http.StatusAccepted
		if len(resp.Accepted) == 0 {
			status = http.StatusBadRequest
			if unavailable {
				status = http.StatusServiceUnavailable
				w.Header().Set("Retry-After", submitRetryAfter)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// submitAll validates urls and publishes the valid ones to news.submit, submitParallel at a
// time, all within Config.SubmitTimeout. It blocks until every publish has returned and
// returns one result per URL, in order.
func (f *Fetcher) submitAll(ctx context.Context, urls []string) []submitResult {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.SubmitTimeout)
	defer cancel()
	now := time.Now().UTC()
	results := make([]submitResult, len(urls))
	sem := make(chan struct{}, submitParallel)
	var wg sync.WaitGroup
	for i, raw := range urls {
		u := strings.TrimSpace(raw)
		id, _, err := article.ID(u)
		if err != nil {
			results[i].err = err
			continue
		}
		results[i].sub = Submission{URL: u, ID: id, SubmittedAt: now}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := f.publishSubmission(ctx, results[i].sub)
			results[i].err = err
			results[i].unavailable = err != nil && !errors.Is(err, bus.ErrTooLarge)
		}()
	}
	wg.Wait()
	return results
}

// publishSubmission stores s on news.submit, keyed (and JetStream-deduplicated) by its ID. It
// blocks until the broker acknowledged the message or ctx ends.
func (f *Fetcher) publishSubmission(ctx context.Context, s Submission) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("fetch: submit %s: encode: %w", s.URL, err)
	}
	out := bus.Outgoing{Key: s.ID, Data: b, Header: map[string]string{bus.HeaderMsgID: s.ID}}
	if err := f.pub.Publish(ctx, article.SubjectSubmit, out); err != nil {
		return fmt.Errorf("fetch: submit %s: %w", s.URL, err)
	}
	return nil
}

// HandleSubmission is the bus.Handler of the fetcher's news.submit consumer: it decodes the
// Submission, fetches the page (robots.txt, host rate limit and SSRF guard as for feed items)
// and publishes the article to news.raw, returning nil only once the broker stored it (the
// message is then acked). Transient failures (network, timeouts, 5xx, 408/429, host busy,
// shutdown, bus trouble) return a plain error, so the bus redelivers with backoff and
// dead-letters after MaxDeliver attempts, except that a page still timing out on attempt
// maxTimeoutAttempts (3) is dead-lettered then; permanent ones (undecodable message, invalid
// URL, other 4xx, robots.txt disallow, blocked address, redirect loop, redirect to a
// non-http(s) scheme, NXDOMAIN confirmed by a second lookup, oversized body, content that is
// neither HTML nor text) return a bus.Permanent error, so the message is dead-lettered at
// once with the reason. A panic is recovered as a permanent error. Safe for
// concurrent use; it does not need Run.
func (f *Fetcher) HandleSubmission(ctx context.Context, m bus.Message) (err error) {
	var s Submission
	defer func() {
		if r := recover(); r != nil {
			f.m.errors.WithLabelValues("panic").Inc()
			f.log.Error("recovered panic", zap.String("in", "submission "+m.Key()), zap.Any("panic", r), zap.Stack("stack"))
			err = bus.Permanentf("fetch: submission %s: panic: %v", m.Key(), r)
		}
		switch {
		case err == nil:
			f.m.submissions.WithLabelValues("fetched").Inc()
		case bus.IsPermanent(err):
			f.m.submissions.WithLabelValues("dead_letter").Inc()
			var since time.Duration // time from POST /v1/urls to this dead letter
			if !s.SubmittedAt.IsZero() {
				since = time.Since(s.SubmittedAt)
			}
			f.log.Warn("submitted url failed permanently, dead-lettering", zap.String("key", m.Key()), zap.Int("attempt", m.Attempt()),
				zap.Duration("since_submitted", since), zap.String("reason", errorReason(err)), zap.Error(err))
		default:
			f.m.submissions.WithLabelValues("retry").Inc()
			f.log.Info("submitted url failed, will retry", zap.String("key", m.Key()), zap.Int("attempt", m.Attempt()), zap.Error(err))
		}
	}()
	s, err = DecodeSubmission(m.Data())
	if err != nil {
		return bus.Permanent(fmt.Errorf("fetch: submission %s: %w", m.Key(), err))
	}
	err = f.fetchSubmitted(ctx, s.URL)
	if err != nil && !bus.IsPermanent(err) && ctx.Err() == nil && timedOut(err) && m.Attempt() >= maxTimeoutAttempts {
		err = bus.Permanent(fmt.Errorf("%w (timed out on %d attempts: server hopelessly slow)", err, m.Attempt()))
	}
	return err
}

// timedOut reports a request that ran into its timeout (headers or whole request).
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// DecodeSubmission decodes a news.submit payload; an error (broken JSON, no URL) means the
// message can never be processed.
func DecodeSubmission(b []byte) (Submission, error) {
	var s Submission
	if err := json.Unmarshal(b, &s); err != nil {
		return Submission{}, fmt.Errorf("decode: %w", err)
	}
	s.URL = strings.TrimSpace(s.URL)
	if s.URL == "" {
		return Submission{}, errors.New("decode: no url")
	}
	return s, nil
}

// fetchSubmitted fetches one submitted URL and publishes it to news.raw (no seen-set check: a
// submission is an explicit request; it is marked seen afterwards). Errors are classified as
// HandleSubmission documents.
func (f *Fetcher) fetchSubmitted(ctx context.Context, u string) error {
	id, canon, err := article.ID(u)
	if err != nil {
		f.m.items.WithLabelValues("invalid").Inc()
		return bus.Permanent(fmt.Errorf("fetch: submission %s: %w", u, err))
	}
	src := Source{Name: "submitted", URL: u, Kind: KindSite}
	it := Item{Link: u}
	raw, err := f.buildRaw(ctx, src, &it, canon)
	if err != nil { // buildRaw returns only transient errors (see transient); the bus retries
		f.m.items.WithLabelValues("deferred").Inc()
		f.m.errors.WithLabelValues(errorReason(err)).Inc()
		return fmt.Errorf("fetch: submission %s: %w", u, err)
	}
	if raw.Extra["body_source"] != "page" { // permanent fetch error or not a page: nothing to publish
		return bus.Permanentf("fetch: submission %s: %s", u, raw.Extra["fetch_error"])
	}
	raw.Source.FeedURL = ""
	finalID := article.IDFromCanonical(raw.CanonicalURL)
	if err := f.publish(ctx, finalID, raw); err != nil {
		f.m.items.WithLabelValues("publish_error").Inc()
		if errors.Is(err, bus.ErrTooLarge) {
			return bus.Permanent(fmt.Errorf("fetch: submission %s: %w", u, err))
		}
		return fmt.Errorf("fetch: submission %s: %w", u, err)
	}
	if err := f.markSeen(ctx, "u."+id, "u."+finalID); err != nil {
		f.log.Warn("submitted url not marked seen", zap.String("url", u), zap.Error(err)) // published anyway
	}
	f.m.items.WithLabelValues("new").Inc()
	return nil
}

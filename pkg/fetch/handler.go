package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/newsflow/newsflow/pkg/article"
)

// headCanonicals returns the page's declared canonical URLs, <link rel=canonical> first then
// og:url, scanning only up to </head> (or 512 KiB).
func headCanonicals(b []byte) []string {
	if len(b) > 512<<10 {
		b = b[:512<<10]
	}
	z := html.NewTokenizer(bytes.NewReader(b))
	var canon, og string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return nonEmpty(canon, og)
		case html.EndTagToken:
			if name, _ := z.TagName(); atom.Lookup(name) == atom.Head {
				return nonEmpty(canon, og)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Body {
				return nonEmpty(canon, og)
			}
			if !hasAttr || (a != atom.Link && a != atom.Meta) {
				continue
			}
			attrs := map[string]string{}
			for {
				k, v, more := z.TagAttr()
				attrs[strings.ToLower(string(k))] = string(v)
				if !more {
					break
				}
			}
			if a == atom.Link && canon == "" && strings.EqualFold(strings.TrimSpace(attrs["rel"]), "canonical") {
				canon = strings.TrimSpace(attrs["href"])
			}
			if a == atom.Meta && og == "" && strings.EqualFold(attrs["property"], "og:url") {
				og = strings.TrimSpace(attrs["content"])
			}
		}
	}
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
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

// SubmitAccepted is one queued URL.
type SubmitAccepted struct {
	URL string `json:"url"`
	ID  string `json:"id"`
}

// SubmitRejected is one refused URL with the reason.
type SubmitRejected struct {
	URL   string `json:"url"`
	Error string `json:"error"`
}

// maxSubmit bounds one request.
const maxSubmit = 1000

// Handler returns the http.Handler for POST /v1/urls: {"urls": [...]} → 202 with the queued
// URLs and their IDs (400 on a bad body, 503 when the queue is full for every URL). URLs are
// fetched by Run's workers. Safe for concurrent use.
func (f *Fetcher) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		var req SubmitRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		if err := dec.Decode(&req); err != nil {
			httpError(w, http.StatusBadRequest, "body must be {\"urls\": [...]}: "+err.Error())
			return
		}
		if len(req.URLs) == 0 || len(req.URLs) > maxSubmit {
			httpError(w, http.StatusBadRequest, "urls must hold 1..1000 entries")
			return
		}
		resp := SubmitResponse{Accepted: []SubmitAccepted{}}
		for _, u := range req.URLs {
			id, _, err := article.ID(u)
			if err != nil {
				f.m.submitted.WithLabelValues("rejected").Inc()
				resp.Rejected = append(resp.Rejected, SubmitRejected{URL: u, Error: err.Error()})
				continue
			}
			select {
			case f.urls <- strings.TrimSpace(u):
				f.m.submitted.WithLabelValues("accepted").Inc()
				resp.Accepted = append(resp.Accepted, SubmitAccepted{URL: u, ID: id})
			default:
				f.m.submitted.WithLabelValues("queue_full").Inc()
				resp.Rejected = append(resp.Rejected, SubmitRejected{URL: u, Error: "queue full, retry later"})
			}
		}
		status := http.StatusAccepted
		if len(resp.Accepted) == 0 {
			status = http.StatusBadRequest
			for _, rj := range resp.Rejected {
				if rj.Error == "queue full, retry later" {
					status = http.StatusServiceUnavailable
					w.Header().Set("Retry-After", "30")
					break
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	})
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// FeedStatus is one feed's health as reported by StatusHandler.
type FeedStatus struct {
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	Kind        Kind      `json:"kind"`
	PolledURL   string    `json:"polled_url,omitempty"`
	NextDue     time.Time `json:"next_due"`
	LastSuccess time.Time `json:"last_success"`
	LastNew     time.Time `json:"last_new"`
	Interval    string    `json:"interval,omitempty"`
	Failures    int       `json:"failures"`
	Parked      bool      `json:"parked"`
	LastError   string    `json:"last_error,omitempty"`
	Validators  bool      `json:"validators_trusted"`
	ItemsNew    int64     `json:"items_new"`
	Polls       int64     `json:"polls"`
	LeaseOwner  string    `json:"lease_owner,omitempty"`
}

// Status reads every source's state from the Store (one read per feed).
func (f *Fetcher) Status(ctx context.Context) ([]FeedStatus, error) {
	out := make([]FeedStatus, 0, len(f.sources))
	for _, src := range f.sources {
		st, _, err := f.store.LoadFeed(ctx, src.Key())
		if err != nil {
			return nil, fmt.Errorf("fetch: status %s: %w", src.Name, err)
		}
		fs := FeedStatus{Name: src.Name, URL: src.URL, Kind: src.Kind, PolledURL: st.URL, NextDue: st.NextDue,
			LastSuccess: st.LastSuccess, LastNew: st.LastNew, Failures: st.Failures, Parked: st.Parked,
			LastError: st.LastError, Validators: !st.ValidatorsDisabled, ItemsNew: st.ItemsNew, Polls: st.Polls}
		if st.Interval > 0 {
			fs.Interval = st.Interval.String()
		}
		if st.LeaseUntil.After(time.Now()) {
			fs.LeaseOwner = st.LeaseOwner
		}
		out = append(out, fs)
	}
	return out, nil
}

// StatusHandler serves GET /v1/feeds: every feed's health as JSON (?problems=1: only feeds
// failing or parked). It reads the Store once per feed; meant for operators, not polling.
func (f *Fetcher) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			httpError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		all, err := f.Status(ctx)
		if err != nil {
			httpError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		if r.URL.Query().Get("problems") != "" {
			kept := all[:0]
			for _, s := range all {
				if s.Failures > 0 || s.Parked {
					kept = append(kept, s)
				}
			}
			all = kept
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"feeds": all})
	})
}

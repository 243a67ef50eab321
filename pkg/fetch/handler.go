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

	"github.com/newsflow/newsflow/pkg/internal/redact"
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

// allowMethod answers 405 with an Allow header and returns false unless r uses method.
func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	httpError(w, http.StatusMethodNotAllowed, "use "+method)
	return false
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
		fs := FeedStatus{Name: src.Name, URL: redact.URL(src.URL), Kind: src.Kind, PolledURL: redact.URL(st.URL), NextDue: st.NextDue,
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
		if !allowMethod(w, r, http.MethodGet) {
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

package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestBacklogPollsReuseParse: a feed drained over several polls (MaxItemsPerPoll 1) whose
// body does not change is parsed once; a changed body is parsed again; once the backlog is
// drained the memo is dropped.
func TestBacklogPollsReuseParse(t *testing.T) {
	s := newSite(t)
	var mu sync.Mutex
	slugs := []string{"m1", "m2", "m3"}
	s.extra["/feed"] = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeMemoFeed(w, s.srv.URL, slugs)
	}
	src := Source{Name: "m", URL: s.url("/feed")}
	cfg := testConfig()
	cfg.MaxItemsPerPoll = 1
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	poll := func(wantPub, wantParses int, wantMemo bool) {
		t.Helper()
		makeDue(t, store, src)
		f.PollFeed(context.Background(), 0)
		if pub.count() != wantPub {
			t.Fatalf("published %d, want %d", pub.count(), wantPub)
		}
		if n := f.memos.parses.Load(); n != int64(wantParses) {
			t.Fatalf("ParseFeed called %d times, want %d", n, wantParses)
		}
		f.memos.mu.Lock()
		_, memo := f.memos.m[0]
		f.memos.mu.Unlock()
		if memo != wantMemo {
			t.Fatalf("memo kept %v, want %v", memo, wantMemo)
		}
	}
	poll(1, 1, true)
	poll(2, 1, true) // same body: no parse
	mu.Lock()
	slugs = append([]string{"m0"}, slugs...)
	mu.Unlock()
	poll(3, 2, true)  // changed body: parsed again
	poll(4, 2, false) // the last item: drained, the memo is dropped
	poll(4, 3, false) // not pending: parsed as before
	pub.keysOnce(t)
}

// TestParseMemoOnlyForBacklogRepoll: a feed left pending by an item whose page keeps failing
// is polled at its normal interval, not re-polled for a backlog, and keeps no memo (its body
// and parse would be held for nothing); a failed poll drops the memo of a feed that had one.
func TestParseMemoOnlyForBacklogRepoll(t *testing.T) {
	s := newSite(t)
	var mu sync.Mutex
	slugs, feedDown := []string{"m1", "m2", "bad"}, false
	s.extra["/feed"] = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if feedDown {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		writeMemoFeed(w, s.srv.URL, slugs)
	}
	s.extra["/a/bad"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "slow", http.StatusGatewayTimeout) }
	src := Source{Name: "m", URL: s.url("/feed")}
	cfg := testConfig()
	cfg.ItemAttempts = 100
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	memo := func(f *Fetcher) bool {
		f.memos.mu.Lock()
		defer f.memos.mu.Unlock()
		_, ok := f.memos.m[0]
		return ok
	}
	makeDue(t, store, src)
	f.PollFeed(context.Background(), 0)
	st, _, err := store.LoadFeed(context.Background(), src.Key())
	if err != nil {
		t.Fatal(err)
	}
	if pub.count() != 2 || !st.Pending || len(st.ItemFailures) != 1 {
		t.Fatalf("published %d, pending %v, item failures %v; want 2, a pending feed, the bad item", pub.count(), st.Pending, st.ItemFailures)
	}
	if memo(f) {
		t.Fatal("memo kept for a feed pending at its normal interval")
	}

	// A feed draining a backlog keeps its memo until a poll fails.
	mu.Lock()
	slugs = []string{"n1", "n2", "n3"}
	mu.Unlock()
	cfg.MaxItemsPerPoll = 1
	store2 := NewMemStore()
	g := newTestFetcher(t, cfg, []Source{src}, store2, &capture{})
	makeDue(t, store2, src)
	g.PollFeed(context.Background(), 0)
	if !memo(g) {
		t.Fatal("no memo for a feed draining a backlog")
	}
	mu.Lock()
	feedDown = true
	mu.Unlock()
	makeDue(t, store2, src)
	g.PollFeed(context.Background(), 0)
	if memo(g) {
		t.Fatal("memo kept after a failed poll")
	}
}

// writeMemoFeed serves an RSS feed of the slugs' items, linking to base/a/<slug>.
func writeMemoFeed(w http.ResponseWriter, base string, slugs []string) {
	w.Header().Set("Content-Type", "application/rss+xml")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`)
	for _, slug := range slugs {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s/a/%s</link><guid>%s</guid></item>`, slug, base, slug, slug)
	}
	b.WriteString(`</channel></rss>`)
	w.Write([]byte(b.String()))
}

// BenchmarkBacklogRepollParse is the parse step of one re-poll of a 1,250-item feed that is
// draining a backlog: "parse" parses the body (before the memo), "memo" finds it unchanged.
func BenchmarkBacklogRepollParse(b *testing.B) {
	body := synthFeed(1250)
	lim := ParseLimits{}
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := ParseFeed(body, "https://bench.example.com/rss", "", lim); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("memo", func(b *testing.B) {
		var pm parseMemos
		p, hash, err := pm.parse(0, body, "https://bench.example.com/rss", "", lim)
		if err != nil {
			b.Fatal(err)
		}
		pm.keep(0, true, body, "https://bench.example.com/rss", "", p, hash, false)
		fresh := bytes.Clone(body) // a new response body with the same bytes
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if got, _, _ := pm.parse(0, fresh, "https://bench.example.com/rss", "", lim); got != p {
				b.Fatal("not memoized")
			}
		}
	})
}

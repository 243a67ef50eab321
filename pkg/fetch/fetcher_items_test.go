package fetch

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// slowPages serves every /a/<slug> page after delay and records how many were in flight at
// once. canonical, if set, maps a slug to the canonical path its page declares.
type slowPages struct {
	delay     time.Duration
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	canonical map[string]string
}

func (p *slowPages) handler(slug string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := p.inFlight.Add(1)
		defer p.inFlight.Add(-1)
		for {
			m := p.maxFlight.Load()
			if n <= m || p.maxFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(p.delay)
		canon := "/a/" + slug
		if c, ok := p.canonical[slug]; ok {
			canon = c
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><head><title>%s</title><link rel="canonical" href="%s"></head><body><p>Article %s body.</p></body></html>`, slug, canon, slug)
	}
}

// TestPollFetchesItemsConcurrently: the pages of one poll are fetched ItemConcurrency at a
// time (never more), every item is published once and marked seen, and the per-poll limit
// still keeps the newest items.
func TestPollFetchesItemsConcurrently(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		items       int
		limit       int
	}{
		{name: "one at a time", concurrency: 1, items: 6, limit: 100},
		{name: "eight at a time", concurrency: 8, items: 24, limit: 100},
		{name: "limit below the items", concurrency: 4, items: 20, limit: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			pages := &slowPages{delay: 30 * time.Millisecond}
			var slugs []string
			for i := range tt.items {
				slug := fmt.Sprintf("c%02d", i)
				slugs = append(slugs, slug)
				s.extra["/a/"+slug] = pages.handler(slug)
			}
			s.add("/rss", slugs...) // slugs[0] is the newest
			cfg := testConfig()
			cfg.ItemConcurrency, cfg.MaxItemsPerPoll = tt.concurrency, tt.limit
			src := Source{Name: "c", URL: s.url("/rss")}
			store, pub := NewMemStore(), &capture{}
			f := newTestFetcher(t, cfg, []Source{src}, store, pub)
			f.PollFeed(context.Background(), 0)

			want := min(tt.items, tt.limit)
			if pub.count() != want {
				t.Fatalf("published %d, want %d", pub.count(), want)
			}
			pub.keysOnce(t)
			if got := int(pages.maxFlight.Load()); got > tt.concurrency || (tt.concurrency > 1 && got < 2) {
				t.Errorf("%d pages in flight at most, want 2..%d", got, tt.concurrency)
			}
			if store.SeenCount() < want {
				t.Errorf("%d seen keys, want ≥ %d", store.SeenCount(), want)
			}
			for i := range tt.items {
				hit := s.hit("/a/" + slugs[i])
				if i < want && hit != 1 || i >= want && hit != 0 {
					t.Errorf("page %s fetched %d times (newest %d are due)", slugs[i], hit, want)
				}
			}
			st := state(t, store, src)
			if st.Pending != (tt.items > tt.limit) {
				t.Errorf("pending %v with %d items and limit %d", st.Pending, tt.items, tt.limit)
			}
		})
	}
}

// TestPollPublishesOneArticleOnce: items of one poll whose pages declare the same canonical
// URL (fetched at the same time) are one article, published once; the others are marked seen.
func TestPollPublishesOneArticleOnce(t *testing.T) {
	s := newSite(t)
	pages := &slowPages{delay: 20 * time.Millisecond, canonical: map[string]string{}}
	var slugs []string
	for i := range 8 {
		slug := fmt.Sprintf("d%d", i)
		slugs = append(slugs, slug)
		pages.canonical[slug] = "/a/story" // eight URLs of one story
		s.extra["/a/"+slug] = pages.handler(slug)
	}
	s.add("/rss", slugs...)
	cfg := testConfig()
	cfg.ItemConcurrency = 8
	src := Source{Name: "d", URL: s.url("/rss")}
	store, pub := NewMemStore(), &capture{}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	f.PollFeed(context.Background(), 0)
	if pub.count() != 1 {
		t.Fatalf("one story under 8 URLs published %d times", pub.count())
	}
	if st := state(t, store, src); st.Pending {
		t.Error("feed left pending although every item was handled")
	}
	// Next poll: all eight are known; nothing is fetched again.
	makeDue(t, store, src)
	s.add("/rss", "fresh")
	f.PollFeed(context.Background(), 0)
	if pub.count() != 2 {
		t.Fatalf("after a new item: %d published, want 2", pub.count())
	}
	for _, slug := range slugs {
		if s.hit("/a/"+slug) != 1 {
			t.Errorf("page %s fetched %d times", slug, s.hit("/a/"+slug))
		}
	}
}

// TestPollStopsStartingItemsAfterPublishFailure: once the bus fails, no further page is
// fetched in that poll, nothing is marked seen, and the next poll publishes everything.
func TestPollStopsStartingItemsAfterPublishFailure(t *testing.T) {
	s := newSite(t)
	pages := &slowPages{delay: 5 * time.Millisecond}
	var slugs []string
	for i := range 40 {
		slug := fmt.Sprintf("e%02d", i)
		slugs = append(slugs, slug)
		s.extra["/a/"+slug] = pages.handler(slug)
	}
	s.add("/rss", slugs...)
	cfg := testConfig()
	cfg.ItemConcurrency = 4
	src := Source{Name: "e", URL: s.url("/rss")}
	store := NewMemStore()
	pub := &capture{fail: fmt.Errorf("broker down")}
	f := newTestFetcher(t, cfg, []Source{src}, store, pub)
	f.PollFeed(context.Background(), 0)
	fetched := 0
	for _, slug := range slugs {
		fetched += s.hit("/a/" + slug)
	}
	if fetched > 2*cfg.ItemConcurrency {
		t.Errorf("%d pages fetched after the bus failed, want at most %d", fetched, 2*cfg.ItemConcurrency)
	}
	if store.SeenCount() != 0 {
		t.Fatalf("%d items marked seen although none was published", store.SeenCount())
	}
	pub.mu.Lock()
	pub.fail = nil
	pub.mu.Unlock()
	makeDue(t, store, src)
	f.PollFeed(context.Background(), 0)
	if pub.count() != len(slugs) {
		t.Fatalf("next poll published %d, want %d", pub.count(), len(slugs))
	}
	pub.keysOnce(t)
}

package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// storeFactory opens a new, empty namespace of the store under test twice, as two replicas
// would (for MemStore: the same value twice). Cleanup goes through t.Cleanup.
type storeFactory func(t *testing.T) (a, b Store)

// testStoreConformance is what the fetcher relies on from every Store (MemStore, KVStore on
// NATS JetStream, ESStore on Elasticsearch): CAS on feed state (the leases), a seen-set with
// add-if-absent, both shared by every handle on the same backend.
func testStoreConformance(t *testing.T, open storeFactory) {
	ctx := context.Background()
	t.Run("absent", func(t *testing.T) {
		s, _ := open(t)
		st, rev, err := s.LoadFeed(ctx, "feed.none")
		if err != nil || rev != 0 || st.ETag != "" || !st.NextDue.IsZero() {
			t.Fatalf("absent feed: %+v rev %d err %v", st, rev, err)
		}
	})
	t.Run("cas", func(t *testing.T) {
		s, _ := open(t)
		r1, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"1"`}, 0)
		if err != nil || r1 == 0 {
			t.Fatalf("create: rev %d err %v", r1, err)
		}
		if _, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"x"`}, 0); !errors.Is(err, ErrConflict) {
			t.Fatalf("create twice: %v", err)
		}
		r2, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"2"`}, r1)
		if err != nil || r2 == r1 || r2 == 0 {
			t.Fatalf("update: rev %d (was %d) err %v", r2, r1, err)
		}
		if _, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"stale"`}, r1); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		st, rev, err := s.LoadFeed(ctx, "feed.abc")
		if err != nil || st.ETag != `"2"` || rev != r2 {
			t.Fatalf("got %+v rev %d (want %d) err %v", st, rev, r2, err)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		s, _ := open(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		want := FeedState{
			URL: "https://example.com/feed.xml", ETag: `W/"e"`, LastModified: "Sun, 06 Dec 2026 06:00:00 GMT",
			ValidatorsDisabled: true, Lies: 2, NotModifiedSince: true, PollsSinceFull: 3, LastHash: "abc",
			Pending: true, Interval: 7 * time.Minute, Cadence: 90 * time.Second, NextDue: now.Add(time.Hour),
			LastPoll: now, LastSuccess: now, LastNew: now.Add(-time.Hour), Failures: 1, Parked: true,
			LastError: "HTTP 503 \u00e9\x00", LeaseOwner: "host-1-a", LeaseUntil: now.Add(10 * time.Minute),
			Children: map[string]string{"https://example.com/s1.xml": "2026-12-06"}, Polls: 1 << 40, ItemsNew: 12,
			ItemFailures: map[string]int{"u.00ff": 2},
		}
		if _, err := s.SaveFeed(ctx, "feed.rt", want, 0); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.LoadFeed(ctx, "feed.rt")
		if err != nil {
			t.Fatal(err)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Fatalf("round trip:\n got %s\nwant %s", gj, wj)
		}
	})
	t.Run("seen", func(t *testing.T) {
		s, _ := open(t)
		if seen, err := s.Seen(ctx, "u.1"); seen || err != nil {
			t.Fatalf("seen before add: %v %v", seen, err)
		}
		if n, err := s.MarkSeen(ctx, "u.1"); !n || err != nil {
			t.Fatalf("first add: %v %v", n, err)
		}
		if n, err := s.MarkSeen(ctx, "u.1"); n || err != nil {
			t.Fatalf("second add: %v %v", n, err)
		}
		if seen, err := s.Seen(ctx, "u.1"); !seen || err != nil {
			t.Fatalf("not seen after add: %v %v", seen, err)
		}
		if seen, _ := s.Seen(ctx, "u.2"); seen {
			t.Fatal("another key seen")
		}
	})
	t.Run("shared by replicas", func(t *testing.T) {
		a, b := open(t)
		rev, err := a.SaveFeed(ctx, "feed.shared", FeedState{LeaseOwner: "A"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		st, brev, err := b.LoadFeed(ctx, "feed.shared")
		if err != nil || st.LeaseOwner != "A" || brev != rev {
			t.Fatalf("replica B reads %+v rev %d (want %d) err %v", st, brev, rev, err)
		}
		if _, err := b.SaveFeed(ctx, "feed.shared", FeedState{LeaseOwner: "B"}, 0); !errors.Is(err, ErrConflict) {
			t.Fatalf("replica B created over A: %v", err)
		}
		if _, err := a.MarkSeen(ctx, "g.shared"); err != nil {
			t.Fatal(err)
		}
		if seen, err := b.Seen(ctx, "g.shared"); !seen || err != nil {
			t.Fatalf("replica B does not see A's key: %v %v", seen, err)
		}
		if n, err := b.MarkSeen(ctx, "g.shared"); n || err != nil {
			t.Fatalf("replica B marked A's key as new: %v %v", n, err)
		}
	})
	t.Run("concurrent cas", func(t *testing.T) {
		// Workers on both handles increment one counter through load + CAS save, retrying on
		// conflict: the total proves no two writers ever both won the same revision.
		a, b := open(t)
		const workers, each = 4, 6
		var conflicts atomic.Int64
		var wg sync.WaitGroup
		errc := make(chan error, workers)
		for w := range workers {
			s := a
			if w%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; {
					st, rev, err := s.LoadFeed(ctx, "feed.counter")
					if err != nil {
						errc <- err
						return
					}
					st.Polls++
					if _, err := s.SaveFeed(ctx, "feed.counter", st, rev); errors.Is(err, ErrConflict) {
						conflicts.Add(1)
						continue
					} else if err != nil {
						errc <- err
						return
					}
					i++
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		st, _, err := a.LoadFeed(ctx, "feed.counter")
		if err != nil {
			t.Fatal(err)
		}
		if st.Polls != workers*each {
			t.Fatalf("counter %d after %d successful CAS writes (%d conflicts): lost updates", st.Polls, workers*each, conflicts.Load())
		}
		t.Logf("%d writes, %d conflicts", workers*each, conflicts.Load())
	})
	t.Run("concurrent mark seen", func(t *testing.T) {
		a, b := open(t)
		const n = 8
		var news atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if isNew, err := s.MarkSeen(ctx, "u.race"); err != nil {
					t.Error(err)
				} else if isNew {
					news.Add(1)
				}
			}()
		}
		wg.Wait()
		if news.Load() != 1 {
			t.Fatalf("%d of %d concurrent MarkSeen calls reported the key new, want 1", news.Load(), n)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s, _ := open(t)
		if _, ok := s.(*MemStore); ok {
			t.Skip("MemStore does no I/O")
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := s.LoadFeed(cctx, "feed.x"); err == nil {
			t.Error("LoadFeed with a cancelled context succeeded")
		}
		if _, err := s.MarkSeen(cctx, "u.x"); err == nil {
			t.Error("MarkSeen with a cancelled context succeeded")
		}
	})
}

func TestMemStoreConformance(t *testing.T) {
	testStoreConformance(t, func(t *testing.T) (Store, Store) {
		m := NewMemStore()
		return m, m
	})
}

// testFetchersShareStore runs two fetcher replicas on one store (every feed must be polled
// once within an interval and each of its 3 items published once), then a third,
// "restarted" replica that must publish only the one new item. pub publishes to the real
// bus; count reports how many messages it holds. With busDedup (JetStream) a second publish
// of an article ID must not be stored.
func testFetchersShareStore(t *testing.T, store Store, pub bus.Publisher, count func() uint64, busDedup bool) {
	ctx := context.Background()
	s := newSite(t)
	const nFeeds = 6
	var srcs []Source
	for i := 0; i < nFeeds; i++ {
		p := fmt.Sprintf("/n%d", i)
		s.add(p, p[1:]+"-a", p[1:]+"-b", p[1:]+"-c")
		srcs = append(srcs, Source{Name: p, URL: s.url(p)})
	}
	run := func(id string, srcs []Source, wait func() bool) {
		cfg := testConfig()
		cfg.ReplicaID = id
		cfg.MinInterval, cfg.DefaultInterval, cfg.MaxInterval = time.Hour, time.Hour, time.Hour
		cfg.StartSpread = 100 * time.Millisecond
		f, err := New(cfg, srcs, store, pub, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { f.Run(rctx); close(done) }()
		deadline := time.Now().Add(30 * time.Second)
		for !wait() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
	}
	var wg sync.WaitGroup
	for _, id := range []string{"A", "B"} {
		wg.Add(1)
		go func() { defer wg.Done(); run(id, srcs, func() bool { return count() >= 3*nFeeds }) }()
	}
	wg.Wait()
	if got := count(); got != 3*nFeeds {
		t.Fatalf("bus holds %d messages, want %d", got, 3*nFeeds)
	}
	for _, src := range srcs {
		if h := s.hit(src.URL[len(s.srv.URL):]); h != 1 {
			t.Errorf("%s polled %d times by two replicas within one interval", src.Name, h)
		}
	}
	if busDedup {
		// A duplicate publish of an article ID within the window is dropped by the bus.
		id, _, _ := article.ID(s.url("/a/n0-a"))
		if err := pub.Publish(ctx, article.SubjectRaw, bus.Outgoing{Key: id, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != 3*nFeeds {
			t.Fatalf("duplicate article ID stored: %d messages", got)
		}
	}
	// "Restart": a new replica, all feeds made due, one new item on one feed.
	for _, src := range srcs {
		makeDue(t, store, src)
	}
	s.add("/n0", "n0-new")
	polled := func() bool {
		for _, src := range srcs {
			if s.hit(src.URL[len(s.srv.URL):]) < 2 {
				return false
			}
		}
		return true
	}
	run("C", srcs, func() bool { return polled() && count() >= 3*nFeeds+1 })
	if got := count(); got != 3*nFeeds+1 {
		t.Fatalf("after restart the bus holds %d messages, want %d", got, 3*nFeeds+1)
	}
}

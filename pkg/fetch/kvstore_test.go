package fetch

import (
	"context"
	"errors"
	"fmt"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// natsJS connects to NEWSFLOW_NATS_URL. Unset: skip, unless CI=true (then fail).
func natsJS(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	u := testenv.Server(t, "NEWSFLOW_NATS_URL")
	nc, err := nats.Connect(u, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", u, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// prefixed publishes through the real natsbus backend to a test-private subject (so the
// shared stack's news.raw stream is left alone).
type prefixed struct {
	pub    bus.Publisher
	prefix string
}

func (p prefixed) Publish(ctx context.Context, subject string, m bus.Outgoing) error {
	return p.pub.Publish(ctx, p.prefix+"."+subject, m)
}

func kvTestStore(t *testing.T, js jetstream.JetStream, suffix string) *KVStore {
	t.Helper()
	ctx := context.Background()
	cfg := KVConfig{StateBucket: "test_fetch_state_" + suffix, SeenBucket: "test_fetch_seen_" + suffix, SeenTTL: time.Hour, Storage: jetstream.MemoryStorage}
	s, err := NewKVStore(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKVStoreIntegration(t *testing.T) {
	_, js := natsJS(t)
	ctx := context.Background()
	suffix := fmt.Sprintf("%d_%d", time.Now().UnixNano(), rand.IntN(1000))
	s := kvTestStore(t, js, suffix)
	t.Cleanup(func() {
		js.DeleteKeyValue(ctx, "test_fetch_state_"+suffix)
		js.DeleteKeyValue(ctx, "test_fetch_seen_"+suffix)
	})

	t.Run("cas", func(t *testing.T) {
		st, rev, err := s.LoadFeed(ctx, "feed.abc")
		if err != nil || rev != 0 || st.ETag != "" {
			t.Fatalf("absent: %+v %d %v", st, rev, err)
		}
		r1, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"1"`}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"x"`}, 0); !errors.Is(err, ErrConflict) {
			t.Fatalf("create twice: %v", err)
		}
		r2, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"2"`}, r1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveFeed(ctx, "feed.abc", FeedState{ETag: `"stale"`}, r1); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		st, rev, _ = s.LoadFeed(ctx, "feed.abc")
		if st.ETag != `"2"` || rev != r2 {
			t.Fatalf("got %+v rev %d", st, rev)
		}
	})
	t.Run("seen", func(t *testing.T) {
		if seen, _ := s.Seen(ctx, "u.1"); seen {
			t.Fatal("seen before add")
		}
		if n, err := s.MarkSeen(ctx, "u.1"); !n || err != nil {
			t.Fatalf("first add: %v %v", n, err)
		}
		if n, err := s.MarkSeen(ctx, "u.1"); n || err != nil {
			t.Fatalf("second add: %v %v", n, err)
		}
		if seen, _ := s.Seen(ctx, "u.1"); !seen {
			t.Fatal("not seen after add")
		}
	})
}

// TestFetchersOnRealNATS runs two replicas against real JetStream: KV store shared, articles
// published through natsbus (Nats-Msg-Id = article ID) to a test subject; a third,
// "restarted" replica publishes only the one new item.
func TestFetchersOnRealNATS(t *testing.T) {
	nc, js := natsJS(t)
	ctx := context.Background()
	suffix := fmt.Sprintf("%d_%d", time.Now().UnixNano(), rand.IntN(1000))
	prefix := "test_fetch_" + suffix
	nb, err := natsbus.NewFromConn(nc, natsbus.Config{StreamPrefix: "TESTFETCH", MemoryStorage: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	streamName := natsbus.StreamName("TESTFETCH", prefix+"."+article.SubjectRaw)
	t.Cleanup(func() {
		nb.Close()
		js.DeleteStream(ctx, streamName)
		js.DeleteKeyValue(ctx, "test_fetch_state_"+suffix)
		js.DeleteKeyValue(ctx, "test_fetch_seen_"+suffix)
	})
	store := kvTestStore(t, js, suffix)
	pub := prefixed{pub: nb, prefix: prefix}

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
		deadline := time.Now().Add(20 * time.Second)
		for !wait() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
	}
	count := func() uint64 {
		stream, err := js.Stream(ctx, streamName)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return 0 // nothing published yet
		}
		if err != nil {
			t.Error(err)
			return 0
		}
		info, err := stream.Info(ctx)
		if err != nil {
			t.Error(err)
			return 0
		}
		return info.State.Msgs
	}
	var wg sync.WaitGroup
	for _, id := range []string{"A", "B"} {
		wg.Add(1)
		go func() { defer wg.Done(); run(id, srcs, func() bool { return count() >= 3*nFeeds }) }()
	}
	wg.Wait()
	if got := count(); got != 3*nFeeds {
		t.Fatalf("stream holds %d messages, want %d", got, 3*nFeeds)
	}
	for _, src := range srcs {
		if h := s.hit(src.URL[len(s.srv.URL):]); h != 1 {
			t.Errorf("%s polled %d times by two replicas within one interval", src.Name, h)
		}
	}
	// A duplicate publish of an article ID within the window is dropped by JetStream.
	id, _, _ := article.ID(s.url("/a/n0-a"))
	if err := pub.Publish(ctx, article.SubjectRaw, bus.Outgoing{Key: id, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 3*nFeeds {
		t.Fatalf("duplicate article ID stored: %d messages", got)
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
	run("C", srcs, polled)
	if got := count(); got != 3*nFeeds+1 {
		t.Fatalf("after restart the stream holds %d messages, want %d", got, 3*nFeeds+1)
	}
}

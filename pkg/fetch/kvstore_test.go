package fetch

import (
	"context"
	"errors"
	"fmt"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// natsJS connects to NEWSFLOW_NATS_URL. Unset: skip, unless CI=true (then fail).
func natsJS(t testing.TB) (*nats.Conn, jetstream.JetStream) {
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

func kvTestStore(t testing.TB, js jetstream.JetStream, suffix string) *KVStore {
	t.Helper()
	ctx := context.Background()
	cfg := KVConfig{StateBucket: "test_fetch_state_" + suffix, SeenBucket: "test_fetch_seen_" + suffix, SeenTTL: time.Hour, Storage: jetstream.MemoryStorage}
	s, err := NewKVStore(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKVStoreIntegration runs the store conformance suite on JetStream KV: each subtest gets
// its own buckets, opened by two KVStore values as two replicas would.
func TestKVStoreIntegration(t *testing.T) {
	_, js := natsJS(t)
	testStoreConformance(t, func(t *testing.T) (Store, Store) {
		suffix := fmt.Sprintf("%d_%d", time.Now().UnixNano(), rand.IntN(1000))
		t.Cleanup(func() {
			ctx := context.Background()
			js.DeleteKeyValue(ctx, "test_fetch_state_"+suffix)
			js.DeleteKeyValue(ctx, "test_fetch_seen_"+suffix)
		})
		return kvTestStore(t, js, suffix), kvTestStore(t, js, suffix)
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
	testFetchersShareStore(t, store, pub, count, true)
}

package fetch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/segmentio/kafka-go"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
)

// esClient connects to NEWSFLOW_ES_URL (unset: skip, unless CI is set; unreachable: fail).
func esClient(t testing.TB) *elasticsearch.Client {
	t.Helper()
	return esClientFor(t, "NEWSFLOW_ES_URL", testenv.Server(t, "NEWSFLOW_ES_URL"))
}

func esClientFor(t testing.TB, env, u string) *elasticsearch.Client {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s=%s: %v", env, u, err)
	}
	testenv.Dialable(t, env, pu.Host)
	// Its own transport, closed at the end (the package checks for leaked goroutines).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{u}, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

var esTestSeq atomic.Int64

// esTestConfig names test-private indices (deleted at cleanup).
func esTestConfig(t testing.TB, es *elasticsearch.Client) ESConfig {
	t.Helper()
	suffix := fmt.Sprintf("%d-%d-%d", time.Now().UnixNano(), rand.IntN(1000), esTestSeq.Add(1))
	cfg := ESConfig{StateIndex: "test-fetch-state-" + suffix, SeenIndex: "test-fetch-seen-" + suffix}
	t.Cleanup(func() {
		res, err := es.Indices.Delete([]string{cfg.StateIndex, cfg.SeenIndex}, es.Indices.Delete.WithIgnoreUnavailable(true))
		if err != nil {
			t.Errorf("delete test indices: %v", err)
			return
		}
		res.Body.Close()
	})
	return cfg
}

func esTestStore(t testing.TB, es *elasticsearch.Client, cfg ESConfig) *ESStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := NewESStore(ctx, es, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestESStoreIntegration runs the store conformance suite on a real Elasticsearch: each
// subtest gets its own indices, opened by two ESStore values as two replicas would.
func TestESStoreIntegration(t *testing.T) {
	es := esClient(t)
	testStoreConformance(t, func(t *testing.T) (Store, Store) {
		cfg := esTestConfig(t, es)
		return esTestStore(t, es, cfg), esTestStore(t, es, cfg)
	})
}

// TestESStoreSeenTTL: an entry older than SeenTTL counts as absent, MarkSeen renews it as
// new, and Prune deletes only expired entries.
func TestESStoreSeenTTL(t *testing.T) {
	es := esClient(t)
	ctx := context.Background()
	cfg := esTestConfig(t, es)
	cfg.SeenTTL = time.Hour
	s := esTestStore(t, es, cfg)
	now := time.Now()
	s.now = func() time.Time { return now }
	for _, k := range []string{"u.old", "u.old2", "u.fresh"} {
		if n, err := s.MarkSeen(ctx, k); !n || err != nil {
			t.Fatalf("mark %s: %v %v", k, n, err)
		}
	}
	now = now.Add(30 * time.Minute)
	if n, err := s.MarkSeen(ctx, "u.fresh2"); !n || err != nil {
		t.Fatalf("mark fresh2: %v %v", n, err)
	}
	now = now.Add(31 * time.Minute) // u.old* are 61 minutes old, u.fresh2 31
	if seen, err := s.Seen(ctx, "u.old"); seen || err != nil {
		t.Fatalf("expired entry seen: %v %v", seen, err)
	}
	if seen, err := s.Seen(ctx, "u.fresh2"); !seen || err != nil {
		t.Fatalf("live entry not seen: %v %v", seen, err)
	}
	if n, err := s.MarkSeen(ctx, "u.old"); !n || err != nil {
		t.Fatalf("expired entry not renewed as new: %v %v", n, err)
	}
	if n, err := s.MarkSeen(ctx, "u.old"); n || err != nil {
		t.Fatalf("renewed entry new again: %v %v", n, err)
	}
	refresh(t, es, cfg.SeenIndex)
	deleted, err := s.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 2 { // u.old2 and u.fresh (61 minutes); u.old was renewed
		t.Fatalf("pruned %d entries, want 2", deleted)
	}
	for k, want := range map[string]bool{"u.old": true, "u.old2": false, "u.fresh": false, "u.fresh2": true} {
		if seen, err := s.Seen(ctx, k); seen != want || err != nil {
			t.Errorf("after prune %s seen=%v (want %v) err %v", k, seen, want, err)
		}
	}
}

func refresh(t *testing.T, es *elasticsearch.Client, index string) {
	t.Helper()
	res, err := es.Indices.Refresh(es.Indices.Refresh.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

// TestESStoreKeys: keys beyond Elasticsearch's 512-byte ID limit and keys with characters
// that need escaping in a URL path are stored and distinguished.
func TestESStoreKeys(t *testing.T) {
	es := esClient(t)
	ctx := context.Background()
	s := esTestStore(t, es, esTestConfig(t, es))
	long := strings.Repeat("k", 600)
	for i, k := range []string{long, long + "2", "feed/a?b=c d#e", "ü.ключ", "sha256.x"} {
		etag := fmt.Sprint(i)
		if n, err := s.MarkSeen(ctx, k); !n || err != nil {
			t.Fatalf("mark %.20q: %v %v", k, n, err)
		}
		if _, err := s.SaveFeed(ctx, k, FeedState{ETag: etag}, 0); err != nil {
			t.Fatalf("save %.20q: %v", k, err)
		}
		if st, _, err := s.LoadFeed(ctx, k); err != nil || st.ETag != etag {
			t.Fatalf("load %.20q: %+v %v", k, st, err)
		}
	}
}

// TestESStoreMissingIndex: a store whose index was deleted under it reports an error, not
// "absent" (which would make every replica poll every feed again).
func TestESStoreMissingIndex(t *testing.T) {
	es := esClient(t)
	cfg := esTestConfig(t, es)
	s := esTestStore(t, es, cfg)
	res, err := es.Indices.Delete([]string{cfg.StateIndex})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if _, _, err := s.LoadFeed(context.Background(), "feed.x"); err == nil || !strings.Contains(err.Error(), "index_not_found") {
		t.Fatalf("load from a deleted index: %v", err)
	}
}

func TestESRevisionPacking(t *testing.T) {
	tests := []struct {
		name        string
		seq, term   int64
		wantErr     bool
		wantNonZero bool
	}{
		{"first write", 0, 1, false, true},
		{"large", 1<<seqBits - 2, 1<<(64-seqBits) - 1, false, true},
		{"seq overflow", 1<<seqBits - 1, 1, true, false},
		{"term overflow", 5, 1 << (64 - seqBits), true, false},
		{"negative seq", -1, 1, true, false},
		{"no term", 3, 0, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rev, err := packRev(tc.seq, tc.term)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			if rev == 0 {
				t.Fatal("revision 0 means absent")
			}
			if seq, term := unpackRev(rev); seq != tc.seq || term != tc.term {
				t.Fatalf("unpack: %d/%d, want %d/%d", seq, term, tc.seq, tc.term)
			}
		})
	}
}

// TestFetchersKafkaOnly is TestFetchersOnRealNATS without NATS: two fetcher replicas share an
// ESStore and publish through the real kafkabus to a test topic (Kafka has no publish dedup:
// the replicas' leases alone keep each item to one message).
func TestFetchersKafkaOnly(t *testing.T) {
	es := esClient(t)
	brokers := strings.Split(testenv.Server(t, "NEWSFLOW_KAFKA_BROKERS"), ",")
	testenv.Dialable(t, "NEWSFLOW_KAFKA_BROKERS", brokers[0])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kb, err := kafkabus.New(ctx, kafkabus.Config{Brokers: brokers}, testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("test_fetch_es_%d_%d", time.Now().UnixNano(), rand.IntN(1000))
	topic := prefix + "." + article.SubjectRaw
	t.Cleanup(func() {
		kb.Close()
		if _, err := kafkabus.DeleteTopicsWithPrefix(context.Background(), brokers, prefix); err != nil {
			t.Errorf("delete test topics: %v", err)
		}
	})
	ktr := &kafka.Transport{}
	t.Cleanup(ktr.CloseIdleConnections)
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: ktr, Timeout: 10 * time.Second}
	count := func() uint64 {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
			return 0 // not created yet
		}
		req := map[string][]kafka.OffsetRequest{}
		for _, p := range md.Topics[0].Partitions {
			req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
		}
		res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
		if err != nil {
			t.Error(err)
			return 0
		}
		var n uint64
		for _, po := range res.Topics[topic] {
			if po.Error != nil {
				t.Error(po.Error)
				continue
			}
			n += uint64(po.LastOffset)
		}
		return n
	}
	store := esTestStore(t, es, esTestConfig(t, es))
	testFetchersShareStore(t, store, prefixed{pub: kb, prefix: prefix}, count, false)
}

// TestESStoreReplicas: without an explicit AutoExpandReplicas the indices have no replica on
// the single-node dev stack and one on the ES cluster (deploy/local/cluster.sh,
// NEWSFLOW_TEST_CLUSTER_ES_URL, two data nodes), so the fetcher's state survives a data node
// as the articles do. Each case runs when its server is configured.
func TestESStoreReplicas(t *testing.T) {
	tests := []struct {
		name, env string
		want      string
	}{
		{"single node", "NEWSFLOW_ES_URL", "0"},
		{"cluster", "NEWSFLOW_TEST_CLUSTER_ES_URL", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := strings.TrimSpace(os.Getenv(tc.env))
			if u == "" {
				t.Skipf("%s not set", tc.env)
			}
			es := esClientFor(t, tc.env, u)
			cfg := esTestConfig(t, es)
			esTestStore(t, es, cfg)
			for _, ix := range []string{cfg.StateIndex, cfg.SeenIndex} {
				set, err := es.Indices.GetSettings(es.Indices.GetSettings.WithIndex(ix), es.Indices.GetSettings.WithName("index.number_of_replicas"),
					es.Indices.GetSettings.WithFilterPath("*.settings.index.number_of_replicas"))
				if err != nil {
					t.Fatal(err)
				}
				body := set.String()
				set.Body.Close()
				if !strings.Contains(body, `"number_of_replicas":"`+tc.want+`"`) {
					t.Errorf("index %s: %s, want %s replicas", ix, body, tc.want)
				}
			}
		})
	}
}

// BenchmarkStoreOps measures one poll's store traffic (load, lease, release, and one item's
// Seen + MarkSeen) on each real store, to compare them in one run (synthetic keys).
func BenchmarkStoreOps(b *testing.B) {
	ctx := context.Background()
	stores := map[string]func(b *testing.B) Store{
		"mem": func(*testing.B) Store { return NewMemStore() },
		"nats-kv": func(b *testing.B) Store {
			_, js := natsJS(b)
			suffix := fmt.Sprintf("b%d", time.Now().UnixNano())
			b.Cleanup(func() {
				js.DeleteKeyValue(ctx, "test_fetch_state_"+suffix)
				js.DeleteKeyValue(ctx, "test_fetch_seen_"+suffix)
			})
			return kvTestStore(b, js, suffix)
		},
		"elasticsearch": func(b *testing.B) Store {
			es := esClient(b)
			return esTestStore(b, es, esTestConfig(b, es))
		},
	}
	for _, name := range []string{"mem", "nats-kv", "elasticsearch"} {
		b.Run(name, func(b *testing.B) {
			s := stores[name](b)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				key := fmt.Sprintf("feed.%d", i%50)
				st, rev, err := s.LoadFeed(ctx, key)
				if err != nil {
					b.Fatal(err)
				}
				st.LeaseOwner = "bench"
				if rev, err = s.SaveFeed(ctx, key, st, rev); err != nil {
					b.Fatal(err)
				}
				st.LeaseOwner = ""
				if _, err = s.SaveFeed(ctx, key, st, rev); err != nil {
					b.Fatal(err)
				}
				item := fmt.Sprintf("u.%d", i)
				if _, err := s.Seen(ctx, item); err != nil {
					b.Fatal(err)
				}
				if _, err := s.MarkSeen(ctx, item); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package fetch

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/pkg/internal/testenv"
)

// TestKVStoreReplicas: without an explicit Replicas the buckets are R1 on a single server (the
// dev stack) and R3 on a 3-node cluster (deploy/local/cluster.sh, NEWSFLOW_TEST_CLUSTER_NATS_URL),
// so the seen-set and leases survive a node as the streams do. Each case runs when its server is
// configured.
func TestKVStoreReplicas(t *testing.T) {
	tests := []struct {
		name, env string
		want      int
	}{
		{"single server", "NEWSFLOW_NATS_URL", 1},
		{"cluster", "NEWSFLOW_TEST_CLUSTER_NATS_URL", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := strings.TrimSpace(os.Getenv(tc.env))
			if url == "" {
				t.Skipf("%s not set", tc.env)
			}
			testenv.Dialable(t, tc.env, strings.TrimPrefix(strings.Split(url, ",")[0], "nats://"))
			nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
			if err != nil {
				t.Fatalf("connect %s: %v", url, err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			suffix := fmt.Sprintf("r%d", time.Now().UnixNano())
			cfg := KVConfig{StateBucket: "test_fetch_state_" + suffix, SeenBucket: "test_fetch_seen_" + suffix, SeenTTL: time.Hour}
			if _, err := NewKVStore(ctx, js, cfg); err != nil {
				t.Fatal(err)
			}
			for _, b := range []string{cfg.StateBucket, cfg.SeenBucket} {
				kv, err := js.KeyValue(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				st, err := kv.Status(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas; got != tc.want {
					t.Errorf("bucket %s: %d replicas, want %d", b, got, tc.want)
				}
				if err := js.DeleteKeyValue(ctx, b); err != nil {
					t.Errorf("delete bucket %s: %v", b, err)
				}
			}
		})
	}
}

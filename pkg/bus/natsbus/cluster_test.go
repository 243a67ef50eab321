package natsbus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// TestConformanceNATSCluster runs the shared suite against a 3-node JetStream cluster with R3
// streams; its broker restart is a kill -9 of the meta leader. It then checks that the streams
// it created really are replicated three times.
func TestConformanceNATSCluster(t *testing.T) {
	url := bustest.ClusterServer(t, "NEWSFLOW_TEST_CLUSTER_NATS_URL")
	ctx := context.Background()
	probe, err := natsbus.New(ctx, natsbus.Config{URL: url, Replicas: 3}, testLogger(t))
	if err != nil {
		t.Fatalf("NATS cluster at %s unreachable: %v", url, err)
	}
	t.Cleanup(func() { _ = probe.Close() })
	prefix := "BTC" + strings.ToUpper(time.Now().Format("150405"))
	f := bustest.Factory{
		New: func(t testing.TB) (bus.Bus, error) {
			return natsbus.New(context.Background(), natsbus.Config{URL: url, StreamPrefix: prefix, Replicas: 3, MaxBytes: 64 << 20,
				ReconnectWait: 100 * time.Millisecond, ConnectName: "bustest-cluster"}, testLogger(t))
		},
		RestartBroker: bustest.KillLeader("nats"),
		Timeout:       30 * time.Second,
		AckWait:       2 * time.Second,
	}
	f.Cleanup = func(t testing.TB, _ []string) {
		streams := clusterStreams(t, probe.JetStream(), prefix)
		if len(streams) == 0 {
			t.Errorf("no stream with prefix %s found", prefix)
		}
		for _, si := range streams {
			if si.Config.Replicas != 3 {
				t.Errorf("stream %s: %d replicas, want 3", si.Config.Name, si.Config.Replicas)
			}
			if si.Cluster == nil || len(si.Cluster.Replicas)+1 != 3 {
				t.Errorf("stream %s: cluster info %+v, want a leader and 2 replicas", si.Config.Name, si.Cluster)
			}
			err := probe.JetStream().DeleteStream(ctx, si.Config.Name)
			if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) { // listed twice across a leader change
				t.Errorf("cleanup: delete stream %s: %v", si.Config.Name, err)
			}
		}
		t.Logf("checked R3 and deleted %d streams with prefix %s", len(streams), prefix)
	}
	bustest.Run(t, f)
}

// clusterStreams lists the streams whose names start with prefix_.
func clusterStreams(t testing.TB, js jetstream.JetStream, prefix string) []*jetstream.StreamInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*jetstream.StreamInfo
	l := js.ListStreams(ctx)
	for si := range l.Info() {
		if strings.HasPrefix(si.Config.Name, prefix+"_") {
			out = append(out, si)
		}
	}
	if err := l.Err(); err != nil {
		t.Errorf("list streams: %v", err)
	}
	return out
}

package kafkabus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
)

// TestConformanceKafkaCluster runs the shared suite against a 3-broker cluster with topics at
// replication factor 3 and min.insync.replicas 2; its broker restart is a kill -9 of the active
// controller. It then checks the replication of the topics it created.
func TestConformanceKafkaCluster(t *testing.T) {
	bs := strings.Split(bustest.ClusterServer(t, "NEWSFLOW_TEST_CLUSTER_KAFKA_BROKERS"), ",")
	log := testLogger()
	cfg := testConfig(bs)
	cfg.ReplicationFactor = 3
	bustest.Run(t, bustest.Factory{
		New: func(t testing.TB) (bus.Bus, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return New(ctx, cfg, log)
		},
		RestartBroker: bustest.KillLeader("kafka"),
		Cleanup: func(t testing.TB, prefixes []string) {
			checkReplication(t, bs, prefixes)
			deleteTopics(t, bs, prefixes)
		},
		Timeout: 45 * time.Second,
	})
}

// checkReplication asserts that every topic of the suite has 3 replicas per partition and an
// effective min.insync.replicas of 2.
func checkReplication(t testing.TB, bs, prefixes []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(bs...), Transport: tr, Timeout: 10 * time.Second}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		t.Errorf("metadata: %v", err)
		return
	}
	var res []kafka.DescribeConfigRequestResource
	for _, tp := range md.Topics {
		if !hasAnyPrefix(tp.Name, prefixes) {
			continue
		}
		for _, p := range tp.Partitions {
			if len(p.Replicas) != 3 {
				t.Errorf("topic %s partition %d: %d replicas, want 3", tp.Name, p.ID, len(p.Replicas))
			}
		}
		res = append(res, kafka.DescribeConfigRequestResource{ResourceType: kafka.ResourceTypeTopic,
			ResourceName: tp.Name, ConfigNames: []string{"min.insync.replicas"}})
	}
	if len(res) == 0 {
		t.Errorf("no topic with the suite's prefixes found")
		return
	}
	dc, err := cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: res})
	if err != nil {
		t.Errorf("describe configs: %v", err)
		return
	}
	for _, r := range dc.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "min.insync.replicas" && e.ConfigValue != "2" {
				t.Errorf("topic %s: min.insync.replicas %s, want 2", r.ResourceName, e.ConfigValue)
			}
		}
	}
	t.Logf("checked RF 3 / min ISR 2 on %d topics", len(res))
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p+".") {
			return true
		}
	}
	return false
}

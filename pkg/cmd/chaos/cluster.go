package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
)

// cluster drives deploy/local/cluster.sh and knows its addresses.
type cluster struct {
	script  string
	natsURL string
	brokers []string
	esURL   string
}

func newCluster(script string) (*cluster, error) {
	out, err := exec.Command("bash", script, "env").Output()
	if err != nil {
		return nil, fmt.Errorf("chaos: %s env: %w", script, err)
	}
	env := map[string]string{}
	for _, f := range strings.Fields(string(out)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			env[k] = v
		}
	}
	c := &cluster{script: script, natsURL: env["NEWSFLOW_TEST_CLUSTER_NATS_URL"],
		brokers: strings.Split(env["NEWSFLOW_TEST_CLUSTER_KAFKA_BROKERS"], ","), esURL: env["NEWSFLOW_TEST_CLUSTER_ES_URL"]}
	if c.natsURL == "" || c.esURL == "" {
		return nil, fmt.Errorf("chaos: %s env printed no cluster addresses", script)
	}
	return c, nil
}

// sh runs the cluster script with args.
func (c *cluster) sh(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "bash", append([]string{c.script}, args...)...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return s, fmt.Errorf("cluster.sh %s: %w: %s", strings.Join(args, " "), err, s)
	}
	return s, nil
}

// up starts (or checks) the clusters the backend needs.
func (c *cluster) up(ctx context.Context, backend string) error {
	svcs := []string{"nats", "es"} // the fetcher keeps its state in JetStream KV on both buses
	if backend == "kafka" {
		svcs = append(svcs, "kafka")
	}
	_, err := c.sh(ctx, append([]string{"up"}, svcs...)...)
	return err
}

// streamLeader is the server leading stream's Raft group.
func (c *cluster) streamLeader(ctx context.Context, stream string) (string, error) {
	nc, err := nats.Connect(c.natsURL, nats.Timeout(3*time.Second))
	if err != nil {
		return "", err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return "", err
	}
	if s.CachedInfo().Cluster == nil || s.CachedInfo().Cluster.Leader == "" {
		return "", fmt.Errorf("stream %s has no leader", stream)
	}
	return s.CachedInfo().Cluster.Leader, nil
}

// partitionLeader is the broker (kafkaN) leading partition 0 of topic.
func (c *cluster) partitionLeader(ctx context.Context, topic string) (string, error) {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(c.brokers...), Transport: tr, Timeout: 5 * time.Second}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return "", err
	}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			if p.ID == 0 && p.Leader.ID > 0 {
				return "kafka" + strconv.Itoa(p.Leader.ID), nil
			}
		}
	}
	return "", fmt.Errorf("topic %s: no leader for partition 0", topic)
}

// reset removes what an earlier run left: streams and the fetcher's KV buckets on NATS, the
// news.* topics on Kafka (the clusters belong to this script; the dev stack is not touched).
func (c *cluster) reset(ctx context.Context, backend string) error {
	nc, err := nats.Connect(c.natsURL, nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	names := js.StreamNames(ctx)
	var del []string
	for n := range names.Name() {
		if strings.HasPrefix(n, "NEWSFLOW_") || strings.HasPrefix(n, "KV_newsflow_") {
			del = append(del, n)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("reset: list streams: %w", err)
	}
	for _, n := range del {
		if err := js.DeleteStream(ctx, n); err != nil {
			return fmt.Errorf("reset: delete stream %s: %w", n, err)
		}
	}
	if backend != "kafka" {
		return nil
	}
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(c.brokers...), Transport: tr, Timeout: 20 * time.Second}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return fmt.Errorf("reset: metadata: %w", err)
	}
	var topics []string
	for _, t := range md.Topics {
		if strings.HasPrefix(t.Name, "news.") {
			topics = append(topics, t.Name)
		}
	}
	if len(topics) > 0 {
		if _, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics}); err != nil {
			return fmt.Errorf("reset: delete topics: %w", err)
		}
		time.Sleep(3 * time.Second) // let the deletions settle before the services recreate them
	}
	return nil
}

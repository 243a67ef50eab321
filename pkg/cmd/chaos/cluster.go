package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
	esURLs  []string // every ES node's HTTP address (health while one is down)
	ownES   bool     // the ES cluster is cluster.sh's (false: --es-url, not ours to attack)
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
		brokers: strings.Split(env["NEWSFLOW_TEST_CLUSTER_KAFKA_BROKERS"], ","), esURL: env["NEWSFLOW_TEST_CLUSTER_ES_URL"],
		esURLs: strings.Split(env["NEWSFLOW_TEST_CLUSTER_ES_URLS"], ","), ownES: true}
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
	// with the Kafka bus nothing uses NATS (the fetcher keeps its state in Elasticsearch)
	svcs := []string{backend}
	if c.ownES {
		svcs = append(svcs, "es")
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
	if backend == "kafka" {
		return c.resetKafka(ctx)
	}
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
	return nil
}

// resetKafka deletes the news.* topics of an earlier run.
func (c *cluster) resetKafka(ctx context.Context) error {
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

// waitNATSCurrent waits until every newsflow stream and KV bucket on the NATS cluster has a
// leader and all its replicas current: a restarted node has caught up with its Raft groups.
func (c *cluster) waitNATSCurrent(ctx context.Context) error { return pollUntil(ctx, c.natsCurrent) }

// pollUntil calls check every 2 s until it returns nil or ctx ends (then its last error).
func pollUntil(ctx context.Context, check func(context.Context) error) error {
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(2 * time.Second):
		}
	}
}

func (c *cluster) natsCurrent(ctx context.Context) error {
	nc, err := nats.Connect(c.natsURL, nats.Timeout(3*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	infos := js.ListStreams(lctx)
	n := 0
	for si := range infos.Info() {
		if !strings.HasPrefix(si.Config.Name, "NEWSFLOW_") && !strings.HasPrefix(si.Config.Name, "KV_newsflow") {
			continue
		}
		n++
		cl := si.Cluster
		if cl == nil || cl.Leader == "" {
			return fmt.Errorf("stream %s: no leader", si.Config.Name)
		}
		if len(cl.Replicas) != si.Config.Replicas-1 {
			return fmt.Errorf("stream %s: %d of %d followers", si.Config.Name, len(cl.Replicas), si.Config.Replicas-1)
		}
		for _, r := range cl.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("stream %s: replica %s not current", si.Config.Name, r.Name)
			}
		}
	}
	if err := infos.Err(); err != nil {
		return err
	}
	if n == 0 {
		return errors.New("no newsflow streams listed")
	}
	return nil
}

// waitKafkaISR waits until all three brokers are in the metadata and every partition of the
// news.* topics and the offsets topic has a leader and its whole replica set in sync.
func (c *cluster) waitKafkaISR(ctx context.Context) error { return pollUntil(ctx, c.kafkaISR) }

func (c *cluster) kafkaISR(ctx context.Context) error {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(c.brokers...), Transport: tr, Timeout: 5 * time.Second}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return err
	}
	if len(md.Brokers) < len(c.brokers) {
		return fmt.Errorf("%d of %d brokers in the metadata", len(md.Brokers), len(c.brokers))
	}
	for _, t := range md.Topics {
		if !strings.HasPrefix(t.Name, "news.") && t.Name != "__consumer_offsets" {
			continue
		}
		for _, p := range t.Partitions {
			if p.Leader.ID < 0 || p.Leader.Host == "" {
				return fmt.Errorf("%s/%d: no leader", t.Name, p.ID)
			}
			if len(p.Isr) < len(p.Replicas) {
				return fmt.Errorf("%s/%d: ISR %d of %d", t.Name, p.ID, len(p.Isr), len(p.Replicas))
			}
		}
	}
	return nil
}

// waitESGreen waits until the ES cluster is green with both nodes (every replica allocated).
func (c *cluster) waitESGreen(ctx context.Context) error { return pollUntil(ctx, c.esGreen) }

// esGreen asks each ES node in turn (one may be down) whether the cluster is green.
func (c *cluster) esGreen(ctx context.Context) error {
	var last error
	for _, u := range c.esURLs {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/_cluster/health?wait_for_status=green&wait_for_nodes=2&timeout=5s", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		last = fmt.Errorf("%s: cluster health HTTP %d (not green)", u, resp.StatusCode)
	}
	return last
}

// dropIndices deletes the run's indices, index templates and component templates (prefix-*)
// one name at a time (a shared Elasticsearch may refuse wildcard deletes).
func (c *cluster) dropIndices(ctx context.Context, prefix string) error {
	do := func(method, path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, c.esURL+path, nil)
		if err != nil {
			return nil, err
		}
		return http.DefaultClient.Do(req)
	}
	resp, err := do(http.MethodGet, "/_cat/indices/"+prefix+"-*?h=index&format=json&expand_wildcards=all")
	if err != nil {
		return err
	}
	var idx []struct {
		Index string `json:"index"`
	}
	err = json.NewDecoder(resp.Body).Decode(&idx)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("list %s-*: %w", prefix, err)
	}
	paths := []string{}
	for _, i := range idx {
		paths = append(paths, "/"+i.Index)
	}
	for _, t := range []string{"articles", "alerts"} {
		paths = append(paths, "/_index_template/"+prefix+"-"+t)
	}
	for _, t := range []string{"settings", "articles-mappings", "alerts-mappings"} {
		paths = append(paths, "/_component_template/"+prefix+"-"+t)
	}
	var errs []error
	for _, p := range paths {
		resp, err := do(http.MethodDelete, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
			errs = append(errs, fmt.Errorf("DELETE %s: HTTP %d", p, resp.StatusCode))
		}
	}
	return errors.Join(errs...)
}

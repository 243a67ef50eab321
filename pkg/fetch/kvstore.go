package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KVConfig names the JetStream KV buckets.
type KVConfig struct {
	StateBucket string        // default "newsflow_fetch_state"
	SeenBucket  string        // default "newsflow_fetch_seen"
	SeenTTL     time.Duration // default 30 days: an article unseen for that long may be re-published
	Replicas    int           // bucket replicas (default: 3 when the server is in a cluster of 3 or more, else 1)
	Storage     jetstream.StorageType
}

func (c KVConfig) withDefaults() KVConfig {
	if c.StateBucket == "" {
		c.StateBucket = "newsflow_fetch_state"
	}
	if c.SeenBucket == "" {
		c.SeenBucket = "newsflow_fetch_seen"
	}
	if c.SeenTTL <= 0 {
		c.SeenTTL = 30 * 24 * time.Hour
	}
	return c
}

// defaultReplicas is 3 when the connected server belongs to a JetStream cluster of at least
// three servers (its INFO names a cluster and advertises their client URLs), else 1: the
// fetcher's seen-set and leases must survive losing a node as the streams do.
func defaultReplicas(js jetstream.JetStream) int {
	nc := js.Conn()
	if nc == nil || nc.ConnectedClusterName() == "" || len(nc.Servers()) < 3 {
		return 1
	}
	return 3
}

// KVStore is a Store on two NATS JetStream KV buckets: per-feed state (CAS on revisions, so
// replicas coordinate through it) and the seen-set (Create = add-if-absent, bucket TTL bounds
// its size). It survives restarts and is shared by every replica. Deployments on the Kafka
// bus use ESStore instead (no NATS needed).
type KVStore struct {
	state jetstream.KeyValue
	seen  jetstream.KeyValue
}

// NewKVStore creates or updates the buckets and returns the store. A JetStream that is
// briefly unavailable (HTTP-like 503 while a cluster elects a leader, a hung or restarting
// server, request timeouts) is retried with backoff for up to provisionTimeout; a definite
// answer (an invalid config) fails at once.
func NewKVStore(ctx context.Context, js jetstream.JetStream, cfg KVConfig) (*KVStore, error) {
	cfg = cfg.withDefaults()
	if cfg.Replicas <= 0 {
		cfg.Replicas = defaultReplicas(js)
	}
	state, err := createBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket: cfg.StateBucket, Description: "newsflow fetcher per-feed state and leases",
		History: 1, Replicas: cfg.Replicas, Storage: cfg.Storage,
	})
	if err != nil {
		return nil, err
	}
	seen, err := createBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket: cfg.SeenBucket, Description: "newsflow fetcher seen-set (canonical URL and GUID keys)",
		History: 1, TTL: cfg.SeenTTL, Replicas: cfg.Replicas, Storage: cfg.Storage,
	})
	if err != nil {
		return nil, err
	}
	return &KVStore{state: state, seen: seen}, nil
}

// provisionTimeout bounds NewKVStore's retries of transient JetStream errors.
const provisionTimeout = 60 * time.Second

func createBucket(ctx context.Context, js jetstream.JetStream, kc jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	deadline := time.Now().Add(provisionTimeout)
	wait := 250 * time.Millisecond
	for {
		kv, err := js.CreateOrUpdateKeyValue(ctx, kc)
		if err == nil {
			return kv, nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.Code != 503 || ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("fetch: kv bucket %s: %w", kc.Bucket, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("fetch: kv bucket %s: %w", kc.Bucket, ctx.Err())
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// LoadFeed implements Store.
func (s *KVStore) LoadFeed(ctx context.Context, key string) (FeedState, uint64, error) {
	e, err := s.state.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return FeedState{}, 0, nil
	}
	if err != nil {
		return FeedState{}, 0, fmt.Errorf("fetch: kv get %s: %w", key, err)
	}
	var st FeedState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		// Corrupt state must not wedge the feed: start over from the revision we read.
		return FeedState{}, e.Revision(), nil
	}
	return st, e.Revision(), nil
}

// SaveFeed implements Store.
func (s *KVStore) SaveFeed(ctx context.Context, key string, st FeedState, rev uint64) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("fetch: kv encode %s: %w", key, err)
	}
	var nrev uint64
	if rev == 0 {
		nrev, err = s.state.Create(ctx, key, b)
	} else {
		nrev, err = s.state.Update(ctx, key, b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("fetch: kv put %s: %w", key, err)
	}
	return nrev, nil
}

// Seen implements Store.
func (s *KVStore) Seen(ctx context.Context, key string) (bool, error) {
	_, err := s.seen.Get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return false, nil
	default:
		return false, fmt.Errorf("fetch: kv seen %s: %w", key, err)
	}
}

// MarkSeen implements Store.
func (s *KVStore) MarkSeen(ctx context.Context, key string) (bool, error) {
	_, err := s.seen.Create(ctx, key, []byte{1})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return false, nil
	default:
		return false, fmt.Errorf("fetch: kv mark seen %s: %w", key, err)
	}
}

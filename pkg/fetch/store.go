package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrConflict is returned by Store.SaveFeed when the revision is stale (another replica wrote).
var ErrConflict = errors.New("fetch: store: revision conflict")

// FeedState is what the fetcher remembers per feed. It is shared by all replicas through the
// Store and doubles as the feed's lease (LeaseOwner/LeaseUntil).
type FeedState struct {
	URL                string            `json:"url,omitempty"` // feed URL actually polled (autodiscovered for kind site)
	ETag               string            `json:"etag,omitempty"`
	LastModified       string            `json:"last_modified,omitempty"`
	ValidatorsDisabled bool              `json:"validators_disabled,omitempty"` // the server lied; poll unconditionally
	Lies               int               `json:"lies,omitempty"`
	NotModifiedSince   bool              `json:"not_modified_since,omitempty"` // a 304 was accepted since LastHash
	PollsSinceFull     int               `json:"polls_since_full,omitempty"`   // conditional polls since the last unconditional one
	LastHash           string            `json:"last_hash,omitempty"`
	Pending            bool              `json:"pending,omitempty"`  // the last poll deferred items; hash/validators not advanced
	Interval           time.Duration     `json:"interval,omitempty"` // current adaptive interval
	Cadence            time.Duration     `json:"cadence,omitempty"`  // observed mean gap between items (EWMA)
	NextDue            time.Time         `json:"next_due"`
	LastPoll           time.Time         `json:"last_poll"`
	LastSuccess        time.Time         `json:"last_success"`
	LastNew            time.Time         `json:"last_new"`
	Failures           int               `json:"failures,omitempty"`
	Parked             bool              `json:"parked,omitempty"`
	LastError          string            `json:"last_error,omitempty"`
	LeaseOwner         string            `json:"lease_owner,omitempty"`
	LeaseUntil         time.Time         `json:"lease_until"`
	Children           map[string]string `json:"children,omitempty"` // sitemap index: child loc → lastmod seen
	Polls              int64             `json:"polls,omitempty"`
	ItemsNew           int64             `json:"items_new,omitempty"`
	// ItemFailures counts, per item (seen-set key), the polls on which its page fetch failed
	// transiently; at Config.ItemAttempts the item falls back to the feed's text.
	ItemFailures map[string]int `json:"item_failures,omitempty"`
}

// Store keeps per-feed state and the seen-set. Implementations are safe for concurrent use
// and, for multi-replica deployments, shared between processes.
type Store interface {
	// LoadFeed returns the state and its revision; (zero, 0, nil) when absent.
	LoadFeed(ctx context.Context, key string) (FeedState, uint64, error)
	// SaveFeed writes st if the stored revision is still rev (0 = must not exist yet) and
	// returns the new revision, or ErrConflict.
	SaveFeed(ctx context.Context, key string, st FeedState, rev uint64) (uint64, error)
	// Seen reports whether key is in the seen-set.
	Seen(ctx context.Context, key string) (bool, error)
	// MarkSeen adds key to the seen-set and reports whether it was new.
	MarkSeen(ctx context.Context, key string) (bool, error)
}

// MemStore is an in-process Store for tests and single-process use; state is lost on exit.
type MemStore struct {
	mu    sync.Mutex
	feeds map[string]memEntry
	seen  map[string]time.Time
	rev   uint64
}

type memEntry struct {
	b   []byte
	rev uint64
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{feeds: map[string]memEntry{}, seen: map[string]time.Time{}}
}

// LoadFeed implements Store.
func (m *MemStore) LoadFeed(_ context.Context, key string) (FeedState, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.feeds[key]
	if !ok {
		return FeedState{}, 0, nil
	}
	var st FeedState
	if err := json.Unmarshal(e.b, &st); err != nil {
		return FeedState{}, 0, fmt.Errorf("fetch: memstore %s: %w", key, err)
	}
	return st, e.rev, nil
}

// SaveFeed implements Store.
func (m *MemStore) SaveFeed(_ context.Context, key string, st FeedState, rev uint64) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.feeds[key].rev != rev {
		return 0, ErrConflict
	}
	m.rev++
	m.feeds[key] = memEntry{b: b, rev: m.rev}
	return m.rev, nil
}

// Seen implements Store.
func (m *MemStore) Seen(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.seen[key]
	return ok, nil
}

// MarkSeen implements Store.
func (m *MemStore) MarkSeen(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seen[key]; ok {
		return false, nil
	}
	m.seen[key] = time.Now()
	return true, nil
}

// SeenCount returns the size of the seen-set (tests, debugging).
func (m *MemStore) SeenCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

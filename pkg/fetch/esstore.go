package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// ESConfig names the Elasticsearch indices of an ESStore.
type ESConfig struct {
	StateIndex string        // default "newsflow-fetch-state"
	SeenIndex  string        // default "newsflow-fetch-seen"
	SeenTTL    time.Duration // default 30 days: an article unseen for that long may be re-published
	// AutoExpandReplicas is index.auto_expand_replicas of both indices (default "0-1": no
	// replica on a single node, one as soon as a second data node exists, so the state
	// survives losing a node as the articles do with NEWSFLOW_INDEX_REPLICAS=1).
	AutoExpandReplicas string
	// PruneEvery is how often Run deletes expired seen-set entries (default 1h).
	PruneEvery time.Duration
}

func (c ESConfig) withDefaults() ESConfig {
	if c.StateIndex == "" {
		c.StateIndex = "newsflow-fetch-state"
	}
	if c.SeenIndex == "" {
		c.SeenIndex = "newsflow-fetch-seen"
	}
	if c.SeenTTL <= 0 {
		c.SeenTTL = 30 * 24 * time.Hour
	}
	if c.AutoExpandReplicas == "" {
		c.AutoExpandReplicas = "0-1"
	}
	if c.PruneEvery <= 0 {
		c.PruneEvery = time.Hour
	}
	return c
}

// ESStore is a Store on two Elasticsearch indices, for deployments without NATS (the Kafka
// bus): per-feed state as one document per feed key, written with optimistic concurrency
// control (if_seq_no + if_primary_term: the CAS the leases rely on), and the seen-set as one
// document per key, added with op_type=create (add-if-absent, atomic across replicas). Reads
// are realtime GETs, so a write is visible to every replica at once, without a refresh.
// Entries older than SeenTTL count as absent; Run deletes them hourly to bound the index.
type ESStore struct {
	es  *elasticsearch.Client
	cfg ESConfig
	now func() time.Time
}

// seenDoc is a seen-set document: when the key was marked.
type seenDoc struct {
	At int64 `json:"at"` // Unix milliseconds
}

// stateDoc is a feed-state document. The state is stored, not indexed (enabled: false).
type stateDoc struct {
	State   json.RawMessage `json:"state"`
	Updated int64           `json:"updated"` // Unix milliseconds
}

// NewESStore creates the indices if they do not exist and returns the store. An
// Elasticsearch that is unreachable or briefly unavailable (connection refused, 5xx, 429) is
// retried with backoff for up to provisionTimeout or until ctx ends; a definite answer (a 4xx
// other than 429: bad settings, no permission) fails at once.
func NewESStore(ctx context.Context, es *elasticsearch.Client, cfg ESConfig) (*ESStore, error) {
	cfg = cfg.withDefaults()
	s := &ESStore{es: es, cfg: cfg, now: time.Now}
	settings := map[string]any{"number_of_shards": 1, "auto_expand_replicas": cfg.AutoExpandReplicas}
	indices := []struct {
		name    string
		mapping map[string]any
	}{
		{cfg.StateIndex, map[string]any{"dynamic": false, "properties": map[string]any{
			"state":   map[string]any{"type": "object", "enabled": false},
			"updated": map[string]any{"type": "date", "format": "epoch_millis"},
		}}},
		{cfg.SeenIndex, map[string]any{"dynamic": false, "properties": map[string]any{
			"at": map[string]any{"type": "date", "format": "epoch_millis"},
		}}},
	}
	for _, ix := range indices {
		body, err := json.Marshal(map[string]any{"settings": settings, "mappings": ix.mapping})
		if err != nil {
			return nil, err
		}
		if err := s.createIndex(ctx, ix.name, body); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *ESStore) createIndex(ctx context.Context, name string, body []byte) error {
	deadline := time.Now().Add(provisionTimeout)
	wait := 250 * time.Millisecond
	for {
		status, rb, err := s.do(func() (*esapi.Response, error) {
			return s.es.Indices.Create(name, s.es.Indices.Create.WithContext(ctx), s.es.Indices.Create.WithBody(bytes.NewReader(body)))
		})
		switch {
		case err == nil && (status == http.StatusOK || status == http.StatusCreated):
			return nil
		case err == nil && status == http.StatusBadRequest && esErrorType(rb) == "resource_already_exists_exception":
			return nil
		case err == nil && status < 500 && status != http.StatusTooManyRequests:
			return fmt.Errorf("fetch: es create index %s: HTTP %d: %s", name, status, esReason(rb))
		}
		if err == nil {
			err = fmt.Errorf("HTTP %d: %s", status, esReason(rb))
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("fetch: es create index %s: %w", name, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("fetch: es create index %s: %w", name, ctx.Err())
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// do runs one request and returns its status and body (at most 1 MiB).
func (s *ESStore) do(req func() (*esapi.Response, error)) (int, []byte, error) {
	res, err := req()
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, b, nil
}

// docID is the document ID of a store key: the key itself when it is short (Elasticsearch
// allows 512 bytes) and made of characters that need no escaping in a URL path (the client
// does not escape IDs) — the fetcher's keys ("feed.<hex>", "u.<hex>", "g.<hex>") always are
// — else a hash of it.
func docID(key string) string {
	safe := len(key) > 0 && len(key) <= 512 && !strings.HasPrefix(key, "sha256.")
	for i := 0; safe && i < len(key); i++ {
		c := key[i]
		safe = c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	}
	if safe {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256." + hex.EncodeToString(sum[:])
}

// Revisions pack the document's primary term and sequence number (both part of the CAS
// condition) as term<<40 | seqNo+1, so that 0 stays "absent".
const seqBits = 40

func packRev(seqNo, term int64) (uint64, error) {
	if seqNo < 0 || term < 1 || seqNo+1 >= 1<<seqBits || term >= 1<<(64-seqBits) {
		return 0, fmt.Errorf("fetch: es revision out of range (seq_no %d, primary_term %d)", seqNo, term)
	}
	return uint64(term)<<seqBits | uint64(seqNo+1), nil
}

func unpackRev(rev uint64) (seqNo, term int64) {
	return int64(rev&(1<<seqBits-1)) - 1, int64(rev >> seqBits)
}

// getResult is the part of a GET answer the store reads.
type getResult struct {
	Found       bool            `json:"found"`
	SeqNo       int64           `json:"_seq_no"`
	PrimaryTerm int64           `json:"_primary_term"`
	Source      json.RawMessage `json:"_source"`
}

// get fetches a document: (result, nil) with Found false when it does not exist.
func (s *ESStore) get(ctx context.Context, index, key string) (getResult, error) {
	status, b, err := s.do(func() (*esapi.Response, error) {
		return s.es.Get(index, docID(key), s.es.Get.WithContext(ctx))
	})
	if err != nil {
		return getResult{}, err
	}
	var r getResult
	switch status {
	case http.StatusOK:
		if err := json.Unmarshal(b, &r); err != nil {
			return getResult{}, fmt.Errorf("decode: %w", err)
		}
		return r, nil
	case http.StatusNotFound:
		if esErrorType(b) != "" { // index_not_found_exception: not "no such document"
			return getResult{}, fmt.Errorf("HTTP 404: %s", esReason(b))
		}
		return getResult{}, nil
	default:
		return getResult{}, fmt.Errorf("HTTP %d: %s", status, esReason(b))
	}
}

// writeResult is the part of an index answer the store reads.
type writeResult struct {
	SeqNo       int64 `json:"_seq_no"`
	PrimaryTerm int64 `json:"_primary_term"`
}

// put indexes doc under key: create-only when rev is 0 and create is set, else conditional on
// rev when rev is not 0. It returns the new revision, or ErrConflict.
func (s *ESStore) put(ctx context.Context, index, key string, doc any, rev uint64, create bool) (uint64, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return 0, err
	}
	opts := []func(*esapi.IndexRequest){s.es.Index.WithContext(ctx), s.es.Index.WithDocumentID(docID(key))}
	if rev == 0 && create {
		opts = append(opts, s.es.Index.WithOpType("create"))
	} else if rev != 0 {
		seq, term := unpackRev(rev)
		opts = append(opts, s.es.Index.WithIfSeqNo(int(seq)), s.es.Index.WithIfPrimaryTerm(int(term)))
	}
	status, b, err := s.do(func() (*esapi.Response, error) {
		return s.es.Index(index, bytes.NewReader(body), opts...)
	})
	if err != nil {
		return 0, err
	}
	switch status {
	case http.StatusOK, http.StatusCreated:
		var r writeResult
		if err := json.Unmarshal(b, &r); err != nil {
			return 0, fmt.Errorf("decode: %w", err)
		}
		return packRev(r.SeqNo, r.PrimaryTerm)
	case http.StatusConflict:
		return 0, ErrConflict
	default:
		return 0, fmt.Errorf("HTTP %d: %s", status, esReason(b))
	}
}

// LoadFeed implements Store.
func (s *ESStore) LoadFeed(ctx context.Context, key string) (FeedState, uint64, error) {
	r, err := s.get(ctx, s.cfg.StateIndex, key)
	if err != nil {
		return FeedState{}, 0, fmt.Errorf("fetch: es get %s: %w", key, err)
	}
	if !r.Found {
		return FeedState{}, 0, nil
	}
	rev, err := packRev(r.SeqNo, r.PrimaryTerm)
	if err != nil {
		return FeedState{}, 0, err
	}
	var d stateDoc
	var st FeedState
	if json.Unmarshal(r.Source, &d) != nil || json.Unmarshal(d.State, &st) != nil {
		// Corrupt state must not wedge the feed: start over from the revision we read.
		return FeedState{}, rev, nil
	}
	return st, rev, nil
}

// SaveFeed implements Store.
func (s *ESStore) SaveFeed(ctx context.Context, key string, st FeedState, rev uint64) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("fetch: es encode %s: %w", key, err)
	}
	nrev, err := s.put(ctx, s.cfg.StateIndex, key, stateDoc{State: b, Updated: s.now().UnixMilli()}, rev, true)
	if errors.Is(err, ErrConflict) {
		return 0, ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("fetch: es put %s: %w", key, err)
	}
	return nrev, nil
}

// expired reports whether a seen document is older than SeenTTL (or unreadable).
func (s *ESStore) expired(src json.RawMessage) bool {
	var d seenDoc
	if json.Unmarshal(src, &d) != nil {
		return true
	}
	return s.now().Sub(time.UnixMilli(d.At)) >= s.cfg.SeenTTL
}

// Seen implements Store.
func (s *ESStore) Seen(ctx context.Context, key string) (bool, error) {
	r, err := s.get(ctx, s.cfg.SeenIndex, key)
	if err != nil {
		return false, fmt.Errorf("fetch: es seen %s: %w", key, err)
	}
	return r.Found && !s.expired(r.Source), nil
}

// MarkSeen implements Store: a create that fails because the key exists reports "not new",
// unless the entry has expired, which is then renewed (conditionally: of two replicas
// renewing it, one reports new).
func (s *ESStore) MarkSeen(ctx context.Context, key string) (bool, error) {
	doc := seenDoc{At: s.now().UnixMilli()}
	_, err := s.put(ctx, s.cfg.SeenIndex, key, doc, 0, true)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, ErrConflict) {
		return false, fmt.Errorf("fetch: es mark seen %s: %w", key, err)
	}
	r, err := s.get(ctx, s.cfg.SeenIndex, key)
	if err != nil {
		return false, fmt.Errorf("fetch: es mark seen %s: %w", key, err)
	}
	if !r.Found || !s.expired(r.Source) {
		return false, nil // present (or deleted by a prune just now: it was there when we wrote)
	}
	rev, err := packRev(r.SeqNo, r.PrimaryTerm)
	if err != nil {
		return false, err
	}
	_, err = s.put(ctx, s.cfg.SeenIndex, key, doc, rev, false)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrConflict):
		return false, nil
	default:
		return false, fmt.Errorf("fetch: es mark seen %s: %w", key, err)
	}
}

// Prune deletes the seen-set entries older than SeenTTL and returns how many. They already
// count as absent; pruning only bounds the index. It searches for expired entries (a page
// of pruneBatch at a time) and deletes them in bulk, each conditional on its sequence number
// so an entry renewed meanwhile stays. (delete_by_query would do it in one call, but needs the
// reindex module, which minimal nodes such as the local test node lack.)
func (s *ESStore) Prune(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-s.cfg.SeenTTL).UnixMilli()
	var deleted int64
	for {
		q, err := json.Marshal(map[string]any{
			"size": pruneBatch, "_source": false, "seq_no_primary_term": true, "sort": []any{"_doc"},
			"query": map[string]any{"range": map[string]any{"at": map[string]any{"lt": cutoff}}},
		})
		if err != nil {
			return deleted, err
		}
		status, b, err := s.do(func() (*esapi.Response, error) {
			return s.es.Search(s.es.Search.WithContext(ctx), s.es.Search.WithIndex(s.cfg.SeenIndex), s.es.Search.WithBody(bytes.NewReader(q)))
		})
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %s", status, esReason(b))
		}
		if err != nil {
			return deleted, fmt.Errorf("fetch: es prune %s: search: %w", s.cfg.SeenIndex, err)
		}
		var r struct {
			Hits struct {
				Hits []struct {
					ID          string `json:"_id"`
					SeqNo       int64  `json:"_seq_no"`
					PrimaryTerm int64  `json:"_primary_term"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return deleted, fmt.Errorf("fetch: es prune %s: decode: %w", s.cfg.SeenIndex, err)
		}
		hits := r.Hits.Hits
		if len(hits) == 0 {
			return deleted, nil
		}
		var body bytes.Buffer
		for _, h := range hits {
			line, err := json.Marshal(map[string]any{"delete": map[string]any{"_id": h.ID, "if_seq_no": h.SeqNo, "if_primary_term": h.PrimaryTerm}})
			if err != nil {
				return deleted, err
			}
			body.Write(line)
			body.WriteByte('\n')
		}
		// refresh=wait_for: the next search must not find these again.
		status, b, err = s.do(func() (*esapi.Response, error) {
			return s.es.Bulk(&body, s.es.Bulk.WithContext(ctx), s.es.Bulk.WithIndex(s.cfg.SeenIndex), s.es.Bulk.WithRefresh("wait_for"))
		})
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %s", status, esReason(b))
		}
		if err != nil {
			return deleted, fmt.Errorf("fetch: es prune %s: bulk delete: %w", s.cfg.SeenIndex, err)
		}
		var br struct {
			Items []map[string]struct {
				Status int `json:"status"`
			} `json:"items"`
		}
		if err := json.Unmarshal(b, &br); err != nil {
			return deleted, fmt.Errorf("fetch: es prune %s: decode: %w", s.cfg.SeenIndex, err)
		}
		n := 0
		for _, it := range br.Items {
			if it["delete"].Status == http.StatusOK {
				n++
			}
		}
		deleted += int64(n)
		if len(hits) < pruneBatch || n == 0 {
			return deleted, nil // the last page, or nothing deletable (renewed meanwhile): stop
		}
	}
}

// pruneBatch is how many expired seen-set entries one Prune step deletes.
const pruneBatch = 1000

// Run prunes the seen-set every PruneEvery until ctx ends. A failed prune is retried at the
// next tick (onErr, when set, hears about it); it never stops the loop.
func (s *ESStore) Run(ctx context.Context, onErr func(error)) error {
	t := time.NewTicker(s.cfg.PruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// esError is an Elasticsearch error answer.
type esError struct {
	Error struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

func esErrorType(b []byte) string {
	var e esError
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	return e.Error.Type
}

func esReason(b []byte) string {
	var e esError
	if json.Unmarshal(b, &e) == nil && e.Error.Type != "" {
		return e.Error.Type + ": " + e.Error.Reason
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

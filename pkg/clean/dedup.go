package clean

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"
)

// SimHash returns the 64-bit SimHash of text over word 3-shingles of its normalised form
// (lowercase, digits folded), each shingle hashed with FNV-1a. Texts that differ by a few
// words have fingerprints a few bits apart. Pure; safe for concurrent use.
func SimHash(text string) uint64 {
	return simHashNorm(normLine(text))
}

// simHashNorm is SimHash of a text whose normLine form is n. n's words are separated by
// single spaces, with none leading or trailing (normLine writes a space only between two
// words, and no word rune is white space), so they are read off n in place instead of
// strings.Fields making a slice of them: the same shingles, hashed in the same order
// (simHashOracle and FuzzSimHashMatchesOracle in dedup_oracle_test.go).
func simHashNorm(n string) uint64 {
	if n == "" {
		return 0
	}
	var v [64]int32
	add := func(x uint64) {
		for i := 0; i < 64; i++ {
			v[i] += int32(x>>uint(i)&1)*2 - 1
		}
	}
	// Fewer than three words: the hash of n itself (the words joined by single spaces).
	if strings.Count(n, " ") < 2 {
		add(fnv64a(fnvOffset, n))
	} else {
		// Shingle = three consecutive words, as written in n (word, space, word, space, word).
		w0, rest, _ := strings.Cut(n, " ")
		w1, rest, _ := strings.Cut(rest, " ")
		for {
			w2, next, more := strings.Cut(rest, " ")
			h := fnv64a(fnvOffset, w0)
			h = fnv64a(h, " ")
			h = fnv64a(h, w1)
			h = fnv64a(h, " ")
			add(fnv64a(h, w2))
			if !more {
				break
			}
			w0, w1, rest = w1, w2, next
		}
	}
	var out uint64
	for i := 0; i < 64; i++ {
		if v[i] > 0 {
			out |= 1 << uint(i)
		}
	}
	return out
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv64a continues an FNV-1a hash over s without allocating (same values as hash/fnv).
func fnv64a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// DedupConfig configures a DedupIndex.
type DedupConfig struct {
	// Window: articles older than this (by their time) leave the index.
	Window time.Duration `yaml:"window"`
	// MaxEntries bounds the index size (oldest leave first).
	MaxEntries int `yaml:"max_entries"`
	// MaxDistance is the largest Hamming distance between SimHashes that still counts as a
	// near duplicate (0..7). The index uses MaxDistance+1 bands, so every match within the
	// distance is found (pigeonhole).
	MaxDistance int `yaml:"max_distance"`
	// MinWords: shorter texts are indexed by exact content hash only (SimHash is noisy on
	// short texts).
	MinWords int `yaml:"min_words"`
}

// DefaultDedupConfig: 72 h window, 200,000 entries (≈ 40 MB), distance 3, 40 words.
func DefaultDedupConfig() DedupConfig {
	return DedupConfig{Window: 72 * time.Hour, MaxEntries: 200_000, MaxDistance: 3, MinWords: 40}
}

// Validate checks the configuration.
func (c DedupConfig) Validate() error {
	if c.Window <= 0 || c.MaxEntries <= 0 {
		return errors.New("dedup: window and max_entries must be > 0")
	}
	if c.MaxDistance < 0 || c.MaxDistance > 7 {
		return errors.New("dedup: max_distance must be in 0..7")
	}
	if c.MinWords < 0 {
		return errors.New("dedup: min_words must be >= 0")
	}
	return nil
}

// DedupIndex finds near-duplicate articles across all sources within a recent window, so that
// syndicated wire copies carry the ID of the earliest copy (DuplicateOf) and a story cluster
// ID (that copy's cluster). "Earliest" is by the articles' own time and then ID, not by the
// order the index sees them, so replicas and redeliveries that process a corpus in another
// order give the same verdicts (an article that comes in before an earlier copy of itself is
// the exception: it was already published as new). Lookups are banded: the 64-bit SimHash is
// cut into MaxDistance+1 bands and only articles sharing a band are compared. Safe for
// concurrent use; memory is bounded by MaxEntries.
//
// Attached to a Replica (NewReplica), AddContext records every article in a log shared by all
// cleaner replicas and answers from the state every replica builds from that log, so all
// replicas agree.
type DedupIndex struct {
	repl    *Replica // nil: local only
	cfg     DedupConfig
	nbands  int
	mu      sync.Mutex
	byID    map[string]*dedupEntry
	order   []*dedupEntry // insertion order; head index below
	head    int
	bands   []map[uint64][]*dedupEntry
	byExact map[string]*dedupEntry
}

type dedupEntry struct {
	ID          string    `json:"id"`
	Sim         uint64    `json:"sim"`
	Content     string    `json:"content"`
	At          time.Time `json:"at"`
	Cluster     string    `json:"cluster"`
	DuplicateOf string    `json:"duplicate_of,omitempty"`
	Distance    int       `json:"distance,omitempty"`
	Short       bool      `json:"short,omitempty"`
}

// DedupResult is the verdict for one article.
type DedupResult struct {
	DuplicateOf string // "" when no earlier near-duplicate
	ClusterID   string // the cluster's first article (the article itself when new)
	Distance    int    // Hamming distance to DuplicateOf
}

// NewDedupIndex returns an empty index; cfg must be valid.
func NewDedupIndex(cfg DedupConfig) (*DedupIndex, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &DedupIndex{cfg: cfg}
	d.reset()
	return d, nil
}

func (d *DedupIndex) reset() {
	d.nbands = d.cfg.MaxDistance + 1
	d.byID = map[string]*dedupEntry{}
	d.order = nil
	d.head = 0
	d.bands = make([]map[uint64][]*dedupEntry, d.nbands)
	for i := range d.bands {
		d.bands[i] = map[uint64][]*dedupEntry{}
	}
	d.byExact = map[string]*dedupEntry{}
}

// band returns band i of sim (bands split 64 bits as evenly as possible).
func (d *DedupIndex) band(sim uint64, i int) uint64 {
	lo := 64 * i / d.nbands
	hi := 64 * (i + 1) / d.nbands
	w := hi - lo
	mask := uint64(1)<<uint(w) - 1
	if w == 64 {
		mask = ^uint64(0)
	}
	return (sim>>uint(lo))&mask | uint64(i)<<60 // keep bands of different i apart
}

// AddContext is Add, through the shared log when the index is attached to a Replica (then it
// waits for the log and fails with ctx or with the log; the error is transient).
func (d *DedupIndex) AddContext(ctx context.Context, id string, sim uint64, contentHash string, words int, at time.Time) (DedupResult, error) {
	if d.repl != nil {
		return d.repl.addDedup(ctx, dedupRecord{ID: id, Sim: sim, Content: contentHash, Words: words, At: at.UnixNano()})
	}
	return d.Add(id, sim, contentHash, words, at), nil
}

// before reports whether entry e precedes an article (at, id): earlier time, then smaller ID.
func (e *dedupEntry) before(at time.Time, id string) bool {
	if !e.At.Equal(at) {
		return e.At.Before(at)
	}
	return e.ID < id
}

// Add looks id up against the window and then adds it. words is the article's word count;
// at is its time (fetch time), used for window eviction and to choose the earliest copy.
// Calling Add again with the same id returns the first verdict (idempotent under
// redelivery). Local only: a Replica's state changes through its log.
func (d *DedupIndex) Add(id string, sim uint64, contentHash string, words int, at time.Time) DedupResult {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.byID[id]; ok {
		return DedupResult{DuplicateOf: e.DuplicateOf, ClusterID: e.Cluster, Distance: e.Distance}
	}
	d.evict(at)
	var best *dedupEntry
	dist := 0
	if contentHash != "" {
		if e, ok := d.byExact[contentHash]; ok && e.before(at, id) {
			best = e
		}
	}
	short := words < d.cfg.MinWords
	if best == nil && !short {
		for i := 0; i < d.nbands; i++ {
			for _, e := range d.bands[i][d.band(sim, i)] {
				dd := bits.OnesCount64(e.Sim ^ sim)
				if dd > d.cfg.MaxDistance || !e.before(at, id) {
					continue
				}
				if best == nil || e.before(best.At, best.ID) {
					best, dist = e, dd
				}
			}
		}
	}
	e := &dedupEntry{ID: id, Sim: sim, Content: contentHash, At: at, Cluster: id, Short: short}
	if best != nil {
		e.DuplicateOf, e.Cluster, e.Distance = best.ID, best.Cluster, dist
	}
	d.insert(e)
	return DedupResult{DuplicateOf: e.DuplicateOf, ClusterID: e.Cluster, Distance: e.Distance}
}

func (d *DedupIndex) insert(e *dedupEntry) {
	d.byID[e.ID] = e
	d.order = append(d.order, e)
	if e.Content != "" {
		if x, ok := d.byExact[e.Content]; !ok || e.before(x.At, x.ID) {
			d.byExact[e.Content] = e
		}
	}
	if !e.Short {
		for i := 0; i < d.nbands; i++ {
			k := d.band(e.Sim, i)
			d.bands[i][k] = append(d.bands[i][k], e)
		}
	}
}

// evict drops entries older than the window (relative to now) or beyond MaxEntries.
func (d *DedupIndex) evict(now time.Time) {
	for d.head < len(d.order) {
		e := d.order[d.head]
		if len(d.byID) < d.cfg.MaxEntries && !e.At.Before(now.Add(-d.cfg.Window)) {
			break
		}
		d.remove(e)
		d.order[d.head] = nil
		d.head++
	}
	if d.head > 1024 && d.head > len(d.order)/2 {
		d.order = append([]*dedupEntry(nil), d.order[d.head:]...)
		d.head = 0
	}
}

func (d *DedupIndex) remove(e *dedupEntry) {
	delete(d.byID, e.ID)
	if d.byExact[e.Content] == e {
		delete(d.byExact, e.Content)
	}
	if e.Short {
		return
	}
	for i := 0; i < d.nbands; i++ {
		k := d.band(e.Sim, i)
		l := d.bands[i][k]
		for j, x := range l {
			if x == e {
				l = append(l[:j], l[j+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(d.bands[i], k)
		} else {
			d.bands[i][k] = l
		}
	}
}

// clear forgets every article.
func (d *DedupIndex) clear() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reset()
}

// Len returns the number of indexed articles.
func (d *DedupIndex) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.byID)
}

type dedupSnapshot struct {
	Version     int           `json:"version"`
	MaxDistance int           `json:"max_distance"`
	Entries     []*dedupEntry `json:"entries"` // oldest first
}

// Snapshot serialises the index (JSON) for a KV store.
func (d *DedupIndex) Snapshot() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := dedupSnapshot{Version: 1, MaxDistance: d.cfg.MaxDistance, Entries: d.order[d.head:]}
	b, _ := json.Marshal(s)
	return b
}

// Restore replaces the index with a Snapshot (entries beyond MaxEntries are dropped oldest
// first; the window is applied at the next Add).
func (d *DedupIndex) Restore(b []byte) error {
	var s dedupSnapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("dedup: restore: %w", err)
	}
	if s.Version != 1 {
		return fmt.Errorf("dedup: restore: unsupported snapshot version %d", s.Version)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reset()
	start := 0
	if len(s.Entries) > d.cfg.MaxEntries {
		start = len(s.Entries) - d.cfg.MaxEntries
	}
	for _, e := range s.Entries[start:] {
		if e == nil || e.ID == "" {
			continue
		}
		if _, dup := d.byID[e.ID]; dup {
			continue
		}
		if e.Cluster == "" {
			e.Cluster = e.ID
		}
		d.insert(e)
	}
	return nil
}

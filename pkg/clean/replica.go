package clean

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// ReplicaLog is an ordered, durable log that every cleaner replica appends to and reads in
// full: a single-partition Kafka topic or a JetStream stream (package clean/replicalog).
// Positions start at 1 and grow in log order; every reader sees the same records in the
// same order.
type ReplicaLog interface {
	// Name identifies the log (topic or stream) in snapshots and messages.
	Name() string
	// Append stores rec durably (Kafka acks=all, JetStream PubAck). key identifies the
	// record; a backend may use it to drop a retried duplicate.
	Append(ctx context.Context, key string, rec []byte) error
	// Last is the position of the newest record (0: empty log).
	Last(ctx context.Context) (uint64, error)
	// Read calls fn with every record from position from (0 or 1: the oldest one kept;
	// records the log no longer holds are skipped) in log order, waiting for new ones, until
	// ctx ends (then nil) or the log or fn fails.
	Read(ctx context.Context, from uint64, fn func(pos uint64, rec []byte) error) error
}

// ReplicaConfig configures a Replica.
type ReplicaConfig struct {
	// Wait bounds how long one article waits for its record to come back through the log
	// (default 30s); past it the article fails with a transient error and is retried.
	Wait time.Duration
}

// Replica makes cleaner replicas agree: the template learner and the near-duplicate index
// of every replica are the same state machine applied to the same log. A replica never
// changes its state directly: it appends what it observed (an article's block keys, an
// article's hashes) to the log, every replica — itself included — applies the log in order,
// and the verdict for an article (which blocks are template, what it duplicates) is the one
// computed when its record is applied, which is the same on every replica. Nothing is owned
// by a replica, so replicas coming and going (a rebalance, a crash, scaling) lose nothing: a
// new replica restores its snapshot, if it has one, and reads the log from there (or from
// the log's start).
type Replica struct {
	log   ReplicaLog
	cfg   ReplicaConfig
	lg    *zap.Logger
	tmpl  *TemplateLearner
	dedup *DedupIndex
	self  string
	n     atomic.Uint64
	m     replicaMetrics

	mu   sync.Mutex // held while applying a record and while snapshotting
	next uint64     // position of the next record to apply (0: none applied)

	caughtUp atomic.Bool // the log's end as of the first connection has been applied

	wmu     sync.Mutex
	waiters map[string]chan replicaResult
}

type replicaMetrics struct {
	applied prometheus.Counter
	resets  prometheus.Counter
	wait    prometheus.Histogram
}

type replicaRecord struct {
	Nonce string          `json:"n"`
	T     *templateRecord `json:"t,omitempty"`
	D     *dedupRecord    `json:"d,omitempty"`
}

type templateRecord struct {
	Site string   `json:"s"`
	ID   string   `json:"i,omitempty"`
	Keys []uint64 `json:"k,omitempty"`
}

type dedupRecord struct {
	ID      string `json:"i"`
	Sim     uint64 `json:"h"`
	Content string `json:"c,omitempty"`
	Words   int    `json:"w"`
	At      int64  `json:"a"` // Unix nanoseconds
}

type replicaResult struct {
	tmpl  []bool
	dedup DedupResult
}

// NewReplica attaches tmpl and dedup (either may be nil) to log: from now on their
// ObserveMatch and AddContext go through the log. Restore a snapshot, then start Run before
// the first article. Metrics are registered on reg (nil: not registered).
func NewReplica(log ReplicaLog, cfg ReplicaConfig, tmpl *TemplateLearner, dedup *DedupIndex, lg *zap.Logger, reg prometheus.Registerer) (*Replica, error) {
	if log == nil {
		return nil, errors.New("clean: replica: no log")
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 30 * time.Second
	}
	if lg == nil {
		lg = zap.NewNop()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	r := &Replica{log: log, cfg: cfg, lg: lg, tmpl: tmpl, dedup: dedup, self: hex.EncodeToString(b[:]),
		waiters: map[string]chan replicaResult{}}
	r.m = replicaMetrics{
		applied: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsflow_cleaner_shared_records_applied_total",
			Help: "Records of the cleaners' shared state log applied by this replica (its own and the other replicas')."}),
		resets: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsflow_cleaner_shared_resets_total",
			Help: "Times this replica dropped its template and near-duplicate state because the shared log no longer held what followed its snapshot."}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "newsflow_cleaner_shared_wait_seconds",
			Help:    "Time from appending an article's record to the shared state log to applying it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{r.m.applied, r.m.resets, r.m.wait} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("clean: replica metrics: %w", err)
			}
		}
	}
	if tmpl != nil {
		tmpl.repl = r
	}
	if dedup != nil {
		dedup.repl = r
	}
	return r, nil
}

// CaughtUp reports whether the replica has applied the log up to where it ended when Run
// first reached it: before that, a replica started on a long log is still replaying it
// (its articles wait). For readiness.
func (r *Replica) CaughtUp() bool { return r.caughtUp.Load() }

// Applied is the position of the last record applied (0: none).
func (r *Replica) Applied() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == 0 {
		return 0
	}
	return r.next - 1
}

func (r *Replica) observeTemplate(ctx context.Context, rec templateRecord) ([]bool, error) {
	res, err := r.submit(ctx, replicaRecord{T: &rec})
	return res.tmpl, err
}

func (r *Replica) addDedup(ctx context.Context, rec dedupRecord) (DedupResult, error) {
	res, err := r.submit(ctx, replicaRecord{D: &rec})
	return res.dedup, err
}

// submit appends rec and waits until Run has applied it.
func (r *Replica) submit(ctx context.Context, rec replicaRecord) (replicaResult, error) {
	start := time.Now()
	rec.Nonce = r.self + "-" + strconv.FormatUint(r.n.Add(1), 36)
	b, err := json.Marshal(rec)
	if err != nil {
		return replicaResult{}, fmt.Errorf("clean: shared state: %w", err)
	}
	ch := make(chan replicaResult, 1)
	r.wmu.Lock()
	r.waiters[rec.Nonce] = ch
	r.wmu.Unlock()
	defer func() {
		r.wmu.Lock()
		delete(r.waiters, rec.Nonce)
		r.wmu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Wait)
	defer cancel()
	if err := r.log.Append(ctx, rec.Nonce, b); err != nil {
		return replicaResult{}, fmt.Errorf("clean: shared state log %s: append: %w", r.log.Name(), err)
	}
	select {
	case res := <-ch:
		r.m.wait.Observe(time.Since(start).Seconds())
		return res, nil
	case <-ctx.Done():
		return replicaResult{}, fmt.Errorf("clean: shared state log %s: waiting for the record to be applied: %w", r.log.Name(), ctx.Err())
	}
}

// Run applies the log until ctx ends, reconnecting after errors (1s doubling to 30s). It
// returns nil when ctx ends — not at once: while articles still wait for their records
// (the consumers drain after the same signal) it goes on applying, up to Wait, so a
// graceful stop does not fail the articles in flight.
func (r *Replica) Run(parent context.Context) error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-parent.Done():
		}
		deadline := time.Now().Add(r.cfg.Wait)
		idle := 0
		for idle < 10 && time.Now().Before(deadline) {
			if r.pending() == 0 {
				idle++
			} else {
				idle = 0
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		cancel()
	}()
	backoff := time.Second
	for {
		err := r.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.lg.Warn("shared state log: reading failed, retrying", zap.String("log", r.log.Name()), zap.Duration("in", backoff), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// pending is the number of articles waiting for their records.
func (r *Replica) pending() int {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return len(r.waiters)
}

func (r *Replica) follow(ctx context.Context) error {
	last, err := r.log.Last(ctx)
	if err != nil {
		return fmt.Errorf("clean: shared state log %s: %w", r.log.Name(), err)
	}
	r.mu.Lock()
	if r.next > last+1 {
		// The log holds less than this replica applied: it was deleted and made again.
		r.resetLocked(fmt.Sprintf("the log ends at %d, before the snapshot's %d", last, r.next-1))
	}
	from := r.next
	if last == 0 || from > last {
		r.caughtUp.Store(true) // empty log, or the snapshot is at its end
	}
	r.mu.Unlock()
	first := true
	return r.log.Read(ctx, from, func(pos uint64, b []byte) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if pos < r.next {
			return nil // read again after a reconnect
		}
		if first && r.next > 1 && pos > r.next {
			// Records after the snapshot have expired from the log: the state would miss
			// them and disagree with the other replicas'.
			r.resetLocked(fmt.Sprintf("the log's oldest record is %d, the snapshot needs %d", pos, r.next))
		}
		first = false
		r.next = pos + 1
		r.apply(b)
		if pos >= last {
			r.caughtUp.Store(true)
		}
		return nil
	})
}

// resetLocked drops the learned state; the caller holds mu.
func (r *Replica) resetLocked(why string) {
	r.lg.Warn("shared state: starting from the log instead of the snapshot", zap.String("log", r.log.Name()), zap.String("reason", why))
	r.m.resets.Inc()
	if r.tmpl != nil {
		r.tmpl.clear()
	}
	if r.dedup != nil {
		r.dedup.clear()
	}
	r.next = 0
}

// apply applies one record; the caller holds mu.
func (r *Replica) apply(b []byte) {
	r.m.applied.Inc()
	var rec replicaRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		// Every replica skips it alike.
		r.lg.Warn("shared state log: record skipped", zap.String("log", r.log.Name()), zap.Error(err))
		return
	}
	r.wmu.Lock()
	ch, mine := r.waiters[rec.Nonce]
	r.wmu.Unlock()
	var res replicaResult
	if rec.T != nil && r.tmpl != nil && rec.T.Site != "" {
		res.tmpl = r.tmpl.apply(rec.T.Site, rec.T.ID, rec.T.Keys, mine)
	}
	if rec.D != nil && r.dedup != nil && rec.D.ID != "" {
		res.dedup = r.dedup.Add(rec.D.ID, rec.D.Sim, rec.D.Content, rec.D.Words, time.Unix(0, rec.D.At).UTC())
	}
	if mine {
		select {
		case ch <- res:
		default:
		}
	}
}

type replicaSnapshot struct {
	Version  int             `json:"version"`
	Log      string          `json:"log"`
	Next     uint64          `json:"next"`
	Template json.RawMessage `json:"template,omitempty"`
	Dedup    json.RawMessage `json:"dedup,omitempty"`
}

// Snapshot is the state with the log position it reflects (JSON), consistent: taken between
// two records.
func (r *Replica) Snapshot() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := replicaSnapshot{Version: 1, Log: r.log.Name(), Next: r.next}
	if r.tmpl != nil {
		s.Template = r.tmpl.Snapshot()
	}
	if r.dedup != nil {
		s.Dedup = r.dedup.Snapshot()
	}
	b, _ := json.Marshal(s)
	return b
}

// Restore loads a Snapshot; call it before Run. A snapshot of another log is refused (the
// state is then built from the log).
func (r *Replica) Restore(b []byte) error {
	var s replicaSnapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("clean: replica snapshot: %w", err)
	}
	if s.Version != 1 {
		return fmt.Errorf("clean: replica snapshot: unsupported version %d", s.Version)
	}
	if s.Log != r.log.Name() {
		return fmt.Errorf("clean: replica snapshot of log %q, not %q", s.Log, r.log.Name())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tmpl != nil && len(s.Template) > 0 {
		if err := r.tmpl.Restore(s.Template); err != nil {
			r.tmpl.clear()
			return err
		}
	}
	if r.dedup != nil && len(s.Dedup) > 0 {
		if err := r.dedup.Restore(s.Dedup); err != nil {
			if r.tmpl != nil {
				r.tmpl.clear()
			}
			r.dedup.clear()
			return err
		}
	}
	r.next = s.Next
	return nil
}

package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
)

// CheckpointConfig configures a Checkpointer. Zero fields take defaults (WithDefaults).
type CheckpointConfig struct {
	// Interval: a message handed to the Checkpointer is covered by a durable snapshot and
	// acked at most about this long after it arrived (default 5s). The consumer's AckWait must
	// comfortably exceed it (the alerter stage uses at least 4×Interval).
	Interval time.Duration
	// MaxPending: a checkpoint starts as soon as this many messages wait (default 500). Keep
	// it well below the bus's bound on unacked deliveries per consumer (natsbus MaxAckPending,
	// kafkabus MaxUnsettled: 1024 by default), otherwise the consumer idles until Interval.
	MaxPending int
	// SaveInterval: with no message waiting the state is still saved this often (default
	// 1m), so what Tick changes (watermark, resolutions, fired ids) survives a restart too.
	SaveInterval time.Duration
	// AckTimeout bounds acknowledging one checkpoint's messages (default 10s).
	AckTimeout time.Duration
}

// WithDefaults fills zero fields.
func (c CheckpointConfig) WithDefaults() CheckpointConfig {
	if c.Interval <= 0 {
		c.Interval = 5 * time.Second
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 500
	}
	if c.SaveInterval <= 0 {
		c.SaveInterval = time.Minute
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	return c
}

// Validate reports a configuration error (call it after WithDefaults).
func (c CheckpointConfig) Validate() error {
	var errs []error
	if c.Interval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("alert: checkpoint interval %s: want >= 10ms", c.Interval))
	}
	if c.MaxPending < 1 || c.MaxPending > 100_000 {
		errs = append(errs, fmt.Errorf("alert: checkpoint max pending %d: want 1..100000", c.MaxPending))
	}
	if c.SaveInterval < c.Interval {
		errs = append(errs, fmt.Errorf("alert: save interval %s: want >= checkpoint interval %s", c.SaveInterval, c.Interval))
	}
	return errors.Join(errs...)
}

// ErrCheckpointerClosed is returned by Add after Close: the caller must not defer the message
// (return a retryable error so the bus redelivers it).
var ErrCheckpointerClosed = errors.New("alert: checkpointer closed")

type checkpointMetrics struct {
	total   *prometheus.CounterVec
	seconds prometheus.Histogram
	pending prometheus.Gauge
}

func newCheckpointMetrics(reg prometheus.Registerer) (*checkpointMetrics, error) {
	m := &checkpointMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_alerter_checkpoints_total",
			Help: "Alerter state checkpoints by result (ok, failed: nothing acked)."}, []string{"result"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "newsflow_alerter_checkpoint_seconds",
			Help: "Time to make the alerter state durable (delta log append + fsync, or a full snapshot), acks and compactions excluded.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 10)}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsflow_alerter_pending_acks",
			Help: "Observed articles waiting for a checkpoint before they are acked."}),
	}
	return registered(reg, m, m.total, m.seconds, m.pending)
}

// Checkpointer acks messages only once a durable checkpoint covers them. A handler counts its
// message (Alerter.Observe), then hands it to Add and returns bus.ErrDeferred. Every Interval,
// or as soon as MaxPending messages wait, the checkpoint loop takes the waiting messages, then
// makes the state durable — with a delta log (NewLogCheckpointer) by appending the records
// buffered since the last checkpoint and fsyncing once; otherwise (NewCheckpointer) by
// snapshotting the whole state and saving it. Only when that succeeded does it ack exactly
// those messages, whose effects it covers because they were added after their Observe returned
// and taken before the records (or the state) were. A failed checkpoint acks nothing: the
// messages stay waiting for the next attempt (and are redelivered if that takes longer than the
// consumer's AckWait; the dedup memory makes a redelivered article count once). After the acks
// a delta log is compacted when due (DeltaLog.MaybeCompact). Add, Pending and Checkpoint are
// safe for concurrent use; checkpoints are serialised, so there is one writer of the state.
type Checkpointer struct {
	cfg CheckpointConfig
	// commit makes the state durable and returns the bytes written; after runs after a
	// successful checkpoint's acks; release runs once after the final checkpoint. All three
	// run under cpMu.
	commit  func() (int, error)
	after   func()
	release func() error
	log     *zap.Logger
	m       *checkpointMetrics

	mu      sync.Mutex // guards pending, closed, started
	pending []bus.Message
	closed  bool
	started bool

	cpMu     sync.Mutex // serialises checkpoints; guards lastSave, retryAt
	lastSave time.Time
	retryAt  time.Time

	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// NewCheckpointer builds a Checkpointer whose checkpoints write snapshot's output with save
// (which must replace the previous snapshot atomically and durably, e.g.
// service.StateDir.Save). It starts nothing: call Start for the checkpoint loop and Close to
// stop it. reg and log may be nil.
func NewCheckpointer(cfg CheckpointConfig, snapshot func(io.Writer) error, save func([]byte) error, log *zap.Logger, reg prometheus.Registerer) (*Checkpointer, error) {
	if snapshot == nil || save == nil {
		return nil, errors.New("alert: checkpointer: snapshot and save are required")
	}
	commit := func() (int, error) {
		var buf bytes.Buffer
		if err := snapshot(&buf); err != nil {
			return 0, err
		}
		return buf.Len(), save(buf.Bytes())
	}
	return newCheckpointer(cfg, commit, nil, nil, log, reg)
}

// NewLogCheckpointer builds a Checkpointer over a delta log opened with OpenDeltaLog: each
// checkpoint appends the records buffered since the previous one and fsyncs once (group
// commit), and after its acks the log is compacted when due. The Checkpointer owns dl: Close
// closes it after the final checkpoint. It starts nothing: call Start and Close. reg and log
// may be nil.
func NewLogCheckpointer(cfg CheckpointConfig, dl *DeltaLog, log *zap.Logger, reg prometheus.Registerer) (*Checkpointer, error) {
	if dl == nil {
		return nil, errors.New("alert: checkpointer: delta log is required")
	}
	return newCheckpointer(cfg, dl.Commit, dl.MaybeCompact, dl.Close, log, reg)
}

func newCheckpointer(cfg CheckpointConfig, commit func() (int, error), after func(), release func() error, log *zap.Logger, reg prometheus.Registerer) (*Checkpointer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	m, err := newCheckpointMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Checkpointer{cfg: cfg, commit: commit, after: after, release: release, log: log, m: m,
		lastSave: time.Now(), kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// Add hands over msg, whose effects on the state are complete, to be acked after the next
// successful checkpoint. It never blocks on I/O. After Close it returns ErrCheckpointerClosed
// and msg stays the caller's.
func (c *Checkpointer) Add(msg bus.Message) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrCheckpointerClosed
	}
	c.pending = append(c.pending, msg)
	n := len(c.pending)
	c.m.pending.Set(float64(n)) // under mu, so a concurrent take cannot leave it stale
	c.mu.Unlock()
	if n >= c.cfg.MaxPending {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Pending returns the number of messages waiting for a checkpoint.
func (c *Checkpointer) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// Start runs the checkpoint loop on its own goroutine until Close. Calling it again, or after
// Close, does nothing.
func (c *Checkpointer) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.closed {
		return
	}
	c.started = true
	go c.loop()
}

func (c *Checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
			if c.Pending() == 0 || !c.due(false) {
				continue // taken by an explicit Checkpoint, or backing off after a failure
			}
		case <-t.C:
			if !c.due(c.Pending() == 0) {
				continue
			}
		}
		_ = c.Checkpoint(context.Background()) // logged and counted inside
	}
}

// due reports whether the loop should checkpoint now: not within Interval of a failure and,
// when idle (no message waiting), only once SaveInterval has passed since the last save.
func (c *Checkpointer) due(idle bool) bool {
	c.cpMu.Lock()
	defer c.cpMu.Unlock()
	now := time.Now()
	if now.Before(c.retryAt) {
		return false
	}
	return !idle || now.Sub(c.lastSave) >= c.cfg.SaveInterval
}

// Checkpoint takes the waiting messages, makes the state durable (delta log append + fsync, or
// snapshot + save), then acks those messages and, with a delta log, compacts it when due. It
// blocks for the I/O, the acks (each bounded by AckTimeout and ctx) and a compaction. If
// making the state durable fails it acks nothing, puts the messages back and returns the
// error. An ack that fails is logged: the message is redelivered and counted zero times by the
// dedup memory.
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	c.cpMu.Lock()
	defer c.cpMu.Unlock()
	start := time.Now()
	batch := c.take()
	written, err := c.commit()
	c.m.seconds.Observe(time.Since(start).Seconds())
	if err != nil {
		c.mu.Lock()
		c.pending = append(batch, c.pending...)
		n := len(c.pending)
		c.m.pending.Set(float64(n))
		c.mu.Unlock()
		c.m.total.WithLabelValues("failed").Inc()
		c.retryAt = time.Now().Add(c.cfg.Interval)
		c.log.Error("alerter checkpoint failed, its messages stay unacked", zap.Int("messages", len(batch)),
			zap.Int("pending", n), zap.Error(err))
		return fmt.Errorf("alert: checkpoint: %w", err)
	}
	c.lastSave, c.retryAt = time.Now(), time.Time{}
	c.m.total.WithLabelValues("ok").Inc()
	actx, cancel := context.WithTimeout(ctx, c.cfg.AckTimeout)
	defer cancel()
	failed := 0
	var firstErr error
	for _, msg := range batch {
		if err := msg.Ack(actx); err != nil {
			if failed++; firstErr == nil {
				firstErr = err
			}
		}
	}
	if failed > 0 {
		c.log.Warn("acks after checkpoint failed (redelivered articles count once)", zap.Int("failed", failed),
			zap.Int("messages", len(batch)), zap.Error(firstErr))
	}
	c.log.Debug("alerter checkpoint", zap.Int("acked", len(batch)-failed), zap.Int("bytes", written),
		zap.Duration("took", time.Since(start)))
	if c.after != nil {
		c.after()
	}
	return nil
}

// take removes and returns the waiting messages.
func (c *Checkpointer) take() []bus.Message {
	c.mu.Lock()
	batch := c.pending
	c.pending = nil
	c.m.pending.Set(0)
	c.mu.Unlock()
	return batch
}

// Close refuses further Adds, stops the loop, then runs a final checkpoint that acks what is
// waiting, and closes the delta log if there is one. If that checkpoint fails the waiting
// messages are nacked (redelivered now, not after AckWait; their counts are not durable, so
// the next run counts them) and the error is returned. Call it after the consumer has stopped delivering (handlers drained). Idempotent
// (later calls return the first result); safe without Start.
func (c *Checkpointer) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.stopLoop()
		if err := c.Checkpoint(ctx); err != nil {
			nctx, cancel := context.WithTimeout(ctx, c.cfg.AckTimeout)
			for _, msg := range c.take() {
				_ = msg.Nack(nctx, 0)
			}
			cancel()
			c.closeErr = err
		}
		if c.release != nil {
			c.cpMu.Lock()
			if err := c.release(); err != nil && c.closeErr == nil {
				c.closeErr = err
			}
			c.cpMu.Unlock()
		}
	})
	return c.closeErr
}

// stopLoop refuses further Adds and stops the checkpoint loop if it runs, waiting for a
// checkpoint in progress. Called once, from closeOnce.
func (c *Checkpointer) stopLoop() {
	c.mu.Lock()
	c.closed = true
	started := c.started
	c.mu.Unlock()
	if started {
		close(c.stop)
		<-c.done
	}
}

package index

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Config configures the indexer.
type Config struct {
	Setup         SetupConfig
	FlushBytes    int           // bulk request size threshold (default 2 MiB)
	FlushInterval time.Duration // bulk time threshold (default 500ms)
	// FlushIdle: the bulk is sent as soon as no item was added for this long (default
	// DefaultFlushIdle; negative: only FlushBytes and FlushInterval), so an article arriving
	// alone waits FlushIdle, not up to FlushInterval. A steady stream (gaps shorter than
	// FlushIdle) is still batched by FlushBytes and FlushInterval.
	FlushIdle time.Duration
	Workers   int // concurrent bulk requests (default 2)
	// Refresh is passed to the bulk API ("", "true", "wait_for"); tests use "wait_for".
	Refresh string
	// DLQSubject and Stage are used for documents Elasticsearch rejects for good.
	DLQSubject string
	Stage      string
	// ArchiveAfter: articles published more than this before they were fetched go to a
	// yearly index "<prefix>-articles-YYYY" instead of their month's (0: DefaultArchiveAfter;
	// negative: always monthly). See Names.ArchiveIndex.
	ArchiveAfter time.Duration
}

// Defaults fills zero fields.
func (c Config) Defaults() Config {
	if c.FlushBytes <= 0 {
		c.FlushBytes = 2 << 20
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 500 * time.Millisecond
	}
	if c.FlushIdle == 0 {
		c.FlushIdle = DefaultFlushIdle
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.DLQSubject == "" {
		c.DLQSubject = article.SubjectDLQ
	}
	if c.Stage == "" {
		c.Stage = "indexer"
	}
	if c.ArchiveAfter == 0 {
		c.ArchiveAfter = DefaultArchiveAfter
	}
	return c
}

// Validate reports invalid settings.
func (c Config) Validate() error {
	switch c.Refresh {
	case "", "true", "false", "wait_for":
	default:
		return fmt.Errorf("index: refresh %q: want \"\", true, false or wait_for", c.Refresh)
	}
	if c.FlushBytes < 1024 {
		return fmt.Errorf("index: flush bytes %d: want >= 1024", c.FlushBytes)
	}
	return c.Setup.Validate()
}

// DefaultFlushIdle is Config.FlushIdle's default.
const DefaultFlushIdle = 20 * time.Millisecond

type metrics struct {
	items    *prometheus.CounterVec
	flushes  prometheus.Histogram
	healthy  prometheus.Gauge
	rerouted prometheus.Counter
}

// Indexer writes articles and alerts to Elasticsearch through one esutil.BulkIndexer. Its
// Handler is a bus.Handler that defers settlement: each message is acked only after its bulk
// item succeeded, nacked for retry on 429/5xx/transport errors, and dead-lettered with ES's
// reason on a permanent rejection (mapping errors, 400). While Elasticsearch is unreachable
// the handler blocks (backpressure: the bus stops delivering), and resumes when it returns;
// after StopWaiting (shutdown) it gives up instead, leaving the message for redelivery.
// Pending reports how many deliveries it holds. Safe for concurrent use.
type Indexer struct {
	cfg   Config
	es    *elasticsearch.Client
	bi    esutil.BulkIndexer
	pub   bus.Publisher
	log   *zap.Logger
	m     metrics
	names Names

	healthy   atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stopOnce  sync.Once
	stopping  chan struct{} // closed by StopWaiting

	// addMu orders Add against Close: handlers hold it shared while adding, Close takes it
	// exclusively to mark the indexer closed, so no item is added to a closed BulkIndexer
	// (whose Add would panic on a closed channel).
	addMu  sync.RWMutex
	closed bool

	// Idle flush (Config.FlushIdle): Add stores its time in lastAdd and kicks idleLoop,
	// which flushes once no Add came for FlushIdle. Close stops it through idleStop.
	lastAdd  atomic.Int64 // unix ns of the last Add
	adding   atomic.Int64 // handlers inside Add (blocked while the workers flush: not idle)
	kick     chan struct{}
	idleStop chan struct{}
	idleDone chan struct{}

	waiting   atomic.Int64 // handlers blocked in waitHealthy
	inflight  atomic.Int64 // items added to the bulk indexer and not settled yet
	abandoned atomic.Bool  // test hook: see abandon
}

// Pending is a snapshot of the deliveries the Indexer holds unsettled.
type Pending struct {
	// Waiting is the number of handlers blocked because Elasticsearch is down (at most the
	// consumer's Concurrency: this is the backpressure that stops the bus delivering).
	Waiting int64
	// InFlight is the number of items added to the bulk indexer whose bulk response has not
	// been read yet (bounded by the bulk size and the consumer's MaxAckPending).
	InFlight int64
}

// Pending returns the current counts. Safe for concurrent use.
func (ix *Indexer) Pending() Pending {
	return Pending{Waiting: ix.waiting.Load(), InFlight: ix.inflight.Load()}
}

// abandon simulates a crash for tests: from now on bulk results are ignored, so no message
// is acked, nacked or dead-lettered any more — exactly what a killed process leaves behind
// (deliveries that JetStream redelivers after AckWait). Pair it with a transport that fails
// so buffered items never reach Elasticsearch either.
func (ix *Indexer) abandon() { ix.abandoned.Store(true) }

// New builds an Indexer. It does not contact Elasticsearch; call Setup before consuming.
func New(cfg Config, es *elasticsearch.Client, pub bus.Publisher, log *zap.Logger, reg prometheus.Registerer) (*Indexer, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	ix := &Indexer{cfg: cfg, es: es, pub: pub, log: log, names: cfg.Setup.Names, stopping: make(chan struct{})}
	ix.m = metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_indexer_items_total",
			Help: "Bulk items by outcome: indexed, stale (older version skipped), retried, dead_lettered."}, []string{"outcome"}),
		flushes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "newsflow_indexer_flush_seconds",
			Help: "Bulk request duration.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
		healthy: prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsflow_indexer_es_up", Help: "1 while Elasticsearch accepts bulks."}),
		rerouted: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsflow_indexer_undated_rerouted_total",
			Help: "Undated articles written to the index that already held them instead of their fetch month's."}),
	}
	waiting := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "newsflow_indexer_waiting_handlers",
		Help: "Handlers blocked while Elasticsearch is unavailable (backpressure)."}, func() float64 { return float64(ix.waiting.Load()) })
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "newsflow_indexer_inflight_items",
		Help: "Messages added to the bulk indexer and not settled yet."}, func() float64 { return float64(ix.inflight.Load()) })
	if reg != nil {
		for _, c := range []prometheus.Collector{ix.m.items, ix.m.flushes, ix.m.healthy, ix.m.rerouted, waiting, inflight} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("index: metrics: %w", err)
			}
		}
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:        es,
		NumWorkers:    cfg.Workers,
		FlushBytes:    cfg.FlushBytes,
		FlushInterval: cfg.FlushInterval,
		Refresh:       cfg.Refresh,
		OnError: func(_ context.Context, err error) {
			ix.setHealthy(false)
			log.Warn("bulk request failed", zap.Error(err))
		},
		OnFlushStart: func(ctx context.Context) context.Context {
			return context.WithValue(ctx, flushStartKey{}, time.Now())
		},
		OnFlushEnd: func(ctx context.Context) {
			if t, ok := ctx.Value(flushStartKey{}).(time.Time); ok {
				ix.m.flushes.Observe(time.Since(t).Seconds())
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("index: bulk indexer: %w", err)
	}
	ix.bi = bi
	ix.healthy.Store(true)
	ix.m.healthy.Set(1)
	ix.kick, ix.idleStop, ix.idleDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	if cfg.FlushIdle > 0 {
		go ix.idleLoop(cfg.FlushIdle)
	} else {
		close(ix.idleDone)
	}
	return ix, nil
}

// added records an Add for the idle flush.
func (ix *Indexer) added() {
	ix.lastAdd.Store(time.Now().UnixNano())
	select {
	case ix.kick <- struct{}{}:
	default:
	}
}

// idleWait is how much longer the input must stay idle: handlers blocked in Add (the
// workers are busy flushing) are input, not idleness.
func (ix *Indexer) idleWait(idle time.Duration) time.Duration {
	if ix.adding.Load() > 0 {
		return idle
	}
	return idle - time.Duration(time.Now().UnixNano()-ix.lastAdd.Load())
}

// idleLoop flushes the bulk indexer's buffers once items were added and then none for idle.
// It wakes once per idle period while items keep coming, not once per item.
func (ix *Indexer) idleLoop(idle time.Duration) {
	defer close(ix.idleDone)
	t := time.NewTimer(idle)
	t.Stop()
	for {
		select {
		case <-ix.kick:
		case <-ix.idleStop:
			return
		}
		for wait := idle; wait > 0; wait = ix.idleWait(idle) {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-ix.idleStop:
				t.Stop()
				return
			}
		}
		// Blocks until the workers' buffers are sent (Adds meanwhile queue as during any
		// flush); items added while it runs kick the next round.
		if err := ix.bi.Flush(context.Background()); err != nil && !errors.Is(err, esutil.ErrIndexerClosed) {
			ix.log.Debug("idle flush", zap.Error(err))
		}
	}
}

type flushStartKey struct{}

func (ix *Indexer) setHealthy(v bool) {
	if ix.healthy.Swap(v) != v {
		if v {
			ix.log.Info("elasticsearch is back, resuming")
			ix.m.healthy.Set(1)
		} else {
			ix.log.Warn("elasticsearch unavailable, pausing consumption")
			ix.m.healthy.Set(0)
		}
	}
}

// Setup installs the ILM policy and templates (idempotent PUTs).
func (ix *Indexer) Setup(ctx context.Context) error {
	return Setup(ctx, ix.es, ix.cfg.Setup)
}

// Setup installs the templates of cfg on es. Each PUT is idempotent.
func Setup(ctx context.Context, es *elasticsearch.Client, cfg SetupConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	for _, r := range Templates(cfg) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, r.Path, strings.NewReader(r.JSON()))
		if err != nil {
			return fmt.Errorf("index: setup %s: %w", r.Path, err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := es.Perform(req)
		if err != nil {
			return fmt.Errorf("index: setup %s: %w", r.Path, err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		if res.StatusCode >= 300 {
			return fmt.Errorf("index: setup %s: %s: %s", r.Path, res.Status, body)
		}
	}
	return nil
}

// waitHealthy blocks while Elasticsearch is marked down, probing it every second.
func (ix *Indexer) waitHealthy(ctx context.Context) error {
	for !ix.healthy.Load() {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := ix.es.Cluster.Health(ix.es.Cluster.Health.WithContext(pctx))
		cancel()
		if err == nil {
			res.Body.Close()
			if res.StatusCode < 500 {
				ix.setHealthy(true)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ix.stopping:
			return bus.ErrClosed
		case <-time.After(time.Second):
		}
	}
	return nil
}

// item builds the bulk item for an envelope.
func (ix *Indexer) item(env *article.Envelope) (esutil.BulkIndexerItem, error) {
	switch env.Stage {
	case article.StageEnriched:
		e := env.Enriched
		body, err := json.Marshal(NewArticleDoc(env.ID, e))
		if err != nil {
			return esutil.BulkIndexerItem{}, bus.Permanentf("indexer: encode %s: %w", env.ID, err)
		}
		v := Version(e)
		return esutil.BulkIndexerItem{Index: ix.names.articleIndex(e, ix.cfg.ArchiveAfter), Action: "index", DocumentID: env.ID,
			Version: &v, VersionType: "external_gte", Body: bytes.NewReader(body)}, nil
	case article.StageAlert:
		a := env.Alert
		t := a.FiredAt
		if t.IsZero() {
			t = env.SentAt
		}
		if a.EpisodeID != "" {
			// One document per episode, updated in place: every message of the episode has
			// the same id and index (the month it fired) and a growing version; an older
			// message replayed after a newer one gets 409 and is skipped.
			if a.EpisodeStart != nil && !a.EpisodeStart.IsZero() {
				t = *a.EpisodeStart
			}
			body, err := json.Marshal(AlertDoc{Timestamp: t, ID: a.EpisodeID, MessageID: env.ID, Alert: a})
			if err != nil {
				return esutil.BulkIndexerItem{}, bus.Permanentf("indexer: encode alert %s: %w", env.ID, err)
			}
			v := max(a.EpisodeVersion, 1)
			return esutil.BulkIndexerItem{Index: ix.names.AlertIndex(t), Action: "index", DocumentID: a.EpisodeID,
				Version: &v, VersionType: "external_gte", Body: bytes.NewReader(body)}, nil
		}
		body, err := json.Marshal(AlertDoc{Timestamp: t, ID: env.ID, Alert: a})
		if err != nil {
			return esutil.BulkIndexerItem{}, bus.Permanentf("indexer: encode alert %s: %w", env.ID, err)
		}
		return esutil.BulkIndexerItem{Index: ix.names.AlertIndex(t), Action: "index", DocumentID: env.ID, Body: bytes.NewReader(body)}, nil
	default:
		return esutil.BulkIndexerItem{}, bus.Permanentf("indexer: %s: stage %q is not indexed", env.ID, env.Stage)
	}
}

// Handler returns the bus handler. opts must be the options the consumer runs with (for the
// retry backoff).
func (ix *Indexer) Handler(opts bus.ConsumeOptions) bus.Handler {
	opts = opts.Defaults()
	return func(ctx context.Context, m bus.Message) error {
		// Paragraphs repeat the text and are not indexed: skipping them took about 10% off an
		// encoding/json decode; with the json v2 decoder it is within noise
		// (article.BenchmarkDecodeWithout: 51.1 vs 51.4 µs per farm envelope); the document
		// is the same (TestDocFromPartialDecode).
		env, err := article.DecodeWithout(m.Data(), article.IndexerSkips...)
		if err != nil {
			ix.log.Warn("undecodable message, dead-lettering", zap.String("key", m.Key()), zap.Error(err))
			return bus.Permanent(fmt.Errorf("indexer: decode: %w", err))
		}
		it, err := ix.item(env)
		if err != nil {
			return err
		}
		ix.waiting.Add(1)
		err = ix.waitHealthy(ctx)
		ix.waiting.Add(-1)
		if err != nil {
			return fmt.Errorf("indexer: waiting for elasticsearch: %w", err)
		}
		if env.Stage == article.StageEnriched && (undated(env.Enriched) || archived(env.Enriched, ix.cfg.ArchiveAfter)) {
			// Undated: filed by fetch time, a re-fetch in a later month must overwrite the
			// copy already indexed, not add a second one in that month's index. Archived: an
			// article first indexed in its month may be re-fetched after ArchiveAfter; it
			// stays where it is.
			if idx := ix.existingIndex(ctx, env.ID); idx != "" && idx != it.Index {
				ix.m.rerouted.Inc()
				it.Index = idx
			}
		}
		it.OnSuccess = func(ctx context.Context, _ esutil.BulkIndexerItem, _ esutil.BulkIndexerResponseItem) {
			ix.inflight.Add(-1)
			if ix.abandoned.Load() {
				return
			}
			ix.setHealthy(true)
			ix.m.items.WithLabelValues("indexed").Inc()
			if err := m.Ack(context.Background()); err != nil {
				ix.log.Warn("ack after index failed (will be redelivered and overwritten)", zap.String("id", env.ID), zap.Error(err))
			}
		}
		it.OnFailure = func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
			ix.inflight.Add(-1)
			if ix.abandoned.Load() {
				return
			}
			ix.onFailure(m, env.ID, opts, res, err)
		}
		ix.addMu.RLock()
		defer ix.addMu.RUnlock()
		if ix.closed {
			// A handler of another consumer sharing this Indexer outlived Close: retry later.
			return fmt.Errorf("indexer: add %s: %w", env.ID, bus.ErrClosed)
		}
		ix.inflight.Add(1)
		ix.adding.Add(1)
		err = ix.bi.Add(ctx, it)
		ix.adding.Add(-1)
		if err != nil {
			ix.inflight.Add(-1)
			return fmt.Errorf("indexer: add %s: %w", env.ID, err)
		}
		ix.added()
		return bus.ErrDeferred
	}
}

// undated reports whether e has no published date (DocTime falls back to its fetch time).
func undated(e *article.Enriched) bool { return e.PublishedAt == nil || e.PublishedAt.IsZero() }

// existingIndex returns the index that already holds article id, searching the articles
// alias ("" when none does, the alias does not exist yet, or the search fails: then the
// document goes to its computed index, as before). It blocks for one search, at most 5s.
func (ix *Indexer) existingIndex(ctx context.Context, id string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	q, _ := json.Marshal(map[string]any{"query": map[string]any{"ids": map[string]any{"values": []string{id}}}, "_source": false, "size": 1})
	res, err := ix.es.Search(ix.es.Search.WithContext(ctx), ix.es.Search.WithIndex(ix.names.ArticlesAlias()),
		ix.es.Search.WithBody(bytes.NewReader(q)), ix.es.Search.WithIgnoreUnavailable(true), ix.es.Search.WithAllowNoIndices(true))
	if err != nil {
		ix.log.Debug("existing-index lookup failed", zap.String("id", id), zap.Error(err))
		return ""
	}
	defer res.Body.Close()
	if res.IsError() {
		if res.StatusCode != 404 {
			ix.log.Debug("existing-index lookup failed", zap.String("id", id), zap.String("status", res.Status()))
		}
		return ""
	}
	var out struct {
		Hits struct {
			Hits []struct {
				Index string `json:"_index"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Hits.Hits) == 0 {
		return ""
	}
	return out.Hits.Hits[0].Index
}

func (ix *Indexer) onFailure(m bus.Message, id string, opts bus.ConsumeOptions, res esutil.BulkIndexerResponseItem, err error) {
	ctx := context.Background()
	switch {
	case err != nil: // transport error: whole bulk failed
		ix.setHealthy(false)
		ix.m.items.WithLabelValues("retried").Inc()
		_ = m.Nack(ctx, opts.Backoff(m.Attempt()))
	case res.Status == http.StatusConflict:
		// external_gte: a newer version is already indexed; this one is stale, done.
		ix.m.items.WithLabelValues("stale").Inc()
		_ = m.Ack(ctx)
	case res.Status == http.StatusTooManyRequests || res.Status >= 500:
		ix.m.items.WithLabelValues("retried").Inc()
		ix.log.Info("bulk item will be retried", zap.String("id", id), zap.Int("status", res.Status), zap.String("reason", res.Error.Reason))
		_ = m.Nack(ctx, opts.Backoff(m.Attempt()))
	default:
		reason := fmt.Errorf("elasticsearch rejected %s: %d %s: %s", id, res.Status, res.Error.Type, res.Error.Reason)
		ix.m.items.WithLabelValues("dead_lettered").Inc()
		ix.log.Warn("document rejected, dead-lettering", zap.String("id", id), zap.Error(reason))
		if derr := bus.DeadLetter(ctx, ix.pub, opts.DLQSubject, ix.cfg.Stage, m, reason); derr != nil {
			ix.log.Error("dead-letter failed, will retry", zap.String("id", id), zap.Error(derr))
			_ = m.Nack(ctx, opts.Backoff(m.Attempt()))
			return
		}
		_ = m.Term(ctx)
	}
}

// StopWaiting makes handlers that are blocked because Elasticsearch is unavailable give up
// at once — their messages are nacked and redelivered later — and makes later ones give up
// instead of blocking. Without it a shutdown during an outage would hang: the consumer's
// drain waits for its handlers, and they wait for Elasticsearch. Call it as soon as the
// service starts stopping (before the consumers drain); handlers keep indexing normally while
// Elasticsearch is up. Idempotent, does not block.
func (ix *Indexer) StopWaiting() { ix.stopOnce.Do(func() { close(ix.stopping) }) }

// Close flushes the bulk in flight (settling its messages) and stops the workers. Idempotent;
// call it after the consumer has drained.
func (ix *Indexer) Close(ctx context.Context) error {
	ix.closeOnce.Do(func() {
		ix.StopWaiting()
		ix.addMu.Lock()
		ix.closed = true
		ix.addMu.Unlock()
		close(ix.idleStop)
		select { // an idle flush in progress ends with its bulk request
		case <-ix.idleDone:
		case <-ctx.Done():
		}
		ix.closeErr = ix.bi.Close(ctx)
		if errors.Is(ix.closeErr, context.Canceled) {
			ix.closeErr = nil
		}
	})
	return ix.closeErr
}

// Stats returns the bulk indexer's counters.
func (ix *Indexer) Stats() esutil.BulkIndexerStats { return ix.bi.Stats() }

// Package alert is newsflow's alerter logic: it extracts terms (entities, keywords, watchlist
// entries) from enriched articles, counts each syndicated story once, detects spikes against a
// per-term seasonal EWMA baseline with a Poisson test (SpikeDetector), offers
// ElastAlert2-compatible es_spike rules, and publishes explained alerts to news.alerts and to
// notifiers (JSON / Slack webhooks, logs) without ever blocking detection.
//
// Replicas: set Config.Shard so each replica tracks the terms whose key hash mod Count ==
// Index. Every replica must receive every article (each replica its own consumer group /
// distinct durable), otherwise counts are split and spikes are missed.
package alert

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// Config configures an Alerter. Zero fields take defaults (WithDefaults).
type Config struct {
	Detector DetectorConfig
	// Shard selects this replica's terms (zero value: all terms).
	Shard Shard
	// AllowedLateness: the event-time watermark trails the newest event (and Tick's clock) by
	// this much; mentions older than the watermark count in the earliest open bucket (10s).
	AllowedLateness time.Duration
	// MaxEventSkew: a published date more than this before the fetch time (or in the future of
	// it) is not trusted and the fetch time is used (default 6h).
	MaxEventSkew time.Duration
	// DedupTTL is how long a (story cluster, term) pair is remembered (default 6h).
	DedupTTL time.Duration
	// DedupMax bounds the remembered pairs (default 2,000,000 ≈ 40 MB worst case).
	DedupMax int
	// RecentArticles is the ring of recent articles alerts pick their top articles from (20000).
	RecentArticles int
	// TopArticles and TopSources per alert (default 5 each).
	TopArticles int
	TopSources  int
	// Subject alerts are published to (default news.alerts).
	Subject string
	// PublishTimeout per publish attempt (default 10s); failed publishes are retried.
	PublishTimeout time.Duration
	// OutboxSize bounds alerts waiting to be published (default 4096; full: dropped + metric).
	OutboxSize int
	// NotifyQueue bounds each notifier's queue (default 1024; full: dropped + metric).
	NotifyQueue int
	// NotifyTimeout bounds one Notify call including its retries (default 30s).
	NotifyTimeout time.Duration
	// TickInterval is Run's evaluation period (default 1s).
	TickInterval time.Duration
	// CloseGrace is how long Close waits for queued publishes and notifications (default 5s).
	CloseGrace time.Duration
	// FiredTTL is how long fired alert IDs are remembered to suppress duplicates (default 48h).
	FiredTTL time.Duration
	// DisableClusterDedup counts every copy of a syndicated story (what ElastAlert2 over the
	// index would see). For evaluation only.
	DisableClusterDedup bool
	// DisableTitleDedup turns off the second dedup key: copies whose normalised titles are
	// identical (at least MinTitleWords words) count once per term even when the cleaner did
	// not put them in one cluster (wire copies usually keep the headline).
	DisableTitleDedup bool
	// MinTitleWords for title dedup (default 5; short titles such as "Live updates" are
	// never used as a dedup key).
	MinTitleWords int
	// Now, when set, stamps Alert.FiredAt with the wall clock (services: time.Now). Unset,
	// FiredAt is the event time of the detection, which is what a replay (the eval) needs.
	Now func() time.Time
	// OnAlert, when set, is called synchronously for each alert after the detection lock is
	// released (tests, the eval). It must not call back into the Alerter.
	OnAlert func(*article.Alert)
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	c.Detector = c.Detector.WithDefaults()
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defi := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AllowedLateness, 10*time.Second)
	def(&c.MaxEventSkew, 6*time.Hour)
	def(&c.DedupTTL, 6*time.Hour)
	defi(&c.DedupMax, 2_000_000)
	defi(&c.RecentArticles, 20000)
	defi(&c.TopArticles, 5)
	defi(&c.TopSources, 5)
	if c.Subject == "" {
		c.Subject = article.SubjectAlerts
	}
	def(&c.PublishTimeout, 10*time.Second)
	defi(&c.OutboxSize, 4096)
	defi(&c.NotifyQueue, 1024)
	def(&c.NotifyTimeout, 30*time.Second)
	def(&c.TickInterval, time.Second)
	def(&c.CloseGrace, 5*time.Second)
	def(&c.FiredTTL, 48*time.Hour)
	defi(&c.MinTitleWords, 5)
	return c
}

// Validate reports a configuration error.
func (c Config) Validate() error {
	if err := c.Detector.Validate(); err != nil {
		return err
	}
	if c.Shard.Count < 0 || (c.Shard.Count > 0 && (c.Shard.Index < 0 || c.Shard.Index >= c.Shard.Count)) {
		return fmt.Errorf("alert: shard index %d out of range for count %d", c.Shard.Index, c.Shard.Count)
	}
	return nil
}

type metrics struct {
	articles  prometheus.Counter
	mentions  *prometheus.CounterVec
	live      prometheus.Gauge
	alerts    *prometheus.CounterVec
	notify    *prometheus.CounterVec
	publish   *prometheus.CounterVec
	observe   prometheus.Histogram
	reloads   *prometheus.CounterVec
	suppessed prometheus.Counter
	// delta log (deltalog.go)
	compactions *prometheus.CounterVec
	logBytes    prometheus.Gauge
	replayed    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		articles: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsflow_alerter_articles_total", Help: "Enriched articles observed."}),
		mentions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_alerter_mentions_total", Help: "Term mentions by result (counted, duplicate: same story cluster, other_shard, late)."}, []string{"result"}),
		live:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsflow_alerter_terms_live", Help: "Terms currently tracked."}),
		alerts:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_alerter_alerts_total", Help: "Alerts emitted by rule type."}, []string{"rule_type"}),
		notify:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_alerter_notify_total", Help: "Notifications by outcome (sent, failed, dropped)."}, []string{"outcome"}),
		publish:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_alerter_publish_total", Help: "Alert publishes to the bus by outcome (ok, retry, dropped, deferred: cut off by close, kept in the snapshot)."}, []string{"outcome"}),
		observe:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "newsflow_alerter_observe_seconds", Help: "Time to observe one article.", Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10)}),
		reloads:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_alerter_rules_reload_total", Help: "Rule file reloads by outcome (ok, invalid)."}, []string{"outcome"}),
		suppessed: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsflow_alerter_alerts_suppressed_total",
			Help: "Alerts not re-emitted because their id had already fired (restart, redelivery)."}),
		compactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_alerter_compactions_total",
			Help: "Alerter delta log compactions (full snapshot, fresh log) by result (ok, failed)."}, []string{"result"}),
		logBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsflow_alerter_delta_log_bytes",
			Help: "Size of the alerter's delta log since the last full snapshot."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsflow_alerter_replayed_records_total",
			Help: "Delta log records re-applied at start."}),
	}
	return registered(reg, m, m.articles, m.mentions, m.live, m.alerts, m.notify, m.publish, m.observe, m.reloads, m.suppessed,
		m.compactions, m.logBytes, m.replayed)
}

// registered registers cs (m's collectors) on reg and returns m.
func registered[M any](reg prometheus.Registerer, m M, cs ...prometheus.Collector) (M, error) {
	if err := registerAll(reg, cs...); err != nil {
		var zero M
		return zero, err
	}
	return m, nil
}

// registerAll registers cs on reg (nil: nothing to do).
func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("alert: register metrics: %w", err)
		}
	}
	return nil
}

type recentArticle struct {
	at     int64
	id     string
	title  string
	url    string
	source string
	hashes []uint64
}

// Alerter is the alerter stage. Observe, Tick, SetRules, Snapshot and Restore are safe for
// concurrent use (one mutex serialises detection); publishing and notifications run on their
// own goroutines from bounded queues, so none of them blocks on the bus or a webhook.
type Alerter struct {
	cfg     Config
	log     *zap.Logger
	pub     bus.Publisher
	m       *metrics
	mu      sync.Mutex
	det     *SpikeDetector
	rules   []Rule
	watches []*watchMatcher
	// dedup: two generations of (cluster, term) pair hashes.
	dedupCur, dedupPrev map[uint64]struct{}
	dedupGen            int64 // unix ns when dedupCur started
	recent              []recentArticle
	recentN             int
	maxEvent            time.Time
	fired               map[string]int64 // alert id → unix ns
	termBuf             []Term
	hashBuf             []uint64
	obs                 observation // Observe's reusable decode buffer
	seq                 uint64
	// Delta log (deltalog.go): while journaling, every state change Observe, Tick and the
	// publisher make is appended to jbuf as a record; jseq numbers the records applied so far
	// (snapshots hold it). replaying is set while OpenDeltaLog replays a log: alerts then go to
	// the durable outbox only, and are queued for publishing when the replay ends.
	journaling bool
	jbuf       []byte
	jseq       uint64
	replaying  bool

	outbox chan outgoing
	// unsent holds the alerts produced but not yet published (id → encoded envelope, under
	// mu): part of the snapshot and re-queued by Restore, so a crash loses no alert.
	unsent  map[string]unsentAlert
	sentSeq uint64
	disp    []*dispatcher
	closed  bool
	pubWG   sync.WaitGroup
	pubCtx  context.Context
	pubStop context.CancelFunc
}

type outgoing struct {
	id   string
	data []byte
}

// unsentAlert is an outbox entry kept for the snapshot; seq keeps the production order.
type unsentAlert struct {
	seq  uint64
	data []byte
}

// New builds an Alerter and starts its publisher and notifier goroutines (stop them with
// Close). pub may be nil (no bus output). reg may be nil.
func New(cfg Config, rules []Rule, pub bus.Publisher, notifiers []Notifier, log *zap.Logger, reg prometheus.Registerer) (*Alerter, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	rules, err := ValidateRules(rules)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	det, err := NewSpikeDetector(cfg.Detector, rules)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	a := &Alerter{cfg: cfg, log: log, pub: pub, m: m, det: det,
		dedupCur: map[uint64]struct{}{}, dedupPrev: map[uint64]struct{}{},
		recent: make([]recentArticle, cfg.RecentArticles), fired: map[string]int64{},
		outbox: make(chan outgoing, cfg.OutboxSize), unsent: map[string]unsentAlert{}}
	a.setRulesLocked(rules)
	a.pubCtx, a.pubStop = context.WithCancel(context.Background())
	a.pubWG.Add(1)
	go a.publishLoop()
	for _, n := range notifiers {
		a.disp = append(a.disp, newDispatcher(n, cfg.NotifyQueue, cfg.NotifyTimeout,
			func(o string) { m.notify.WithLabelValues(o).Inc() }, log))
	}
	return a, nil
}

func (a *Alerter) setRulesLocked(rules []Rule) {
	a.rules = rules
	a.watches = nil
	for i := range rules {
		if rules[i].Type == RuleWatch && !rules[i].Disabled {
			a.watches = append(a.watches, compileWatch(&rules[i]))
		}
	}
}

// SetRules validates and swaps the rule set; on error the current rules stay in force.
func (a *Alerter) SetRules(rules []Rule) error {
	rules, err := ValidateRules(rules)
	if err != nil {
		return fmt.Errorf("alert: set rules: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.det.SetRules(rules); err != nil {
		return fmt.Errorf("alert: set rules: %w", err)
	}
	a.setRulesLocked(rules)
	return nil
}

// Rules returns the rules in force.
func (a *Alerter) Rules() []Rule {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Rule(nil), a.rules...)
}

// eventTime picks the article's event time: the published date when it is plausible
// (within MaxEventSkew before the fetch and not after it), else the fetch time.
func (a *Alerter) eventTime(e *article.Enriched) time.Time {
	fetched := e.FetchedAt
	if fetched.IsZero() {
		fetched = e.EnrichedAt
	}
	if e.PublishedAt != nil && !e.PublishedAt.IsZero() {
		p := *e.PublishedAt
		if fetched.IsZero() {
			return p
		}
		if !p.After(fetched.Add(time.Minute)) && fetched.Sub(p) <= a.cfg.MaxEventSkew && !p.After(time.Now().Add(5*time.Minute)) {
			return p
		}
	}
	now := time.Now()
	if fetched.IsZero() || fetched.After(now.Add(5*time.Minute)) {
		return now // unknown or future-dated (clock skew): count it now
	}
	return fetched
}

// clusterKey is the article's story key for the (cluster, term) dedup: its story cluster,
// else the article it duplicates, else its own canonical URL, URL or content hash. It depends
// only on the article, so a redelivered article gets the same key and counts zero times
// against a dedup memory (restored from a snapshot or not) that already holds it.
func clusterKey(e *article.Enriched) string {
	switch {
	case e.ClusterID != "":
		return "c:" + e.ClusterID
	case e.DuplicateOf != "":
		return "c:" + e.DuplicateOf
	case e.CanonicalURL != "":
		return "u:" + e.CanonicalURL
	case e.URL == "" && e.ContentHash != "":
		return "h:" + e.ContentHash
	default:
		return "u:" + e.URL
	}
}

// seenPair reports whether the pair hash was seen within the dedup TTL and records it.
func (a *Alerter) seenPair(h uint64) bool {
	if _, ok := a.dedupCur[h]; ok {
		return true
	}
	a.dedupCur[h] = struct{}{}
	_, ok := a.dedupPrev[h]
	return ok
}

// titleKey is "t:" + the lowercased title reduced to letters and digits separated by single
// spaces, or "" when it has fewer than minWords words.
func titleKey(title string, minWords int) string {
	var b strings.Builder
	words, inWord := 0, false
	for _, r := range strings.ToLower(title) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if !inWord {
				if words > 0 {
					b.WriteByte(' ')
				}
				words++
				inWord = true
			}
			b.WriteRune(r)
		} else {
			inWord = false
		}
	}
	if words < minWords {
		return ""
	}
	return "t:" + b.String()
}

func pairHash(cluster, key string) uint64 {
	return termHash(cluster + "\x00" + key)
}

// Observe counts one enriched article. It never blocks on the bus or notifiers; alerts it
// triggers are queued. It returns a permanent error only for a nil article. With a delta log
// attached (OpenDeltaLog) it also appends the article's record to the log's buffer, under the
// detection lock and in the order it is applied.
func (a *Alerter) Observe(ctx context.Context, e *article.Enriched) error {
	if e == nil {
		return bus.Permanentf("alert: observe: nil article")
	}
	start := time.Now()
	t := a.eventTime(e)
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errors.New("alert: observe: alerter closed")
	}
	other := a.decodeLocked(&a.obs, e, t)
	a.journalObserveLocked(&a.obs)
	counted, dup := a.applyLocked(&a.obs)
	out := a.collectLocked()
	live := a.det.Live()
	a.mu.Unlock()
	a.dispatch(out)
	a.m.articles.Inc()
	if counted > 0 {
		a.m.mentions.WithLabelValues("counted").Add(float64(counted))
	}
	if dup > 0 {
		a.m.mentions.WithLabelValues("duplicate").Add(float64(dup))
	}
	if other > 0 {
		a.m.mentions.WithLabelValues("other_shard").Add(float64(other))
	}
	a.m.live.Set(float64(live))
	a.m.observe.Observe(time.Since(start).Seconds())
	return nil
}

// observation is everything applyLocked needs to reproduce one article's effect on the state:
// its event time, the terms this shard owns, their story dedup pair hashes and the reference
// kept for alerts' top articles. Observe builds it from the article (decodeLocked); a delta
// log replay decodes it from a record, so both go through applyLocked.
type observation struct {
	at     int64  // event time, unix ns
	terms  []Term // owned terms only
	pairs  []uint64
	titled bool       // pairs holds two hashes per term (cluster, title), else one (cluster)
	ref    articleRef // used only when a term counts
}

// articleRef is the part of an article an alert's top articles show (already truncated).
type articleRef struct {
	id, title, url, source string
}

// decodeLocked fills o from e at event time t (reusing o's slices) and returns the number of
// mentions of terms other shards own. Called with mu held (it reads the watch rules and
// a.seq).
func (a *Alerter) decodeLocked(o *observation, e *article.Enriched, t time.Time) (other int) {
	a.termBuf = ExtractTerms(a.termBuf[:0], e, a.watches)
	ck := clusterKey(e)
	tk := ""
	if !a.cfg.DisableTitleDedup {
		tk = titleKey(e.Title, a.cfg.MinTitleWords)
	}
	if a.cfg.DisableClusterDedup {
		a.seq++
		ck, tk = fmt.Sprintf("n:%d", a.seq), ""
	}
	o.at, o.titled = t.UnixNano(), tk != ""
	o.terms, o.pairs = o.terms[:0], o.pairs[:0]
	for _, term := range a.termBuf {
		if !a.cfg.Shard.Owns(termHash(term.Key)) {
			other++
			continue
		}
		o.terms = append(o.terms, term)
		o.pairs = append(o.pairs, pairHash(ck, term.Key))
		if o.titled {
			o.pairs = append(o.pairs, pairHash(tk, term.Key))
		}
	}
	o.ref = articleRef{}
	if len(o.terms) > 0 {
		o.ref = refOf(e)
	}
	return other
}

// refOf is e's reference for top articles: canonical id, title, URL and source, truncated.
func refOf(e *article.Enriched) articleRef {
	id := ""
	if e.CanonicalURL != "" {
		id = article.IDFromCanonical(e.CanonicalURL)
	}
	src := e.Source.Name
	if src == "" {
		src = e.Source.Domain
	}
	if src == "" {
		src = e.SiteName
	}
	url := e.CanonicalURL
	if url == "" {
		url = e.URL
	}
	return articleRef{id: id, title: trunc(e.Title, 300), url: trunc(url, 500), source: trunc(src, 100)}
}

// applyLocked applies one observation: dedup rotation and lookup, detector counts, the recent
// articles ring, the event-time watermark. It is deterministic given the state and o, which is
// what makes a delta log replay reproduce Observe. Called with mu held; the caller collects
// the detector's output.
func (a *Alerter) applyLocked(o *observation) (counted, dup int) {
	t := time.Unix(0, o.at).UTC()
	a.rotateDedup(t)
	hashes := a.hashBuf[:0]
	step := 1
	if o.titled {
		step = 2
	}
	for i, term := range o.terms {
		seen := a.seenPair(o.pairs[i*step])
		if o.titled {
			seen = a.seenPair(o.pairs[i*step+1]) || seen
		}
		if seen {
			dup++
			continue
		}
		hashes = append(hashes, termHash(term.Key))
		counted++
		a.det.Add(term, t)
	}
	a.hashBuf = hashes
	if len(hashes) > 0 {
		a.remember(o.ref, o.at, hashes)
	}
	if t.After(a.maxEvent) {
		a.maxEvent = t
	}
	a.det.Advance(a.maxEvent.Add(-a.cfg.AllowedLateness))
	return counted, dup
}

func (a *Alerter) rotateDedup(t time.Time) {
	n := t.UnixNano()
	if a.dedupGen == 0 {
		a.dedupGen = n
	}
	if n-a.dedupGen >= int64(a.cfg.DedupTTL)/2 || len(a.dedupCur) >= a.cfg.DedupMax/2 {
		a.dedupPrev = a.dedupCur
		a.dedupCur = make(map[uint64]struct{}, len(a.dedupPrev))
		a.dedupGen = n
	}
}

// remember puts ref in the ring of recent counted articles (copying its strings, which may
// point into a message or a log buffer).
func (a *Alerter) remember(ref articleRef, at int64, hashes []uint64) {
	slot := &a.recent[a.recentN%len(a.recent)]
	a.recentN++
	*slot = recentArticle{at: at, id: cloneTrunc(ref.id, 100), title: cloneTrunc(ref.title, 300), url: cloneTrunc(ref.url, 500),
		source: cloneTrunc(ref.source, 100), hashes: append(slot.hashes[:0], hashes...)}
}

// trunc cuts s to at most n bytes (no copy).
func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func cloneTrunc(s string, n int) string {
	return string(append([]byte(nil), trunc(s, n)...))
}

// collectLocked drains detector output, drops already-fired ids and attaches top articles.
func (a *Alerter) collectLocked() []*article.Alert {
	em := a.det.Drain()
	if len(em) == 0 {
		return nil
	}
	out := make([]*article.Alert, 0, len(em))
	for i := range em {
		e := &em[i]
		if _, dup := a.fired[e.ID]; dup {
			a.m.suppessed.Inc()
			continue
		}
		a.fired[e.ID] = e.Alert.FiredAt.UnixNano()
		al := e.Alert
		if a.cfg.Now != nil {
			al.FiredAt = a.cfg.Now().UTC()
		}
		al.TopArticles, al.TopSources = a.topArticles(e.TermHash, e.From, e.To)
		out = append(out, &al)
		a.enqueue(e.ID, &al)
	}
	if len(a.fired) > 10000 {
		cut := a.maxEvent.Add(-a.cfg.FiredTTL).UnixNano()
		for k, v := range a.fired {
			if v < cut {
				delete(a.fired, k)
			}
		}
	}
	return out
}

func (a *Alerter) topArticles(h uint64, from, to time.Time) ([]article.AlertArticle, []string) {
	lo, hi := from.UnixNano(), to.UnixNano()
	var arts, cands []article.AlertArticle
	srcCount := map[string]int{}
	n := len(a.recent)
	for i := 1; i <= n && i <= a.recentN; i++ {
		r := &a.recent[(a.recentN-i)%n]
		if r.at < lo-int64(time.Hour) {
			break
		}
		if r.at < lo || r.at > hi {
			continue
		}
		match := false
		for _, x := range r.hashes {
			if x == h {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		if r.source != "" {
			srcCount[r.source]++
		}
		if len(cands) < maxRepresentativeCandidates {
			cands = append(cands, article.AlertArticle{ID: r.id, Title: r.title, URL: r.url, Source: r.source})
		}
	}
	arts = representative(cands, a.cfg.TopArticles)
	srcs := make([]string, 0, len(srcCount))
	for s := range srcCount {
		srcs = append(srcs, s)
	}
	sort.Slice(srcs, func(i, j int) bool {
		if srcCount[srcs[i]] != srcCount[srcs[j]] {
			return srcCount[srcs[i]] > srcCount[srcs[j]]
		}
		return srcs[i] < srcs[j]
	})
	if len(srcs) > a.cfg.TopSources {
		srcs = srcs[:a.cfg.TopSources]
	}
	return arts, srcs
}

// enqueue puts an alert on the outbox without blocking (full: dropped + metric) and records
// it in the durable outbox until it is published. Called with mu held.
func (a *Alerter) enqueue(id string, al *article.Alert) {
	a.m.alerts.WithLabelValues(al.RuleType).Inc()
	if a.pub == nil {
		return
	}
	data, err := article.Encode(&article.Envelope{ID: id, Stage: article.StageAlert, SentAt: al.FiredAt, Alert: al})
	if err != nil {
		a.log.Error("alert: encode", zap.Error(err))
		return
	}
	a.sentSeq++
	a.unsent[id] = unsentAlert{seq: a.sentSeq, data: data}
	if a.replaying {
		return // queued by endReplay unless a later record settles it
	}
	if !a.offerLocked(outgoing{id: id, data: data}) {
		a.log.Warn("alert: outbox full, alert not published", zap.String("id", id), zap.String("term", al.Term))
	}
}

// offerLocked queues o for publishLoop without blocking; when the outbox is full it drops o
// (metric) and forgets it from the durable outbox too, so the snapshot stays bounded. Called
// with mu held and only while the Alerter is open.
func (a *Alerter) offerLocked(o outgoing) bool {
	select {
	case a.outbox <- o:
		return true
	default:
		a.settleLocked(o.id)
		a.m.publish.WithLabelValues("dropped").Inc()
		return false
	}
}

// settled removes a published (or permanently rejected) alert from the durable outbox.
func (a *Alerter) settled(id string) {
	a.mu.Lock()
	a.settleLocked(id)
	a.mu.Unlock()
}

// settleLocked removes id from the durable outbox and logs that (delta log). Called with mu
// held.
func (a *Alerter) settleLocked(id string) {
	if _, ok := a.unsent[id]; !ok {
		return
	}
	delete(a.unsent, id)
	a.journalSettleLocked(id)
}

func (a *Alerter) dispatch(out []*article.Alert) {
	for _, al := range out {
		if a.cfg.OnAlert != nil {
			a.cfg.OnAlert(al)
		}
		for _, d := range a.disp {
			d.offer(al)
		}
	}
}

// publishLoop publishes queued alerts, retrying each with backoff until it succeeds or the
// Alerter closes (then the remaining ones get until CloseGrace). An alert leaves the durable
// outbox when it is published or permanently rejected; one cut off by Close stays in it, so the
// final snapshot keeps it for the next start.
func (a *Alerter) publishLoop() {
	defer a.pubWG.Done()
	backoff := bus.ExpBackoff(100*time.Millisecond, 5*time.Second)
	for o := range a.outbox {
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(a.pubCtx, a.cfg.PublishTimeout)
			err := a.pub.Publish(ctx, a.cfg.Subject, bus.Outgoing{Key: o.id, Data: o.data,
				Header: map[string]string{bus.HeaderMsgID: o.id}})
			cancel()
			if err == nil {
				a.m.publish.WithLabelValues("ok").Inc()
				a.settled(o.id)
				break
			}
			if errors.Is(err, bus.ErrTooLarge) || bus.IsPermanent(err) {
				a.m.publish.WithLabelValues("dropped").Inc()
				a.log.Error("alert: publish gave up", zap.String("id", o.id), zap.Error(err))
				a.settled(o.id)
				break
			}
			if a.pubCtx.Err() != nil {
				a.m.publish.WithLabelValues("deferred").Inc()
				a.log.Warn("alert: not published before close, kept in the snapshot outbox", zap.String("id", o.id), zap.Error(err))
				break
			}
			a.m.publish.WithLabelValues("retry").Inc()
			a.log.Warn("alert: publish failed, retrying", zap.String("id", o.id), zap.Int("attempt", attempt), zap.Error(err))
			t := time.NewTimer(backoff(attempt))
			select {
			case <-t.C:
			case <-a.pubCtx.Done():
				t.Stop()
			}
		}
	}
}

// Tick advances the watermark to now − AllowedLateness (closing buckets even when no articles
// arrive) and dispatches what that produces: still-firing updates, resolutions, es_spike dips.
// With a delta log attached it logs now, so a replay advances the same way.
func (a *Alerter) Tick(now time.Time) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.journalTickLocked(now.UnixNano())
	a.tickLocked(now.UnixNano())
	out := a.collectLocked()
	live := a.det.Live()
	a.mu.Unlock()
	a.m.live.Set(float64(live))
	a.dispatch(out)
}

// tickLocked advances the watermark to now (unix ns) − AllowedLateness. Called with mu held.
func (a *Alerter) tickLocked(now int64) {
	a.det.Advance(time.Unix(0, now).Add(-a.cfg.AllowedLateness))
}

// Run calls Tick(time.Now()) every TickInterval until ctx ends, then returns nil. It does not
// Close the Alerter.
func (a *Alerter) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			a.Tick(now)
		}
	}
}

// LiveTerms returns the number of tracked terms.
func (a *Alerter) LiveTerms() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.det.Live()
}

// Close stops accepting articles, waits up to CloseGrace for queued publishes and
// notifications, then stops the goroutines. Idempotent.
func (a *Alerter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	close(a.outbox)
	done := make(chan struct{})
	go func() { a.pubWG.Wait(); close(done) }()
	t := time.NewTimer(a.cfg.CloseGrace)
	select {
	case <-done:
	case <-t.C:
		a.pubStop()
		<-done
	}
	t.Stop()
	a.pubStop()
	for _, d := range a.disp {
		d.close(a.cfg.CloseGrace)
	}
	return nil
}

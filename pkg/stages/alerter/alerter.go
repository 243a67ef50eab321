// Package alerter wires the alerter stage onto a runtime and a bus: the services/alerter binary
// (kit.Main(alerter.Service, ...)) and the all-in-one (through pkg/stages) use it.
package alerter

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages/kit"
	"go.uber.org/zap"
)

// busUnsettledLimit is the default bound on a consumer's unacked deliveries of both backends
// (natsbus MaxAckPending, kafkabus MaxUnsettled); the checkpoint threshold stays below it.
const busUnsettledLimit = 1024

// AlerterConfig configures the alerter stage.
type AlerterConfig struct {
	Alert      alert.Config
	RulesFile  string // YAML rules, reloaded on change ("" = built-in default rules)
	Webhooks   []string
	SlackHooks []string
	// NotifyUpdateEvery: webhooks get an episode's firing and resolved messages and at most
	// one still_firing update per this interval (0: none); the alerts index gets them all.
	NotifyUpdateEvery time.Duration
	// NotifyUpdateGrowth: a still_firing update reaches webhooks only when the burst's peak
	// rate is at least this many times the one of the last message they got for it (<= 1:
	// every NotifyUpdateEvery).
	NotifyUpdateGrowth float64
	// NotifyResolved: webhooks also get an episode's resolved message.
	NotifyResolved bool
	// Checkpoint: an article is acked only once the fsynced delta log holds its record
	// (Interval, MaxPending); SaveInterval is how often Tick's records are saved when idle.
	Checkpoint alert.CheckpointConfig
	// DeltaLog: compaction thresholds of alerter.log (Dir is the service's state dir).
	DeltaLog alert.DeltaLogConfig
}

// Validate reports a configuration error in the stage's own settings (defaults applied).
func (c AlerterConfig) Validate() error {
	if c.NotifyUpdateEvery < 0 {
		return fmt.Errorf("alerter: NEWSFLOW_ALERT_NOTIFY_UPDATE_EVERY=%s: want >= 0 (0: no updates)", c.NotifyUpdateEvery)
	}
	if c.NotifyUpdateGrowth < 0 || math.IsNaN(c.NotifyUpdateGrowth) || math.IsInf(c.NotifyUpdateGrowth, 0) {
		return fmt.Errorf("alerter: NEWSFLOW_ALERT_NOTIFY_UPDATE_GROWTH=%v: want a number >= 0 (<= 1: updates regardless of growth)", c.NotifyUpdateGrowth)
	}
	ck := c.Checkpoint.WithDefaults()
	if err := ck.Validate(); err != nil {
		return fmt.Errorf("alerter: %w", err)
	}
	dl := c.DeltaLog.WithDefaults()
	dl.Dir = "-" // the state dir is the runtime's
	if err := dl.Validate(); err != nil {
		return fmt.Errorf("alerter: %w", err)
	}
	if ck.MaxPending > busUnsettledLimit/2 {
		return fmt.Errorf("alerter: NEWSFLOW_ALERT_CHECKPOINT_MAX_PENDING=%d: want <= %d (half the bus's %d unacked deliveries per consumer)",
			ck.MaxPending, busUnsettledLimit/2, busUnsettledLimit)
	}
	return nil
}

// AlerterConfigFromEnv reads the NEWSFLOW_ALERT_* variables; parse and validation errors are
// collected in e.
func AlerterConfigFromEnv(e *service.Env) AlerterConfig {
	var c AlerterConfig
	c.RulesFile = e.String("NEWSFLOW_ALERT_RULES", "")
	c.Webhooks = e.List("NEWSFLOW_ALERT_WEBHOOKS", nil)
	c.SlackHooks = e.List("NEWSFLOW_ALERT_SLACK_WEBHOOKS", nil)
	c.NotifyUpdateEvery = e.Duration("NEWSFLOW_ALERT_NOTIFY_UPDATE_EVERY", alert.DefaultNotifyUpdateEvery)
	c.NotifyUpdateGrowth = e.Float("NEWSFLOW_ALERT_NOTIFY_UPDATE_GROWTH", alert.DefaultNotifyUpdateGrowth)
	c.NotifyResolved = e.Bool("NEWSFLOW_ALERT_NOTIFY_RESOLVED", true)
	c.Alert.Shard.Index = e.Int("NEWSFLOW_ALERT_SHARD_INDEX", 0)
	c.Alert.Shard.Count = e.Int("NEWSFLOW_ALERT_SHARD_COUNT", 0)
	c.Checkpoint.SaveInterval = e.Duration("NEWSFLOW_STATE_SAVE_INTERVAL", time.Minute)
	c.Checkpoint.Interval = e.Duration("NEWSFLOW_ALERT_CHECKPOINT_INTERVAL", 5*time.Second)
	c.Checkpoint.MaxPending = e.Int("NEWSFLOW_ALERT_CHECKPOINT_MAX_PENDING", 500)
	// Full snapshot + fresh delta log once the log is this large or this old.
	c.DeltaLog.CompactBytes = int64(e.Int("NEWSFLOW_ALERT_COMPACT_MB", 64)) << 20
	c.DeltaLog.CompactInterval = e.Duration("NEWSFLOW_ALERT_COMPACT_INTERVAL", 10*time.Minute)
	// Stream time the detector observes before it may fire (default 1h; negative: none).
	c.Alert.Detector.Warmup = e.Duration("NEWSFLOW_ALERT_WARMUP", 0)
	// How far before its fetch an article's published date is still trusted as its event time.
	c.Alert.MaxEventSkew = e.Duration("NEWSFLOW_ALERT_MAX_EVENT_SKEW", 0)
	c.Alert.Now = time.Now // fired_at is wall-clock time when live (the eval replays event time)
	e.Fail(c.Validate())
	return c
}

// AddAlerter builds the alerter with its rules, notifiers and restored state, and adds its
// consumer of news.enriched, its evaluation loop and the rules watcher. Each shard is its own
// consumer group: every replica must see every article to count the terms it owns.
//
// Durability: the handler counts an article, hands the message to an alert.Checkpointer and
// defers its settlement; every Checkpoint.Interval or MaxPending articles the checkpointer
// appends the records of what changed since the last checkpoint to the delta log alerter.log,
// fsyncs once, and then acks the articles it covers; it compacts the log into a full snapshot
// alerter.snap every DeltaLog.CompactBytes or CompactInterval. Unpublished alerts are part of
// the state. At start the snapshot is restored and the log replayed (alert.OpenDeltaLog); after
// a crash the unacked articles are redelivered and the restored dedup memory counts those the
// log already holds zero times.
func AddAlerter(c kit.Common, cfg AlerterConfig) (*alert.Alerter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Checkpoint = cfg.Checkpoint.WithDefaults()
	log := c.Log("alerter")
	var rules []alert.Rule
	if cfg.RulesFile != "" {
		var err error
		if rules, err = alert.LoadRules(cfg.RulesFile); err != nil {
			return nil, fmt.Errorf("alerter: rules %s: %w", cfg.RulesFile, err)
		}
	}
	if len(rules) == 0 {
		// The shipped rules (pkg/alert/default-rules.yaml, as scored by make eval-alerts).
		rules = alert.DefaultRules()
	}
	notifiers := []alert.Notifier{alert.LogNotifier{Log: log}}
	client := &http.Client{Timeout: 10 * time.Second}
	for i, u := range cfg.Webhooks {
		n, err := alert.NewWebhookNotifier(alert.WebhookConfig{Name: fmt.Sprintf("webhook-%d", i), URL: u}, client)
		if err != nil {
			return nil, redact.Error(fmt.Errorf("alerter: webhook %s: %w", redact.Webhook(u), err), u)
		}
		notifiers = append(notifiers, &alert.ThrottledNotifier{Next: n, UpdateEvery: cfg.NotifyUpdateEvery, UpdateGrowth: cfg.NotifyUpdateGrowth, SkipResolved: !cfg.NotifyResolved})
	}
	for i, u := range cfg.SlackHooks {
		n, err := alert.NewWebhookNotifier(alert.WebhookConfig{Name: fmt.Sprintf("slack-%d", i), URL: u, Format: alert.FormatSlack}, client)
		if err != nil {
			return nil, redact.Error(fmt.Errorf("alerter: slack webhook %s: %w", redact.Webhook(u), err), u)
		}
		notifiers = append(notifiers, &alert.ThrottledNotifier{Next: n, UpdateEvery: cfg.NotifyUpdateEvery, UpdateGrowth: cfg.NotifyUpdateGrowth, SkipResolved: !cfg.NotifyResolved})
	}
	a, err := alert.New(cfg.Alert, rules, c.Bus, notifiers, log, c.RT.Reg)
	if err != nil {
		return nil, fmt.Errorf("alerter: %w", err)
	}
	var ck *alert.Checkpointer
	if c.State == "" {
		log.Warn("no state dir: alerter state is not persisted, articles are acked uncovered")
		ck, err = alert.NewCheckpointer(cfg.Checkpoint, func(io.Writer) error { return nil }, func([]byte) error { return nil }, log, c.RT.Reg)
	} else {
		// Acks depend on the state, so an unreadable state dir stops the start; a snapshot or
		// log that does not decode is kept aside and what can be recovered is (see OpenDeltaLog).
		dlc := cfg.DeltaLog
		dlc.Dir, dlc.Name = string(c.State), "alerter"
		var dl *alert.DeltaLog
		var st alert.ReplayStats
		if dl, st, err = alert.OpenDeltaLog(dlc, a, log); err == nil {
			log.Info("alerter state recovered", zap.Uint64("snapshot_seq", st.SnapshotSeq), zap.Int("replayed", st.Replayed),
				zap.Int("live_terms", a.LiveTerms()))
			if ck, err = alert.NewLogCheckpointer(cfg.Checkpoint, dl, log, c.RT.Reg); err != nil {
				_ = dl.Close()
			}
		}
	}
	if err != nil {
		_ = a.Close()
		return nil, fmt.Errorf("alerter: %w", err)
	}
	group := "alerter"
	if cfg.Alert.Shard.Count > 1 {
		group = fmt.Sprintf("alerter-shard-%d-of-%d", cfg.Alert.Shard.Index, cfg.Alert.Shard.Count)
	}
	opts := c.RT.Cfg.ConsumeOptions(group)
	// Deferred messages wait up to one checkpoint (plus a slow save) for their ack.
	opts.AckWait = max(opts.AckWait, 4*cfg.Checkpoint.Interval)
	m := service.NewStageMetrics("alerter", c.RT.Reg)
	// The alerter reads the terms, titles, text (watch rules) and dates of an article, not
	// its paragraphs, quotes, places or mentioned dates: skipping them takes about a fifth off
	// the decode (article.BenchmarkDecodeWithout, json v2 decoder: 39.6 vs 51.4 µs per farm
	// envelope; same observations: TestObservePartialDecode).
	h := service.MessageStageHandlerSkipping("alerter", c.Bus, article.AlerterSkips, func(ctx context.Context, msg bus.Message, in *article.Envelope) ([]service.Output, error) {
		if in.Stage != article.StageEnriched {
			return nil, bus.Permanentf("alerter: %s: unexpected stage %q", in.ID, in.Stage)
		}
		if err := a.Observe(ctx, in.Enriched); err != nil {
			return nil, err
		}
		if err := ck.Add(msg); err != nil {
			return nil, fmt.Errorf("alerter: %s: %w", in.ID, err)
		}
		return nil, bus.ErrDeferred
	}, log, m)
	c.RT.WatchConsumer(c.Bus, article.SubjectEnriched, opts.Group)
	c.RT.Go("consume "+article.SubjectEnriched, func(ctx context.Context) error {
		ck.Start()
		// The checkpoint loop keeps acking while the consumer drains (kafkabus waits for
		// deferred settlements). Then: flush the outbox, final checkpoint, ack the rest.
		err := c.Bus.Consume(ctx, article.SubjectEnriched, opts, h)
		_ = a.Close()
		fctx, cancel := context.WithTimeout(context.Background(), c.RT.Cfg.ShutdownTimeout)
		defer cancel()
		if cerr := ck.Close(fctx); cerr != nil {
			log.Error("final alerter checkpoint failed (its articles were nacked and will be recounted)", zap.Error(cerr))
		}
		return err
	})
	c.RT.Go("alert evaluation", a.Run)
	if cfg.RulesFile != "" {
		w := alert.NewRuleWatcher(cfg.RulesFile, 2*time.Second, a, log)
		c.RT.Go("rules watcher", w.Run)
	}
	c.RT.OnStop(func() { // no-ops after the consumer actor's own shutdown
		_ = a.Close()
		_ = ck.Close(context.Background())
	})
	return a, nil
}

// Service is the alerter binary, services/alerter: kit.Main(alerter.Service, ...).
var Service = kit.Service{
	Name:      "alerter",
	Short:     "alerter consumes news.enriched, detects keyword and entity spikes and publishes news.alerts (and webhooks)",
	Settings:  "NEWSFLOW_ALERT_* (rules, webhooks, shards, checkpoints)",
	Configure: kit.Wire(kit.EnvOnly(AlerterConfigFromEnv), 0, kit.NoCtx(AddAlerter)),
}

package stages

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/service"
	"go.uber.org/zap"
)

// AlerterConfig configures the alerter stage.
type AlerterConfig struct {
	Alert        alert.Config
	RulesFile    string // YAML rules, reloaded on change ("" = built-in default rules)
	Webhooks     []string
	SlackHooks   []string
	SaveInterval time.Duration
}

// AlerterConfigFromEnv reads NEWSFLOW_ALERT_* variables.
func AlerterConfigFromEnv(e *service.Env) AlerterConfig {
	var c AlerterConfig
	c.RulesFile = e.String("NEWSFLOW_ALERT_RULES", "")
	c.Webhooks = e.List("NEWSFLOW_ALERT_WEBHOOKS", nil)
	c.SlackHooks = e.List("NEWSFLOW_ALERT_SLACK_WEBHOOKS", nil)
	c.Alert.Shard.Index = e.Int("NEWSFLOW_ALERT_SHARD_INDEX", 0)
	c.Alert.Shard.Count = e.Int("NEWSFLOW_ALERT_SHARD_COUNT", 0)
	c.SaveInterval = e.Duration("NEWSFLOW_STATE_SAVE_INTERVAL", time.Minute)
	// Stream time the detector observes before it may fire (default 1h; negative: none).
	c.Alert.Detector.Warmup = e.Duration("NEWSFLOW_ALERT_WARMUP", 0)
	// How far before its fetch an article's published date is still trusted as its event time.
	c.Alert.MaxEventSkew = e.Duration("NEWSFLOW_ALERT_MAX_EVENT_SKEW", 0)
	c.Alert.Now = time.Now // fired_at is wall-clock time when live (the eval replays event time)
	return c
}

// AddAlerter builds the alerter with its rules, notifiers and restored baselines, and adds
// its consumer of news.enriched, its evaluation loop, the rules watcher and state snapshots.
// Each shard is its own consumer group: every replica must see every article to count the
// terms it owns.
func AddAlerter(c Common, cfg AlerterConfig) (*alert.Alerter, error) {
	log := c.log("alerter")
	var rules []alert.Rule
	if cfg.RulesFile != "" {
		var err error
		if rules, err = alert.LoadRules(cfg.RulesFile); err != nil {
			return nil, fmt.Errorf("alerter: rules %s: %w", cfg.RulesFile, err)
		}
	}
	if len(rules) == 0 {
		// Built-in default: statistical spike and new-term detection over all entity and
		// keyword terms.
		rules = []alert.Rule{{ID: "default-spike", Type: alert.RuleSpike}}
	}
	notifiers := []alert.Notifier{alert.LogNotifier{Log: log}}
	client := &http.Client{Timeout: 10 * time.Second}
	for i, u := range cfg.Webhooks {
		n, err := alert.NewWebhookNotifier(alert.WebhookConfig{Name: fmt.Sprintf("webhook-%d", i), URL: u}, client)
		if err != nil {
			return nil, fmt.Errorf("alerter: webhook %s: %w", u, err)
		}
		notifiers = append(notifiers, n)
	}
	for i, u := range cfg.SlackHooks {
		n, err := alert.NewWebhookNotifier(alert.WebhookConfig{Name: fmt.Sprintf("slack-%d", i), URL: u, Format: alert.FormatSlack}, client)
		if err != nil {
			return nil, fmt.Errorf("alerter: slack webhook %s: %w", u, err)
		}
		notifiers = append(notifiers, n)
	}
	a, err := alert.New(cfg.Alert, rules, c.Bus, notifiers, log, c.RT.Reg)
	if err != nil {
		return nil, fmt.Errorf("alerter: %w", err)
	}
	const snap = "alerter.snap"
	if b, err := c.State.Load(snap); err != nil {
		log.Warn("alerter state not loaded", zap.Error(err))
	} else if b != nil {
		if err := a.Restore(bytes.NewReader(b)); err != nil {
			log.Warn("alerter state not restored, starting fresh", zap.Error(err))
		} else {
			log.Info("alerter baselines restored", zap.Int("bytes", len(b)))
		}
	}
	c.RT.PersistEvery(c.State, snap, cfg.SaveInterval, func() []byte {
		var buf bytes.Buffer
		if err := a.Snapshot(&buf); err != nil {
			log.Warn("alerter snapshot failed", zap.Error(err))
		}
		return buf.Bytes()
	})
	group := "alerter"
	if cfg.Alert.Shard.Count > 1 {
		group = fmt.Sprintf("alerter-shard-%d-of-%d", cfg.Alert.Shard.Index, cfg.Alert.Shard.Count)
	}
	m := service.NewStageMetrics("alerter", c.RT.Reg)
	h := service.StageHandler("alerter", c.Bus, func(ctx context.Context, in *article.Envelope) ([]service.Output, error) {
		if in.Stage != article.StageEnriched {
			return nil, bus.Permanentf("alerter: %s: unexpected stage %q", in.ID, in.Stage)
		}
		return nil, a.Observe(ctx, in.Enriched)
	}, log, m)
	c.RT.Consume(c.Bus, article.SubjectEnriched, c.RT.Cfg.ConsumeOptions(group), h)
	c.RT.Go("alert evaluation", a.Run)
	if cfg.RulesFile != "" {
		w := alert.NewRuleWatcher(cfg.RulesFile, 2*time.Second, a, log)
		c.RT.Go("rules watcher", w.Run)
	}
	c.RT.OnStop(func() { _ = a.Close() })
	return a, nil
}

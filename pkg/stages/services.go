package stages

import (
	"context"
	"time"

	"github.com/newsflow/newsflow/pkg/service"
)

// The single-stage services, as run by services/<name> through Main.
var (
	FetcherService = Service{
		Name:      "fetcher",
		Short:     "fetcher polls the configured feeds and sitemaps, publishes new articles to news.raw and serves POST /v1/urls",
		Settings:  "NEWSFLOW_SOURCES, NEWSFLOW_FETCH_* (pkg/fetch/README.md)",
		Configure: configure(func(cfg service.Config, e *service.Env) FetcherConfig { return FetcherConfigFromEnv(e, cfg.NATSURL) }, 30*time.Second, addFetcher),
	}
	CleanerService = Service{
		Name:      "cleaner",
		Short:     "cleaner consumes news.raw, extracts and cleans each article and publishes news.clean",
		Settings:  "NEWSFLOW_CLEAN_LANGUAGES, NEWSFLOW_CLEAN_MIN_TEXT_RUNES, NEWSFLOW_CLEAN_TIMEOUT, NEWSFLOW_STATE_SAVE_INTERVAL",
		Configure: configure(envOnly(CleanerConfigFromEnv), 0, noCtx(AddCleaner)),
	}
	EnricherService = Service{
		Name:      "enricher",
		Short:     "enricher consumes news.clean, adds entities, keywords, tone, quotes, places and dates, and publishes news.enriched",
		Settings:  "NEWSFLOW_ENRICH_ALIASES, NEWSFLOW_ENRICH_MAX_KEYWORDS",
		Configure: configure(envOnly(EnricherConfigFromEnv), 0, noCtx(AddEnricher)),
	}
	IndexerService = Service{
		Name:        "indexer",
		Short:       "indexer consumes news.enriched and news.alerts and writes them to Elasticsearch",
		Settings:    "NEWSFLOW_ES_URL, NEWSFLOW_INDEX_*",
		Configure:   configure(func(cfg service.Config, e *service.Env) IndexerConfig { return IndexerConfigFromEnv(e, cfg.ESURL) }, 90*time.Second, AddIndexer),
		Subcommands: IndexerSubcommands,
	}
	AlerterService = Service{
		Name:      "alerter",
		Short:     "alerter consumes news.enriched, detects keyword and entity spikes and publishes news.alerts (and webhooks)",
		Settings:  "NEWSFLOW_ALERT_* (rules, webhooks, shards, checkpoints)",
		Configure: configure(envOnly(AlerterConfigFromEnv), 0, noCtx(AddAlerter)),
	}
)

// configure builds a Configure from a stage's env reader and its Add function, which gets a
// context bounded by setup (none when 0).
func configure[C, S any](fromEnv func(service.Config, *service.Env) C, setup time.Duration, add func(context.Context, Common, C) (S, error)) Configure {
	return func(cfg service.Config, e *service.Env) func(Common) error {
		c := fromEnv(cfg, e)
		return func(common Common) error {
			ctx := context.Background()
			if setup > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, setup)
				defer cancel()
			}
			_, err := add(ctx, common, c)
			return err
		}
	}
}

func envOnly[C any](f func(*service.Env) C) func(service.Config, *service.Env) C {
	return func(_ service.Config, e *service.Env) C { return f(e) }
}

func noCtx[C, S any](f func(Common, C) (S, error)) func(context.Context, Common, C) (S, error) {
	return func(_ context.Context, c Common, cfg C) (S, error) { return f(c, cfg) }
}

func addFetcher(ctx context.Context, c Common, cfg FetcherConfig) (any, error) {
	return AddFetcher(ctx, c, cfg, nil)
}

// Package indexer wires the indexer stage onto a runtime and a bus: the services/indexer binary
// (kit.Main(indexer.Service, ...)) and the all-in-one (through pkg/stages) use it.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages/esclient"
	"github.com/newsflow/newsflow/pkg/stages/kit"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// IndexerConfig configures the indexer stage.
type IndexerConfig struct {
	Index      index.Config
	ESURL      string
	MaxDeliver int // attempts before a message is dead-lettered; high, since ES outages are transient
}

// IndexerConfigFromEnv reads NEWSFLOW_ES_* and NEWSFLOW_INDEX_* variables.
func IndexerConfigFromEnv(e *service.Env, esURL string) IndexerConfig {
	c := IndexerConfig{ESURL: esURL}
	c.Index.Setup.Names.Prefix = e.String("NEWSFLOW_INDEX_PREFIX", "newsflow")
	c.Index.Setup.Replicas = e.Int("NEWSFLOW_INDEX_REPLICAS", 0)
	c.Index.Setup.Shards = e.Int("NEWSFLOW_INDEX_SHARDS", 1)
	c.Index.Setup.Retention = e.Duration("NEWSFLOW_INDEX_RETENTION", 0)
	c.Index.ArchiveAfter = e.Duration("NEWSFLOW_INDEX_ARCHIVE_AFTER", index.DefaultArchiveAfter)
	c.Index.Setup.RefreshInterval = e.String("NEWSFLOW_INDEX_REFRESH_INTERVAL", "1s")
	c.Index.Setup.TranslogDurability = e.String("NEWSFLOW_INDEX_TRANSLOG_DURABILITY", "")
	c.Index.FlushBytes = e.Int("NEWSFLOW_INDEX_FLUSH_BYTES", 2<<20)
	c.Index.FlushInterval = e.Duration("NEWSFLOW_INDEX_FLUSH_INTERVAL", 500*time.Millisecond)
	c.Index.FlushIdle = e.Duration("NEWSFLOW_INDEX_FLUSH_IDLE", index.DefaultFlushIdle)
	c.Index.Workers = e.Int("NEWSFLOW_INDEX_WORKERS", 2)
	c.Index.Refresh = e.String("NEWSFLOW_INDEX_REFRESH", "")
	c.MaxDeliver = e.Int("NEWSFLOW_INDEX_MAX_DELIVER", 1000)
	return c
}

// AddIndexer installs the templates (retrying until Elasticsearch answers or ctx ends) and
// adds consumers for news.enriched and news.alerts. On stop the bulk in flight is flushed
// after the consumers drained.
func AddIndexer(ctx context.Context, c kit.Common, cfg IndexerConfig) (*index.Indexer, error) {
	log := c.Log("indexer")
	// The client's own transport, so its idle connections close when the stage stops.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	sec := c.RT.Cfg.Security.ES
	es, err := esclient.NewOver(cfg.ESURL, sec, tr)
	if err != nil {
		return nil, err
	}
	secrets := append(redact.Credentials(cfg.ESURL), c.RT.Cfg.Security.Secrets()...)
	if err := esclient.CheckAuth(ctx, es, cfg.ESURL, sec); err != nil {
		tr.CloseIdleConnections()
		return nil, redact.Error(err, secrets...)
	}
	ix, err := index.New(cfg.Index, es, c.Bus, log, c.RT.Reg)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		err = redact.Error(ix.Setup(ctx), secrets...)
		if err == nil {
			break
		}
		if attempt >= 30 || ctx.Err() != nil {
			_ = ix.Close(context.Background()) // stops the bulk indexer's workers
			tr.CloseIdleConnections()
			return nil, redact.Error(fmt.Errorf("indexer: install templates at %s: %w", esclient.Where(cfg.ESURL, sec), err), secrets...)
		}
		log.Warn("elasticsearch not ready, retrying template setup", zap.Error(err))
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	c.RT.AddReadyCheck(func(ctx context.Context) error {
		res, err := es.Ping(es.Ping.WithContext(ctx))
		if err != nil {
			if ce := service.ConnFailure("elasticsearch "+esclient.Where(cfg.ESURL, sec), sec.Describe(), err); ce != nil {
				err = ce
			}
			return redact.Error(fmt.Errorf("elasticsearch: %w", err), secrets...)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
			return fmt.Errorf("elasticsearch %s: credentials rejected (HTTP %d) with %s", esclient.Where(cfg.ESURL, sec), res.StatusCode, sec.Describe())
		}
		return nil
	})
	opts := c.RT.Cfg.ConsumeOptions("indexer")
	opts.MaxDeliver = cfg.MaxDeliver
	alertOpts := c.RT.Cfg.ConsumeOptions("indexer-alerts")
	alertOpts.MaxDeliver = cfg.MaxDeliver
	// Both consumers count in newsflow_stage_messages_total{stage="indexer"}: "deferred" is a
	// message handed to the bulk indexer, whose outcome is newsflow_indexer_items_total.
	m := service.NewStageMetrics("indexer", c.RT.Reg)
	c.RT.WatchConsumer(c.Bus, article.SubjectEnriched, opts.Group)
	c.RT.OnStop(func() { // a set-up failing later (Runtime.Abort): stop the bulk workers
		_ = ix.Close(context.Background())
		tr.CloseIdleConnections()
	})
	c.RT.Go("index "+article.SubjectEnriched, func(ctx context.Context) error {
		// On stop, handlers blocked by an Elasticsearch outage give up so both consumers
		// (this one and news.alerts, same Indexer) can drain.
		defer context.AfterFunc(ctx, ix.StopWaiting)()
		err := c.Bus.Consume(ctx, article.SubjectEnriched, opts, service.CountedHandler(ix.Handler(opts), m))
		fctx, cancel := context.WithTimeout(context.Background(), c.RT.Cfg.ShutdownTimeout)
		defer cancel()
		if cerr := ix.Close(fctx); cerr != nil {
			log.Warn("final bulk flush failed (messages stay unacked and will be redelivered)", zap.Error(cerr))
		}
		tr.CloseIdleConnections()
		return err
	})
	c.RT.Consume(c.Bus, article.SubjectAlerts, alertOpts, service.CountedHandler(ix.Handler(alertOpts), m))
	return ix, nil
}

// Service is the indexer binary, services/indexer: kit.Main(indexer.Service, ...).
var Service = kit.Service{
	Name:        "indexer",
	Short:       "indexer consumes news.enriched and news.alerts and writes them to Elasticsearch",
	Settings:    "NEWSFLOW_ES_URL, NEWSFLOW_INDEX_*",
	Configure:   kit.Wire(func(cfg service.Config, e *service.Env) IndexerConfig { return IndexerConfigFromEnv(e, cfg.ESURL) }, 90*time.Second, AddIndexer),
	Subcommands: IndexerSubcommands,
}

// IndexerSubcommands is the indexer's `setup`: install the index templates and exit.
func IndexerSubcommands(getenv func(string) string) []*cobra.Command {
	return []*cobra.Command{{
		Use:   "setup",
		Short: "install the Elasticsearch index templates (NEWSFLOW_ES_URL, NEWSFLOW_INDEX_*) and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e := &service.Env{Get: getenv}
			names, err := SetupIndex(e, e.String("NEWSFLOW_ES_URL", service.DefaultConfig("indexer").ESURL))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "templates installed (read aliases %s, %s)\n", names.ArticlesAlias(), names.AlertsAlias())
			return nil
		},
	}}
}

// SetupIndex installs the index templates configured by NEWSFLOW_INDEX_* on the
// Elasticsearch at esURL, after validating the configuration (a cli.ConfigError).
func SetupIndex(e *service.Env, esURL string) (index.Names, error) {
	cfg := IndexerConfigFromEnv(e, esURL)
	sec := service.LoadSecurity(e)
	if err := errors.Join(e.Err(), sec.Validate()); err != nil {
		return index.Names{}, cli.ConfigError(err)
	}
	es, err := esclient.New(esURL, sec.ES)
	if err != nil {
		return index.Names{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := index.Setup(ctx, es, cfg.Index.Setup); err != nil {
		return index.Names{}, redact.Error(fmt.Errorf("install templates on %s: %w", redact.URL(esURL), err), append(redact.Credentials(esURL), sec.Secrets()...)...)
	}
	return cfg.Index.Setup.Names, nil
}

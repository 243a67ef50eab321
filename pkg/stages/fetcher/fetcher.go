// Package fetcher wires the fetcher stage onto a runtime and a bus: the services/fetcher binary
// (kit.Main(fetcher.Service, ...)) and the all-in-one (through pkg/stages) use it.
package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages/esclient"
	"github.com/newsflow/newsflow/pkg/stages/kit"
	"go.uber.org/zap"
)

// FetcherConfig configures the fetcher stage.
type FetcherConfig struct {
	Fetch       fetch.Config
	SourcesFile string // YAML or OPML
	Sources     []fetch.Source
	// StateNATSURL is the NATS server whose JetStream KV holds the seen-set and feed state
	// (shared by replicas) when Store is "nats". With NEWSFLOW_BUS=nats it is the bus's own
	// server. "memory" keeps state in the process only (single replica, demo).
	StateNATSURL string
	// Store is where the fetcher's state lives (NEWSFLOW_FETCH_STORE): "nats" (JetStream KV at
	// StateNATSURL), "elasticsearch" (indices StateIndex-state and -seen on NEWSFLOW_ES_URL)
	// or "memory". Empty: see StoreKind.
	Store        string
	StateIndex   string // NEWSFLOW_FETCH_STATE_INDEX
	stateNATSSet bool   // NEWSFLOW_FETCH_STATE_NATS_URL was set
}

// StoreKind resolves an empty Store: "memory" when StateNATSURL says so; "nats" with the
// NATS bus, or with Kafka when NEWSFLOW_FETCH_STATE_NATS_URL names a server (deployments
// that already keep their state there); else "elasticsearch", so a Kafka deployment needs no
// NATS. (docs/architecture.md, "Fetcher state", says why Elasticsearch.)
func (c FetcherConfig) StoreKind(natsBus bool) string {
	switch {
	case c.Store != "":
		return c.Store
	case c.StateNATSURL == "memory":
		return "memory"
	case natsBus || c.stateNATSSet:
		return "nats"
	default:
		return "elasticsearch"
	}
}

// FetcherConfigFromEnv reads NEWSFLOW_FETCH_* variables and NEWSFLOW_SOURCES.
func FetcherConfigFromEnv(e *service.Env, natsURL string) FetcherConfig {
	var c FetcherConfig
	c.SourcesFile = e.String("NEWSFLOW_SOURCES", "")
	c.StateNATSURL = e.String("NEWSFLOW_FETCH_STATE_NATS_URL", "")
	c.stateNATSSet = c.StateNATSURL != ""
	if !c.stateNATSSet {
		c.StateNATSURL = natsURL
	}
	c.Store = strings.ToLower(e.String("NEWSFLOW_FETCH_STORE", ""))
	if c.Store != "" && c.Store != "nats" && c.Store != "elasticsearch" && c.Store != "memory" {
		e.Fail(fmt.Errorf("NEWSFLOW_FETCH_STORE=%q: want nats, elasticsearch or memory", c.Store))
	}
	c.StateIndex = e.String("NEWSFLOW_FETCH_STATE_INDEX", "newsflow-fetch")
	fc, err := fetch.ConfigFromEnv(e.Get) // NEWSFLOW_FETCH_*, validated
	e.Fail(err)
	c.Fetch = fc
	return c
}

// AddFetcher loads the sources, opens the state store, and adds the fetcher loop, its
// POST /v1/urls endpoint (which stores each accepted URL on news.submit before answering 202)
// and the consumer of news.submit that fetches them: the durable group
// "newsflow-fetcher-submit" shared by all fetcher replicas, dead letters marked stage
// "fetcher". js may be nil; then a connection to cfg.StateNATSURL is made.
func AddFetcher(ctx context.Context, c kit.Common, cfg FetcherConfig, js jetstream.JetStream) (*fetch.Fetcher, error) {
	log := c.Log("fetcher")
	sources := cfg.Sources
	if cfg.SourcesFile != "" {
		s, err := fetch.LoadSources(cfg.SourcesFile)
		if err != nil {
			return nil, fmt.Errorf("fetcher: sources %s: %w", cfg.SourcesFile, err)
		}
		sources = append(sources, s...)
	}
	var store fetch.Store
	switch cfg.StoreKind(c.RT.Cfg.Bus != "kafka" || js != nil) {
	case "memory":
		store = fetch.NewMemStore()
		log.Warn("fetcher state kept in memory: not shared by replicas, lost on restart")
	case "elasticsearch":
		es, err := fetcherESStore(ctx, c, cfg)
		if err != nil {
			return nil, err
		}
		c.RT.Go("fetcher-seen-prune", func(ctx context.Context) error {
			return es.Run(ctx, func(err error) { log.Warn("prune seen-set", zap.Error(err)) })
		})
		store = es
	default:
		if js == nil {
			if nb, ok := c.Bus.(*natsbus.Bus); ok {
				js = nb.JetStream()
			} else {
				sec := c.RT.Cfg.Security
				secOpts, err := sec.NATS.Options()
				if err != nil {
					return nil, redact.Error(err, sec.Secrets()...)
				}
				nc, err := nats.Connect(cfg.StateNATSURL, append([]nats.Option{nats.Name("newsflow-fetcher-state"), nats.MaxReconnects(-1)}, secOpts...)...)
				if err != nil {
					secrets := append(redact.Credentials(cfg.StateNATSURL), sec.Secrets()...)
					if ce := service.ConnFailure("nats "+redact.URL(cfg.StateNATSURL)+" (fetcher state store)", sec.NATS.Describe(), err); ce != nil {
						return nil, redact.Error(ce, secrets...)
					}
					return nil, redact.Error(fmt.Errorf("fetcher: state store at %s: %w", redact.URL(cfg.StateNATSURL), err), secrets...)
				}
				c.RT.OnStop(nc.Close)
				if js, err = jetstream.New(nc); err != nil {
					return nil, fmt.Errorf("fetcher: jetstream: %w", err)
				}
			}
		}
		kv, err := fetch.NewKVStore(ctx, js, fetch.KVConfig{})
		if err != nil {
			return nil, fmt.Errorf("fetcher: state store: %w", err)
		}
		store = kv
	}
	f, err := fetch.New(cfg.Fetch, sources, store, c.Bus, log, c.RT.Reg)
	if err != nil {
		return nil, fmt.Errorf("fetcher: %w", err)
	}
	c.RT.Handle("/v1/urls", f.Handler())
	c.RT.Handle("/v1/feeds", f.StatusHandler()) // feed health (?problems=1: failing or parked only)
	c.RT.Go("fetcher", f.Run)
	// newsflow_stage_messages_total{stage="fetcher"} counts the submitted URLs handled.
	c.RT.Consume(c.Bus, article.SubjectSubmit, SubmitConsumeOptions(c.RT.Cfg), service.CountedHandler(f.HandleSubmission, service.NewStageMetrics("fetcher", c.RT.Reg)))
	log.Info("fetcher configured", zap.Int("sources", len(sources)), zap.Duration("default_interval", cfg.Fetch.DefaultInterval))
	return f, nil
}

// fetcherESStore opens the fetcher's state indices on NEWSFLOW_ES_URL with the service's
// Elasticsearch credentials; rejected credentials are a configuration error (exit 2).
func fetcherESStore(ctx context.Context, c kit.Common, cfg FetcherConfig) (*fetch.ESStore, error) {
	sec := c.RT.Cfg.Security.ES
	// The client's own transport, so its idle connections close when the stage stops.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c.RT.OnStop(tr.CloseIdleConnections)
	es, err := esclient.NewOver(c.RT.Cfg.ESURL, sec, tr)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	if err := esclient.CheckAuth(ctx, es, c.RT.Cfg.ESURL, sec); err != nil {
		return nil, err
	}
	prefix := cfg.StateIndex
	if prefix == "" {
		prefix = "newsflow-fetch"
	}
	s, err := fetch.NewESStore(ctx, es, fetch.ESConfig{StateIndex: prefix + "-state", SeenIndex: prefix + "-seen"})
	if err != nil {
		secrets := append(redact.Credentials(c.RT.Cfg.ESURL), c.RT.Cfg.Security.Secrets()...)
		return nil, redact.Error(fmt.Errorf("fetcher: state store on elasticsearch %s: %w", esclient.Where(c.RT.Cfg.ESURL, sec), err), secrets...)
	}
	return s, nil
}

// SubmitConsumeOptions are the bus options of the fetcher's news.submit consumer: the shared
// config's AckWait and Concurrency, group "newsflow-fetcher-submit", stage "fetcher" in dead
// letters, a slower backoff (5s doubling to 2m) than the stages' default and at least 8
// attempts (about 6.5 minutes in all), because a page fetch fails transiently for seconds to
// minutes (server errors, 429 pauses, a busy host limit), not milliseconds.
func SubmitConsumeOptions(cfg service.Config) bus.ConsumeOptions {
	o := cfg.ConsumeOptions("fetcher-submit")
	o.Stage = "fetcher"
	o.Backoff = bus.ExpBackoff(5*time.Second, 2*time.Minute)
	// enough attempts to ride out a host's 429/503 pause of several minutes
	o.MaxDeliver = max(o.MaxDeliver, 8)
	return o
}

// storeTimeout bounds the store setup.
const storeTimeout = 30 * time.Second

// Service is the fetcher binary, services/fetcher: kit.Main(fetcher.Service, ...).
var Service = kit.Service{
	Name:      "fetcher",
	Short:     "fetcher polls the configured feeds and sitemaps, publishes new articles to news.raw and serves POST /v1/urls",
	Settings:  "NEWSFLOW_SOURCES, NEWSFLOW_FETCH_* (pkg/fetch/README.md)",
	Configure: kit.Wire(func(cfg service.Config, e *service.Env) FetcherConfig { return FetcherConfigFromEnv(e, cfg.NATSURL) }, 30*time.Second, addFetcher),
}

func addFetcher(ctx context.Context, c kit.Common, cfg FetcherConfig) (any, error) {
	return AddFetcher(ctx, c, cfg, nil)
}

// Package app is the newsflow all-in-one binary's logic: `run` (every stage in one process
// over an embedded NATS JetStream), `extract`, `search`, `replay` and `setup`. The stages are
// wired by pkg/stages exactly as the separate services wire them.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/demo"
	"github.com/newsflow/newsflow/pkg/enrich"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// RunOptions configures `newsflow run`.
type RunOptions struct {
	DataDir     string        // embedded NATS store, stage state, log file (default ./data)
	ESURL       string        // Elasticsearch (default http://127.0.0.1:9200)
	SourcesFile string        // YAML/OPML sources; empty = the offline demo site
	HTTPAddr    string        // metrics/health/POST /v1/urls (default 127.0.0.1:8080)
	NATSPort    int           // embedded NATS client port (default 4223; 0 = random)
	Progress    time.Duration // progress line interval (default 2s; 0 disables)
	Out         io.Writer     // progress output (default stdout)
	// Ready, when set, is called once every stage is wired and the run group starts.
	Ready func(httpAddr string)
	// Stop, when closed, stops the run as SIGTERM would (tests).
	Stop <-chan struct{}
}

// Run runs the whole pipeline in one process until SIGINT/SIGTERM (or opts.Stop), then
// drains every stage, flushes the index bulk and exits cleanly.
func Run(opts RunOptions, getenv func(string) string) error {
	p, err := planRun(&opts, getenv)
	if err != nil {
		return cli.ConfigError(err)
	}
	cfg, fcfg := p.cfg, p.fetcher
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return fmt.Errorf("newsflow: data dir: %w", err)
	}
	logPath := filepath.Join(opts.DataDir, "newsflow.log")
	log, closeLog, err := fileLogger(logPath, cfg.LogLevel)
	if err != nil {
		return err
	}
	defer closeLog()

	natsDir := filepath.Join(opts.DataDir, "nats")
	srv, natsURL, err := natsbus.StartEmbedded(natsDir, p.natsPort)
	if err != nil {
		return err
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	cfg.NATSURL = natsURL
	fcfg.StateNATSURL = natsURL

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := natsbus.New(ctx, natsbus.Config{URL: natsURL, ConnectName: "newsflow-all-in-one"}, log.Named("bus"))
	if err != nil {
		return err
	}
	defer b.Close() // idempotent: also closed by OnStop; this covers setup failures below
	rt := service.New(cfg, log)
	// A set-up failing half way stops what the stages wired so far started (no-op after Run).
	defer rt.Abort()
	rt.OnStop(func() { _ = b.Close() })
	rt.OnForce(func() { _ = b.Close() })
	c := stages.Common{RT: rt, Bus: b, State: service.StateDir(filepath.Join(opts.DataDir, "state"))}

	fmt.Fprintf(opts.Out, "newsflow: embedded NATS %s (data %s), log %s\n", natsURL, natsDir, logPath)
	fmt.Fprintf(opts.Out, "newsflow: installing index templates on Elasticsearch %s (waits until it answers)\n", redact.URL(cfg.ESURL))
	ixCfg := p.indexer
	if _, err := stages.AddIndexer(ctx, c, ixCfg); err != nil {
		return err
	}
	// The demo site starts once Elasticsearch is ready, so its breaking-news burst arrives
	// while the pipeline runs (demo.BurstAfter later).
	var site *demo.Server
	if p.demo {
		site, err = demo.Start(0)
		if err != nil {
			return err
		}
		defer site.Close()
		for _, s := range demo.Sites() {
			fcfg.Sources = append(fcfg.Sources, fetch.Source{Name: s.Name, URL: site.URL + "/" + s.Path + "/feed.xml", Language: s.Lang, Tags: []string{"demo"}, Interval: 10 * time.Second})
		}
		fcfg.Fetch.AllowAddresses = append(fcfg.Fetch.AllowAddresses, "127.0.0.1")
		fcfg.Fetch.HostInterval = 20 * time.Millisecond
		fcfg.Fetch.MinInterval = 5 * time.Second
		fcfg.Fetch.StartSpread = time.Second
	}
	if site != nil {
		fmt.Fprintf(opts.Out, "newsflow: no NEWSFLOW_SOURCES given: serving the offline demo (%d articles on 4 sites, breaking news in %s) at %s\n", site.Articles(), demo.BurstAfter, site.URL)
	}
	acfg := p.alerter
	if site != nil && acfg.Alert.MaxEventSkew == 0 {
		// The demo's background articles were published over the last three days: trust
		// those dates, so the detector starts with three days of history (baselines, warm-up)
		// and the breaking-news burst stands out against it.
		acfg.Alert.MaxEventSkew = 7 * 24 * time.Hour
	}
	if _, err := stages.AddAlerter(c, acfg); err != nil {
		return err
	}
	if _, err := stages.AddEnricher(c, p.enricher); err != nil {
		return err
	}
	if _, err := stages.AddCleaner(c, p.cleaner); err != nil {
		return err
	}
	if _, err := stages.AddFetcher(ctx, c, fcfg, b.JetStream()); err != nil {
		return err
	}
	interval := opts.Progress
	if interval == 0 {
		interval = 2 * time.Second
	}
	if interval > 0 {
		p := newProgress(rt.Reg, opts.Out, ixCfg.Index.Setup.Names.ArticlesAlias())
		rt.Go("progress", func(ctx context.Context) error { return p.run(ctx, interval) })
	}
	if opts.Stop != nil {
		rt.Go("stop", func(ctx context.Context) error {
			select {
			case <-opts.Stop:
			case <-ctx.Done():
			}
			return nil
		})
	}
	if opts.Ready != nil {
		rt.Go("ready", func(ctx context.Context) error {
			for rt.Addr() == "" && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
			opts.Ready(rt.Addr())
			<-ctx.Done()
			return nil
		})
	}
	fmt.Fprintf(opts.Out, "newsflow: running all stages; Ctrl-C stops cleanly. Metrics on http://%s/metrics\n", cfg.HTTPAddr)
	if err := rt.Run(context.Background()); err != nil {
		fmt.Fprintf(opts.Out, "newsflow: stopped with an error: %v\n", err)
		return err
	}
	fmt.Fprintln(opts.Out, "newsflow: stopped cleanly")
	return nil
}

// runPlan is the configuration of `newsflow run`, read and validated before anything starts.
type runPlan struct {
	cfg      service.Config
	natsPort int  // embedded NATS client port, 0 = random
	demo     bool // no sources: serve the offline demo
	fetcher  stages.FetcherConfig
	indexer  stages.IndexerConfig
	alerter  stages.AlerterConfig
	enricher enrich.Config
	cleaner  stages.CleanerConfig
}

// planRun reads every setting of every stage and the sources file, and returns all problems
// at once. It touches neither the network nor the data directory.
func planRun(opts *RunOptions, getenv func(string) string) (*runPlan, error) {
	if opts.DataDir == "" {
		opts.DataDir = "data"
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	cfg, cfgErr := service.LoadConfig("newsflow", func(k string) string {
		switch k {
		case "NEWSFLOW_ES_URL":
			if opts.ESURL != "" {
				return opts.ESURL
			}
		case "NEWSFLOW_HTTP_ADDR":
			if opts.HTTPAddr != "" {
				return opts.HTTPAddr
			}
			if v := getenv(k); v != "" {
				return v
			}
			return "127.0.0.1:8080"
		}
		return getenv(k)
	})
	cfg.Bus = "nats"
	e := &service.Env{Get: getenv}
	p := &runPlan{cfg: cfg, natsPort: opts.NATSPort}
	if p.natsPort == 0 {
		p.natsPort = e.Int("NEWSFLOW_EMBEDDED_NATS_PORT", 0)
	}
	p.natsPort = max(p.natsPort, 0)    // < 0: random
	sc := readStageConfigs(e, cfg, "") // the fetcher's state store is the embedded server
	e.Fail(sc.validate())
	e.Fail(service.APIExposureError(cfg)) // the all-in-one always serves POST /v1/urls
	p.fetcher, p.indexer, p.alerter, p.enricher, p.cleaner = sc.fetcher, sc.indexer, sc.alerter, sc.enricher, sc.cleaner
	if opts.SourcesFile != "" {
		p.fetcher.SourcesFile = opts.SourcesFile
	}
	p.demo = p.fetcher.SourcesFile == ""
	if !p.demo {
		sources, err := fetch.LoadSources(p.fetcher.SourcesFile)
		if err != nil {
			e.Fail(fmt.Errorf("sources %s: %w", p.fetcher.SourcesFile, err))
		}
		p.fetcher.Sources, p.fetcher.SourcesFile = sources, ""
	}
	return p, errors.Join(cfgErr, e.Err())
}

// fileLogger writes JSON logs to path so the terminal shows progress, not log lines. Warnings
// and errors are also echoed to stderr.
func fileLogger(path, level string) (*zap.Logger, func(), error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("newsflow: log file: %w", err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "ts"
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewTee(
		zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(f), lvl),
		zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.Lock(os.Stderr), zapcore.ErrorLevel),
	)
	return zap.New(core), func() { _ = f.Close() }, nil
}

var errUsage = errors.New("usage")

func trimQuery(s string) string { return strings.TrimSpace(s) }

package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/warcimport"
)

// importCommand is `newsflow import FILE...`: WARC files onto news.raw (pkg/warcimport).
func importCommand(getenv func(string) string) *cobra.Command {
	var (
		busName, natsURL, kafka, state, subject string
		batch                                   int
		maxBody                                 int64
		noDLQ, quiet                            bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE.warc[.gz]...",
		Short: "backfill archived pages: publish the HTML responses of WARC files onto news.raw",
		Long: "Reads WARC files (one gzip member per record as Common Crawl's CC-NEWS, or plain) and\n" +
			"publishes every HTML 200 response onto news.raw with its original fetch time, URL and\n" +
			"HTTP facts, keyed by the same article ID the fetcher gives the page, so re-imports and\n" +
			"overlaps with live fetching stay exactly-once. The stages (newsflow run, or the\n" +
			"services) clean, enrich and index them as they would fetched pages.\n\n" +
			"Progress (bar, rate, ETA) goes to stderr. What was imported is recorded in --state after\n" +
			"every acknowledged batch: run the same command again after a crash or Ctrl-C and it\n" +
			"resumes. Requests, redirects and non-HTML are skipped and counted; corrupt records,\n" +
			"bad encodings and bodies over --max-body are dead-lettered (news.dlq, stage import)\n" +
			"with the reason, and the import goes on.\n\n" +
			"The bus is the services' (NEWSFLOW_BUS, NEWSFLOW_NATS_URL, NEWSFLOW_KAFKA_BROKERS); the\n" +
			"all-in-one's embedded NATS is --nats nats://127.0.0.1:4223 while `newsflow run` runs.",
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, files []string) error {
			if len(files) == 0 {
				return cli.UsageError("at least one WARC file is required")
			}
			if batch < 1 || maxBody < 1<<10 {
				return cli.UsageError("--batch must be ≥ 1 and --max-body ≥ 1024")
			}
			cfg, err := service.LoadConfig("newsflow", getenv)
			if err != nil {
				return cli.ConfigError(err)
			}
			if busName != "" {
				cfg.Bus = busName
			}
			if natsURL != "" {
				cfg.NATSURL = natsURL
			}
			if kafka != "" {
				cfg.KafkaBrokers = service.SplitList(kafka)
			}
			if cfg.Bus != "nats" && cfg.Bus != "kafka" {
				return cli.UsageError("--bus %q: want nats or kafka", cfg.Bus)
			}
			for _, f := range files {
				if fi, err := os.Stat(f); err != nil || fi.IsDir() {
					return cli.UsageError("%s: not a readable file", f)
				}
			}
			if state != "" {
				if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
					return fmt.Errorf("newsflow import: state dir: %w", err)
				}
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := stderrLogger(c)
			defer func() { _ = log.Sync() }()
			octx, cancel := context.WithTimeout(ctx, time.Minute)
			b, err := service.OpenBus(octx, cfg, log)
			cancel()
			if err != nil {
				return err
			}
			defer func() { _ = b.Close() }()
			where := cfg.NATSURL
			if cfg.Bus == "kafka" {
				where = strings.Join(cfg.KafkaBrokers, ",")
			}
			fmt.Fprintf(c.ErrOrStderr(), "newsflow import: %d file(s) onto %s (%s %s), state %s\n", len(files), subject, cfg.Bus, redact.URL(where), state)
			icfg := warcimport.Config{Subject: subject, NoDeadLetter: noDLQ, MaxBodyBytes: maxBody, Batch: batch, StateFile: state}
			if !quiet {
				icfg.Progress = c.ErrOrStderr()
			}
			im, err := warcimport.New(icfg, b, log)
			if err != nil {
				return cli.ConfigError(err)
			}
			st, err := im.Import(ctx, files)
			fmt.Fprintln(c.OutOrStdout(), importSummary(st))
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted; run the same command again to resume (state %s)", state)
				}
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&busName, "bus", "", "nats or kafka (default $NEWSFLOW_BUS, else nats)")
	f.StringVar(&natsURL, "nats", "", "NATS URL (default $NEWSFLOW_NATS_URL)")
	f.StringVar(&kafka, "kafka", "", "Kafka brokers, comma-separated (default $NEWSFLOW_KAFKA_BROKERS)")
	f.StringVar(&state, "state", envOr(getenv, "NEWSFLOW_IMPORT_STATE", filepath.Join("data", "import-state.json")), "resume state file (\"\" disables resuming)")
	f.StringVar(&subject, "subject", "news.raw", "subject (topic) to publish on")
	f.IntVar(&batch, "batch", 256, "records per publish batch and state checkpoint")
	f.Int64Var(&maxBody, "max-body", 4<<20, "largest decompressed body in bytes; larger records are dead-lettered")
	f.BoolVar(&noDLQ, "no-dead-letter", false, "only count and log bad records, do not dead-letter them")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress lines")
	return cmd
}

// importSummary is the final line of an import.
func importSummary(st warcimport.Stats) string {
	rate := 0.0
	if s := st.Elapsed.Seconds(); s > 0 {
		rate = float64(st.Published) / s
	}
	line := fmt.Sprintf("imported %d articles from %d file(s) (%d records) in %s (%.0f/s); skipped %d, bad %d",
		st.Published, st.Files, st.Records, st.Elapsed.Round(time.Millisecond), rate, st.SkippedTotal(), st.BadTotal())
	var parts []string
	for k, v := range st.Skipped {
		parts = append(parts, fmt.Sprintf("skipped %s: %d", k, v))
	}
	for k, v := range st.Bad {
		parts = append(parts, fmt.Sprintf("bad %s: %d", k, v))
	}
	sort.Strings(parts)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, "; ") + ")"
	}
	return line
}

// stderrLogger logs warnings and errors as JSON to the command's stderr.
func stderrLogger(c *cobra.Command) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(c.ErrOrStderr()), zap.WarnLevel))
}

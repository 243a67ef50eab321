package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/dlq"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// stageConsumers are the consumer groups of the pipeline, as the stages name them.
var stageConsumers = []struct{ stage, subject, group string }{
	{"fetcher", article.SubjectSubmit, "newsflow-fetcher-submit"},
	{"cleaner", article.SubjectRaw, "newsflow-cleaner"},
	{"enricher", article.SubjectClean, "newsflow-enricher"},
	{"indexer", article.SubjectEnriched, "newsflow-indexer"},
	{"indexer", article.SubjectAlerts, "newsflow-indexer-alerts"},
	{"alerter", article.SubjectEnriched, "newsflow-alerter"},
}

func statusCommand(getenv func(string) string) *cobra.Command {
	var fetcher, since string
	var metrics []string
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "per-stage consumer backlog and its trend, messages per second, recent dead letters, feed health",
		Long: "status reads the bus the services use (NEWSFLOW_BUS, ...) twice, --interval apart, and\n" +
			"prints each stage's consumer backlog (pending, unacknowledged) and how fast it grows or\n" +
			"shrinks; each stage's messages per second (done, retried, dead-lettered) from the services'\n" +
			"/metrics (newsflow_stage_messages_total), read at the same two moments from every --metrics\n" +
			"address (default: NEWSFLOW_METRICS_ADDR or NEWSFLOW_HTTP_ADDR, else newsflow run's\n" +
			"127.0.0.1:8080); then the dead letters of the last --since per stage with the latest reason;\n" +
			"and, with --fetcher, the feeds' health from the fetcher's GET /v1/feeds. It changes nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := dlq.ParseTime(since, time.Now())
			if err != nil {
				return cli.UsageError("--since %v", err)
			}
			if interval < 0 {
				return cli.UsageError("--interval %s: want >= 0", interval)
			}
			cfg, err := service.LoadConfig("newsflow", getenv)
			if err != nil {
				return cli.ConfigError(err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), interval+time.Minute)
			defer cancel()
			out := cmd.OutOrStdout()
			failed := false
			targets := metrics
			if len(targets) == 0 {
				targets = []string{defaultMetricsTarget(getenv)}
			}
			before, rerr := readStageCounts(ctx, targets)
			if err := printLag(ctx, out, cfg, interval); err != nil {
				fmt.Fprintf(out, "backlog: FAILED: %v\n", oneLine(err.Error()))
				failed = true
			}
			switch {
			case rerr != nil && len(metrics) == 0:
				fmt.Fprintf(out, "\nrates: no metrics at %s (%s); pass --metrics with each service's HTTP address\n",
					strings.Join(redactAll(targets), ", "), oneLine(rerr.Error()))
			case rerr != nil:
				fmt.Fprintf(out, "\nrates: FAILED: %v\n", oneLine(rerr.Error()))
				failed = true
			case interval == 0:
				fmt.Fprintf(out, "\nrates: --interval 0 reads once; no rates\n")
			default:
				if wait := interval - time.Since(before.at); wait > 0 { // the backlog reading failed early
					select {
					case <-ctx.Done():
					case <-time.After(wait):
					}
				}
				after, err := readStageCounts(ctx, targets)
				if err != nil {
					fmt.Fprintf(out, "\nrates: FAILED: %v\n", oneLine(err.Error()))
					failed = true
					break
				}
				printRates(out, before, after, targets)
			}
			if err := printDeadLetters(ctx, out, cfg, from); err != nil {
				fmt.Fprintf(out, "dead letters: FAILED: %v\n", oneLine(err.Error()))
				failed = true
			}
			if fetcher != "" {
				if err := printFeeds(ctx, out, fetcher); err != nil {
					fmt.Fprintf(out, "feeds: FAILED: %v\n", oneLine(err.Error()))
					failed = true
				}
			}
			if failed {
				return cli.Reported(cli.ExitFailure)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&interval, "interval", 5*time.Second, "time between the two backlog readings (0: one reading, no trend)")
	f.StringVar(&since, "since", "1h", "dead letters since (RFC 3339 or a duration back from now)")
	f.StringSliceVar(&metrics, "metrics", nil, "a service's HTTP address for its /metrics, e.g. http://127.0.0.1:8080 (repeat or comma-separate for every service and replica)")
	f.StringVar(&fetcher, "fetcher", "", "fetcher HTTP address for feed health, e.g. http://127.0.0.1:8080 (newsflow run's default)")
	return cmd
}

// printLag prints each stage's backlog, read twice interval apart.
func printLag(ctx context.Context, out io.Writer, cfg service.Config, interval time.Duration) error {
	b, err := service.OpenBus(ctx, cfg, zap.NewNop())
	if err != nil {
		return err
	}
	defer b.Close()
	lr, ok := b.(bus.LagReporter)
	if !ok {
		return fmt.Errorf("the %s bus does not report consumer lag", cfg.Bus)
	}
	read := func() ([]bus.Lag, []bool, error) {
		lags, found := make([]bus.Lag, len(stageConsumers)), make([]bool, len(stageConsumers))
		for i, c := range stageConsumers {
			l, ok, err := lr.Lag(ctx, c.subject, c.group)
			if err != nil {
				return nil, nil, err
			}
			lags[i], found[i] = l, ok
		}
		return lags, found, nil
	}
	first, _, err := read()
	if err != nil {
		return err
	}
	if interval > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
	second, found, err := read()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backlog on %s (pending = not yet delivered, unacked = in flight)\n", cfg.Bus)
	fmt.Fprintf(out, "  %-9s %-13s %-26s %9s %8s %12s\n", "STAGE", "SUBJECT", "GROUP", "PENDING", "UNACKED", "TREND/s")
	for i, c := range stageConsumers {
		if !found[i] {
			fmt.Fprintf(out, "  %-9s %-13s %-26s %9s\n", c.stage, c.subject, c.group, "no consumer")
			continue
		}
		trend := "-"
		if interval > 0 {
			d := float64(second[i].Pending+second[i].Unacked-first[i].Pending-first[i].Unacked) / interval.Seconds()
			trend = fmt.Sprintf("%+.1f", d)
		}
		fmt.Fprintf(out, "  %-9s %-13s %-26s %9d %8d %12s\n", c.stage, c.subject, c.group, second[i].Pending, second[i].Unacked, trend)
	}
	return nil
}

// printDeadLetters prints the dead letters since from, per stage, with the latest reason.
func printDeadLetters(ctx context.Context, out io.Writer, cfg service.Config, from time.Time) error {
	nb, err := service.NATSBusConfig(cfg)
	if err != nil {
		return err
	}
	kb, err := service.KafkaBusConfig(cfg, nil)
	if err != nil {
		return err
	}
	tool, err := dlq.Open(ctx, dlq.Config{Bus: cfg.Bus, NATSURL: cfg.NATSURL, KafkaBrokers: cfg.KafkaBrokers, KafkaReplicas: cfg.KafkaReplicas,
		StreamPrefix: "NEWSFLOW", Subject: article.SubjectDLQ, NATSOptions: nb.Options, KafkaTLS: kb.TLS, KafkaSASL: kb.SASL})
	if err != nil {
		return err
	}
	defer tool.Close()
	es, err := tool.List(ctx, dlq.Filter{Since: from})
	if err != nil {
		return err
	}
	type agg struct {
		n    int
		last dlq.Entry
	}
	per := map[string]*agg{}
	for _, e := range es {
		a := per[e.Stage]
		if a == nil {
			a = &agg{}
			per[e.Stage] = a
		}
		a.n++
		if !e.Time.Before(a.last.Time) {
			a.last = e
		}
	}
	fmt.Fprintf(out, "\ndead letters since %s: %d (newsflow dlq list --since %s)\n", from.UTC().Format(time.RFC3339), len(es), from.UTC().Format(time.RFC3339))
	stages := make([]string, 0, len(per))
	for s := range per {
		stages = append(stages, s)
	}
	sort.Strings(stages)
	for _, s := range stages {
		a := per[s]
		fmt.Fprintf(out, "  %-9s %5d  latest %s: %s\n", s, a.n, a.last.Time.UTC().Format("15:04:05"), cut(oneLine(a.last.Reason), 100))
	}
	return nil
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// printFeeds prints the fetcher's feed health (GET /v1/feeds): totals and the failing feeds.
func printFeeds(ctx context.Context, out io.Writer, base string) error {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v1/feeds", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return redact.Error(err, redact.Credentials(base)...)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/v1/feeds: %s", redact.URL(base), res.Status)
	}
	var body struct {
		Feeds []fetch.FeedStatus `json:"feeds"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return fmt.Errorf("GET %s/v1/feeds: %w", redact.URL(base), err)
	}
	var failing, parked int
	for _, f := range body.Feeds {
		if f.Parked {
			parked++
		} else if f.Failures > 0 {
			failing++
		}
	}
	fmt.Fprintf(out, "\nfeeds: %d, %d healthy, %d failing, %d parked\n", len(body.Feeds), len(body.Feeds)-failing-parked, failing, parked)
	for _, f := range body.Feeds {
		if f.Parked || f.Failures > 0 {
			state := fmt.Sprintf("%d failures", f.Failures)
			if f.Parked {
				state = "parked"
			}
			fmt.Fprintf(out, "  %-24s %-12s %s\n", cut(f.Name, 24), state, cut(oneLine(f.LastError), 100))
		}
	}
	return nil
}

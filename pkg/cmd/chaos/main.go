// Command chaos is newsflow's checker-driven fault run (make chaos): a news farm (pkg/newsfarm)
// publishes stories at a steady pace while the separate services (bin/*, ≥ 2 replicas per
// stage) carry them over a NATS JetStream or Kafka cluster into an Elasticsearch cluster, all
// started by deploy/local/cluster.sh. A fault schedule drawn from a fixed seed kills stage
// replicas (kill -9), the NATS meta leader and a stream leader, a Kafka partition leader and
// the active controller, the Elasticsearch data node, and hangs a broker (SIGSTOP/SIGCONT).
// When the farm has published everything and the pipeline has drained, the checker proves:
// every article the feeds offered is in Elasticsearch exactly once with its content; every
// planted poison page is in the DLQ with its reason and nothing else is; no alert episode is
// duplicated. It prints a table (drain time, redeliveries, max lag, faults) and saves it with
// the event history under --out.
//
//	go run ./cmd/chaos --backend nats,kafka --articles 1000 --duration 3m --seed 1
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/newsflow/newsflow/pkg/cli"
)

func main() {
	os.Exit(cli.Execute(root(), os.Args[1:], os.Stdout, os.Stderr))
}

// options are the run's flags.
type options struct {
	Backends    []string
	Articles    int
	Duration    time.Duration
	Seed        uint64
	Replicas    int
	FaultEvery  time.Duration
	DrainLimit  time.Duration
	Out         string
	Bin         string
	Script      string
	Sites       int
	PoisonEvery int
	Burst       int
	NoFaults    bool
	Faults      []string
	ESURL       string
	FeedItems   int
	Warmup      time.Duration
	BurstRule   int
	Cleanup     bool
}

func root() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Fault run of the separate services on NATS/Kafka/Elasticsearch clusters, with an exactly-once checker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return cli.UsageError("%v", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, o, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.Backends, "backend", []string{"nats", "kafka"}, "buses to run on, in turn (nats, kafka)")
	fl.IntVar(&o.Articles, "articles", 1000, "stories the farm publishes (reprints and tracking duplicates come on top)")
	fl.DurationVar(&o.Duration, "duration", 3*time.Minute, "how long the farm takes to publish them")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed of the farm and of the fault schedule")
	fl.IntVar(&o.Replicas, "replicas", 2, "replicas per stage")
	fl.DurationVar(&o.FaultEvery, "fault-every", 15*time.Second, "time between two faults")
	fl.DurationVar(&o.DrainLimit, "drain-limit", 10*time.Minute, "longest wait for the pipeline to drain after the farm stops")
	fl.StringVar(&o.Out, "out", "", "directory for the report and event history (default data/chaos/<time>)")
	fl.StringVar(&o.Bin, "bin", "bin", "directory of the service binaries (make build)")
	fl.StringVar(&o.Script, "cluster-script", "deploy/local/cluster.sh", "the cluster script")
	fl.IntVar(&o.Sites, "sites", 6, "farm sites")
	fl.IntVar(&o.PoisonEvery, "poison-every", 50, "every Nth story is a poison page")
	fl.IntVar(&o.Burst, "burst", 40, "stories in the news burst")
	fl.BoolVar(&o.NoFaults, "no-faults", false, "inject no faults (a baseline run)")
	fl.StringSliceVar(&o.Faults, "faults", nil, "fault kinds to inject (default: all that apply): "+strings.Join(allFaults, ", "))
	fl.StringVar(&o.ESURL, "es-url", "", "use this Elasticsearch instead of the cluster's (e.g. the dev stack's; no ES faults then)")
	fl.BoolVar(&o.Cleanup, "cleanup", false, "delete the run's indices and templates after the check (a shared Elasticsearch)")
	fl.IntVar(&o.FeedItems, "feed-items", 400, "items per farm feed")
	fl.DurationVar(&o.Warmup, "alert-warmup", 0, "the alerter's warm-up (NEWSFLOW_ALERT_WARMUP; default --duration/5)")
	fl.IntVar(&o.BurstRule, "burst-threshold", 0, "the burst watch rule fires at this many burst stories in 10 min (default --burst/4, at least 3)")
	return cmd
}

func (o *options) validate() error {
	var errs []error
	for _, b := range o.Backends {
		if b != "nats" && b != "kafka" {
			errs = append(errs, fmt.Errorf("--backend %q: want nats or kafka", b))
		}
	}
	if o.Articles < 10 || o.Duration < 10*time.Second || o.Replicas < 1 || o.FaultEvery < time.Second || o.Sites < 2 {
		errs = append(errs, errors.New("--articles >= 10, --duration >= 10s, --replicas >= 1, --fault-every >= 1s, --sites >= 2"))
	}
	for _, f := range o.Faults {
		if !slices.Contains(allFaults, f) {
			errs = append(errs, fmt.Errorf("--faults %q: want one of %s", f, strings.Join(allFaults, ", ")))
		}
	}
	if o.Burst < 0 || o.FeedItems < 10 {
		errs = append(errs, errors.New("--burst >= 0, --feed-items >= 10"))
	}
	return errors.Join(errs...)
}

// burstThreshold is the count at which the chaos-burst watch rule fires.
func (o *options) burstThreshold() int {
	if o.BurstRule > 0 {
		return o.BurstRule
	}
	return max(3, o.Burst/4)
}

func (o *options) warmup() time.Duration {
	if o.Warmup != 0 {
		return o.Warmup
	}
	return o.Duration / 5
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	if o.Out == "" {
		o.Out = filepath.Join("data", "chaos", time.Now().UTC().Format("20060102T150405Z"))
	}
	out, err := filepath.Abs(o.Out) // the replicas run in their own directories
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	o.Out = out
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	cl, err := newCluster(o.Script)
	if err != nil {
		return err
	}
	if o.ESURL != "" {
		cl.esURL, cl.esURLs, cl.ownES = o.ESURL, []string{o.ESURL}, false
	}
	var results []*result
	var failed []string
	for _, b := range o.Backends {
		r, err := runBackend(ctx, o, cl, b)
		if r != nil {
			results = append(results, r)
			if !r.OK() {
				failed = append(failed, b)
			}
		}
		if err != nil {
			return fmt.Errorf("chaos: %s: %w", b, err)
		}
	}
	var sb strings.Builder
	writeTable(&sb, results)
	fmt.Fprint(stdout, sb.String())
	if err := os.WriteFile(filepath.Join(o.Out, "report.txt"), []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	js, _ := json.MarshalIndent(results, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Out, "report.json"), js, 0o644); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	fmt.Fprintf(stdout, "report and event history: %s\n", o.Out)
	if len(failed) > 0 {
		return fmt.Errorf("chaos: checker failed on %s (see %s)", strings.Join(failed, ", "), o.Out)
	}
	return nil
}

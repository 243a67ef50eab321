package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// progress prints one readable line per interval, built from the stages' own metrics, only
// when something changed.
type progress struct {
	g     prometheus.Gatherer
	out   io.Writer
	alias string
	last  string
}

func newProgress(g prometheus.Gatherer, out io.Writer, alias string) *progress {
	return &progress{g: g, out: out, alias: alias}
}

// Counts is a snapshot of pipeline counters.
type Counts struct {
	Polls, NewItems, Cleaned, Duplicates, Enriched, Indexed, DeadLettered, Alerts float64
}

// Snapshot reads the counters from g.
func Snapshot(g prometheus.Gatherer) Counts {
	mfs, _ := g.Gather()
	// sum adds the series of the metric name that carry every label pair of want
	// (name, value, name, value, ...).
	sum := func(name string, want ...string) float64 {
		var t float64
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
		series:
			for _, m := range mf.GetMetric() {
				for i := 0; i+1 < len(want); i += 2 {
					if !hasLabel(m, want[i], want[i+1]) {
						continue series
					}
				}
				switch {
				case m.Counter != nil:
					t += m.Counter.GetValue()
				case m.Gauge != nil:
					t += m.Gauge.GetValue()
				}
			}
		}
		return t
	}
	stage := func(stage string, outcomes ...string) float64 {
		var t float64
		for _, o := range outcomes {
			t += sum(service.StageMessagesMetric, "stage", stage, "outcome", o)
		}
		return t
	}
	return Counts{
		Polls:      sum("newsflow_fetcher_polls_total"),
		NewItems:   sum("newsflow_fetcher_items_total", "outcome", "new"),
		Cleaned:    stage("cleaner", "ok"),
		Duplicates: sum("newsflow_cleaner_duplicates_total"),
		Enriched:   stage("enricher", "ok"),
		Indexed:    sum("newsflow_indexer_items_total", "outcome", "indexed"),
		DeadLettered: stage("cleaner", "dead_letter", "decode_error") + stage("enricher", "dead_letter", "decode_error") +
			stage("alerter", "dead_letter", "decode_error") + sum("newsflow_indexer_items_total", "outcome", "dead_lettered"),
		Alerts: sum("newsflow_alerter_alerts_total"),
	}
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func (p *progress) run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.print()
			return nil
		case <-t.C:
			p.print()
		}
	}
}

func (p *progress) print() {
	c := Snapshot(p.g)
	line := fmt.Sprintf("polls %-4.0f new %-4.0f cleaned %-4.0f (near-dup %.0f)  enriched %-4.0f  indexed %-4.0f  dlq %-3.0f  alerts %.0f",
		c.Polls, c.NewItems, c.Cleaned, c.Duplicates, c.Enriched, c.Indexed, c.DeadLettered, c.Alerts)
	if line != p.last {
		fmt.Fprintf(p.out, "%s  %s\n", time.Now().Format("15:04:05"), line)
		p.last = line
	}
}

package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// stageOrder is the order of the pipeline's stages in status tables; others follow by name.
var stageOrder = []string{"fetcher", "cleaner", "enricher", "indexer", "alerter"}

// stageCounts is one reading of the services' metrics: newsflow_stage_messages_total by
// stage and outcome, and the stage-specific output counters, summed over every endpoint.
type stageCounts struct {
	at       time.Time
	messages map[string]map[string]float64 // stage → outcome → count
	fetched  float64                       // newsflow_fetcher_items_total{outcome="new"}: articles published to news.raw
	indexed  float64                       // newsflow_indexer_items_total{outcome="indexed"}
	alerts   float64                       // newsflow_alerter_alerts_total
}

// defaultMetricsTarget is where `newsflow status` looks for metrics without --metrics: the
// configured metrics or HTTP address (NEWSFLOW_METRICS_ADDR, NEWSFLOW_HTTP_ADDR), else
// newsflow run's default 127.0.0.1:8080; a wildcard host is read on loopback.
func defaultMetricsTarget(getenv func(string) string) string {
	addr := getenv("NEWSFLOW_METRICS_ADDR")
	if addr == "" {
		addr = getenv("NEWSFLOW_HTTP_ADDR")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// metricsURL turns a --metrics value (host:port, or a URL with or without /metrics) into the
// URL of its /metrics.
func metricsURL(target string) string {
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	target = strings.TrimSuffix(target, "/")
	if !strings.HasSuffix(target, "/metrics") {
		target += "/metrics"
	}
	return target
}

// readStageCounts scrapes every target's /metrics and sums the stage counters. Every target
// must answer.
func readStageCounts(ctx context.Context, targets []string) (stageCounts, error) {
	c := stageCounts{at: time.Now(), messages: map[string]map[string]float64{}}
	for _, t := range targets {
		mfs, err := scrape(ctx, metricsURL(t))
		if err != nil {
			return c, err
		}
		c.add(mfs)
	}
	return c, nil
}

// scrape reads one /metrics page in the Prometheus text format.
func scrape(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics %s: %w", redact.URL(url), err)
	}
	req.Header.Set("Accept", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, redact.Error(err, redact.Credentials(url)...)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", redact.URL(url), res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact.URL(url), err)
	}
	return mfs, nil
}

func (c *stageCounts) add(mfs map[string]*dto.MetricFamily) {
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	each := func(name string, fn func(m *dto.Metric, v float64)) {
		for _, m := range mfs[name].GetMetric() {
			fn(m, m.GetCounter().GetValue())
		}
	}
	each(service.StageMessagesMetric, func(m *dto.Metric, v float64) {
		s := label(m, "stage")
		if c.messages[s] == nil {
			c.messages[s] = map[string]float64{}
		}
		c.messages[s][label(m, "outcome")] += v
	})
	each("newsflow_fetcher_items_total", func(m *dto.Metric, v float64) {
		if label(m, "outcome") == "new" {
			c.fetched += v
		}
	})
	each("newsflow_indexer_items_total", func(m *dto.Metric, v float64) {
		if label(m, "outcome") == "indexed" {
			c.indexed += v
		}
	})
	each("newsflow_alerter_alerts_total", func(_ *dto.Metric, v float64) { c.alerts += v })
}

// rate is a counter's increase per second between two readings; a counter that went down (a
// restarted service) counts from zero, as Prometheus' rate() does.
func rate(before, after float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	inc := after - before
	if inc < 0 {
		inc = after
	}
	return inc / d.Seconds()
}

// printRates prints each stage's messages per second between the two readings: done (ok, or
// deferred: handed on to be settled later, the indexer's bulk and the alerter's checkpoint),
// retried and dead-lettered (dead_letter, decode_error), the total so far, and what the
// pipeline produced per second (articles fetched, documents indexed, alerts).
func printRates(out io.Writer, before, after stageCounts, targets []string) {
	d := after.at.Sub(before.at)
	fmt.Fprintf(out, "\nrates over %.1fs from %s (%s)\n", d.Seconds(), strings.Join(redactAll(targets), ", "), service.StageMessagesMetric)
	fmt.Fprintf(out, "  %-9s %9s %9s %9s %12s\n", "STAGE", "DONE/s", "RETRY/s", "DLQ/s", "HANDLED")
	sum := func(c stageCounts, stage string, outcomes ...string) float64 {
		var t float64
		for _, o := range outcomes {
			t += c.messages[stage][o]
		}
		return t
	}
	done := []string{"ok", "deferred"}
	dead := []string{"dead_letter", "decode_error"}
	for _, s := range stagesOf(after) {
		var total float64
		for _, v := range after.messages[s] {
			total += v
		}
		fmt.Fprintf(out, "  %-9s %9.1f %9.1f %9.1f %12.0f\n", s,
			rate(sum(before, s, done...), sum(after, s, done...), d),
			rate(sum(before, s, "retry"), sum(after, s, "retry"), d),
			rate(sum(before, s, dead...), sum(after, s, dead...), d), total)
	}
	if len(after.messages) == 0 {
		fmt.Fprintf(out, "  (no stage has handled a message yet)\n")
	}
	fmt.Fprintf(out, "  output: %.1f articles fetched/s, %.1f documents indexed/s, %.2f alerts/s\n",
		rate(before.fetched, after.fetched, d), rate(before.indexed, after.indexed, d), rate(before.alerts, after.alerts, d))
}

// stagesOf lists the stages of a reading in pipeline order.
func stagesOf(c stageCounts) []string {
	rank := map[string]int{}
	for i, s := range stageOrder {
		rank[s] = i + 1
	}
	var ss []string
	for s := range c.messages {
		ss = append(ss, s)
	}
	sort.Slice(ss, func(i, j int) bool {
		ri, rj := rank[ss[i]], rank[ss[j]]
		if ri == 0 {
			ri = len(stageOrder) + 1
		}
		if rj == 0 {
			rj = len(stageOrder) + 1
		}
		if ri != rj {
			return ri < rj
		}
		return ss[i] < ss[j]
	})
	return ss
}

func redactAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = redact.URL(metricsURL(s))
	}
	return out
}

package app

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// The shipped Grafana dashboard and the metrics reference, relative to pkg/app.
const (
	dashboardFile = "../../deploy/grafana/newsflow.json"
	metricsDoc    = "../../docs/metrics.md"
)

var metricName = regexp.MustCompile(`\bnewsflow_[a-z0-9_]+`)

// dashboardQueries returns every PromQL expression of the dashboard: the panels' targets and
// the template variables' queries.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var qs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
					qs = append(qs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return qs
}

// family is the metric family a series name belongs to (a histogram's _bucket, _sum and
// _count are its own name's).
func family(name string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if f, ok := strings.CutSuffix(name, s); ok && (strings.HasSuffix(f, "_seconds") || strings.HasSuffix(f, "_bytes")) {
			return f
		}
	}
	return name
}

// dashboardMetrics is every metric family the dashboard queries, sorted.
func dashboardMetrics(t *testing.T) []string {
	set := map[string]bool{}
	for _, q := range dashboardQueries(t) {
		for _, m := range metricName.FindAllString(q, -1) {
			set[family(m)] = true
		}
	}
	var out []string
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// documentedMetrics is every metric docs/metrics.md lists in its tables.
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(newsflow_[a-z0-9_]+)`").FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = true
	}
	return out
}

// TestDashboard: the shipped dashboard is valid JSON, queries every stage through the stage
// label (no per-stage metric names: one query covers every stage) and only documented metrics.
func TestDashboard(t *testing.T) {
	qs := dashboardQueries(t)
	if len(qs) < 5 {
		t.Fatalf("%d queries in %s, want the panels' and the stage variable's", len(qs), dashboardFile)
	}
	perStage := regexp.MustCompile(`\bnewsflow_(fetcher|cleaner|enricher|indexer|alerter)_`)
	for _, q := range qs {
		if m := perStage.FindString(q); m != "" {
			t.Errorf("query %q uses a per-stage metric (%s...); use the stage label", q, m)
		}
		if !strings.Contains(q, "stage") && !strings.Contains(q, "newsflow_build_info") {
			t.Errorf("query %q does not use the stage label", q)
		}
		if strings.Count(q, "(") != strings.Count(q, ")") || strings.Count(q, "{") != strings.Count(q, "}") {
			t.Errorf("query %q: unbalanced brackets", q)
		}
	}
	docs := documentedMetrics(t)
	ms := dashboardMetrics(t)
	for _, m := range ms {
		if !docs[m] {
			t.Errorf("the dashboard queries %s, which %s does not list", m, metricsDoc)
		}
	}
	for _, want := range []string{"newsflow_stage_messages_total", "newsflow_stage_handle_seconds", "newsflow_bus_consumer_lag_messages", "newsflow_build_info"} {
		if !contains(ms, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

func contains(ss []string, s string) bool {
	i := sort.SearchStrings(ss, s)
	return i < len(ss) && ss[i] == s
}

// checkRunningMetrics checks a running binary's metrics (as scraped) against the dashboard
// and the reference: every metric the dashboard queries exists, and every newsflow_* metric
// exported is documented in docs/metrics.md.
func checkRunningMetrics(t *testing.T, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	for _, m := range dashboardMetrics(t) {
		if mfs[m] == nil {
			t.Errorf("the dashboard queries %s; the running all-in-one does not export it", m)
		}
	}
	docs := documentedMetrics(t)
	n := 0
	for name := range mfs {
		if strings.HasPrefix(name, "newsflow_") {
			n++
			if !docs[name] {
				t.Errorf("the running all-in-one exports %s; %s does not list it", name, metricsDoc)
			}
		}
	}
	if n < 10 {
		t.Errorf("the running all-in-one exports %d newsflow_* metrics, want the stages' (10 or more)", n)
	}
	t.Logf("running all-in-one: %d newsflow_* metrics exported (%d documented); the dashboard's %d metrics checked", n, len(docs), len(dashboardMetrics(t)))
}

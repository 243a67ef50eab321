package deploycheck

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// PromMatcher is one label matcher of a PromQL selector: stage="cleaner", group=~"a|b".
type PromMatcher struct{ Label, Op, Value string }

// Values are the label values a matcher can select when it is an equality or a regex that
// is an alternation of plain names ("a|b"); nil for negative matchers and real regexes.
func (m PromMatcher) Values() []string {
	switch m.Op {
	case "=":
		return []string{m.Value}
	case "=~":
		vs := strings.Split(m.Value, "|")
		for _, v := range vs {
			if v == "" || strings.ContainsAny(v, `*+?()[]{}^$\`) {
				return nil
			}
		}
		return vs
	}
	return nil
}

// PromSelector is one vector selector with braces: metric{matchers}.
type PromSelector struct {
	Metric   string
	Matchers []PromMatcher
}

var (
	promSelector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}`)
	promMatcher  = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$`)
	promMetric   = regexp.MustCompile(`\bnewsflow_[a-z0-9_]+\b`)
	metricInCode = regexp.MustCompile(`"(newsflow_[a-z0-9_]*[a-z0-9])"`)
)

// PromSelectors returns the selectors with braces of a PromQL query (enough for the
// autoscaling queries: metric{label="v",...} inside aggregations); a matcher that does not
// parse is an error.
func PromSelectors(query string) ([]PromSelector, error) {
	var out []PromSelector
	for _, m := range promSelector.FindAllStringSubmatch(query, -1) {
		sel := PromSelector{Metric: m[1]}
		if strings.TrimSpace(m[2]) != "" {
			for _, part := range strings.Split(m[2], ",") {
				mm := promMatcher.FindStringSubmatch(part)
				if mm == nil {
					return nil, fmt.Errorf("deploycheck: query %q: matcher %q does not parse", query, part)
				}
				sel.Matchers = append(sel.Matchers, PromMatcher{Label: mm[1], Op: mm[2], Value: mm[3]})
			}
		}
		out = append(out, sel)
	}
	return out, nil
}

// PromMetrics returns the newsflow_* metric names a query names.
func PromMetrics(query string) []string { return promMetric.FindAllString(query, -1) }

// MetricNamesInCode returns every newsflow_* name written as a complete string literal in
// the non-test Go files under root/pkg: the metrics the code can export.
func MetricNamesInCode(root string) (map[string]bool, error) {
	out := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(root, "pkg"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range metricInCode.FindAllSubmatch(b, -1) {
			out[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deploycheck: metrics in code: %w", err)
	}
	return out, nil
}

var metricRow = regexp.MustCompile("(?m)^\\|\\s*`(newsflow_[a-z0-9_]+)`\\s*\\|[^|]*\\|([^|]*)\\|")

// DocumentedMetrics reads the metric tables of docs/metrics.md (| `name` | type | labels |
// ...): metric name → its label names.
func DocumentedMetrics(md []byte) map[string][]string {
	out := map[string][]string{}
	for _, m := range metricRow.FindAllSubmatch(md, -1) {
		var labels []string
		for _, l := range strings.Split(string(m[2]), ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
				labels = append(labels, l)
			}
		}
		out[string(m[1])] = labels
	}
	return out
}

// Consumer is one consumer group a stage's Deployment runs: the labels its lag series has.
type Consumer struct{ Stage, Subject, Group string }

// LagMetric is the gauge the stages export their consumer groups' backlog in.
const LagMetric = "newsflow_bus_consumer_lag_messages"

// ScalingContext is what a ScaledObject is checked against.
type ScalingContext struct {
	Workloads map[string]K8sObject // Deployment name → object
	Consumers map[string][]Consumer
	InCode    map[string]bool     // metric names the code exports
	Doc       map[string][]string // documented metric → labels
}

// CheckScaledObject checks a KEDA ScaledObject: it targets an existing Deployment that runs
// a stage, has min/max replicas, scales on the backlog of exactly that stage's consumer
// groups through a Prometheus query naming only metrics the code exports and docs/metrics.md
// documents, with their documented labels and values the stage really has, aggregated with
// max (every replica exports the same group backlog), a positive threshold, and a CPU
// trigger only where the containers request CPU.
func CheckScaledObject(o K8sObject, c ScalingContext) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: ScaledObject %s: %s", o.File, o.Name, fmt.Sprintf(format, args...)))
	}
	if o.APIVersion != "keda.sh/v1alpha1" {
		fail("apiVersion %q, want keda.sh/v1alpha1", o.APIVersion)
	}
	name := Str(o.Doc, "spec", "scaleTargetRef", "name")
	if k := Str(o.Doc, "spec", "scaleTargetRef", "kind"); k != "" && k != "Deployment" {
		fail("scaleTargetRef kind %q: the stages are Deployments", k)
	}
	w, ok := c.Workloads[name]
	if !ok {
		fail("scaleTargetRef %q is not a Deployment", name)
		return errs
	}
	consumers, ok := c.Consumers[name]
	if !ok {
		fail("Deployment %s consumes no work queue to scale on", name)
		return errs
	}
	mn, mx := Int(o.Doc, "spec", "minReplicaCount"), Int(o.Doc, "spec", "maxReplicaCount")
	if mn < 1 || mx < mn {
		fail("minReplicaCount %d, maxReplicaCount %d: want 1 <= min <= max", mn, mx)
	}
	lagTriggers := 0
	for _, tr := range Maps(o.Doc, "spec", "triggers") {
		switch Str(tr, "type") {
		case "prometheus":
			lagTriggers++
			errs = append(errs, checkLagTrigger(o, tr, consumers, c)...)
		case "cpu", "memory":
			res := Str(tr, "type")
			for _, ct := range Maps(w.PodSpec(), "containers") {
				if Get(ct, "resources", "requests", res) == nil {
					fail("%s trigger but container %s requests no %s", res, Str(ct, "name"), res)
				}
			}
		default:
			fail("trigger type %q not checked here", Str(tr, "type"))
		}
	}
	if lagTriggers != 1 {
		fail("%d prometheus triggers, want one on the stage's backlog", lagTriggers)
	}
	ann, _ := Get(w.Doc, "spec", "template", "metadata", "annotations").(map[string]any)
	if EnvString(ann["prometheus.io/scrape"]) != "true" {
		fail("Deployment %s is not scraped (prometheus.io/scrape): no lag reaches Prometheus", name)
	}
	return errs
}

func checkLagTrigger(o K8sObject, tr map[string]any, consumers []Consumer, c ScalingContext) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: ScaledObject %s: %s", o.File, o.Name, fmt.Sprintf(format, args...)))
	}
	q := Str(tr, "metadata", "query")
	if u, err := url.Parse(Str(tr, "metadata", "serverAddress")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fail("serverAddress %q is not an http(s) URL", Str(tr, "metadata", "serverAddress"))
	}
	if v, err := strconv.ParseFloat(Str(tr, "metadata", "threshold"), 64); err != nil || v <= 0 {
		fail("threshold %q: want a positive number", Str(tr, "metadata", "threshold"))
	}
	for _, m := range PromMetrics(q) {
		if !c.InCode[m] {
			fail("query names %s, which no code exports", m)
		}
		if _, ok := c.Doc[m]; !ok {
			fail("query names %s, which docs/metrics.md does not document", m)
		}
	}
	sels, err := PromSelectors(q)
	if err != nil {
		fail("%v", err)
		return errs
	}
	want := map[string]map[string]bool{"stage": {}, "subject": {}, "group": {}}
	for _, cs := range consumers {
		want["stage"][cs.Stage], want["subject"][cs.Subject], want["group"][cs.Group] = true, true, true
	}
	lag := 0
	for _, s := range sels {
		if s.Metric != LagMetric {
			continue
		}
		lag++
		labels := map[string]bool{}
		for _, l := range c.Doc[LagMetric] {
			labels[l] = true
		}
		seen := map[string]map[string]bool{"stage": {}, "subject": {}, "group": {}}
		for _, m := range s.Matchers {
			if !labels[m.Label] {
				fail("label %q is not one of %s's (%v)", m.Label, LagMetric, c.Doc[LagMetric])
				continue
			}
			vs := m.Values()
			if vs == nil {
				fail("matcher %s%s%q: use = or =~ with plain alternatives", m.Label, m.Op, m.Value)
				continue
			}
			for _, v := range vs {
				if !want[m.Label][v] {
					fail("%s %q is not a consumer of Deployment %s (%v)", m.Label, v, Str(o.Doc, "spec", "scaleTargetRef", "name"), consumers)
				}
				seen[m.Label][v] = true
			}
		}
		for l, vs := range want {
			for v := range vs {
				if !seen[l][v] {
					fail("the query leaves out %s %q of the stage's consumers", l, v)
				}
			}
		}
	}
	if lag == 0 {
		fail("query %q does not read %s{...}", q, LagMetric)
	}
	if !regexp.MustCompile(`\bmax\s*(by\s*\([^)]*\)\s*)?\(`).MatchString(q) {
		fail("query %q does not take the max over replicas: every replica exports the same group backlog, a sum would count it once per replica", q)
	}
	return errs
}

package deploycheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/service"
)

// stageConsumers are the consumer groups each stage Deployment runs, built from the code's
// own names (service.Config.ConsumeOptions, the article subjects) and labelled as the
// runtime labels newsflow_bus_consumer_lag_messages (stage = group without "newsflow-").
func stageConsumers() map[string][]Consumer {
	cfg := service.DefaultConfig("deploycheck")
	c := func(name, subject string) Consumer {
		g := cfg.ConsumeOptions(name).Group
		return Consumer{Stage: strings.TrimPrefix(g, "newsflow-"), Subject: subject, Group: g}
	}
	return map[string][]Consumer{
		"cleaner":  {c("cleaner", article.SubjectRaw)},
		"enricher": {c("enricher", article.SubjectClean)},
		"indexer":  {c("indexer", article.SubjectEnriched), c("indexer-alerts", article.SubjectAlerts)},
	}
}

func scalingContext(t *testing.T, s *k8sSet) ScalingContext {
	t.Helper()
	inCode, err := MetricNamesInCode(s.root)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(s.root, "docs/metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := DocumentedMetrics(md)
	if len(doc[LagMetric]) == 0 || !inCode[LagMetric] {
		t.Fatalf("%s: documented labels %v, in code %v", LagMetric, doc[LagMetric], inCode[LagMetric])
	}
	return ScalingContext{Workloads: s.byKind["Deployment"], Consumers: stageConsumers(), InCode: inCode, Doc: doc}
}

// TestK8sLagScaling (issue 15 item 6): every stage that consumes a work queue (cleaner,
// enricher, indexer) is scaled by one KEDA ScaledObject on its consumer groups' backlog, each
// checked by CheckScaledObject against the code's metric names, labels and group names; no
// HPA competes with it (KEDA owns the stage's HPA). The fetcher (feeds split by leases) and
// the alerter (shard count = replicas) are not scaled on lag.
func TestK8sLagScaling(t *testing.T) {
	s := loadK8s(t)
	ctx := scalingContext(t, s)
	scaled := map[string]int{}
	for _, o := range s.byKind["ScaledObject"] {
		for _, err := range CheckScaledObject(o, ctx) {
			t.Error(err)
		}
		scaled[Str(o.Doc, "spec", "scaleTargetRef", "name")]++
	}
	for name := range ctx.Consumers {
		if scaled[name] != 1 {
			t.Errorf("Deployment %s: %d ScaledObjects, want 1 on its backlog", name, scaled[name])
		}
	}
	for _, h := range s.byKind["HorizontalPodAutoscaler"] {
		if ref := Str(h.Doc, "spec", "scaleTargetRef", "name"); scaled[ref] > 0 {
			t.Errorf("HPA %s and a ScaledObject both scale %s: KEDA makes its own HPA, two fight", h.Name, ref)
		}
	}
	for _, name := range []string{"fetcher", "alerter"} {
		if scaled[name] > 0 {
			t.Errorf("%s must not be scaled on lag (fetcher: feeds split by leases; alerter: NEWSFLOW_ALERT_SHARD_COUNT = replicas)", name)
		}
	}
}

// TestCheckScaledObjectRejects: each broken variant of a good ScaledObject is caught.
func TestCheckScaledObjectRejects(t *testing.T) {
	const good = `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: cleaner}
spec:
  scaleTargetRef: {name: cleaner}
  minReplicaCount: 2
  maxReplicaCount: 6
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc:9090
        query: 'max(newsflow_bus_consumer_lag_messages{stage="cleaner",subject="news.raw",group="newsflow-cleaner"})'
        threshold: "500"
    - type: cpu
      metricType: Utilization
      metadata: {value: "70"}
`
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: cleaner}
spec:
  template:
    metadata:
      annotations: {prometheus.io/scrape: "true"}
    spec:
      containers:
        - name: cleaner
          resources: {requests: {cpu: 250m}}
`
	dep, err := ParseManifests("cleaner.yaml", []byte(deployment))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ScalingContext{
		Workloads: map[string]K8sObject{"cleaner": dep[0]},
		Consumers: stageConsumers(),
		InCode:    map[string]bool{LagMetric: true},
		Doc:       map[string][]string{LagMetric: {"stage", "subject", "group"}},
	}
	check := func(src string) []error {
		objs, err := ParseManifests("so.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return CheckScaledObject(objs[0], ctx)
	}
	if errs := check(good); len(errs) != 0 {
		t.Fatalf("good object rejected: %v", errs)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown metric", "newsflow_bus_consumer_lag_messages{", "newsflow_bus_consumer_lag{", "no code exports"},
		{"wrong group", `group="newsflow-cleaner"`, `group="cleaner"`, `group "cleaner" is not a consumer`},
		{"another stage's subject", `subject="news.raw"`, `subject="news.clean"`, `subject "news.clean" is not a consumer`},
		{"group left out", `,group="newsflow-cleaner"`, ``, `leaves out group "newsflow-cleaner"`},
		{"undocumented label", `stage="cleaner"`, `stage="cleaner",pod="x"`, `label "pod"`},
		{"regex matcher", `stage="cleaner"`, `stage=~"clean.*"`, "plain alternatives"},
		{"summed over replicas", "max(", "sum(", "does not take the max"},
		{"no such deployment", "scaleTargetRef: {name: cleaner}", "scaleTargetRef: {name: cleanr}", "not a Deployment"},
		{"max below min", "maxReplicaCount: 6", "maxReplicaCount: 1", "want 1 <= min <= max"},
		{"bad threshold", `threshold: "500"`, `threshold: "lots"`, "positive number"},
		{"bad server", "http://prometheus.monitoring.svc:9090", "prometheus:9090", "not an http(s) URL"},
		{"memory without requests", "type: cpu", "type: memory", "requests no memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.from, tc.to, 1)
			if src == good {
				t.Fatalf("%q not in the good object", tc.from)
			}
			errs := check(src)
			found := false
			for _, e := range errs {
				found = found || strings.Contains(e.Error(), tc.want)
			}
			if !found {
				t.Errorf("want an error containing %q, got %v", tc.want, errs)
			}
		})
	}
	// Unscraped pods: no lag ever reaches Prometheus.
	var d map[string]any
	_ = yaml.Unmarshal([]byte(strings.Replace(deployment, `"true"`, `"false"`, 1)), &d)
	ctx.Workloads["cleaner"] = K8sObject{File: "cleaner.yaml", APIVersion: "apps/v1", Kind: "Deployment", Name: "cleaner", Doc: d}
	if errs := check(good); len(errs) != 1 || !strings.Contains(errs[0].Error(), "not scraped") {
		t.Errorf("unscraped Deployment: %v", errs)
	}
}

func TestPromSelectors(t *testing.T) {
	sels, err := PromSelectors(`sum(max by (group) (newsflow_bus_consumer_lag_messages{stage=~"indexer|indexer-alerts", group!="x"}))`)
	if err != nil || len(sels) != 1 || sels[0].Metric != LagMetric || len(sels[0].Matchers) != 2 {
		t.Fatalf("%+v %v", sels, err)
	}
	if v := sels[0].Matchers[0].Values(); len(v) != 2 || v[1] != "indexer-alerts" {
		t.Errorf("values %v", v)
	}
	if v := sels[0].Matchers[1].Values(); v != nil {
		t.Errorf("negative matcher values %v", v)
	}
	if _, err := PromSelectors(`max(m{stage=cleaner})`); err == nil {
		t.Error("unquoted value accepted")
	}
}

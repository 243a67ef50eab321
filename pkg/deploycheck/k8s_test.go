package deploycheck

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/fetch"
	"gopkg.in/yaml.v3"
)

type k8sSet struct {
	root    string
	objs    []K8sObject
	byKind  map[string]map[string]K8sObject // kind → name → object
	natsSvc string                          // Service name of the NATS Helm release
}

func loadK8s(t *testing.T) *k8sSet {
	t.Helper()
	root := repoRoot(t)
	dir := filepath.Join(root, "deploy/k8s")
	s := &k8sSet{root: root, byKind: map[string]map[string]K8sObject{}}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasSuffix(p, "-values.yaml") { // Helm values, not manifests
			var v map[string]any
			if err := yaml.Unmarshal(b, &v); err != nil {
				t.Errorf("%s: %v", rel, err)
			}
			if strings.Contains(p, "nats") {
				s.natsSvc = Str(v, "fullnameOverride")
			}
			return nil
		}
		objs, err := ParseManifests(rel, b)
		if err != nil {
			t.Error(err)
			return nil
		}
		for _, o := range objs {
			if s.byKind[o.Kind] == nil {
				s.byKind[o.Kind] = map[string]K8sObject{}
			}
			if _, dup := s.byKind[o.Kind][o.Name]; dup {
				t.Errorf("%s: %s/%s defined twice", rel, o.Kind, o.Name)
			}
			s.byKind[o.Kind][o.Name] = o
			s.objs = append(s.objs, o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.objs) < 10 {
		t.Fatalf("only %d manifests under deploy/k8s", len(s.objs))
	}
	return s
}

func (s *k8sSet) workloads() []K8sObject {
	var out []K8sObject
	for _, o := range s.objs {
		if o.PodSpec() != nil {
			out = append(out, o)
		}
	}
	return out
}

// containerEnv is a container's effective environment: envFrom ConfigMaps, then env values
// (valueFrom entries are recorded as "<from>").
func (s *k8sSet) containerEnv(t *testing.T, w K8sObject, c map[string]any) map[string]string {
	env := map[string]string{}
	for _, ef := range Maps(c, "envFrom") {
		name := Str(ef, "configMapRef", "name")
		if name == "" {
			continue
		}
		cm, ok := s.byKind["ConfigMap"][name]
		if !ok {
			t.Errorf("%s/%s: envFrom ConfigMap %q is not defined", w.Kind, w.Name, name)
			continue
		}
		data, _ := Get(cm.Doc, "data").(map[string]any)
		for k, v := range data {
			env[k] = EnvString(v)
		}
	}
	for _, e := range Maps(c, "env") {
		if Get(e, "valueFrom") != nil {
			env[Str(e, "name")] = "<from>"
		} else {
			env[Str(e, "name")] = Str(e, "value")
		}
	}
	return env
}

func isNewsflowImage(img string) bool { return strings.HasPrefix(img, "newsflow/") }

func TestK8sKustomizationResourcesExist(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy/k8s/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name   string `yaml:"name"`
			NewTag string `yaml:"newTag"`
		} `yaml:"images"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range k.Resources {
		listed[r] = true
		if _, err := os.Stat(filepath.Join(root, "deploy/k8s", r)); err != nil {
			t.Errorf("kustomization resource %s: %v", r, err)
		}
	}
	// Every top-level manifest is applied (infra/ is installed separately with its operators).
	ents, _ := os.ReadDir(filepath.Join(root, "deploy/k8s"))
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") && e.Name() != "kustomization.yaml" && !listed[e.Name()] {
			t.Errorf("deploy/k8s/%s is not listed in kustomization.yaml resources", e.Name())
		}
	}
	for _, im := range k.Images {
		if err := ImagePinned(im.Name + ":" + im.NewTag); err != nil {
			t.Errorf("kustomization images: %v", err)
		}
	}
}

func TestK8sContainers(t *testing.T) {
	s := loadK8s(t)
	vars := codeEnv(t, s.root)
	stages := map[string]bool{}
	for _, w := range s.workloads() {
		spec := w.PodSpec()
		grace := Int(spec, "terminationGracePeriodSeconds")
		if Get(spec, "securityContext", "runAsNonRoot") != true {
			t.Errorf("%s/%s: pod securityContext.runAsNonRoot is not true", w.Kind, w.Name)
		}
		for _, c := range Maps(spec, "containers") {
			name := w.Kind + "/" + w.Name + "/" + Str(c, "name")
			img := Str(c, "image")
			if err := ImagePinned(img); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			for _, r := range []string{"requests", "limits"} {
				for _, res := range []string{"cpu", "memory"} {
					if Str(c, "resources", r, res) == "" {
						t.Errorf("%s: no resources.%s.%s", name, r, res)
					}
				}
			}
			if Get(c, "securityContext", "readOnlyRootFilesystem") != true || Get(c, "securityContext", "allowPrivilegeEscalation") != false {
				t.Errorf("%s: want readOnlyRootFilesystem: true, allowPrivilegeEscalation: false", name)
			}
			env := s.containerEnv(t, w, c)
			for k := range env {
				if strings.HasPrefix(k, "NEWSFLOW_") && len(vars[k]) == 0 {
					t.Errorf("%s: env %s is not read by any code in pkg/ or services/", name, k)
				}
				v := env[k]
				if v == "<from>" {
					v = "" // valueFrom: known at run time only
				}
				if err := CheckEnvVar("", k, v); err != nil {
					t.Errorf("%s: env: %v", name, err)
				}
			}
			// Variables set on the container itself (not the shared ConfigMap) must be
			// read by the binary the image runs.
			if bin, ok := strings.CutPrefix(strings.SplitN(img, ":", 2)[0], "newsflow/"); ok {
				for _, e := range Maps(c, "env") {
					if err := CheckEnvVar(bin, Str(e, "name"), ""); err != nil {
						t.Errorf("%s: env: %v", name, err)
					}
				}
			}
			for _, e := range Maps(c, "env") {
				if p := Str(e, "valueFrom", "fieldRef", "fieldPath"); p != "" && strings.HasPrefix(p, "metadata.labels[") &&
					!strings.Contains(p, "apps.kubernetes.io/pod-index") && !strings.Contains(p, "statefulset.kubernetes.io/pod-name") {
					if _, ok := w.PodLabels()[strings.Trim(strings.TrimPrefix(p, "metadata.labels["), "]'\"")]; !ok {
						t.Errorf("%s: env %s from label %s, which the pod template does not set", name, Str(e, "name"), p)
					}
				}
			}
			if !isNewsflowImage(img) {
				continue
			}
			if bus := env["NEWSFLOW_BUS"]; bus != "nats" && bus != "kafka" {
				t.Errorf("%s: NEWSFLOW_BUS=%q", name, bus)
			}
			s.checkEndpoints(t, name, env)
			s.checkMountedFiles(t, name, w, c, env)
			if w.Kind == "Job" || w.Kind == "CronJob" {
				continue
			}
			if sd, err := time.ParseDuration(env["NEWSFLOW_SHUTDOWN_TIMEOUT"]); err != nil || time.Duration(grace)*time.Second <= sd {
				t.Errorf("%s: terminationGracePeriodSeconds %d must exceed NEWSFLOW_SHUTDOWN_TIMEOUT %q", name, grace, env["NEWSFLOW_SHUTDOWN_TIMEOUT"])
			}
			stages[w.Name] = true
			s.checkProbes(t, name, c, env)
		}
	}
	for _, st := range []string{"fetcher", "cleaner", "enricher", "indexer", "alerter"} {
		if !stages[st] {
			t.Errorf("no workload named %s runs a newsflow image", st)
		}
	}
}

// checkProbes: the HTTP port of NEWSFLOW_HTTP_ADDR is the container port the probes hit,
// liveness on /healthz and readiness on /readyz.
func (s *k8sSet) checkProbes(t *testing.T, name string, c map[string]any, env map[string]string) {
	_, port, err := HostPort(env["NEWSFLOW_HTTP_ADDR"])
	if err != nil {
		t.Errorf("%s: NEWSFLOW_HTTP_ADDR: %v", name, err)
		return
	}
	byName := map[string]int{}
	hasPort := false
	for _, p := range Maps(c, "ports") {
		cp := Int(p, "containerPort")
		byName[Str(p, "name")] = cp
		hasPort = hasPort || cp == port
	}
	if !hasPort {
		t.Errorf("%s: NEWSFLOW_HTTP_ADDR port %d is not a containerPort", name, port)
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		hg := Get(c, probe, "httpGet")
		if hg == nil {
			t.Errorf("%s: no %s.httpGet", name, probe)
			continue
		}
		if got := Str(hg, "path"); got != path {
			t.Errorf("%s: %s path %q, want %s", name, probe, got, path)
		}
		pp := Str(hg, "port")
		n, err := strconv.Atoi(pp)
		if err != nil {
			n = byName[pp]
		}
		if n != port {
			t.Errorf("%s: %s port %q is %d, but the service listens on %d", name, probe, pp, n, port)
		}
	}
}

// checkEndpoints: the bus and ES addresses name the Services the infrastructure creates.
func (s *k8sSet) checkEndpoints(t *testing.T, name string, env map[string]string) {
	want := map[string]map[string]int{} // host → port
	addSvc := func(host string, port int) {
		if want[host] == nil {
			want[host] = map[string]int{}
		}
		want[host][strconv.Itoa(port)] = port
	}
	if s.natsSvc != "" {
		addSvc(s.natsSvc, 4222)
	}
	for n := range s.byKind["Elasticsearch"] {
		addSvc(n+"-es-http", 9200) // ECK naming
	}
	for n, k := range s.byKind["Kafka"] {
		for _, l := range Maps(k.Doc, "spec", "kafka", "listeners") {
			if Get(l, "tls") == false {
				addSvc(n+"-kafka-bootstrap", Int(l, "port")) // Strimzi naming
			}
		}
	}
	for n, svc := range s.byKind["Service"] {
		for _, p := range Maps(svc.Doc, "spec", "ports") {
			addSvc(n, Int(p, "port"))
		}
	}
	for _, k := range []string{"NEWSFLOW_NATS_URL", "NEWSFLOW_FETCH_STATE_NATS_URL", "NEWSFLOW_ES_URL", "NEWSFLOW_KAFKA_BROKERS"} {
		v := env[k]
		if v == "" || v == "<from>" || v == "memory" {
			continue
		}
		for _, a := range strings.Split(v, ",") {
			host, port, err := HostPort(strings.TrimSpace(a))
			if err != nil {
				t.Errorf("%s: %s: %v", name, k, err)
				continue
			}
			if _, ok := want[host][strconv.Itoa(port)]; !ok {
				t.Errorf("%s: %s=%s: no Service %s:%d in deploy/k8s (ECK <name>-es-http, Strimzi <name>-kafka-bootstrap, NATS Helm fullnameOverride)", name, k, v, host, port)
			}
		}
	}
}

// checkMountedFiles parses the sources and alert rules files a container is pointed at, from
// the ConfigMap mounted there, with the production parsers.
func (s *k8sSet) checkMountedFiles(t *testing.T, name string, w K8sObject, c map[string]any, env map[string]string) {
	vols := map[string]map[string]any{}
	for _, v := range Maps(w.PodSpec(), "volumes") {
		vols[Str(v, "name")] = v
	}
	for k, parse := range map[string]func([]byte) error{
		"NEWSFLOW_SOURCES":     func(b []byte) error { _, err := fetch.ParseSourcesYAML(b); return err },
		"NEWSFLOW_ALERT_RULES": func(b []byte) error { _, err := alert.ParseRules(b); return err },
	} {
		p := env[k]
		if p == "" {
			continue
		}
		found := false
		for _, m := range Maps(c, "volumeMounts") {
			mp := Str(m, "mountPath")
			if !strings.HasPrefix(p, mp+"/") {
				continue
			}
			cmName := Str(vols[Str(m, "name")], "configMap", "name")
			cm, ok := s.byKind["ConfigMap"][cmName]
			if !ok {
				t.Errorf("%s: %s=%s: volume %s is not a ConfigMap of deploy/k8s", name, k, p, Str(m, "name"))
				continue
			}
			data := Str(cm.Doc, "data", strings.TrimPrefix(p, mp+"/"))
			if data == "" {
				t.Errorf("%s: %s=%s: ConfigMap %s has no key %s", name, k, p, cmName, strings.TrimPrefix(p, mp+"/"))
				continue
			}
			if err := parse([]byte(data)); err != nil {
				t.Errorf("%s: %s (ConfigMap %s): %v", name, k, cmName, err)
			}
			found = true
		}
		if !found {
			t.Errorf("%s: %s=%s is not under a mounted ConfigMap", name, k, p)
		}
	}
}

// TestK8sScaling checks the scale-out knobs against each other: HPAs target Deployments,
// maxReplicas (HPA) and maxReplicaCount (KEDA ScaledObject) fit the partitions of the Kafka topic the stage consumes, every workload has a
// PodDisruptionBudget, the alerter shard count equals its replicas, the fetcher has two.
func TestK8sScaling(t *testing.T) {
	s := loadK8s(t)
	consumes := map[string]string{"cleaner": "news.raw", "enricher": "news.clean", "indexer": "news.enriched", "alerter": "news.enriched", "fetcher": "news.submit"}
	partitions := map[string]int{}
	for _, kt := range s.byKind["KafkaTopic"] {
		partitions[Str(kt.Doc, "spec", "topicName")] = Int(kt.Doc, "spec", "partitions")
		if r := Int(kt.Doc, "spec", "replicas"); r < 3 {
			t.Errorf("KafkaTopic %s: replicas %d < 3", kt.Name, r)
		}
	}
	maxReplicas := map[string]int{}
	for _, w := range s.workloads() {
		maxReplicas[w.Name] = Int(w.Doc, "spec", "replicas")
	}
	for _, h := range s.byKind["HorizontalPodAutoscaler"] {
		ref := Str(h.Doc, "spec", "scaleTargetRef", "name")
		kind := Str(h.Doc, "spec", "scaleTargetRef", "kind")
		if _, ok := s.byKind[kind][ref]; !ok {
			t.Errorf("HPA %s: scaleTargetRef %s/%s does not exist", h.Name, kind, ref)
		}
		mx, mn := Int(h.Doc, "spec", "maxReplicas"), Int(h.Doc, "spec", "minReplicas")
		if mn < 1 || mx < mn {
			t.Errorf("HPA %s: min %d max %d", h.Name, mn, mx)
		}
		if mx > maxReplicas[ref] {
			maxReplicas[ref] = mx
		}
	}
	for _, so := range s.byKind["ScaledObject"] { // KEDA (see TestK8sLagScaling)
		ref := Str(so.Doc, "spec", "scaleTargetRef", "name")
		if mx := Int(so.Doc, "spec", "maxReplicaCount"); mx > maxReplicas[ref] {
			maxReplicas[ref] = mx
		}
	}
	for stage, topic := range consumes {
		p, ok := partitions[topic]
		if !ok {
			t.Errorf("no KafkaTopic for %s (consumed by %s)", topic, stage)
			continue
		}
		if stage == "alerter" {
			continue // one consumer per shard group
		}
		if maxReplicas[stage] > p {
			t.Errorf("%s scales to %d replicas but %s has %d partitions: the extra consumers idle on Kafka", stage, maxReplicas[stage], topic, p)
		}
	}
	for _, w := range s.workloads() {
		if w.Kind == "Job" || w.Kind == "CronJob" {
			continue
		}
		covered := false
		for _, pdb := range s.byKind["PodDisruptionBudget"] {
			if SelectorMatches(Get(pdb.Doc, "spec", "selector", "matchLabels"), w.PodLabels()) {
				covered = true
			}
		}
		if !covered {
			t.Errorf("%s/%s has no PodDisruptionBudget", w.Kind, w.Name)
		}
		if !SelectorMatches(Get(w.Doc, "spec", "selector", "matchLabels"), w.PodLabels()) {
			t.Errorf("%s/%s: spec.selector does not match the pod template labels", w.Kind, w.Name)
		}
	}
	for _, svc := range s.byKind["Service"] {
		sel := Get(svc.Doc, "spec", "selector")
		ok := false
		for _, w := range s.workloads() {
			ok = ok || SelectorMatches(sel, w.PodLabels())
		}
		if !ok {
			t.Errorf("Service %s selects no workload", svc.Name)
		}
	}
	if f, ok := s.byKind["Deployment"]["fetcher"]; !ok || Int(f.Doc, "spec", "replicas") < 2 {
		t.Error("fetcher: want a Deployment with >= 2 replicas (leases in JetStream KV)")
	}
	a, ok := s.byKind["StatefulSet"]["alerter"]
	if !ok {
		t.Fatal("alerter: want a StatefulSet (one shard per ordinal)")
	}
	if _, ok := s.byKind["Service"][Str(a.Doc, "spec", "serviceName")]; !ok {
		t.Errorf("alerter: serviceName %q is not a Service", Str(a.Doc, "spec", "serviceName"))
	}
	for _, c := range Maps(a.Doc, "spec", "template", "spec", "containers") {
		env := s.containerEnv(t, a, c)
		if n, _ := strconv.Atoi(env["NEWSFLOW_ALERT_SHARD_COUNT"]); n != Int(a.Doc, "spec", "replicas") {
			t.Errorf("alerter: NEWSFLOW_ALERT_SHARD_COUNT=%q but replicas %d: terms of the missing shards would never alert", env["NEWSFLOW_ALERT_SHARD_COUNT"], Int(a.Doc, "spec", "replicas"))
		}
		idx := false
		for _, e := range Maps(c, "env") {
			if Str(e, "name") == "NEWSFLOW_ALERT_SHARD_INDEX" && strings.Contains(Str(e, "valueFrom", "fieldRef", "fieldPath"), "apps.kubernetes.io/pod-index") {
				idx = true
			}
		}
		if !idx {
			t.Error("alerter: NEWSFLOW_ALERT_SHARD_INDEX must come from the pod-index label (the ordinal)")
		}
		stateMounted := false
		for _, m := range Maps(c, "volumeMounts") {
			stateMounted = stateMounted || Str(m, "mountPath") == env["NEWSFLOW_STATE_DIR"]
		}
		if !stateMounted {
			t.Errorf("alerter: NEWSFLOW_STATE_DIR %q is not a mounted volume (baselines lost on restart)", env["NEWSFLOW_STATE_DIR"])
		}
	}
	// ES: replicas must fit the data nodes, else indices stay yellow.
	cm := s.byKind["ConfigMap"]["newsflow-env"]
	replicas, _ := strconv.Atoi(Str(cm.Doc, "data", "NEWSFLOW_INDEX_REPLICAS"))
	for _, es := range s.byKind["Elasticsearch"] {
		nodes := 0
		for _, ns := range Maps(es.Doc, "spec", "nodeSets") {
			nodes += Int(ns, "count")
		}
		if replicas > nodes-1 {
			t.Errorf("NEWSFLOW_INDEX_REPLICAS=%d needs >= %d Elasticsearch nodes, %s has %d", replicas, replicas+1, es.Name, nodes)
		}
	}
}

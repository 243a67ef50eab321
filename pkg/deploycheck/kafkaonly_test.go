package deploycheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// checkKafkaOnlyEnv reports what in a newsflow container's environment would make a Kafka
// deployment need NATS: another bus, a NATS URL, or a fetcher state store in NATS (resolved
// by the fetcher's own code).
func checkKafkaOnlyEnv(t *testing.T, name string, env map[string]string) {
	t.Helper()
	if env["NEWSFLOW_BUS"] != "kafka" {
		t.Errorf("%s: NEWSFLOW_BUS=%q, want kafka", name, env["NEWSFLOW_BUS"])
	}
	for k, v := range env {
		if strings.Contains(k, "NATS") && v != "" {
			t.Errorf("%s: %s=%s: a Kafka deployment sets no NATS", name, k, v)
		}
		if strings.Contains(strings.ToLower(v), "nats://") {
			t.Errorf("%s: %s=%s points at NATS", name, k, v)
		}
	}
	e := &service.Env{Get: func(k string) string { return env[k] }}
	fc := stages.FetcherConfigFromEnv(e, env["NEWSFLOW_NATS_URL"])
	if err := e.Err(); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	if kind := fc.StoreKind(false); kind != "elasticsearch" {
		t.Errorf("%s: the fetcher's state store resolves to %q with this environment, want elasticsearch", name, kind)
	}
	if strings.Contains(name, "fetcher") && env["NEWSFLOW_ES_URL"] == "" {
		t.Errorf("%s: no NEWSFLOW_ES_URL: the fetcher keeps its state in Elasticsearch on the Kafka bus", name)
	}
}

// TestComposeKafkaVariantNeedsNoNATS: docker-compose.yml with docker-compose.kafka.yml and
// COMPOSE_PROFILES=kafka starts Kafka, no NATS, and every stage on the Kafka bus with nothing
// pointing at NATS; the default file still starts NATS and no Kafka.
func TestComposeKafkaVariantNeedsNoNATS(t *testing.T) {
	base, root := loadCompose(t)
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.kafka.yml"))
	if err != nil {
		t.Fatal(err)
	}
	over, err := ParseCompose(b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := MergeCompose(base, over)
	if err != nil {
		t.Fatal(err)
	}
	if !base.Services["nats"].Enabled() || base.Services["kafka"].Enabled() {
		t.Errorf("docker-compose.yml alone: want NATS started and Kafka not (the default NATS deployment)")
	}
	if c.Services["nats"].Enabled("kafka") || !c.Services["kafka"].Enabled("kafka") {
		t.Errorf("Kafka variant with COMPOSE_PROFILES=kafka: want Kafka started and NATS not")
	}
	n := 0
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if !s.Enabled("kafka") {
			continue
		}
		for _, dep := range sortedKeys(s.DependsOn) {
			if d := s.DependsOn[dep]; !c.Services[dep].Enabled("kafka") && (d.Required == nil || *d.Required) {
				t.Errorf("%s: depends_on %s, which the Kafka variant does not start: set required: false", name, dep)
			}
		}
		if !isNewsflow(s) {
			continue
		}
		n++
		vals := map[string]string{}
		for k := range s.Environment {
			vals[k] = env(s, k)
		}
		checkKafkaOnlyEnv(t, "Kafka variant "+name, vals)
	}
	if n < 6 {
		t.Errorf("Kafka variant: %d newsflow services, want the 5 stages and the setup job", n)
	}
}

// TestK8sKafkaOverlayNeedsNoNATS applies deploy/k8s-kafka's ConfigMap patches to the base
// manifests and checks every newsflow container: the Kafka bus, nothing pointing at NATS, the
// fetcher's state in Elasticsearch. The base keeps the NATS bus.
func TestK8sKafkaOverlayNeedsNoNATS(t *testing.T) {
	s := loadK8s(t)
	b, err := os.ReadFile(filepath.Join(s.root, "deploy/k8s-kafka/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
		Patches   []struct {
			Target struct{ Kind, Name string } `yaml:"target"`
			Patch  string                      `yaml:"patch"`
		} `yaml:"patches"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	if len(k.Resources) != 1 || k.Resources[0] != "../k8s" {
		t.Fatalf("deploy/k8s-kafka resources %v, want [../k8s]", k.Resources)
	}
	if got := Str(s.byKind["ConfigMap"]["newsflow-env"].Doc, "data", "NEWSFLOW_BUS"); got != "nats" {
		t.Errorf("deploy/k8s: NEWSFLOW_BUS=%q, want nats (the default deployment)", got)
	}
	for _, p := range k.Patches {
		var ops []struct {
			Op, Path string
			Value    any
		}
		if err := yaml.Unmarshal([]byte(p.Patch), &ops); err != nil {
			t.Fatalf("patch of %s: %v", p.Target.Name, err)
		}
		o, ok := s.byKind[p.Target.Kind][p.Target.Name]
		if !ok {
			t.Fatalf("patch target %s/%s is not in deploy/k8s", p.Target.Kind, p.Target.Name)
		}
		o.Doc = applyPatch(t, p.Target.Kind+"/"+p.Target.Name, o.Doc, ops)
		s.byKind[p.Target.Kind][p.Target.Name] = o
		for i := range s.objs {
			if s.objs[i].Kind == o.Kind && s.objs[i].Name == o.Name {
				s.objs[i] = o
			}
		}
	}
	n := 0
	for _, w := range s.workloads() {
		for _, c := range Maps(w.PodSpec(), "containers") {
			if !isNewsflowImage(Str(c, "image")) {
				continue
			}
			n++
			checkKafkaOnlyEnv(t, "deploy/k8s-kafka "+w.Kind+"/"+w.Name, s.containerEnv(t, w, c))
		}
	}
	if n < 6 {
		t.Errorf("deploy/k8s-kafka: %d newsflow containers, want the 5 stages and the setup job", n)
	}
}

// applyPatch applies the JSON patch operations the overlay uses (replace/remove of a
// ConfigMap's /data/<KEY>, add to the end of the first container's env) to a copy of doc;
// any other operation fails the test, as would one kustomize rejects.
func applyPatch(t *testing.T, what string, doc map[string]any, ops []struct {
	Op, Path string
	Value    any
}) map[string]any {
	t.Helper()
	var out map[string]any
	b, _ := yaml.Marshal(doc)
	if err := yaml.Unmarshal(b, &out); err != nil { // a deep copy
		t.Fatal(err)
	}
	for _, op := range ops {
		if key, ok := strings.CutPrefix(op.Path, "/data/"); ok && !strings.Contains(key, "/") {
			data, _ := out["data"].(map[string]any)
			_, had := data[key]
			switch {
			case op.Op == "remove" && had:
				delete(data, key)
			case op.Op == "replace" && had, op.Op == "add" && data != nil:
				data[key] = op.Value
			default:
				t.Fatalf("patch of %s: %s %s: kustomize would fail (key present: %v)", what, op.Op, op.Path, had)
			}
			continue
		}
		if op.Op == "add" && op.Path == "/spec/template/spec/containers/0/env/-" {
			cs, _ := Get(out, "spec", "template", "spec", "containers").([]any)
			if len(cs) == 0 {
				t.Fatalf("patch of %s: no containers", what)
			}
			c := cs[0].(map[string]any)
			env, _ := c["env"].([]any)
			c["env"] = append(env, op.Value)
			continue
		}
		t.Fatalf("patch of %s: %s %s: not an operation this check reads", what, op.Op, op.Path)
	}
	return out
}

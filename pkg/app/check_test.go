package app

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/internal/testenv"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCheck runs `newsflow check args...` with env as the whole environment.
func runCheck(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	old := environ
	environ = func() []string {
		var kv []string
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	t.Cleanup(func() { environ = old })
	var out, errb bytes.Buffer
	code := Main(append([]string{"check"}, args...), func(k string) string { return env[k] }, nil, &out, &errb)
	return code, out.String() + errb.String()
}

// TestCheckFindsEveryProblem: invalid settings, sources and rules are all listed (with
// lines) and exit 2 without contacting a server; a secret's value is never printed.
func TestCheckFindsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	goodSources := writeFile(t, dir, "good.yaml", "sources:\n  - url: https://example.com/feed.xml\n    language: en\n")
	badSources := writeFile(t, dir, "bad.yaml", "sources:\n  - url: https://example.com/feed.xml\n    langauge: en\n  - url: not a url\n")
	badURLs := writeFile(t, dir, "urls.yaml", "sources:\n  - name: ok\n    url: https://example.com/feed\n  - name: b\n    url: notaurl\n"+
		"  - name: c\n    url: ftp://x.example/feed\n  - url: \"http://\"\n  - url: \"https://exa mple.com/\"\n  - url: /feed.xml\n  - name: none\n")
	goodRules := writeFile(t, dir, "rules.yaml", "rules:\n  - id: spikes\n    type: spike\n")
	badRules := writeFile(t, dir, "badrules.yaml", "rules:\n  - id: a\n    type: spike\n    min_cout: 3\n  - id: a\n    type: spike\n  - id: b\n    type: nope\n")
	const secret = "https://hooks.example/s3cr3t"
	closed := closedAddr(t)
	offline := map[string]string{"NEWSFLOW_NATS_URL": "nats://" + closed, "NEWSFLOW_ES_URL": "http://" + closed}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range offline {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"valid offline", offline, []string{"--offline", "--sources", goodSources, "--rules", goodRules}, 0,
			[]string{"ok      configuration", "1 sources in", "1 rules in", "skipped bus            --offline"}},
		{"bad settings", with("NEWSFLOW_CONCURRENCY", "0", "NEWSFLOW_ACK_WAIT", "soon", "NEWSFLOW_FETCH_WORKRES", "2", "NEWSFLOW_INDEX_REFRESH", "later"), nil, 2,
			[]string{"NEWSFLOW_CONCURRENCY=0: want 1..1024", `NEWSFLOW_ACK_WAIT="soon": not a duration`, "NEWSFLOW_FETCH_WORKRES: not a newsflow setting",
				"refresh \"later\"", "skipped bus            the configuration is invalid"}},
		{"bad sources", offline, []string{"--sources", badSources}, 2,
			[]string{"FAILED  sources", `url "not a url" must be absolute`}},
		{"invalid source URLs", offline, []string{"--offline", "--sources", badURLs}, 2,
			[]string{"FAILED  sources        6 problem(s)", `line 4: source #2: source "b": url "notaurl" must be absolute http(s)`,
				`line 6: source #3: source "c": url "ftp://x.example/feed" must be absolute`, `line 8: source #4: source "": url "http://" must be absolute`,
				`line 9: source #5: source "": url "https://exa mple.com/" must be absolute`, `line 10: source #6: source "": url "/feed.xml" must be absolute`,
				`line 11: source #7: source "none": url "" must be absolute`}},
		{"bad rules", offline, []string{"--rules", badRules}, 2,
			[]string{"line 4: field min_cout not found", `line 5: rule "a": duplicate id (first at line 2)`, `line 7: rule "b": unknown type "nope"`}},
		{"rules from the environment", with("NEWSFLOW_ALERT_RULES", badRules), nil, 2, []string{"FAILED  rules          3 problem(s)"}},
		{"missing sources file", offline, []string{"--sources", filepath.Join(dir, "nope.yaml")}, 2, []string{"no such file"}},
		{"secret set twice", with("NEWSFLOW_ALERT_WEBHOOKS", secret, "NEWSFLOW_ALERT_WEBHOOKS_FILE", writeFile(t, dir, "hook", secret+"\n")), nil, 2,
			[]string{"NEWSFLOW_ALERT_WEBHOOKS and NEWSFLOW_ALERT_WEBHOOKS_FILE are both set"}},
		{"servers unreachable", with("NEWSFLOW_ES_URL", "http://elastic:pw-s3cr3t@"+closed), []string{"--timeout", "5s"}, 1,
			[]string{"FAILED  bus            nats nats://" + closed, "FAILED  elasticsearch  http://elastic:REDACTED@" + closed}},
		{"bad flag", offline, []string{"--bogus"}, 2, []string{"unknown flag: --bogus"}},
		{"help", offline, []string{"--help"}, 0, []string{"Exit status: 0 all ok; 2 invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCheck(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "s3cr3t") {
				t.Errorf("output shows a secret:\n%s", out)
			}
		})
	}
}

// TestCheckRealServers: against the dev stack's NATS, Kafka and Elasticsearch every item is
// ok (each server required in CI).
func TestCheckRealServers(t *testing.T) {
	es := testenv.Server(t, "NEWSFLOW_ES_URL")
	for _, tt := range []struct {
		bus, env, want string
	}{
		{"nats", "NEWSFLOW_NATS_URL", "JetStream enabled"},
		{"kafka", "NEWSFLOW_KAFKA_BROKERS", "connected"},
	} {
		t.Run(tt.bus, func(t *testing.T) {
			env := map[string]string{"NEWSFLOW_BUS": tt.bus, tt.env: testenv.Server(t, tt.env), "NEWSFLOW_ES_URL": es}
			code, out := runCheck(t, env)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			for _, w := range []string{"ok      bus            " + tt.bus, tt.want, "ok      elasticsearch", "cluster "} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

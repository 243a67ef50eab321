package stages_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestNoSecretInOutput plants a distinct secret in every secret-bearing setting (the NATS URL's
// password and token, the fetcher's state-store NATS URL, the Elasticsearch URL's password,
// webhook and Slack webhook URLs, NEWSFLOW_NATS_PASSWORD/TOKEN/NKEY_SEED_FILE,
// NEWSFLOW_KAFKA_SASL_PASSWORD, NEWSFLOW_ES_PASSWORD/API_KEY, NEWSFLOW_API_TOKEN, directly and
// as _FILE; the secured servers of deploy/local/secure.sh when their variables are set), drives start-up, connect failures, wrong credentials and
// normal work of the stages on the real servers, and checks that no byte of what they wrote
// (every log line at debug level, every returned error, /metrics, /readyz, /healthz) holds one.
func TestNoSecretInOutput(t *testing.T) {
	esURL := requireServer(t, "NEWSFLOW_ES_URL")
	brokers := requireServer(t, "NEWSFLOW_KAFKA_BROKERS")
	es, err := url.Parse(esURL)
	if err != nil {
		t.Fatal(err)
	}
	dialable(t, "NEWSFLOW_ES_URL", es.Host)

	secrets := map[string]string{}
	secret := func(name string) string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		s := "S3cr" + name + hex.EncodeToString(b[:])
		secrets[name] = s
		return s
	}
	natsToken := secret("NatsToken")
	natsPass := secret("NatsPass")
	natsWrongPass := secret("NatsWrongPass")
	natsWrongToken := secret("NatsWrongToken")
	natsDownPass := secret("NatsDownPass")
	natsDownToken := secret("NatsDownToken")
	stateToken := secret("StateToken")
	esPass := secret("EsPass")
	esDownPass := secret("EsDownPass")
	esDeniedPass := secret("EsDeniedPass")
	hookPath := secret("HookPath")
	slackPath := secret("SlackPath")
	badHookPath := secret("BadHookPath")
	badSlackPath := secret("BadSlackPath")
	hookQuery := secret("HookQuery")

	out := &syncBuffer{}
	enc := zap.NewProductionEncoderConfig()
	log := zap.New(zapcore.NewTee(
		zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(out), zapcore.DebugLevel),
		zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(out), zapcore.DebugLevel),
	), zap.AddStacktrace(zapcore.ErrorLevel))
	record := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n%+v\n%s\n", what, err, err, err.Error())
		}
	}
	closed := closedPort(t)
	natsAuth := authNATS(t, &natsserver.Options{Authorization: natsToken, JetStream: true, StoreDir: t.TempDir()})
	natsUser := authNATS(t, &natsserver.Options{Username: "newsflow", Password: natsPass})
	cfgFor := func(name string) service.Config {
		cfg := service.DefaultConfig(name)
		cfg.HTTPAddr = "127.0.0.1:0"
		cfg.ShutdownTimeout = 10 * time.Second
		return cfg
	}

	// Connect failures and wrong credentials, NATS.
	for _, u := range []string{
		"nats://newsflow:" + natsDownPass + "@127.0.0.1:" + closed,
		"nats://" + natsDownToken + "@127.0.0.1:" + closed,
		"nats://newsflow:" + natsWrongPass + "@" + natsUser,
		"nats://" + natsWrongToken + "@" + natsAuth,
		"nats://127.0.0.1:" + closed + ",nats://" + natsDownToken + "@127.0.0.1:" + closed,
	} {
		cfg := cfgFor("secrets")
		cfg.NATSURL = u
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b, err := service.OpenBus(ctx, cfg, log)
		cancel()
		if err == nil {
			_ = b.Close()
			t.Errorf("bus at %s: connected, want an error", u)
		}
		record("open bus", err)
	}
	// The right password (the server has no JetStream: the bus is only opened and closed).
	{
		cfg := cfgFor("secrets")
		cfg.NATSURL = "nats://newsflow:" + natsPass + "@" + natsUser
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b, err := service.OpenBus(ctx, cfg, log)
		cancel()
		record("open bus with password", err)
		if err == nil {
			_ = b.Close()
		}
	}

	// The fetcher's state store over NATS (used when the bus is Kafka), unreachable.
	{
		cfg := cfgFor("fetcher")
		cfg.Bus, cfg.KafkaBrokers = "kafka", strings.Split(brokers, ",")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		b, err := service.OpenBus(ctx, cfg, log)
		if err != nil {
			cancel()
			t.Fatalf("kafka bus: %v", err)
		}
		rt := service.New(cfg, log)
		fcfg := stages.FetcherConfigFromEnv(&service.Env{Get: func(string) string { return "" }}, "nats://"+stateToken+"@127.0.0.1:"+closed)
		fcfg.Store = "nats" // with Kafka the default is Elasticsearch
		_, err = stages.AddFetcher(ctx, stages.Common{RT: rt, Bus: b}, fcfg, nil)
		cancel()
		if err == nil {
			t.Error("fetcher with an unreachable state store started")
		}
		record("fetcher", err)
		_ = b.Close()
	}

	// Elasticsearch unreachable, and refusing the credentials.
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [%s]"},"status":401}`, r.URL.Path)
	}))
	defer denied.Close()
	deniedURL, _ := url.Parse(denied.URL)
	for _, u := range []string{
		"http://elastic:" + esDownPass + "@127.0.0.1:" + closed,
		"http://elastic:" + esDeniedPass + "@" + deniedURL.Host,
	} {
		rt := service.New(cfgFor("indexer"), log)
		icfg := stages.IndexerConfigFromEnv(&service.Env{Get: func(string) string { return "" }}, u)
		icfg.Index.Setup.Names.Prefix = "secrets" + strings.ToLower(uniquePrefix()[1:7])
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := stages.AddIndexer(ctx, stages.Common{RT: rt}, icfg)
		cancel()
		if err == nil {
			t.Errorf("indexer on %s started", u)
		}
		record("indexer", err)
	}

	// Alerter start-up with webhook URLs that are not http(s).
	for _, env := range []map[string]string{
		{"NEWSFLOW_ALERT_WEBHOOKS": "htps://alerts.example.com/notify/" + badHookPath},
		{"NEWSFLOW_ALERT_SLACK_WEBHOOKS": "hxxps://hooks.slack.com/services/T0/B0/" + badSlackPath},
	} {
		e := &service.Env{Get: func(k string) string { return env[k] }}
		c := stages.AlerterConfigFromEnv(e)
		if err := e.Err(); err != nil {
			t.Fatal(err)
		}
		_, err := stages.AddAlerter(stages.Common{RT: service.New(cfgFor("alerter"), log)}, c)
		if err == nil {
			t.Error("alerter with a bad webhook URL started")
		}
		record("alerter", err)
	}

	// Webhooks failing at work: a closed port, and an endpoint answering 404 and 500.
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.Contains(r.URL.Path, "slack") {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		http.NotFound(w, r)
	}))
	defer hooks.Close()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	for _, wc := range []alert.WebhookConfig{
		{Name: "webhook-0", URL: "http://127.0.0.1:" + closed + "/notify/" + hookPath + "?token=" + hookQuery},
		{Name: "webhook-1", URL: hooks.URL + "/notify/" + hookPath},
		{Name: "slack-0", URL: hooks.URL + "/slack/services/T0/B0/" + slackPath, Format: alert.FormatSlack},
	} {
		wc.Retries, wc.Backoff, wc.Timeout = 1, 10*time.Millisecond, 2*time.Second
		n, err := alert.NewWebhookNotifier(wc, client)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Notify(context.Background(), &article.Alert{RuleID: "r", Term: "volcano", Status: alert.StatusFiring})
		if err == nil {
			t.Errorf("%s: notify succeeded", wc.Name)
		}
		record("notify", err)
	}

	// Normal work: indexer (Elasticsearch URL with a password) and alerter (webhooks with
	// secret paths) on a NATS bus whose URL holds the token, running with /metrics served.
	{
		cfg := cfgFor("secrets")
		cfg.NATSURL = "nats://" + natsToken + "@" + natsAuth
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		b, err := service.OpenBus(ctx, cfg, log)
		if err != nil {
			t.Fatalf("bus with the right token: %v", err)
		}
		rt := service.New(cfg, log)
		rt.OnStop(func() { _ = b.Close() })
		c := stages.Common{RT: rt, Bus: b, State: service.StateDir(t.TempDir())}
		withPass := *es
		withPass.User = url.UserPassword("elastic", esPass)
		icfg := stages.IndexerConfigFromEnv(&service.Env{Get: func(string) string { return "" }}, withPass.String())
		icfg.Index.Setup.Names.Prefix = "secrets" + strings.ToLower(uniquePrefix()[1:7])
		t.Cleanup(func() { deleteTemplates(t, esURL, icfg.Index.Setup) })
		if _, err := stages.AddIndexer(ctx, c, icfg); err != nil {
			_ = b.Close()
			t.Fatalf("indexer: %v", err)
		}
		acfg := stages.AlerterConfigFromEnv(&service.Env{Get: func(k string) string {
			switch k {
			case "NEWSFLOW_ALERT_WEBHOOKS":
				return hooks.URL + "/notify/" + hookPath + "?token=" + hookQuery
			case "NEWSFLOW_ALERT_SLACK_WEBHOOKS":
				return "https://hooks.slack.com/services/T0/B0/" + slackPath
			}
			return ""
		}})
		if _, err := stages.AddAlerter(c, acfg); err != nil {
			_ = b.Close()
			t.Fatalf("alerter: %v", err)
		}
		done := make(chan error, 1)
		rctx, stop := context.WithCancel(context.Background())
		go func() { done <- rt.Run(rctx) }()
		deadline := time.Now().Add(30 * time.Second)
		for rt.Addr() == "" && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		for _, p := range []string{"/metrics", "/readyz", "/healthz"} {
			res, err := http.Get("http://" + rt.Addr() + p)
			if err != nil {
				t.Errorf("GET %s: %v", p, err)
				continue
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			fmt.Fprintf(out, "GET %s: %s\n%s\n", p, res.Status, body)
		}
		http.DefaultClient.CloseIdleConnections()
		stop()
		record("run", <-done)
	}

	// The credential variables (NEWSFLOW_NATS_*, NEWSFLOW_KAFKA_SASL_*, NEWSFLOW_ES_*,
	// NEWSFLOW_API_TOKEN), each holding its own secret, directly and as _FILE: wrong
	// credentials, unreachable servers, a server without SASL, unparsable files, both set.
	{
		secretFile := func(v string) string {
			f := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(f, []byte(v+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return f
		}
		envPass, envToken := secret("EnvNatsPass"), secret("EnvNatsToken")
		envSeed, envKafka, envKafkaFile := secret("EnvNkeySeed"), secret("EnvKafkaPass"), secret("EnvKafkaPassFile")
		envESPass, envESKey, envAPI := secret("EnvEsPass"), secret("EnvEsApiKey"), secret("EnvApiToken")
		envESKeyFile := secret("EnvEsApiKeyFile")
		deniedHost := deniedURL.Host
		cases := []map[string]string{
			{"NEWSFLOW_NATS_URL": "nats://" + natsUser, "NEWSFLOW_NATS_USER": "newsflow", "NEWSFLOW_NATS_PASSWORD": envPass},
			{"NEWSFLOW_NATS_URL": "nats://" + natsUser, "NEWSFLOW_NATS_USER": "newsflow", "NEWSFLOW_NATS_PASSWORD_FILE": secretFile(envPass)},
			{"NEWSFLOW_NATS_URL": "nats://" + natsAuth, "NEWSFLOW_NATS_TOKEN": envToken},
			{"NEWSFLOW_NATS_URL": "nats://127.0.0.1:" + closed, "NEWSFLOW_NATS_TOKEN_FILE": secretFile(envToken)},
			{"NEWSFLOW_NATS_URL": "nats://" + natsUser, "NEWSFLOW_NATS_NKEY_SEED_FILE": secretFile("SU" + envSeed)},
			{"NEWSFLOW_NATS_URL": "tls://127.0.0.1:" + closed, "NEWSFLOW_NATS_TOKEN": envToken, "NEWSFLOW_NATS_TOKEN_FILE": secretFile(envToken)},
			{"NEWSFLOW_BUS": "kafka", "NEWSFLOW_KAFKA_BROKERS": brokers, "NEWSFLOW_KAFKA_SASL_MECHANISM": "PLAIN",
				"NEWSFLOW_KAFKA_SASL_USERNAME": "newsflow", "NEWSFLOW_KAFKA_SASL_PASSWORD": envKafka},
			{"NEWSFLOW_BUS": "kafka", "NEWSFLOW_KAFKA_BROKERS": "127.0.0.1:" + closed, "NEWSFLOW_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
				"NEWSFLOW_KAFKA_SASL_USERNAME": "newsflow", "NEWSFLOW_KAFKA_SASL_PASSWORD_FILE": secretFile(envKafkaFile), "NEWSFLOW_KAFKA_TLS": "true"},
		}
		if sb := os.Getenv("NEWSFLOW_TEST_SECURE_KAFKA_BROKERS"); sb != "" { // the SASL_SSL listener of secure.sh
			cases = append(cases, map[string]string{"NEWSFLOW_BUS": "kafka", "NEWSFLOW_KAFKA_BROKERS": sb, "NEWSFLOW_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
				"NEWSFLOW_KAFKA_SASL_USERNAME": "newsflow-scram", "NEWSFLOW_KAFKA_SASL_PASSWORD": envKafka,
				"NEWSFLOW_KAFKA_TLS_CA_FILE": os.Getenv("NEWSFLOW_TEST_SECURE_CA_FILE")})
		}
		if su := os.Getenv("NEWSFLOW_TEST_SECURE_NATS_URL"); su != "" { // TLS + accounts of secure.sh
			cases = append(cases, map[string]string{"NEWSFLOW_NATS_URL": su, "NEWSFLOW_NATS_USER": "newsflow", "NEWSFLOW_NATS_PASSWORD": envPass,
				"NEWSFLOW_NATS_TLS_CA_FILE": os.Getenv("NEWSFLOW_TEST_SECURE_CA_FILE")})
		}
		for _, env := range cases {
			cfg, err := service.LoadConfig("secrets", func(k string) string { return env[k] })
			record("config", err)
			if err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			b, err := service.OpenBus(ctx, cfg, log)
			cancel()
			if err == nil {
				_ = b.Close()
				t.Errorf("bus %v: connected, want an error", env["NEWSFLOW_NATS_URL"]+env["NEWSFLOW_KAFKA_BROKERS"])
			}
			record("open bus", err)
		}
		// Elasticsearch refusing an API key and a password, unreachable with both as files.
		for _, env := range []map[string]string{
			{"NEWSFLOW_ES_API_KEY": "keyid:" + envESKey},
			{"NEWSFLOW_ES_USERNAME": "elastic", "NEWSFLOW_ES_PASSWORD": envESPass},
			{"NEWSFLOW_ES_API_KEY_FILE": secretFile(envESKeyFile), "down": "1"},
			{"NEWSFLOW_ES_USERNAME": "elastic", "NEWSFLOW_ES_PASSWORD_FILE": secretFile(envESPass), "down": "1"},
		} {
			cfg, err := service.LoadConfig("indexer", func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			cfg.HTTPAddr, cfg.ShutdownTimeout = "127.0.0.1:0", 10*time.Second
			u := "http://" + deniedHost
			if env["down"] != "" {
				u = "http://127.0.0.1:" + closed
			}
			icfg := stages.IndexerConfigFromEnv(&service.Env{Get: func(string) string { return "" }}, u)
			icfg.Index.Setup.Names.Prefix = "secrets" + strings.ToLower(uniquePrefix()[1:7])
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_, err = stages.AddIndexer(ctx, stages.Common{RT: service.New(cfg, log)}, icfg)
			cancel()
			if err == nil {
				t.Errorf("indexer on %s with %v started", u, env)
			}
			record("indexer", err)
		}
		// The API token: requests with a wrong one and without, answered 401.
		cfg, err := service.LoadConfig("fetcher", func(k string) string {
			return map[string]string{"NEWSFLOW_API_TOKEN_FILE": secretFile(envAPI), "NEWSFLOW_HTTP_ADDR": "127.0.0.1:0"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		rt := service.New(cfg, log)
		rt.Handle("/v1/urls", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- rt.Run(rctx) }()
		for deadline := time.Now().Add(30 * time.Second); rt.Addr() == "" && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + envAPI} {
			req, _ := http.NewRequest(http.MethodPost, "http://"+rt.Addr()+"/v1/urls", strings.NewReader("{}"))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			fmt.Fprintf(out, "POST /v1/urls: %s\n%s\n", res.Status, body)
			if want := map[bool]int{true: http.StatusAccepted, false: http.StatusUnauthorized}[strings.HasSuffix(auth, envAPI)]; res.StatusCode != want {
				t.Errorf("POST /v1/urls with %q: %d, want %d", strings.ReplaceAll(auth, envAPI, "<token>"), res.StatusCode, want)
			}
		}
		http.DefaultClient.CloseIdleConnections()
		stop()
		record("run", <-done)
	}

	text := out.String()
	if !strings.Contains(text, "nats connected") || !strings.Contains(text, "newsflow_indexer_es_up") {
		t.Fatalf("the capture misses the start-up log or /metrics:\n%s", text)
	}
	for name, s := range secrets {
		for i := 0; ; {
			j := strings.Index(text[i:], s)
			if j < 0 {
				break
			}
			j += i
			lo, hi := max(0, j-160), min(len(text), j+len(s)+40)
			t.Errorf("secret %s shows in the output: …%s…", name, strings.ReplaceAll(text[lo:hi], "\n", "⏎"))
			i = j + len(s)
		}
	}
	if t.Failed() {
		t.Logf("%d bytes of output checked", len(text))
	}
}

// authNATS starts an in-process nats-server with opts' authentication on a random loopback
// port and returns its host:port.
func authNATS(t *testing.T, opts *natsserver.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	srv, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.Addr().String()
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// deleteTemplates removes what index.Setup installed for cfg (and the indices it created).
func deleteTemplates(t *testing.T, esURL string, cfg index.SetupConfig) {
	reqs := index.Templates(cfg)
	paths := []string{"/" + cfg.Names.Prefix + "-*"}
	for i := len(reqs) - 1; i >= 0; i-- {
		if !strings.ContainsAny(reqs[i].Path, "*?") {
			paths = append(paths, reqs[i].Path)
		}
	}
	for _, p := range paths {
		req, _ := http.NewRequest(http.MethodDelete, esURL+p, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Logf("cleanup %s: %v", p, err)
			continue
		}
		res.Body.Close()
	}
	http.DefaultClient.CloseIdleConnections()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Sync() error { return nil }

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

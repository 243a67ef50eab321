package natsbus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/internal/securetest"
	"github.com/newsflow/newsflow/pkg/service"
)

// secureEnv is the environment of a service talking to the secured NATS of
// deploy/local/secure.sh with user/password over TLS (the test CA); extra entries are added
// (an empty value removes a variable).
func secureEnv(t testing.TB, extra map[string]string) map[string]string {
	t.Helper()
	url := securetest.Var(t, "NATS_URL")
	securetest.Dialable(t, url)
	env := map[string]string{
		"NEWSFLOW_BUS":                "nats",
		"NEWSFLOW_NATS_URL":           url,
		"NEWSFLOW_NATS_USER":          securetest.Var(t, "NATS_USER"),
		"NEWSFLOW_NATS_PASSWORD_FILE": securetest.Var(t, "NATS_PASSWORD_FILE"),
		"NEWSFLOW_NATS_TLS_CA_FILE":   securetest.Var(t, "CA_FILE"),
	}
	for k, v := range extra {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

// TestConformanceNATSSecure runs the shared suite once over TLS with user/password
// authentication against the secured nats-server (the connection options built by
// pkg/service from NEWSFLOW_NATS_*, as every service builds them).
func TestConformanceNATSSecure(t *testing.T) {
	cfg, err := service.LoadConfig("bustest", securetest.Getenv(secureEnv(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	base, err := service.NATSBusConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	probe, err := natsbus.New(ctx, base, zap.NewNop())
	if err != nil {
		t.Fatalf("secured NATS: %v", err)
	}
	t.Cleanup(func() { _ = probe.Close() })
	prefix := "BTS" + strings.ToUpper(time.Now().Format("150405"))
	bustest.Run(t, bustest.Factory{
		New: func(t testing.TB) (bus.Bus, error) {
			c := base
			c.StreamPrefix, c.ReconnectWait, c.ConnectName = prefix, 100*time.Millisecond, "bustest-secure"
			c.MaxBytes = 64 << 20 // as in factory: the suite's streams must fit JetStream's budget
			return natsbus.New(context.Background(), c, testLogger(t))
		},
		Cleanup: func(t testing.TB, _ []string) {
			names := probe.JetStream().StreamNames(ctx)
			for n := range names.Name() {
				if strings.HasPrefix(n, prefix+"_") {
					if err := probe.JetStream().DeleteStream(ctx, n); err != nil {
						t.Errorf("cleanup: delete stream %s: %v", n, err)
					}
				}
			}
		},
		Timeout: 15 * time.Second,
		AckWait: time.Second,
	})
}

// TestNATSSecureMechanisms connects with every supported mechanism, and with wrong settings
// checks the one-line error: it names the server, the mechanism and what failed, carries no
// secret, and is a *service.ConnError (services exit 2 on it).
func TestNATSSecureMechanisms(t *testing.T) {
	password := securetest.Read(t, "NATS_PASSWORD_FILE")
	token := securetest.Read(t, "NATS_TOKEN_FILE")
	mtlsURL := securetest.Var(t, "NATS_MTLS_URL")
	mtls := map[string]string{
		"NEWSFLOW_NATS_URL": mtlsURL, "NEWSFLOW_NATS_USER": "", "NEWSFLOW_NATS_PASSWORD_FILE": "",
		"NEWSFLOW_NATS_TOKEN_FILE":    securetest.Var(t, "NATS_TOKEN_FILE"),
		"NEWSFLOW_NATS_TLS_CERT_FILE": securetest.Var(t, "CLIENT_CERT_FILE"),
		"NEWSFLOW_NATS_TLS_KEY_FILE":  securetest.Var(t, "CLIENT_KEY_FILE"),
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; nil: connects and round-trips a message
	}{
		{name: "user password TLS", env: nil},
		{name: "nkey seed file TLS", env: map[string]string{"NEWSFLOW_NATS_USER": "", "NEWSFLOW_NATS_PASSWORD_FILE": "",
			"NEWSFLOW_NATS_NKEY_SEED_FILE": securetest.Var(t, "NATS_NKEY_SEED_FILE")}},
		{name: "token mTLS", env: mtls},
		{name: "password as a variable", env: map[string]string{"NEWSFLOW_NATS_PASSWORD_FILE": "", "NEWSFLOW_NATS_PASSWORD": password}},
		{name: "wrong password", env: map[string]string{"NEWSFLOW_NATS_PASSWORD_FILE": "", "NEWSFLOW_NATS_PASSWORD": "wrong-" + password},
			want: []string{"nats tls://", "credentials rejected", `user/password (user "newsflow")`}},
		{name: "wrong token", env: with(mtls, "NEWSFLOW_NATS_TOKEN_FILE", "", "NEWSFLOW_NATS_TOKEN", "wrong-"+token),
			want: []string{"credentials rejected", "token"}},
		{name: "no CA: untrusted certificate", env: map[string]string{"NEWSFLOW_NATS_TLS_CA_FILE": ""},
			want: []string{"nats tls://", "server certificate not trusted", "system CAs"}},
		{name: "other CA: untrusted certificate", env: map[string]string{"NEWSFLOW_NATS_TLS_CA_FILE": securetest.Var(t, "OTHER_CA_FILE")},
			want: []string{"server certificate not trusted", "other-ca.pem"}},
		{name: "mTLS server without a client certificate", env: with(mtls, "NEWSFLOW_NATS_TLS_CERT_FILE", "", "NEWSFLOW_NATS_TLS_KEY_FILE", ""),
			want: []string{"nats tls://", "TLS handshake failed", "token"}},
		{name: "no credentials", env: map[string]string{"NEWSFLOW_NATS_USER": "", "NEWSFLOW_NATS_PASSWORD_FILE": ""},
			want: []string{"credentials rejected", "no credentials"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := service.LoadConfig("securetest", securetest.Getenv(secureEnv(t, tc.env)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			b, err := service.OpenBus(ctx, cfg, testLogger(t))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("OpenBus: %v", err)
				}
				defer b.Close()
				roundTrip(t, b)
				return
			}
			if err == nil {
				b.Close()
			}
			securetest.CheckFailure(t, err, tc.want, []string{password, token})
			if !service.IsConnError(err) {
				t.Errorf("error is not a ConnError: %v", err)
			}
		})
	}
}

// TestNATSSecureMissingFile: a settings file that does not exist is a configuration error
// naming the variable, before anything connects.
func TestNATSSecureMissingFile(t *testing.T) {
	tests := []struct{ name, key string }{
		{"nkey seed", "NEWSFLOW_NATS_NKEY_SEED_FILE"},
		{"CA", "NEWSFLOW_NATS_TLS_CA_FILE"},
		{"password file", "NEWSFLOW_NATS_PASSWORD_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"NEWSFLOW_NATS_URL": "tls://127.0.0.1:1", tc.key: "/nonexistent/newsflow-secret"}
			if tc.key == "NEWSFLOW_NATS_NKEY_SEED_FILE" {
				env["NEWSFLOW_NATS_USER"] = ""
			} else {
				env["NEWSFLOW_NATS_USER"] = "u"
			}
			_, err := service.LoadConfig("securetest", securetest.Getenv(env))
			if err == nil || !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), "no such file") {
				t.Fatalf("LoadConfig error = %v; want one naming %s and the missing file", err, tc.key)
			}
		})
	}
}

// roundTrip publishes one message on a fresh subject and consumes it.
func roundTrip(t *testing.T, b bus.Bus) {
	t.Helper()
	subject := "secure.rt." + strings.ToLower(strings.NewReplacer(" ", "", ":", "").Replace(t.Name()[strings.LastIndex(t.Name(), "/")+1:])) + time.Now().Format("150405.000")
	subject = strings.ReplaceAll(subject, ".000", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Publish(ctx, subject, bus.Outgoing{Key: "k", Data: []byte("hello")}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	got := make(chan string, 1)
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, subject, bus.ConsumeOptions{Group: "rt", Stage: "rt", AckWait: 5 * time.Second}.Defaults(), func(_ context.Context, m bus.Message) error {
			select {
			case got <- string(m.Data()):
			default:
			}
			return nil
		})
	}()
	select {
	case s := <-got:
		if s != "hello" {
			t.Errorf("got %q", s)
		}
	case <-ctx.Done():
		t.Error("no message within 20s")
	}
	ccancel()
	<-done
	if nb, ok := b.(*natsbus.Bus); ok {
		_ = nb.JetStream().DeleteStream(context.Background(), natsbus.StreamName("NEWSFLOW", subject))
	}
}

package kafkabus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/internal/securetest"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"github.com/newsflow/newsflow/pkg/service"
)

// secureEnv is the environment of a service talking to the SASL_SSL listener of the secured
// Kafka of deploy/local/secure.sh with SCRAM-SHA-512 over TLS (the test CA); extra entries
// are added (an empty value removes a variable).
func secureEnv(t testing.TB, extra map[string]string) map[string]string {
	t.Helper()
	brokers := securetest.Var(t, "KAFKA_BROKERS")
	securetest.Dialable(t, brokers)
	env := map[string]string{
		"NEWSFLOW_BUS":                            "kafka",
		"NEWSFLOW_KAFKA_BROKERS":                  brokers,
		"NEWSFLOW_KAFKA_SASL_MECHANISM":           "SCRAM-SHA-512",
		"NEWSFLOW_KAFKA_SASL_USERNAME":            securetest.Var(t, "KAFKA_SCRAM_USER"),
		"NEWSFLOW_KAFKA_SASL_PASSWORD_FILE":       securetest.Var(t, "KAFKA_SCRAM_PASSWORD_FILE"),
		"NEWSFLOW_KAFKA_TLS_CA_FILE":              securetest.Var(t, "CA_FILE"),
		"NEWSFLOW_KAFKA_REPLICATION_FACTOR":       "1",
		"NEWSFLOW_KAFKA_PARTITIONS":               "3",
		"NEWSFLOW_KAFKA_TLS_INSECURE_SKIP_VERIFY": "",
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

// TestConformanceKafkaSecure runs the shared suite once over SASL_SSL (SCRAM-SHA-512, TLS
// with the test CA) against the secured broker, with the connection settings pkg/service
// builds from NEWSFLOW_KAFKA_*, as every service builds them. Topics are deleted at the end
// through the broker's plaintext listener.
func TestConformanceKafkaSecure(t *testing.T) {
	cfg, err := service.LoadConfig("bustest", securetest.Getenv(secureEnv(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	base, err := service.KafkaBusConfig(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	base.ClientID, base.SessionTimeout, base.RebalanceTimeout = "newsflow-test-secure", 6*time.Second, 10*time.Second
	plaintext := strings.Split(securetest.Var(t, "KAFKA_PLAINTEXT_BROKERS"), ",")
	log := testenv.Logger()
	bustest.Run(t, bustest.Factory{
		New: func(t testing.TB) (bus.Bus, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return kafkabus.New(ctx, base, log)
		},
		Cleanup: func(t testing.TB, prefixes []string) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dotted := make([]string, len(prefixes))
			for i, p := range prefixes {
				dotted[i] = p + "."
			}
			if _, err := kafkabus.DeleteTopicsWithPrefix(ctx, plaintext, dotted...); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		},
		Timeout: 30 * time.Second,
	})
}

// TestKafkaSecureMechanisms connects with each SASL mechanism over TLS (and with a client
// certificate), and with wrong settings checks the one-line error: it names the brokers, the
// mechanism and what failed, carries no secret, and is a *service.ConnError.
func TestKafkaSecureMechanisms(t *testing.T) {
	scram := securetest.Read(t, "KAFKA_SCRAM_PASSWORD_FILE")
	plain := securetest.Read(t, "KAFKA_PLAIN_PASSWORD_FILE")
	plainUser := map[string]string{"NEWSFLOW_KAFKA_SASL_MECHANISM": "PLAIN", "NEWSFLOW_KAFKA_SASL_USERNAME": securetest.Var(t, "KAFKA_PLAIN_USER"),
		"NEWSFLOW_KAFKA_SASL_PASSWORD_FILE": securetest.Var(t, "KAFKA_PLAIN_PASSWORD_FILE")}
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; nil: connects
	}{
		{name: "SCRAM-SHA-512", env: nil},
		{name: "SCRAM-SHA-256", env: map[string]string{"NEWSFLOW_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"}},
		{name: "PLAIN", env: plainUser},
		{name: "SCRAM with a client certificate", env: map[string]string{
			"NEWSFLOW_KAFKA_TLS_CERT_FILE": securetest.Var(t, "CLIENT_CERT_FILE"), "NEWSFLOW_KAFKA_TLS_KEY_FILE": securetest.Var(t, "CLIENT_KEY_FILE")}},
		{name: "insecure skip verify", env: map[string]string{"NEWSFLOW_KAFKA_TLS_CA_FILE": "", "NEWSFLOW_KAFKA_TLS_INSECURE_SKIP_VERIFY": "true"}},
		{name: "wrong SCRAM password", env: map[string]string{"NEWSFLOW_KAFKA_SASL_PASSWORD_FILE": "", "NEWSFLOW_KAFKA_SASL_PASSWORD": "wrong-" + scram},
			want: []string{"kafka 127.0.0.1:", "SASL authentication failed", `SASL SCRAM-SHA-512 (user "newsflow-scram")`}},
		{name: "wrong PLAIN password", env: map[string]string{"NEWSFLOW_KAFKA_SASL_MECHANISM": "PLAIN", "NEWSFLOW_KAFKA_SASL_USERNAME": "newsflow-plain",
			"NEWSFLOW_KAFKA_SASL_PASSWORD_FILE": "", "NEWSFLOW_KAFKA_SASL_PASSWORD": "wrong-" + plain},
			want: []string{"SASL authentication failed", "SASL PLAIN"}},
		{name: "no CA: untrusted certificate", env: map[string]string{"NEWSFLOW_KAFKA_TLS_CA_FILE": "", "NEWSFLOW_KAFKA_TLS": "true"},
			want: []string{"kafka 127.0.0.1:", "server certificate not trusted", "system CAs"}},
		{name: "other CA: untrusted certificate", env: map[string]string{"NEWSFLOW_KAFKA_TLS_CA_FILE": securetest.Var(t, "OTHER_CA_FILE")},
			want: []string{"server certificate not trusted", "other-ca.pem"}},
		{name: "no TLS on a SASL_SSL listener", env: map[string]string{"NEWSFLOW_KAFKA_TLS_CA_FILE": ""},
			want: []string{"kafka 127.0.0.1:", "SASL SCRAM-SHA-512"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := service.LoadConfig("securetest", securetest.Getenv(secureEnv(t, tc.env)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b, err := service.OpenBus(ctx, cfg, zap.NewNop())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("OpenBus: %v", err)
				}
				b.Close()
				return
			}
			if err == nil {
				b.Close()
			}
			securetest.CheckFailure(t, err, tc.want, []string{scram, plain})
			if !service.IsConnError(err) {
				t.Errorf("error is not a ConnError: %v", err)
			}
		})
	}
}

// TestKafkaSecureInsecureWarning: skipping certificate verification is logged as a warning.
func TestKafkaSecureInsecureWarning(t *testing.T) {
	cfg, err := service.LoadConfig("securetest", securetest.Getenv(map[string]string{
		"NEWSFLOW_BUS": "kafka", "NEWSFLOW_KAFKA_TLS_INSECURE_SKIP_VERIFY": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	log := zap.NewExample(zap.Hooks(func(e zapcore.Entry) error {
		if e.Level == zapcore.WarnLevel {
			warned = append(warned, e.Message)
		}
		return nil
	}))
	if _, err := service.KafkaBusConfig(cfg, log); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "INSECURE") {
		t.Fatalf("warnings %q; want one INSECURE warning", warned)
	}
}

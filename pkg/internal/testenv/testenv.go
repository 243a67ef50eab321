// Package testenv holds the one rule newsflow's integration tests follow for real servers —
// the server's env var unset: fail in CI, skip elsewhere; set but unreachable: always fail —
// and the tests' logger. Only _test.go files import it.
package testenv

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Server returns the value of env (NEWSFLOW_NATS_URL, NEWSFLOW_KAFKA_BROKERS,
// NEWSFLOW_ES_URL). Unset, it fails the test when CI is set and skips it otherwise.
func Server(t testing.TB, env string) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(env))
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is not: this integration test is required (make test starts the stack)", env)
		}
		t.Skipf("%s not set (run make stack-up and export what `bash deploy/local/stack.sh env` prints, or use make test)", env)
	}
	return v
}

// Dialable fails the test when addr (host:port) does not accept TCP connections within 3s.
// An unreachable configured server is always a failure: the env var says it exists.
func Dialable(t testing.TB, env, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("%s=%s unreachable: %v", env, addr, err)
	}
	c.Close()
}

// Logger logs warnings (or the NEWSFLOW_TEST_LOG level) to stderr. Not zaptest: actors and
// stuck handlers may log after their test ended.
func Logger() *zap.Logger {
	lvl := zapcore.WarnLevel
	if s := os.Getenv("NEWSFLOW_TEST_LOG"); s != "" {
		_ = lvl.Set(s)
	}
	cfg := zap.NewDevelopmentConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = true
	l, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return l
}

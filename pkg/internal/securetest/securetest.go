// Package securetest gives tests the secured servers of deploy/local/secure.sh: their
// NEWSFLOW_TEST_SECURE_* variables (what `secure.sh env` prints) and environments that point
// newsflow's settings at them. The testenv rule holds: a variable unset fails the test in CI
// and skips it elsewhere; a server that does not answer always fails. Only _test.go files
// import it.
package securetest

import (
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// Var returns NEWSFLOW_TEST_SECURE_<name> (fails in CI, skips elsewhere when unset).
func Var(t testing.TB, name string) string {
	t.Helper()
	key := "NEWSFLOW_TEST_SECURE_" + name
	v := strings.TrimSpace(os.Getenv(key))
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is not: the secured-server tests are required (make test starts deploy/local/secure.sh)", key)
		}
		t.Skipf("%s not set (run bash deploy/local/secure.sh up and eval what `bash deploy/local/secure.sh env` prints, or use make test)", key)
	}
	return v
}

// Dialable fails the test when the host:port of addr (a URL or host:port) does not accept
// TCP connections within 3s.
func Dialable(t testing.TB, addr string) {
	t.Helper()
	hostport := addr
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		hostport = u.Host
	}
	c, err := net.DialTimeout("tcp", hostport, 3*time.Second)
	if err != nil {
		t.Fatalf("secured server %s unreachable: %v", addr, err)
	}
	c.Close()
}

// Getenv returns a getenv over m (nothing else is visible).
func Getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// Read returns the contents of the file NEWSFLOW_TEST_SECURE_<name> names, without the
// trailing newline.
func Read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(Var(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\r\n")
}

// CheckFailure checks a start-up error against a secured server: one line, containing every
// want substring and none of secrets.
func CheckFailure(t testing.TB, err error, want, secrets []string) {
	t.Helper()
	if err == nil {
		t.Fatal("connected; want an error")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans several lines: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error contains a secret: %q", msg)
		}
	}
}

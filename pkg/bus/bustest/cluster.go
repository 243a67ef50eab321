package bustest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
)

// ClusterServer returns the value of a NEWSFLOW_TEST_CLUSTER_* variable (printed by
// `deploy/local/cluster.sh env`; `make test-cluster` sets them), skipping the test when it is
// unset — clusters are not part of `make test`, even in CI — and failing it when the first
// address does not accept connections.
func ClusterServer(t testing.TB, env string) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(env))
	if v == "" {
		t.Skipf("%s not set (bash deploy/local/cluster.sh up; eval \"$(bash deploy/local/cluster.sh env)\"; or make test-cluster)", env)
	}
	first := strings.Split(v, ",")[0]
	if i := strings.Index(first, "://"); i >= 0 {
		first = first[i+3:]
	}
	testenv.Dialable(t, env, first)
	return v
}

// ClusterScript runs deploy/local/cluster.sh (NEWSFLOW_TEST_CLUSTER_SCRIPT, else the repo's)
// with args and returns its trimmed output.
func ClusterScript(t testing.TB, args ...string) (string, error) {
	script := os.Getenv("NEWSFLOW_TEST_CLUSTER_SCRIPT")
	if script == "" {
		_, file, _, _ := runtime.Caller(0)
		script = filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "local", "cluster.sh")
	}
	out, err := exec.Command("bash", append([]string{script}, args...)...).CombinedOutput()
	t.Logf("cluster.sh %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	return strings.TrimSpace(string(out)), err
}

// KillLeader returns a Factory.RestartBroker for a cluster: kill -9 of the current leader of
// kind ("nats": the JetStream meta leader; "kafka": the active KRaft controller, also a broker
// leading partitions), then the node is started again on its own storage.
func KillLeader(kind string) func(testing.TB) error {
	return func(t testing.TB) error {
		leader, err := ClusterScript(t, "leader", kind)
		if err != nil {
			return err
		}
		if _, err := ClusterScript(t, "kill", leader); err != nil {
			return err
		}
		_, err = ClusterScript(t, "restart", leader)
		return err
	}
}

// WaitLag polls lr.Lag(subject, group) every 100ms until ok accepts a found lag, failing the
// test after timeout with the last lag seen.
func WaitLag(t testing.TB, lr bus.LagReporter, subject, group string, timeout time.Duration, ok func(bus.Lag) bool) {
	t.Helper()
	var last bus.Lag
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		l, found, err := lr.Lag(context.Background(), subject, group)
		if err != nil {
			t.Fatal(err)
		}
		if found && ok(l) {
			return
		}
		last = l
	}
	t.Fatalf("lag of %s on %s stayed %+v", group, subject, last)
}

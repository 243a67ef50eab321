package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// embedded is an in-process nats-server that can be restarted on the same port and store.
type embedded struct {
	mu   sync.Mutex
	srv  *server.Server
	url  string
	dir  string
	port int
}

func startEmbedded(t testing.TB) *embedded {
	t.Helper()
	e := &embedded{dir: t.TempDir()}
	srv, url, err := natsbus.StartEmbedded(e.dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.url, e.port = srv, url, natsbus.EmbeddedPort(srv)
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
	})
	return e
}

// InProcessConn implements nats.InProcessConnProvider with the current server, so an
// in-process connection reconnects to the restarted server (BenchmarkPublishConsumeAck5KB/inproc).
func (e *embedded) InProcessConn() (net.Conn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srv.InProcessConn()
}

func (e *embedded) restart(testing.TB) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	srv, _, err := natsbus.StartEmbedded(e.dir, e.port)
	if err != nil {
		return err
	}
	e.srv = srv
	return nil
}

// testLogger logs to stderr when NEWSFLOW_TEST_LOG is set (a zap level name, or "1" for
// debug). Not zaptest: a stuck handler of a "crashed" bus may log after its test ended.
func testLogger(testing.TB) *zap.Logger {
	lvl := os.Getenv("NEWSFLOW_TEST_LOG")
	if lvl == "" {
		return zap.NewNop()
	}
	cfg := zap.NewDevelopmentConfig()
	if l, err := zap.ParseAtomicLevel(lvl); err == nil {
		cfg.Level = l
	}
	log, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return log
}

func factory(url, prefix string, restart func(testing.TB) error) bustest.Factory {
	return bustest.Factory{
		New: func(t testing.TB) (bus.Bus, error) {
			// 64 MiB streams: the suite holds ~28 streams at once, and at the 1 GiB default
			// their reservations exceed JetStream's storage budget (75% of the free disk)
			// once less than ~38 GB is free ("insufficient storage resources", err 10047)
			return natsbus.New(context.Background(), natsbus.Config{URL: url, StreamPrefix: prefix, MaxBytes: 64 << 20,
				ReconnectWait: 100 * time.Millisecond, ConnectName: "bustest"}, testLogger(t))
		},
		RestartBroker: restart,
		Timeout:       15 * time.Second,
		AckWait:       time.Second,
	}
}

// TestConformanceNATSEmbedded runs the shared suite against an in-process nats-server.
func TestConformanceNATSEmbedded(t *testing.T) {
	e := startEmbedded(t)
	bustest.Run(t, factory(e.url, "BT", e.restart))
}

// TestConformanceNATSExternal runs the shared suite against NEWSFLOW_NATS_URL (required in CI).
// Streams it creates (prefix BTX<random>) are deleted at the end.
func TestConformanceNATSExternal(t *testing.T) {
	url := testenv.Server(t, "NEWSFLOW_NATS_URL")
	ctx := context.Background()
	probe, err := natsbus.New(ctx, natsbus.Config{URL: url}, zap.NewNop())
	if err != nil {
		t.Fatalf("NATS at %s unreachable: %v", url, err)
	}
	t.Cleanup(func() { _ = probe.Close() }) // registered first: runs after the suite's Cleanup
	prefix := "BTX" + strings.ToUpper(time.Now().Format("150405"))
	f := factory(url, prefix, externalRestart())
	f.Cleanup = func(t testing.TB, _ []string) {
		names := probe.JetStream().StreamNames(ctx)
		var del []string
		for n := range names.Name() {
			if strings.HasPrefix(n, prefix+"_") {
				del = append(del, n)
			}
		}
		if err := names.Err(); err != nil {
			t.Errorf("cleanup: list streams: %v", err)
		}
		for _, n := range del {
			if err := probe.JetStream().DeleteStream(ctx, n); err != nil {
				t.Errorf("cleanup: delete stream %s: %v", n, err)
			}
		}
		t.Logf("cleanup: deleted %d streams with prefix %s", len(del), prefix)
	}
	bustest.Run(t, f)
}

// externalRestart restarts the shared local NATS when NEWSFLOW_TEST_RESTART_BROKER=1 or in CI
// (`make test` runs the bus packages alone first, so no other package's tests are using the
// server then). The command is
// NEWSFLOW_TEST_RESTART_CMD or the repo's stack script; the embedded run always covers restart.
func externalRestart() func(testing.TB) error {
	if os.Getenv("NEWSFLOW_TEST_RESTART_BROKER") != "1" && os.Getenv("CI") == "" {
		return nil
	}
	return func(t testing.TB) error {
		script := os.Getenv("NEWSFLOW_TEST_RESTART_CMD")
		if script == "" {
			script = "bash deploy/local/stack.sh down nats && bash deploy/local/stack.sh up nats"
		}
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = filepath.Join("..", "..", "..") // pkg/bus/natsbus → repo root
		out, err := cmd.CombinedOutput()
		t.Logf("restart broker: %s\n%s", script, out)
		return err
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     natsbus.Config
		wantErr string
	}{
		{"defaults", natsbus.Config{}, ""},
		{"bad prefix", natsbus.Config{StreamPrefix: "A.B"}, "StreamPrefix"},
		{"bad replicas", natsbus.Config{Replicas: 7}, "Replicas"},
		{"dup window above max age", natsbus.Config{MaxAge: time.Minute, DuplicateWindow: time.Hour}, "DuplicateWindow"},
		{"bad max reconnects", natsbus.Config{MaxReconnects: -5}, "MaxReconnects"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Defaults().Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want error mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestStreamName(t *testing.T) {
	tests := []struct{ prefix, subject, want string }{
		{"NEWSFLOW", "news.raw", "NEWSFLOW_NEWS_RAW"},
		{"NEWSFLOW", "news.enriched", "NEWSFLOW_NEWS_ENRICHED"},
		{"BT", "bt12.3x-y.in", "BT_BT12_3X-Y_IN"},
	}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			if got := natsbus.StreamName(tc.prefix, tc.subject); got != tc.want {
				t.Errorf("StreamName(%q, %q) = %q, want %q", tc.prefix, tc.subject, got, tc.want)
			}
		})
	}
}

// TestUnsettledDeliveriesDeadLetter: a message whose handler never settles it (crash loop,
// AckWait overrun) runs the handler MaxDeliver+1 times, then is dead-lettered unseen.
func TestUnsettledDeliveriesDeadLetter(t *testing.T) {
	e := startEmbedded(t)
	b, err := natsbus.New(context.Background(), natsbus.Config{URL: e.url}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var handled, dead atomic.Int64
	var reason atomic.Value
	done := make(chan struct{}, 2)
	go func() {
		_ = b.Consume(ctx, "t.in", bus.ConsumeOptions{Group: "g", Stage: "test", MaxDeliver: 1,
			AckWait: 300 * time.Millisecond, DLQSubject: "t.dlq"},
			func(context.Context, bus.Message) error { handled.Add(1); return bus.ErrDeferred })
		done <- struct{}{}
	}()
	go func() {
		_ = b.Consume(ctx, "t.dlq", bus.ConsumeOptions{Group: "w", DLQSubject: "t.dlq2"},
			func(_ context.Context, m bus.Message) error {
				env, err := article.Decode(m.Data())
				if err == nil {
					reason.Store(env.DLQ.Reason)
				}
				dead.Add(1)
				return nil
			})
		done <- struct{}{}
	}()
	if err := b.Publish(ctx, "t.in", bus.Outgoing{Key: "k1", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for dead.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(600 * time.Millisecond) // a further redelivery would show by now
	cancel()
	<-done
	<-done
	if dead.Load() != 1 || handled.Load() != 2 {
		t.Fatalf("dead letters %d, handler runs %d; want 1 and MaxDeliver+1 = 2", dead.Load(), handled.Load())
	}
	if r, _ := reason.Load().(string); !strings.Contains(r, "without being settled") {
		t.Errorf("reason = %q", r)
	}
}

// TestConsumeConcurrency: Consume runs exactly opts.Concurrency handlers at once (its worker
// pool: all of them busy together, never one more), every message is handled once, and after
// cancel Consume returns with no worker left running (goleak in TestMain).
func TestConsumeConcurrency(t *testing.T) {
	e := startEmbedded(t)
	b, err := natsbus.New(context.Background(), natsbus.Config{URL: e.url}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const conc, n = 3, 8
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var inflight, most, handled atomic.Int64
	gate := make(chan struct{})
	consumeErr := make(chan error, 1)
	go func() {
		consumeErr <- b.Consume(ctx, "c.in", bus.ConsumeOptions{Group: "g", Stage: "test", Concurrency: conc},
			func(context.Context, bus.Message) error {
				now := inflight.Add(1)
				for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
				}
				<-gate
				inflight.Add(-1)
				handled.Add(1)
				return nil
			})
	}()
	for i := range n {
		if err := b.Publish(ctx, "c.in", bus.Outgoing{Key: fmt.Sprintf("k%d", i), Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for inflight.Load() < conc && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a handler beyond the bound would start by now
	if got := inflight.Load(); got != conc {
		t.Fatalf("%d handlers running with %d messages waiting, want %d", got, n, conc)
	}
	close(gate)
	for handled.Load() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-consumeErr; err != nil {
		t.Fatalf("Consume = %v", err)
	}
	if handled.Load() != n || most.Load() != conc {
		t.Fatalf("handled %d of %d, at most %d at once; want all, %d", handled.Load(), n, most.Load(), conc)
	}
}

// TestNewFromConn: a Bus over a borrowed connection works and leaves it open on Close.
func TestNewFromConn(t *testing.T) {
	e := startEmbedded(t)
	nc, err := nats.Connect(e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b, err := natsbus.NewFromConn(nc, natsbus.Config{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := b.Publish(ctx, "fc.in", bus.Outgoing{Key: "k", Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, "fc.in", bus.ConsumeOptions{Group: "g"}, func(_ context.Context, m bus.Message) error {
			got <- m.Key() + "=" + string(m.Data())
			return nil
		})
	}()
	select {
	case s := <-got:
		if s != "k=hello" {
			t.Errorf("got %q", s)
		}
	case <-ctx.Done():
		t.Fatal("not delivered")
	}
	ccancel()
	if err := <-done; err != nil {
		t.Errorf("Consume = %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if nc.IsClosed() {
		t.Error("Close closed a borrowed connection")
	}
	if err := b.Publish(ctx, "fc.in", bus.Outgoing{Key: "k2"}); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
}

// FuzzStreamName: any subject maps to a valid stream name (letters, digits, '_', '-').
func FuzzStreamName(f *testing.F) {
	for _, s := range []string{"news.raw", "news.dlq", "a.b.c", "", "é.ü", "x*y>z", "sp ace\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		name := natsbus.StreamName("NEWSFLOW", subject)
		if !strings.HasPrefix(name, "NEWSFLOW_") {
			t.Fatalf("StreamName(%q) = %q lacks prefix", subject, name)
		}
		for _, r := range name {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				t.Fatalf("StreamName(%q) = %q has invalid rune %q", subject, name, r)
			}
		}
	})
}

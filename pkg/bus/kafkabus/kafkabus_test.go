package kafkabus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// brokers returns NEWSFLOW_KAFKA_BROKERS, skipping the test when it is unset outside CI and
// failing it when it is unset or unreachable in CI.
func brokers(t testing.TB) []string {
	t.Helper()
	v := testenv.Server(t, "NEWSFLOW_KAFKA_BROKERS")
	bs := strings.Split(v, ",")
	conn, err := net.DialTimeout("tcp", bs[0], 3*time.Second)
	if err != nil {
		t.Fatalf("Kafka at %s unreachable: %v", bs[0], err)
	}
	conn.Close()
	return bs
}

func testLogger() *zap.Logger { return testenv.Logger() }

func testConfig(bs []string) Config {
	return Config{Brokers: bs, ClientID: "newsflow-test", SessionTimeout: 6 * time.Second, RebalanceTimeout: 10 * time.Second}
}

// repoRoot is the repository root, found from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// restartBroker restarts Kafka with deploy/local/stack.sh (or NEWSFLOW_TEST_RESTART_CMD, a
// shell command, for a private broker). Enabled only with NEWSFLOW_TEST_RESTART_BROKER=1 or
// in CI, because it disturbs everyone else using the local stack.
func restartBroker() func(testing.TB) error {
	if os.Getenv("NEWSFLOW_TEST_RESTART_BROKER") != "1" && os.Getenv("CI") == "" {
		return nil
	}
	return func(t testing.TB) error {
		script := os.Getenv("NEWSFLOW_TEST_RESTART_CMD")
		if script == "" {
			script = "bash deploy/local/stack.sh down kafka && bash deploy/local/stack.sh up kafka"
		}
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = repoRoot()
		out, err := cmd.CombinedOutput()
		t.Logf("restart broker: %s\n%s", script, out)
		return err
	}
}

func TestConformanceKafka(t *testing.T) {
	bs := brokers(t)
	log := testLogger()
	bustest.Run(t, bustest.Factory{
		New: func(t testing.TB) (bus.Bus, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return New(ctx, testConfig(bs), log)
		},
		RestartBroker: restartBroker(),
		Cleanup:       func(t testing.TB, prefixes []string) { deleteTopics(t, bs, prefixes) },
		Timeout:       30 * time.Second,
	})
}

// deleteTopics removes the suite's topics ("<prefix>.…") from the shared broker.
func deleteTopics(t testing.TB, bs []string, prefixes []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dotted := make([]string, len(prefixes))
	for i, p := range prefixes {
		dotted[i] = p + "."
	}
	if _, err := DeleteTopicsWithPrefix(ctx, bs, dotted...); err != nil {
		t.Logf("cleanup: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults ok", Config{Brokers: []string{"127.0.0.1:9092"}}, ""},
		{"no brokers", Config{}, "Brokers is required"},
		{"empty broker", Config{Brokers: []string{""}}, "empty address"},
		{"tiny max message", Config{Brokers: []string{"b:1"}, MaxMessageBytes: 10}, "MaxMessageBytes"},
		{"heartbeat above session", Config{Brokers: []string{"b:1"}, SessionTimeout: 6 * time.Second, HeartbeatInterval: 7 * time.Second}, "HeartbeatInterval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Defaults().Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
	d := Config{Brokers: []string{"b:1"}}.Defaults()
	if d.Partitions != 3 || d.ReplicationFactor != 1 || d.BatchTimeout != time.Millisecond || d.MaxMessageBytes != 1_000_000 {
		t.Errorf("defaults = %+v", d)
	}
}

func TestTopicName(t *testing.T) {
	tests := []struct {
		name, subject string
		ok            bool
	}{
		{"dotted", "news.raw", true},
		{"dash underscore", "a-b_c.D9", true},
		{"empty", "", false},
		{"dot", ".", false},
		{"dotdot", "..", false},
		{"nats wildcard", "news.*", false},
		{"nats tail", "news.>", false},
		{"space", "news raw", false},
		{"too long", strings.Repeat("a", 250), false},
		{"max length", strings.Repeat("a", 249), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TopicName(tc.subject)
			if (err == nil) != tc.ok {
				t.Fatalf("TopicName(%q) error = %v, want ok=%v", tc.subject, err, tc.ok)
			}
			if tc.ok && got != tc.subject {
				t.Fatalf("TopicName(%q) = %q", tc.subject, got)
			}
		})
	}
}

func FuzzTopicName(f *testing.F) {
	for _, s := range []string{"news.raw", "", "..", "a*b", "news.dlq", "ä", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := TopicName(s)
		if err != nil {
			return
		}
		if got != s || len(got) == 0 || len(got) > 249 {
			t.Fatalf("TopicName(%q) = %q", s, got)
		}
		for _, c := range []byte(got) {
			if !(c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
				t.Fatalf("TopicName(%q) accepted %q", s, c)
			}
		}
	})
}

// TestCommitPoint: offsets commit only up to the first unsettled message, whatever order
// messages settle in.
func TestCommitPoint(t *testing.T) {
	tests := []struct {
		name    string
		fetched []int64
		done    []int64 // settled (acked/termed)
		want    int64
		wantOK  bool
	}{
		{"nothing fetched", nil, nil, 0, false},
		{"all settled", []int64{5, 6, 7}, []int64{5, 6, 7}, 8, true},
		{"first unsettled", []int64{5, 6, 7}, []int64{6, 7}, 5, true},
		{"gap in the middle", []int64{5, 6, 7}, []int64{5, 7}, 6, true},
		{"none settled", []int64{5, 6}, nil, 5, true},
		{"sparse offsets (compacted)", []int64{3, 9, 12}, []int64{3, 9}, 12, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &partState{next: -1}
			byOff := map[int64]*entry{}
			for _, o := range tc.fetched {
				e := &entry{offset: o}
				byOff[o] = e
				p.entries = append(p.entries, e)
				p.next = o + 1
			}
			for _, o := range tc.done {
				byOff[o].done, byOff[o].resolved = true, true
			}
			got, ok := p.commitPoint()
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Fatalf("commitPoint = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNewUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	b, err := New(ctx, Config{Brokers: []string{addr}, DialTimeout: time.Second}, zap.NewNop())
	if err == nil {
		b.Close()
		t.Fatal("New with an unreachable broker succeeded")
	}
}

func TestPublishTooLargeWithoutBroker(t *testing.T) {
	b := &Bus{cfg: Config{MaxMessageBytes: 1024}.Defaults(), done: make(chan struct{})}
	err := b.Publish(context.Background(), "news.raw", bus.Outgoing{Key: "k", Data: make([]byte, 1025)})
	if !errors.Is(err, bus.ErrTooLarge) {
		t.Fatalf("Publish = %v, want ErrTooLarge", err)
	}
}

// TestCommitStopsAtLowestUnsettled: on one partition, a message that never settles holds
// back the committed offset even though later messages were acked, so a new member gets it
// and everything after it again — and nothing before it.
func TestCommitStopsAtLowestUnsettled(t *testing.T) {
	bs := brokers(t)
	cfg := testConfig(bs)
	cfg.Partitions = 1
	log := testLogger()
	ctx := context.Background()
	var id [4]byte
	_, _ = rand.Read(id[:])
	prefix := "kt" + hex.EncodeToString(id[:])
	subject := prefix + ".in"
	defer deleteTopics(t, bs, []string{prefix})
	opts := bus.ConsumeOptions{Group: prefix + "_g", Stage: "test", Concurrency: 4, AckWait: 2 * time.Second, DLQSubject: prefix + ".dlq"}

	b1, err := New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b1.Close()
	const N, stuck = 10, 3
	for i := range N {
		if err := b1.Publish(ctx, subject, bus.Outgoing{Key: fmt.Sprintf("k%d", i), Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b1.Consume(cctx, subject, opts, func(_ context.Context, m bus.Message) error {
			if m.Key() == fmt.Sprintf("k%d", stuck) {
				return bus.ErrDeferred // never settled: AckWait hands it back at shutdown
			}
			mu.Lock()
			acked[m.Key()] = true
			mu.Unlock()
			return nil
		})
	}()
	waitUntil(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) == N-1 })
	time.Sleep(2 * cfg.Defaults().CommitInterval)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Consume = %v", err)
	}

	b2, err := New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	got := map[string]int{}
	cctx2, cancel2 := context.WithCancel(ctx)
	done2 := make(chan error, 1)
	go func() {
		done2 <- b2.Consume(cctx2, subject, opts, func(_ context.Context, m bus.Message) error {
			mu.Lock()
			got[m.Key()]++
			mu.Unlock()
			return nil
		})
	}()
	waitUntil(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= N-stuck })
	time.Sleep(time.Second) // anything else would arrive now
	cancel2()
	<-done2
	mu.Lock()
	defer mu.Unlock()
	for i := range N {
		k := fmt.Sprintf("k%d", i)
		if want := i >= stuck; (got[k] > 0) != want {
			t.Errorf("redelivered %s = %v, want %v (all: %v)", k, got[k] > 0, want, got)
		}
	}
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package warcimport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
)

// The crash child: the test binary re-executed with these variables imports the file and
// exits abruptly (os.Exit, no deferred cleanup) right after the broker acknowledged batch
// crashBatch, before the state file records it — the worst moment for a crash.
const (
	crashChildEnv = "WARCIMPORT_CRASH_CHILD" // nats or kafka
	crashBatch    = 3
	crashExit     = 3
)

func openBus(ctx context.Context, kind, server, prefix string) (bus.Bus, error) {
	switch kind {
	case "nats":
		return natsbus.New(ctx, natsbus.Config{URL: server, StreamPrefix: prefix, ConnectName: "warcimport-test"}, zap.NewNop())
	case "kafka":
		return kafkabus.New(ctx, kafkabus.Config{Brokers: strings.Split(server, ","), ClientID: "warcimport-test"}, zap.NewNop())
	}
	return nil, fmt.Errorf("unknown bus %q", kind)
}

func crashChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := openBus(ctx, os.Getenv(crashChildEnv), os.Getenv("WARCIMPORT_SERVER"), os.Getenv("WARCIMPORT_PREFIX"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	cfg := Config{Subject: os.Getenv("WARCIMPORT_SUBJECT"), DLQSubject: os.Getenv("WARCIMPORT_SUBJECT") + ".dlq", Batch: 32, StateFile: os.Getenv("WARCIMPORT_STATE"),
		afterPublish: func(n int) {
			if n == crashBatch {
				os.Exit(crashExit)
			}
		}}
	im, err := New(cfg, b, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	if _, err := im.Import(ctx, []string{os.Getenv("WARCIMPORT_FILE")}); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	return 0 // finished: the test expected a crash
}

// crashAndResume: a child process imports the farm's WARC and dies after its third batch;
// the import is resumed from the state file; then every expected article ID is on the
// subject, read back through a consumer group. It returns the keys delivered with counts.
func crashAndResume(t *testing.T, kind, server, prefix, subject string) (map[string]int, map[string]bool) {
	t.Helper()
	dir := t.TempDir()
	p, m := farmWARC(t, dir, 300, false)
	ids, _ := expected(m)
	state := filepath.Join(dir, "state.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+kind, "WARCIMPORT_SERVER="+server, "WARCIMPORT_PREFIX="+prefix,
		"WARCIMPORT_SUBJECT="+subject, "WARCIMPORT_FILE="+p, "WARCIMPORT_STATE="+state)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != crashExit {
		t.Fatalf("crash child: %v (want exit %d)\n%s", err, crashExit, out)
	}
	saved, err := loadState(state)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(p)
	if fs := saved.Files[abs]; fs.Done || fs.Offset == 0 {
		t.Fatalf("state after the crash: %+v (want a partial offset)", fs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := openBus(ctx, kind, server, prefix)
	if err != nil {
		t.Fatalf("%s at %s unreachable: %v", kind, server, err)
	}
	defer b.Close()
	im, err := New(Config{Subject: subject, DLQSubject: subject + ".dlq", Batch: 32, StateFile: state}, b, testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	st, err := im.Import(ctx, []string{p})
	if err != nil {
		t.Fatal(err)
	}
	if st.Resumed != 1 || st.Published == 0 || st.Published >= len(ids) {
		t.Errorf("resume: %+v (want a resumed file, part of %d published)", st, len(ids))
	}
	return readBack(t, ctx, b, subject, len(ids)), ids
}

// readBack consumes subject through a fresh group until want distinct keys arrived and the
// subject stayed quiet for 3 s (or ctx ends).
func readBack(t *testing.T, ctx context.Context, b bus.Bus, subject string, want int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	last := time.Now()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, subject, bus.ConsumeOptions{Group: fmt.Sprintf("readback-%d", time.Now().UnixNano()), Concurrency: 8, DLQSubject: subject + ".dlq"}.Defaults(),
			func(_ context.Context, m bus.Message) error {
				mu.Lock()
				got[m.Key()]++
				last = time.Now()
				mu.Unlock()
				return nil
			})
	}()
	for {
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		n, quiet := len(got), time.Since(last)
		mu.Unlock()
		if (n >= want && quiet > 3*time.Second) || ctx.Err() != nil {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("read back: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

func TestCrashResumeNATS(t *testing.T) {
	url := testenv.Server(t, "NEWSFLOW_NATS_URL")
	prefix := fmt.Sprintf("WIT%d", time.Now().UnixNano()%1e9)
	subject := strings.ToLower(prefix) + ".raw"
	t.Cleanup(func() { deleteStreams(t, url, prefix) })
	got, ids := crashAndResume(t, "nats", url, prefix, subject)
	for id := range ids {
		if got[id] != 1 {
			t.Errorf("id %s delivered %d times, want exactly once", id, got[id])
		}
	}
	if len(got) != len(ids) {
		t.Errorf("%d distinct ids on the subject, want %d", len(got), len(ids))
	}
}

func deleteStreams(t *testing.T, url, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nb, err := natsbus.New(ctx, natsbus.Config{URL: url, StreamPrefix: prefix}, zap.NewNop())
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer nb.Close()
	js := nb.JetStream()
	var del []string
	names := js.StreamNames(ctx)
	for n := range names.Name() {
		if strings.HasPrefix(n, prefix+"_") {
			del = append(del, n)
		}
	}
	for _, n := range del {
		if err := js.DeleteStream(ctx, n); err != nil {
			t.Errorf("cleanup: delete stream %s: %v", n, err)
		}
	}
}

func TestCrashResumeKafka(t *testing.T) {
	brokers := testenv.Server(t, "NEWSFLOW_KAFKA_BROKERS")
	testenv.Dialable(t, "NEWSFLOW_KAFKA_BROKERS", strings.Split(brokers, ",")[0])
	prefix := fmt.Sprintf("wit%d", time.Now().UnixNano()%1e9)
	subject := prefix + ".raw"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := kafkabus.DeleteTopicsWithPrefix(ctx, strings.Split(brokers, ","), prefix+"."); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	got, ids := crashAndResume(t, "kafka", brokers, prefix, subject)
	// Kafka has no publish dedup: the batch published before the crash is there twice, and
	// the read-back group is at-least-once too (same key: the indexer writes the same
	// document). Every ID is there, no other.
	dups := 0
	for id := range ids {
		if got[id] == 0 {
			t.Errorf("id %s missing", id)
		}
		dups += max(got[id]-1, 0)
	}
	if len(got) != len(ids) {
		t.Errorf("%d distinct ids, want %d", len(got), len(ids))
	}
	t.Logf("%d duplicate deliveries (the re-published batch of 32 and read-back redeliveries)", dups)
}

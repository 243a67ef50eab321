package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// crash stops c the way a killed process would: no final checkpoint, and the waiting messages
// are neither acked nor nacked (the bus redelivers them after AckWait).
func (c *Checkpointer) crash() {
	c.closeOnce.Do(func() {
		c.stopLoop()
		c.mu.Lock()
		c.pending = nil
		c.mu.Unlock()
	})
}

// memStore is a state store (one snapshot) whose save can "crash" after the snapshot is
// durable but before the checkpointer acks.
type memStore struct {
	mu           sync.Mutex
	b            []byte
	crashOnWrite atomic.Bool
}

func (s *memStore) save(b []byte) error {
	s.mu.Lock()
	s.b = append([]byte(nil), b...)
	s.mu.Unlock()
	if s.crashOnWrite.Load() {
		return errors.New("process killed after the snapshot was written, before the acks")
	}
	return nil
}

func (s *memStore) load() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b
}

// ckStore is the durable state of the crash test in one of the two checkpoint modes: a whole
// snapshot per checkpoint (NewCheckpointer) or the stage's delta log (NewLogCheckpointer). Its
// crashAfterWrite makes the next checkpoint fail after its data is durable but before the acks.
type ckStore interface {
	checkpointer(t *testing.T, a *Alerter, cfg CheckpointConfig, reg prometheus.Registerer) *Checkpointer
	crashAfterWrite(on bool)
	recover(t *testing.T, a *Alerter, reg prometheus.Registerer)
}

type snapStore struct{ memStore }

func (s *snapStore) checkpointer(t *testing.T, a *Alerter, cfg CheckpointConfig, reg prometheus.Registerer) *Checkpointer {
	ck, err := NewCheckpointer(cfg, a.Snapshot, s.save, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	return ck
}
func (s *snapStore) crashAfterWrite(on bool) { s.crashOnWrite.Store(on) }
func (s *snapStore) recover(t *testing.T, a *Alerter, _ prometheus.Registerer) {
	if err := a.Restore(bytes.NewReader(s.load())); err != nil {
		t.Fatal(err)
	}
}

type logStore struct {
	dir   string
	dl    *DeltaLog
	crash atomic.Bool
}

func (s *logStore) checkpointer(t *testing.T, a *Alerter, cfg CheckpointConfig, reg prometheus.Registerer) *Checkpointer {
	if s.dl == nil {
		s.recover(t, a, reg)
	}
	s.dl.afterSync = func() error {
		if s.crash.Load() {
			return errors.New("process killed after the log was fsynced, before the acks")
		}
		return nil
	}
	ck, err := NewLogCheckpointer(cfg, s.dl, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	dl := s.dl
	t.Cleanup(func() { _ = dl.Close() }) // a crashed checkpointer leaves it open
	return ck
}
func (s *logStore) crashAfterWrite(on bool) { s.crash.Store(on) }
func (s *logStore) recover(t *testing.T, a *Alerter, reg prometheus.Registerer) {
	dl, _, err := OpenDeltaLog(DeltaLogConfig{Dir: s.dir}, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.dl = dl
}

// TestNATSCheckpointCrashReplay runs the checkpointed alerter on a real JetStream bus and
// crashes it, with whole snapshots and with the stage's delta log: articles 0..29 are covered by
// a checkpoint and acked; 30..39 are in a checkpoint that was written but whose acks never
// happened; 40..49 were observed after it. Alerter B recovers the durable state on the same
// durable group: the 20 unacked articles are redelivered, every article ends up acked, and B's
// per-term counts are exactly those of the 50 articles (30..39 count zero times, 40..49 once).
func TestNATSCheckpointCrashReplay(t *testing.T) {
	for _, mode := range []struct {
		name  string
		store func(t *testing.T) ckStore
	}{
		{"snapshot", func(*testing.T) ckStore { return &snapStore{} }},
		{"delta log", func(t *testing.T) ckStore { return &logStore{dir: t.TempDir()} }},
	} {
		t.Run(mode.name, func(t *testing.T) { testCheckpointCrashReplay(t, mode.store(t)) })
	}
}

func testCheckpointCrashReplay(t *testing.T, store ckStore) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, prefix := natsTestBus(ctx, t, "ALERTCK", "alert-ckpt")

	const n = 50
	others := []string{"Globex", "Initech"}
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			e := art(t0.Add(time.Duration(i)*time.Second), "", "Acme", others[i%2])
			id := fmt.Sprintf("ck%04d", i)
			data, err := article.Encode(&article.Envelope{ID: id, Stage: article.StageEnriched, Enriched: e})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Publish(ctx, article.SubjectEnriched, bus.Outgoing{Key: id, Data: data}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const group = "alerter-ckpt"
	opts := bus.ConsumeOptions{Group: group, Stage: "alerter", AckWait: 5 * time.Second, Concurrency: 4, MaxDeliver: 10}
	consume := func(a *Alerter, ck *Checkpointer) (stop func()) {
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = b.Consume(cctx, article.SubjectEnriched, opts, func(hctx context.Context, m bus.Message) error {
				env, err := article.Decode(m.Data())
				if err != nil {
					return bus.Permanent(err)
				}
				if err := a.Observe(hctx, env.Enriched); err != nil {
					return err
				}
				if err := ck.Add(m); err != nil {
					return err
				}
				return bus.ErrDeferred
			})
		}()
		return func() { ccancel(); <-done }
	}
	consumerInfo := func() (ackPending, pending int) {
		t.Helper()
		c, err := b.JetStream().Consumer(ctx, natsbus.StreamName(prefix, article.SubjectEnriched), group)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.NumAckPending, int(info.NumPending)
	}
	waitPending := func(ck *Checkpointer, want int) {
		t.Helper()
		waitFor(t, ctx, func() bool { return ck.Pending() >= want })
		if got := ck.Pending(); got != want {
			t.Fatalf("%d messages waiting for a checkpoint, want %d", got, want)
		}
	}
	manual := CheckpointConfig{Interval: time.Hour, SaveInterval: time.Hour, MaxPending: 1000}

	// Alerter A.
	a, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ckA := store.checkpointer(t, a, manual, nil)
	ckA.Start()
	stopA := consume(a, ckA)
	publish(0, 30)
	waitPending(ckA, 30)
	if err := ckA.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	publish(30, 40)
	waitPending(ckA, 10)
	store.crashAfterWrite(true)
	if err := ckA.Checkpoint(ctx); err == nil {
		t.Fatal("checkpoint whose save failed returned nil")
	}
	store.crashAfterWrite(false)
	publish(40, n)
	waitPending(ckA, 20)
	// Crash: the consumer stops without settling the deferred messages, no final checkpoint.
	stopA()
	ckA.crash()
	if got := termTotals(a); got["Acme"] != n {
		t.Fatalf("alerter A counted Acme %d times, want %d", got["Acme"], n)
	}
	if ackPending, _ := consumerInfo(); ackPending != 20 {
		t.Fatalf("after the crash %d deliveries are unacked, want 20 (30 acked by the checkpoint)", ackPending)
	}

	// Alerter B restarts from the durable state (which holds articles 0..39).
	bReg := prometheus.NewRegistry()
	a2, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, nil, nil, nil, bReg)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	store.recover(t, a2, bReg)
	ckB := store.checkpointer(t, a2, CheckpointConfig{Interval: 100 * time.Millisecond}, bReg)
	ckB.Start()
	stopB := consume(a2, ckB)
	waitFor(t, ctx, func() bool {
		ackPending, pending := consumerInfo()
		return ackPending == 0 && pending == 0 && testutil.ToFloat64(a2.m.articles) >= 20
	})
	stopB()
	if err := ckB.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(a2.m.articles); got != 20 {
		t.Fatalf("alerter B observed %v articles, want the 20 unacked ones", got)
	}
	got := termTotals(a2)
	want := map[string]int{"Acme": n, "Globex": n / 2, "Initech": n / 2}
	for term, w := range want {
		if got[term] != w {
			t.Errorf("term %s counted %d times after the replay, want %d (all counts %v)", term, got[term], w, got)
		}
	}
	if dup := testutil.ToFloat64(a2.m.mentions.WithLabelValues("duplicate")); dup != 20 {
		t.Errorf("replayed mentions recognised as duplicates: %v, want 20 (articles 30..39 × 2 terms)", dup)
	}
}

// termTotals returns each term's total count by display name.
func termTotals(a *Alerter) map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for _, st := range a.det.terms {
		out[st.display] += int(st.total)
	}
	return out
}

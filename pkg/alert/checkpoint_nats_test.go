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

// TestNATSCheckpointCrashReplay runs the checkpointed alerter on a real JetStream bus and
// crashes it: articles 0..29 are covered by a checkpoint and acked; 30..39 are in a snapshot
// that was written but whose acks never happened; 40..49 were observed after it. Alerter B
// restores the last snapshot on the same durable group: the 20 unacked articles are
// redelivered, every article ends up acked, and B's per-term counts are exactly those of the 50
// articles (30..39 count zero times, 40..49 once).
func TestNATSCheckpointCrashReplay(t *testing.T) {
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
	store := &memStore{}
	manual := CheckpointConfig{Interval: time.Hour, SaveInterval: time.Hour, MaxPending: 1000}

	// Alerter A.
	a, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ckA, err := NewCheckpointer(manual, a.Snapshot, store.save, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ckA.Start()
	stopA := consume(a, ckA)
	publish(0, 30)
	waitPending(ckA, 30)
	if err := ckA.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	publish(30, 40)
	waitPending(ckA, 10)
	store.crashOnWrite.Store(true)
	if err := ckA.Checkpoint(ctx); err == nil {
		t.Fatal("checkpoint whose save failed returned nil")
	}
	store.crashOnWrite.Store(false)
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

	// Alerter B restarts from the last snapshot (which holds articles 0..39).
	bReg := prometheus.NewRegistry()
	a2, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, nil, nil, nil, bReg)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	if err := a2.Restore(bytes.NewReader(store.load())); err != nil {
		t.Fatal(err)
	}
	ckB, err := NewCheckpointer(CheckpointConfig{Interval: 100 * time.Millisecond}, a2.Snapshot, store.save, nil, bReg)
	if err != nil {
		t.Fatal(err)
	}
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

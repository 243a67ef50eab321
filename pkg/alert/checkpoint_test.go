package alert

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newsflow/newsflow/pkg/article"
)

// ckMsg is an in-memory bus.Message recording its settlement (unit tests only; the real bus
// is exercised by TestNATSCheckpointCrashReplay).
type ckMsg struct {
	key          string
	acks, nacks  atomic.Int32
	ackedAtSaves int32 // saves completed when it was acked
	saves        *atomic.Int32
}

func (m *ckMsg) Key() string               { return m.key }
func (m *ckMsg) Subject() string           { return article.SubjectEnriched }
func (m *ckMsg) Data() []byte              { return nil }
func (m *ckMsg) Header() map[string]string { return nil }
func (m *ckMsg) Attempt() int              { return 1 }
func (m *ckMsg) Ack(context.Context) error {
	if m.acks.Add(1) == 1 && m.saves != nil {
		m.ackedAtSaves = m.saves.Load()
	}
	return nil
}
func (m *ckMsg) Nack(context.Context, time.Duration) error { m.nacks.Add(1); return nil }
func (m *ckMsg) Term(context.Context) error                { return nil }

// ckHarness is a Checkpointer over a fake state store whose saves can be made to fail.
type ckHarness struct {
	ck       *Checkpointer
	reg      *prometheus.Registry
	saves    atomic.Int32
	failSave atomic.Bool
	failSnap atomic.Bool
	onSnap   func() // called inside the snapshot (after the pending swap)
	mu       sync.Mutex
	saved    [][]byte
}

func newCkHarness(t *testing.T, cfg CheckpointConfig) *ckHarness {
	t.Helper()
	h := &ckHarness{reg: prometheus.NewRegistry()}
	snap := func(w io.Writer) error {
		if h.onSnap != nil {
			h.onSnap()
		}
		if h.failSnap.Load() {
			return errors.New("encode failed")
		}
		_, err := w.Write([]byte("state"))
		return err
	}
	save := func(b []byte) error {
		if h.failSave.Load() {
			return errors.New("disk full")
		}
		h.mu.Lock()
		h.saved = append(h.saved, append([]byte(nil), b...))
		h.mu.Unlock()
		h.saves.Add(1)
		return nil
	}
	ck, err := NewCheckpointer(cfg, snap, save, nil, h.reg)
	if err != nil {
		t.Fatal(err)
	}
	h.ck = ck
	t.Cleanup(func() { _ = ck.Close(context.Background()) })
	return h
}

func (h *ckHarness) add(t *testing.T, n int) []*ckMsg {
	t.Helper()
	var ms []*ckMsg
	for i := 0; i < n; i++ {
		m := &ckMsg{key: "m", saves: &h.saves}
		if err := h.ck.Add(m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// waitAcked waits up to 10s for n of ms to be acked and returns ms.
func waitAcked(ms []*ckMsg, n int) []*ckMsg {
	deadline := time.Now().Add(10 * time.Second)
	for acked(ms) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return ms
}

func acked(ms []*ckMsg) (n int) {
	for _, m := range ms {
		if m.acks.Load() > 0 {
			n++
		}
	}
	return n
}

func TestCheckpointer(t *testing.T) {
	slow := CheckpointConfig{Interval: time.Hour, SaveInterval: time.Hour}
	tests := []struct {
		name string
		cfg  CheckpointConfig
		// run drives the checkpointer and returns the messages to check.
		run                                func(t *testing.T, h *ckHarness) []*ckMsg
		wantAcked, wantNacked, wantPending int
		wantSaves                          int32
		wantOK, wantFailed                 float64
	}{
		{name: "acks only after a successful save", cfg: slow, wantAcked: 3, wantSaves: 1, wantOK: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				ms := h.add(t, 3)
				if acked(ms) != 0 {
					t.Fatal("acked before any checkpoint")
				}
				if err := h.ck.Checkpoint(context.Background()); err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					if m.ackedAtSaves != 1 {
						t.Fatalf("acked after %d saves, want after the first", m.ackedAtSaves)
					}
				}
				return ms
			}},
		{name: "failed save acks nothing and keeps messages", cfg: slow, wantPending: 3, wantFailed: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				h.failSave.Store(true)
				ms := h.add(t, 3)
				if err := h.ck.Checkpoint(context.Background()); err == nil {
					t.Fatal("checkpoint with a failing save returned nil")
				}
				return ms
			}},
		{name: "failed snapshot acks nothing", cfg: slow, wantPending: 2, wantFailed: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				h.failSnap.Store(true)
				ms := h.add(t, 2)
				if err := h.ck.Checkpoint(context.Background()); err == nil {
					t.Fatal("checkpoint with a failing snapshot returned nil")
				}
				return ms
			}},
		{name: "save recovers: kept messages acked by the next checkpoint", cfg: slow, wantAcked: 3, wantSaves: 1, wantOK: 1, wantFailed: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				h.failSave.Store(true)
				ms := h.add(t, 2)
				_ = h.ck.Checkpoint(context.Background())
				ms = append(ms, h.add(t, 1)...)
				h.failSave.Store(false)
				if err := h.ck.Checkpoint(context.Background()); err != nil {
					t.Fatal(err)
				}
				return ms
			}},
		{name: "message added during the snapshot waits for the next checkpoint", cfg: slow, wantAcked: 2, wantPending: 1, wantSaves: 1, wantOK: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				ms := h.add(t, 2)
				late := &ckMsg{key: "late"}
				h.onSnap = func() { h.onSnap = nil; _ = h.ck.Add(late) }
				if err := h.ck.Checkpoint(context.Background()); err != nil {
					t.Fatal(err)
				}
				return append(ms, late)
			}},
		{name: "threshold triggers an early checkpoint", cfg: CheckpointConfig{Interval: time.Hour, SaveInterval: time.Hour, MaxPending: 4},
			wantAcked: 4, wantSaves: 1, wantOK: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				h.ck.Start()
				ms := h.add(t, 4)
				return waitAcked(ms, 4)
			}},
		{name: "interval checkpoints below the threshold", cfg: CheckpointConfig{Interval: 20 * time.Millisecond, SaveInterval: time.Hour},
			wantAcked: 2, wantSaves: -1, wantOK: -1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				h.ck.Start()
				ms := h.add(t, 2)
				return waitAcked(ms, 2)
			}},
		{name: "close without start does a final checkpoint and is idempotent", cfg: slow, wantAcked: 2, wantSaves: 1, wantOK: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				ms := h.add(t, 2)
				for i := 0; i < 3; i++ {
					if err := h.ck.Close(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				if err := h.ck.Add(&ckMsg{}); !errors.Is(err, ErrCheckpointerClosed) {
					t.Fatalf("Add after Close = %v", err)
				}
				h.ck.Start() // no-op after Close
				return ms
			}},
		{name: "close after start stops the loop then checkpoints", cfg: slow, wantAcked: 3, wantSaves: 1, wantOK: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				h.ck.Start()
				h.ck.Start()
				ms := h.add(t, 3)
				if err := h.ck.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				return ms
			}},
		{name: "close with a failing save nacks instead of acking", cfg: slow, wantNacked: 2, wantFailed: 1,
			run: func(t *testing.T, h *ckHarness) []*ckMsg {
				h.failSave.Store(true)
				ms := h.add(t, 2)
				err1 := h.ck.Close(context.Background())
				if err1 == nil || h.ck.Close(context.Background()) != err1 {
					t.Fatalf("Close = %v, then a different result", err1)
				}
				return ms
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newCkHarness(t, tt.cfg)
			ms := tt.run(t, h)
			nacked := 0
			for _, m := range ms {
				if m.nacks.Load() > 0 {
					nacked++
				}
				if m.acks.Load() > 0 && m.nacks.Load() > 0 {
					t.Fatalf("message both acked and nacked")
				}
			}
			if got := acked(ms); got != tt.wantAcked {
				t.Errorf("acked %d, want %d", got, tt.wantAcked)
			}
			if nacked != tt.wantNacked {
				t.Errorf("nacked %d, want %d", nacked, tt.wantNacked)
			}
			if got := h.ck.Pending(); got != tt.wantPending {
				t.Errorf("pending %d, want %d", got, tt.wantPending)
			}
			if got := testutil.ToFloat64(h.ck.m.pending); int(got) != tt.wantPending {
				t.Errorf("pending gauge %v, want %d", got, tt.wantPending)
			}
			if got := h.saves.Load(); tt.wantSaves >= 0 && got != tt.wantSaves {
				t.Errorf("saves %d, want %d", got, tt.wantSaves)
			}
			if got := testutil.ToFloat64(h.ck.m.total.WithLabelValues("ok")); tt.wantOK >= 0 && got != tt.wantOK {
				t.Errorf("ok checkpoints %v, want %v", got, tt.wantOK)
			}
			if got := testutil.ToFloat64(h.ck.m.total.WithLabelValues("failed")); got != tt.wantFailed {
				t.Errorf("failed checkpoints %v, want %v", got, tt.wantFailed)
			}
		})
	}
}

func TestCheckpointConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  CheckpointConfig
		ok   bool
	}{
		{name: "defaults", ok: true},
		{name: "tiny interval", cfg: CheckpointConfig{Interval: time.Millisecond}},
		{name: "save interval below checkpoint interval", cfg: CheckpointConfig{Interval: time.Minute, SaveInterval: time.Second}},
		{name: "huge threshold", cfg: CheckpointConfig{MaxPending: 1_000_000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg.WithDefaults()
			if err := c.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate(%+v) = %v", c, err)
			}
		})
	}
	if c := (CheckpointConfig{}).WithDefaults(); c.Interval != 5*time.Second || c.MaxPending != 500 || c.SaveInterval != time.Minute {
		t.Fatalf("defaults %+v", c)
	}
}

// TestOutboxSurvivesRestore: an alert whose publishes fail stays in the snapshot's outbox and
// is published, with the same id, by an alerter restored from that snapshot.
func TestOutboxSurvivesRestore(t *testing.T) {
	down := &fakePub{fail: 1 << 30}
	a, c := newTestAlerter(t, Config{CloseGrace: 50 * time.Millisecond}, down)
	at := warm(t, a)
	for i := 0; i < 8; i++ {
		_ = a.Observe(context.Background(), art(at.Add(time.Duration(i)*5*time.Second), "", "Acme"))
	}
	fired := c.firing()
	if len(fired) != 1 {
		t.Fatalf("%d alerts", len(fired))
	}
	a.mu.Lock()
	var wantID string
	for id := range a.unsent {
		wantID = id
	}
	unsent := len(a.unsent)
	a.mu.Unlock()
	if unsent != 1 {
		t.Fatalf("durable outbox holds %d alerts, want 1", unsent)
	}
	var snap bytes.Buffer
	if err := a.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // gives up after CloseGrace: the alert stays unsent
		t.Fatal(err)
	}
	if len(down.keys()) != 0 {
		t.Fatal("published through a failing publisher")
	}
	var closed bytes.Buffer // the final snapshot after Close still holds it
	if err := a.Snapshot(&closed); err != nil {
		t.Fatal(err)
	}
	up := &fakePub{}
	for _, s := range []*bytes.Buffer{&snap, &closed} {
		b, _ := newTestAlerter(t, Config{}, up)
		if err := b.Restore(s); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		waitFor(t, ctx, func() bool { return len(up.keys()) >= 1 })
		cancel()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		var after bytes.Buffer
		if err := b.Snapshot(&after); err != nil {
			t.Fatal(err)
		}
		var s2 snapshot
		if err := gob.NewDecoder(&after).Decode(&s2); err != nil || len(s2.Outbox) != 0 {
			t.Fatalf("outbox after publishing: %d entries (err %v)", len(s2.Outbox), err)
		}
	}
	keys := up.keys()
	if len(keys) != 2 || keys[0] != wantID || keys[1] != wantID {
		t.Fatalf("published %v, want the same alert id from both restores", keys)
	}
	env, err := article.Decode(up.msgs[0].Data)
	if err != nil || env.ID != keys[0] || env.Alert == nil || env.Alert.Term != fired[0].Term || env.Alert.WindowStart != fired[0].WindowStart {
		t.Fatalf("republished envelope %+v (err %v), want alert %s", env, err, wantID)
	}
}

// TestRestoreVersion1Snapshot: snapshots written before the outbox was added still restore.
func TestRestoreVersion1Snapshot(t *testing.T) {
	a, _ := newTestAlerter(t, Config{}, nil)
	warm(t, a)
	s := a.snapshotLocked()
	s.Version, s.Outbox = snapshotVersionV1, nil
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		t.Fatal(err)
	}
	b, _ := newTestAlerter(t, Config{}, nil)
	if err := b.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if b.LiveTerms() != a.LiveTerms() {
		t.Fatalf("live terms %d, want %d", b.LiveTerms(), a.LiveTerms())
	}
	s.Version = 99
	buf.Reset()
	_ = gob.NewEncoder(&buf).Encode(s)
	if err := b.Restore(&buf); err == nil {
		t.Fatal("restored an unknown snapshot version")
	}
}

// TestClusterKeyStable: every article gets a key that depends only on the article, so a
// redelivery is recognised.
func TestClusterKeyStable(t *testing.T) {
	tests := []struct {
		name string
		e    article.Enriched
		want string
	}{
		{name: "cluster", e: article.Enriched{Clean: article.Clean{ClusterID: "c1", URL: "https://a/1"}}, want: "c:c1"},
		{name: "duplicate", e: article.Enriched{Clean: article.Clean{DuplicateOf: "d1", URL: "https://a/1"}}, want: "c:d1"},
		{name: "canonical", e: article.Enriched{Clean: article.Clean{CanonicalURL: "https://a/1", URL: "https://a/1?utm=x"}}, want: "u:https://a/1"},
		{name: "url only", e: article.Enriched{Clean: article.Clean{URL: "https://a/1?x"}}, want: "u:https://a/1?x"},
		{name: "content hash only", e: article.Enriched{Clean: article.Clean{ContentHash: "abc"}}, want: "h:abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e
			if got, again := clusterKey(&e), clusterKey(&e); got != tt.want || again != got {
				t.Fatalf("clusterKey = %q then %q, want %q", got, again, tt.want)
			}
		})
	}
}

package alert

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// openTestDL builds an alerter (closed when the test ends) and opens the delta log in dir
// with it, logging to the returned observer.
func openTestDL(t *testing.T, dir string, pub bus.Publisher) (*Alerter, *capture, *DeltaLog, ReplayStats, *observer.ObservedLogs) {
	t.Helper()
	a, c := newTestAlerter(t, Config{CloseGrace: 50 * time.Millisecond}, pub)
	core, logs := observer.New(zapcore.InfoLevel)
	dl, st, err := OpenDeltaLog(DeltaLogConfig{Dir: dir}, a, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dl.Close() })
	return a, c, dl, st, logs
}

// stateOf is a's state with map-ordered parts sorted, for comparing two alerters.
func stateOf(a *Alerter) *snapshot {
	s := a.snapshotLocked()
	sort.Slice(s.Terms, func(i, j int) bool { return s.Terms[i].Key < s.Terms[j].Key })
	sort.Slice(s.Episodes, func(i, j int) bool {
		return epKey(s.Episodes[i].RuleID, s.Episodes[i].TermKey) < epKey(s.Episodes[j].RuleID, s.Episodes[j].TermKey)
	})
	for _, d := range [][]uint64{s.DedupCur, s.DedupPrev} {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	}
	return s
}

func commit(t *testing.T, dl *DeltaLog) {
	t.Helper()
	if _, err := dl.Commit(); err != nil {
		t.Fatal(err)
	}
}

// backgroundArticles is warm()'s 3h of background as a reusable slice, then a burst of Acme
// (8 mentions in 40s: one spike alert).
func backgroundArticles() (warmup, burst []*article.Enriched) {
	for m := 0; m < 180; m++ {
		orgs := []string{"Filler"}
		if m%10 == 0 {
			orgs = append(orgs, "Acme")
		}
		warmup = append(warmup, art(t0.Add(time.Duration(m)*time.Minute), "", orgs...))
	}
	at := t0.Add(180 * time.Minute)
	for i := 0; i < 8; i++ {
		burst = append(burst, art(at.Add(time.Duration(i)*5*time.Second), "", "Acme"))
	}
	return warmup, burst
}

func observeAll(t *testing.T, a *Alerter, es []*article.Enriched) {
	t.Helper()
	for _, e := range es {
		if err := a.Observe(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeltaLogRecoversState: snapshot + replayed log give back exactly the state at the last
// commit (changes after it are lost with the crash, as their messages were never acked), and
// the alert fired before the crash is neither lost nor duplicated: published and settled, it
// is not published again; not yet published, it is published once, with the same id.
func TestDeltaLogRecoversState(t *testing.T) {
	for _, published := range []bool{true, false} {
		name := map[bool]string{true: "alert published before the crash", false: "alert unpublished at the crash"}[published]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pubA := &fakePub{}
			if !published {
				pubA.fail = 1 << 30
			}
			a, ca, dl, st, _ := openTestDL(t, dir, pubA)
			if st.Replayed != 0 || st.SnapshotSeq != 0 {
				t.Fatalf("fresh dir: %+v", st)
			}
			warmup, burst := backgroundArticles()
			observeAll(t, a, warmup[:100])
			commit(t, dl)
			if _, err := dl.compact(); err != nil { // snapshot at seq 100, then a fresh log
				t.Fatal(err)
			}
			observeAll(t, a, warmup[100:])
			a.Tick(t0.Add(180 * time.Minute))
			observeAll(t, a, burst)
			if len(ca.firing()) != 1 {
				t.Fatalf("%d alerts before the crash, want 1", len(ca.firing()))
			}
			if published { // settled: its settle record is in the log
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				waitFor(t, ctx, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.unsent) == 0 })
				cancel()
			}
			commit(t, dl)
			want := stateOf(a)
			// Observed after the last commit, then the crash: not durable, never acked.
			observeAll(t, a, []*article.Enriched{art(t0.Add(200*time.Minute), "", "Initech")})
			_ = dl.Close()

			if len(want.Fired) != 1 {
				t.Fatalf("fired ids %v", want.Fired)
			}
			var id string
			for k := range want.Fired {
				id = k
			}
			pubB := &fakePub{}
			b, cb, _, st, _ := openTestDL(t, dir, pubB)
			if st.SnapshotSeq != 100 || st.Replayed != int(want.Seq-100) {
				t.Fatalf("replay %+v, want snapshot seq 100 and %d records", st, want.Seq-100)
			}
			if len(cb.alerts) != 0 {
				t.Fatalf("replay notified %d alerts", len(cb.alerts))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if !published {
				// Recovered as unpublished, published once, then settled (one more record).
				if len(want.Outbox) != 1 {
					t.Fatalf("outbox at the crash: %d alerts", len(want.Outbox))
				}
				waitFor(t, ctx, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(pubB.keys()) == 1 && len(b.unsent) == 0 })
				want.Seq++
			}
			want.Outbox = nil
			if got := stateOf(b); !reflect.DeepEqual(got, want) {
				t.Fatalf("recovered state differs from the state at the last commit (terms %d vs %d, seq %d vs %d, fired %v vs %v)",
					len(got.Terms), len(want.Terms), got.Seq, want.Seq, got.Fired, want.Fired)
			}
			// More of the spike: the episode is open in the recovered state, nothing re-fires.
			observeAll(t, b, []*article.Enriched{art(t0.Add(180*time.Minute+50*time.Second), "", "Acme")})
			time.Sleep(50 * time.Millisecond)
			keys := pubB.keys()
			switch {
			case published && len(keys) != 0:
				t.Fatalf("published again after recovery: %v", keys)
			case !published && (len(keys) != 1 || keys[0] != id):
				t.Fatalf("recovered alerter published %v, want the one unpublished alert", keys)
			case len(cb.firing()) != 0:
				t.Fatalf("recovered alerter re-fired")
			}
		})
	}
}

// TestDeltaLogBadInput: a damaged log or snapshot never stops the start: what can be recovered
// is, the rest is reported in a log line (with its reason and offset) and kept aside.
func TestDeltaLogBadInput(t *testing.T) {
	logPath := func(dir string) string { return filepath.Join(dir, "alerter.log") }
	snapPath := func(dir string) string { return filepath.Join(dir, "alerter.snap") }
	// setup writes 180 observe records, committed every 30 (with compactAt > 0 a snapshot at
	// that seq, the log then holding the rest), and returns the state at the end and the log
	// file as it was before the compaction.
	setup := func(t *testing.T, dir string, compactAt int) (*snapshot, []byte) {
		a, _, dl, _, _ := openTestDL(t, dir, nil)
		warmup, _ := backgroundArticles()
		var old []byte
		for i := 0; i < len(warmup); i += 30 {
			observeAll(t, a, warmup[i:i+30])
			commit(t, dl)
			if i+30 == compactAt {
				old, _ = os.ReadFile(logPath(dir))
				if _, err := dl.compact(); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = dl.Close()
		return stateOf(a), old
	}
	// frameOffset is the offset of record n (1-based) of the log in b.
	frameOffset := func(b []byte, n int) int {
		off := logHeaderSize
		for i := 1; i < n; i++ {
			off += frameHeader + int(uint32(b[off])|uint32(b[off+1])<<8|uint32(b[off+2])<<16|uint32(b[off+3])<<24)
		}
		return off
	}
	tests := []struct {
		name      string
		compactAt int
		damage    func(t *testing.T, dir string, old []byte) (offset int)
		wantSeq   uint64 // recovered records
		wantLive  bool   // terms recovered
		wantMsg   string // log line
		wantKept  string // file kept aside ("" none)
	}{
		{name: "intact", wantSeq: 180, wantLive: true, wantMsg: "alerter delta log replayed"},
		{name: "truncated last record is dropped", wantSeq: 180, wantLive: true, wantMsg: "truncated last record dropped",
			damage: func(t *testing.T, dir string, _ []byte) int {
				b, _ := os.ReadFile(logPath(dir))
				f, err := os.OpenFile(logPath(dir), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				rec := appendTickRecord(nil, 1)
				_, _ = f.Write(rec[:len(rec)-1]) // the crash came mid-write
				return len(b)
			}},
		{name: "corrupt record stops the replay", wantSeq: 49, wantLive: true, wantMsg: "corrupt record, replay stopped", wantKept: "alerter.log.bad-",
			damage: func(t *testing.T, dir string, _ []byte) int {
				b, _ := os.ReadFile(logPath(dir))
				off := frameOffset(b, 50)
				b[off+frameHeader+3] ^= 0xff
				if err := os.WriteFile(logPath(dir), b, 0o644); err != nil {
					t.Fatal(err)
				}
				return off
			}},
		{name: "corrupt length stops the replay", wantSeq: 9, wantLive: true, wantMsg: "corrupt record, replay stopped", wantKept: "alerter.log.bad-",
			damage: func(t *testing.T, dir string, _ []byte) int {
				b, _ := os.ReadFile(logPath(dir))
				off := frameOffset(b, 10)
				copy(b[off:], []byte{0xff, 0xff, 0xff, 0xff})
				_ = os.WriteFile(logPath(dir), b, 0o644)
				return off
			}},
		{name: "log without its base snapshot is ignored", compactAt: 90, wantSeq: 0, wantMsg: "log without its base snapshot", wantKept: "alerter.log.bad-",
			damage: func(t *testing.T, dir string, _ []byte) int {
				if err := os.Remove(snapPath(dir)); err != nil {
					t.Fatal(err)
				}
				return -1
			}},
		{name: "log older than its snapshot is ignored", compactAt: 90, wantSeq: 180, wantLive: true, wantMsg: "older than its snapshot",
			damage: func(t *testing.T, dir string, old []byte) int {
				// The snapshot of a later compaction (seq 180) next to the log of seq 1..90.
				_, _, dl, _, _ := openTestDL(t, dir, nil)
				_ = dl.Close()
				if err := os.WriteFile(logPath(dir), old, 0o644); err != nil {
					t.Fatal(err)
				}
				return -1
			}},
		{name: "corrupt snapshot is kept aside, its log ignored", compactAt: 90, wantSeq: 0, wantMsg: "log without its base snapshot",
			wantKept: "alerter.snap.bad-",
			damage: func(t *testing.T, dir string, _ []byte) int {
				_ = os.WriteFile(snapPath(dir), []byte("not a snapshot"), 0o644)
				return -1
			}},
		{name: "unreadable header", wantSeq: 0, wantMsg: "alerter delta log ignored", wantKept: "alerter.log.bad-",
			damage: func(t *testing.T, dir string, _ []byte) int {
				b, _ := os.ReadFile(logPath(dir))
				b[9] ^= 1
				_ = os.WriteFile(logPath(dir), b, 0o644)
				return -1
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			full, old := setup(t, dir, tt.compactAt)
			offset := -1
			if tt.damage != nil {
				offset = tt.damage(t, dir, old)
			}
			b, _, dl, st, logs := openTestDL(t, dir, nil)
			if got := b.seqNow(); got != tt.wantSeq {
				t.Fatalf("recovered seq %d, want %d (%+v)", got, tt.wantSeq, st)
			}
			if (b.LiveTerms() > 0) != tt.wantLive {
				t.Fatalf("live terms %d after recovery", b.LiveTerms())
			}
			if tt.wantSeq == 180 && !reflect.DeepEqual(stateOf(b), full) {
				t.Fatal("recovered state differs from the committed state")
			}
			lines := logs.Filter(func(e observer.LoggedEntry) bool {
				reason, _ := e.ContextMap()["reason"].(string)
				return strings.Contains(e.Message, tt.wantMsg) || strings.Contains(reason, tt.wantMsg)
			}).All()
			if len(lines) != 1 {
				t.Fatalf("log lines %v, want one with %q", logs.All(), tt.wantMsg)
			}
			if offset >= 0 {
				if got, ok := lines[0].ContextMap()["offset"]; !ok || got != int64(offset) {
					t.Fatalf("logged offset %v, want %d", got, offset)
				}
			}
			if strings.Contains(tt.name, "corrupt record") && lines[0].ContextMap()["reason"] == nil {
				t.Fatal("no reason logged")
			}
			kept, _ := filepath.Glob(filepath.Join(dir, "*.bad-*"))
			if (tt.wantKept == "") != (len(kept) == 0) || (len(kept) > 0 && !strings.Contains(strings.Join(kept, " "), tt.wantKept)) {
				t.Fatalf("kept aside %v, want %q", kept, tt.wantKept)
			}
			// The recovered alerter keeps working on a fresh log.
			observeAll(t, b, []*article.Enriched{art(t0.Add(4*time.Hour), "", "Acme")})
			commit(t, dl)
		})
	}
}

// TestDeltaLogWriteFailure: when an append's fsync fails the checkpoint fails (nothing acked),
// and the next checkpoint writes a full snapshot and a fresh log, which covers everything.
func TestDeltaLogWriteFailure(t *testing.T) {
	dir := t.TempDir()
	a, _, dl, _, _ := openTestDL(t, dir, nil)
	warmup, _ := backgroundArticles()
	observeAll(t, a, warmup[:50])
	dl.afterSync = func() error { return errors.New("fsync: input/output error") }
	if _, err := dl.Commit(); err == nil {
		t.Fatal("commit with a failing fsync returned nil")
	}
	dl.afterSync = nil
	observeAll(t, a, warmup[50:60])
	if _, err := dl.Commit(); err != nil || dl.broken {
		t.Fatalf("commit after a failure: %v (broken %v)", err, dl.broken)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "alerter.log")); len(b) != logHeaderSize {
		t.Fatalf("log of %d bytes after the recovery snapshot, want an empty log", len(b))
	}
	observeAll(t, a, warmup[60:70])
	commit(t, dl)
	want := stateOf(a)
	_ = dl.Close()
	b, _, _, st, _ := openTestDL(t, dir, nil)
	if st.SnapshotSeq != 60 || st.Replayed != 10 || !reflect.DeepEqual(stateOf(b), want) {
		t.Fatalf("recovered %+v, want snapshot seq 60 + 10 records and the committed state", st)
	}
}

// TestLogCheckpointerCompacts: the stage's checkpointer over a delta log acks after the
// append, compacts once the log reaches CompactBytes, and Close closes the log.
func TestLogCheckpointerCompacts(t *testing.T) {
	dir := t.TempDir()
	a, _ := newTestAlerter(t, Config{}, nil)
	reg := prometheus.NewRegistry()
	dl, _, err := OpenDeltaLog(DeltaLogConfig{Dir: dir, CompactBytes: 1 << 20}, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := NewLogCheckpointer(CheckpointConfig{Interval: time.Hour, SaveInterval: time.Hour}, dl, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*ckMsg
	big := strings.Repeat("x", 250)
	for i := 0; i < 5000; i++ {
		e := art(t0.Add(time.Duration(i)*time.Second), "", "Acme", big)
		e.Title = big
		observeAll(t, a, []*article.Enriched{e})
		m := &ckMsg{key: "m"}
		msgs = append(msgs, m)
		if err := ck.Add(m); err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			if err := ck.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := acked(msgs); n != 5000 {
		t.Fatalf("acked %d, want 5000", n)
	}
	if ok := dl.m.compactions.WithLabelValues("ok"); testutil.ToFloat64(ok) < 2 {
		t.Fatalf("compactions %v, want the first one and at least one at 1 MiB", testutil.ToFloat64(ok))
	}
	if err := ck.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := dl.Commit(); !errors.Is(err, errDeltaLogClosed) {
		t.Fatalf("commit after Close: %v", err)
	}
	want := stateOf(a)
	b, _, _, _, _ := openTestDL(t, dir, nil)
	if !reflect.DeepEqual(stateOf(b), want) {
		t.Fatal("state after a clean close not recovered")
	}
	var buf bytes.Buffer
	if err := b.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
}

package clean

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// memLog is an in-memory ReplicaLog for the pure logic of Replica (the real ones, JetStream
// and Kafka, are tested in clean/replicalog against real servers).
type memLog struct {
	mu    sync.Mutex
	cond  *sync.Cond
	first uint64 // position of recs[0]
	recs  [][]byte
	name  string
}

func newMemLog(name string) *memLog {
	l := &memLog{first: 1, name: name}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *memLog) Name() string { return l.name }

func (l *memLog) Append(_ context.Context, _ string, rec []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, append([]byte(nil), rec...))
	l.cond.Broadcast()
	return nil
}

func (l *memLog) Last(context.Context) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first + uint64(len(l.recs)) - 1, nil
}

// truncate drops every record before position pos (retention).
func (l *memLog) truncate(pos uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = l.recs[pos-l.first:]
	l.first = pos
}

func (l *memLog) Read(ctx context.Context, from uint64, fn func(uint64, []byte) error) error {
	stop := context.AfterFunc(ctx, func() { l.mu.Lock(); l.cond.Broadcast(); l.mu.Unlock() })
	defer stop()
	pos := max(from, 1)
	for {
		l.mu.Lock()
		for ctx.Err() == nil && pos >= l.first+uint64(len(l.recs)) {
			l.cond.Wait()
		}
		if ctx.Err() != nil {
			l.mu.Unlock()
			return nil
		}
		pos = max(pos, l.first)
		rec := l.recs[pos-l.first]
		l.mu.Unlock()
		if err := fn(pos, rec); err != nil {
			return err
		}
		pos++
	}
}

type testItem struct {
	site, id string
	blocks   []string
	sim      uint64
	words    int
	at       time.Time
}

// testItems: 400 articles of 5 sites, each with a site line (template) and a story line; a
// third of the stories come again 3 to 40 articles later with a few SimHash bits flipped.
func testItems() []testItem {
	r := rand.New(rand.NewSource(7))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []testItem
	for i := 0; len(out) < 400; i++ {
		site := fmt.Sprintf("s%d", r.Intn(5))
		sim := r.Uint64()
		out = append(out, testItem{site: site, id: fmt.Sprintf("a%d", i), sim: sim, words: 100,
			blocks: []string{"story " + fmt.Sprint(i), "Brought to you by " + site}})
		if r.Intn(3) == 0 {
			out = append(out, testItem{site: fmt.Sprintf("s%d", r.Intn(5)), id: fmt.Sprintf("c%d", i), sim: sim ^ (1 << uint(r.Intn(64))), words: 100,
				blocks: []string{"story " + fmt.Sprint(i), "elsewhere"}})
		}
	}
	// Fetch order: copies later than their original.
	for i := range out {
		out[i].at = t0.Add(time.Duration(i) * time.Minute)
	}
	return out
}

type itemVerdict struct {
	tmpl string
	d    DedupResult
}

func process(ctx context.Context, tl *TemplateLearner, ix *DedupIndex, it testItem) (itemVerdict, error) {
	flags, err := tl.ObserveMatch(ctx, it.site, it.id, it.blocks)
	if err != nil {
		return itemVerdict{}, err
	}
	d, err := ix.AddContext(ctx, it.id, it.sim, "", it.words, it.at)
	return itemVerdict{fmt.Sprint(flags), d}, err
}

type testReplica struct {
	tl     *TemplateLearner
	ix     *DedupIndex
	r      *Replica
	cancel context.CancelFunc
	done   chan struct{}
}

func startTestReplica(t *testing.T, l ReplicaLog, snap []byte, reg prometheus.Registerer) *testReplica {
	t.Helper()
	tl, _ := NewTemplateLearner(DefaultTemplateConfig())
	ix, _ := NewDedupIndex(DefaultDedupConfig())
	r, err := NewReplica(l, ReplicaConfig{Wait: 10 * time.Second}, tl, ix, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	if snap != nil {
		if err := r.Restore(snap); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := &testReplica{tl: tl, ix: ix, r: r, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(tr.done); _ = r.Run(ctx) }()
	return tr
}

func (tr *testReplica) stop() { tr.cancel(); <-tr.done }

func (tr *testReplica) waitApplied(t *testing.T, l ReplicaLog) {
	t.Helper()
	last, _ := l.Last(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for tr.r.Applied() < last {
		if time.Now().After(deadline) {
			t.Fatalf("applied %d of %d", tr.r.Applied(), last)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReplicasShareState: three replicas, each handed a third of the articles in turn,
// give the verdicts one local learner gives and end with identical state; a fourth replica
// started afterwards from nothing rebuilds the same state from the log.
func TestReplicasShareState(t *testing.T) {
	items := testItems()
	tl, _ := NewTemplateLearner(DefaultTemplateConfig())
	ix, _ := NewDedupIndex(DefaultDedupConfig())
	want := make([]itemVerdict, len(items))
	dups, tmpls := 0, 0
	for i, it := range items {
		want[i], _ = process(context.Background(), tl, ix, it)
		if want[i].d.DuplicateOf != "" {
			dups++
		}
		if strings.Contains(want[i].tmpl, "true") {
			tmpls++
		}
	}
	if dups < 50 || tmpls < 100 {
		t.Fatalf("test data: %d duplicates, %d articles with template lines", dups, tmpls)
	}
	l := newMemLog("mem")
	reps := []*testReplica{startTestReplica(t, l, nil, nil), startTestReplica(t, l, nil, nil), startTestReplica(t, l, nil, nil)}
	for i, it := range items {
		got, err := process(context.Background(), reps[i%3].tl, reps[i%3].ix, it)
		if err != nil {
			t.Fatal(err)
		}
		if got != want[i] {
			t.Fatalf("article %d (%s) on replica %d: %+v, local learner %+v", i, it.id, i%3, got, want[i])
		}
	}
	late := startTestReplica(t, l, nil, nil)
	reps = append(reps, late)
	for _, r := range reps {
		r.waitApplied(t, l)
		if !r.r.CaughtUp() {
			t.Error("applied the whole log but not caught up")
		}
	}
	s0 := reps[0].r.Snapshot()
	for i, r := range reps[1:] {
		if s := r.r.Snapshot(); string(s) != string(s0) {
			t.Errorf("replica %d state differs", i+1)
		}
	}
	if a, b := fmt.Sprint(tl.LearnedTemplates()), fmt.Sprint(late.tl.LearnedTemplates()); a != b {
		t.Errorf("templates: local %s, replicated %s", a, b)
	}
	for _, r := range reps {
		r.stop()
	}
}

// TestReplicaSnapshotAndGaps: a replica restarted from its snapshot continues the log; one
// whose snapshot is older than the log's oldest record, or newer than the log's end (the log
// was made again), drops its state and builds it from the log.
func TestReplicaSnapshotAndGaps(t *testing.T) {
	items := testItems()
	l := newMemLog("mem")
	a := startTestReplica(t, l, nil, nil)
	for _, it := range items[:200] {
		if _, err := process(context.Background(), a.tl, a.ix, it); err != nil {
			t.Fatal(err)
		}
	}
	a.waitApplied(t, l)
	snap := a.r.Snapshot()
	for _, it := range items[200:300] {
		if _, err := process(context.Background(), a.tl, a.ix, it); err != nil {
			t.Fatal(err)
		}
	}
	a.waitApplied(t, l)

	t.Run("restart from snapshot", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		b := startTestReplica(t, l, snap, reg)
		defer b.stop()
		b.waitApplied(t, l)
		if string(b.r.Snapshot()) != string(a.r.Snapshot()) {
			t.Error("state differs from the replica that ran throughout")
		}
		if n := testutil.ToFloat64(b.r.m.resets); n != 0 {
			t.Errorf("resets = %v", n)
		}
	})
	t.Run("snapshot older than the log", func(t *testing.T) {
		l2 := newMemLog("mem")
		for _, rec := range l.recs {
			_ = l2.Append(context.Background(), "", rec)
		}
		l2.truncate(500) // the snapshot is at 401
		b := startTestReplica(t, l2, snap, nil)
		defer b.stop()
		b.waitApplied(t, l2)
		if n := testutil.ToFloat64(b.r.m.resets); n != 1 {
			t.Errorf("resets = %v, want 1", n)
		}
		fresh := startTestReplica(t, l2, nil, nil)
		defer fresh.stop()
		fresh.waitApplied(t, l2)
		if string(b.r.Snapshot()) != string(fresh.r.Snapshot()) {
			t.Error("state differs from a replica that read the same log from its start")
		}
	})
	t.Run("log made again", func(t *testing.T) {
		l3 := newMemLog("mem")
		_ = l3.Append(context.Background(), "", l.recs[0])
		b := startTestReplica(t, l3, snap, nil)
		defer b.stop()
		if _, err := process(context.Background(), b.tl, b.ix, items[0]); err != nil {
			t.Fatal(err)
		}
		if n := testutil.ToFloat64(b.r.m.resets); n != 1 {
			t.Errorf("resets = %v, want 1", n)
		}
	})
	t.Run("snapshot of another log", func(t *testing.T) {
		tl, _ := NewTemplateLearner(DefaultTemplateConfig())
		r, _ := NewReplica(newMemLog("other"), ReplicaConfig{}, tl, nil, nil, nil)
		if err := r.Restore(snap); err == nil {
			t.Error("restored a snapshot of another log")
		}
	})
	a.stop()
}

// TestReplicaCaughtUpOnEmptyLog: nothing to replay is caught up at once.
func TestReplicaCaughtUpOnEmptyLog(t *testing.T) {
	r := startTestReplica(t, newMemLog("mem"), nil, nil)
	defer r.stop()
	deadline := time.Now().Add(5 * time.Second)
	for !r.r.CaughtUp() {
		if time.Now().After(deadline) {
			t.Fatal("not caught up on an empty log")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReplicaWaitBounded: with nobody applying the log, an article fails after Wait with a
// transient error instead of hanging.
func TestReplicaWaitBounded(t *testing.T) {
	tl, _ := NewTemplateLearner(DefaultTemplateConfig())
	r, _ := NewReplica(newMemLog("mem"), ReplicaConfig{Wait: 50 * time.Millisecond}, tl, nil, nil, nil)
	_ = r
	_, err := tl.ObserveMatch(context.Background(), "s", "a", []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("err = %v", err)
	}
}

// TestDedupEarliestByTime: the verdict names the earliest copy by time, whatever order the
// copies come in; a copy that comes before its original stays new (it was published so).
func TestDedupEarliestByTime(t *testing.T) {
	ix, _ := NewDedupIndex(DefaultDedupConfig())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sim := uint64(0xfeedface12345678)
	late := ix.Add("late", sim^1, "", 100, t0.Add(2*time.Minute))
	orig := ix.Add("orig", sim, "", 100, t0)
	third := ix.Add("third", sim^2, "", 100, t0.Add(3*time.Minute))
	if late.DuplicateOf != "" || orig.DuplicateOf != "" || orig.ClusterID != "orig" || third.DuplicateOf != "orig" || third.ClusterID != "orig" {
		t.Errorf("late %+v orig %+v third %+v", late, orig, third)
	}
	// Exact copies: the earliest holds the content hash.
	e2 := ix.Add("e2", 1, "h", 5, t0.Add(time.Minute))
	e1 := ix.Add("e1", 2, "h", 5, t0)
	e3 := ix.Add("e3", 3, "h", 5, t0.Add(2*time.Minute))
	if e2.DuplicateOf != "" || e1.DuplicateOf != "" || e3.DuplicateOf != "e1" {
		t.Errorf("e2 %+v e1 %+v e3 %+v", e2, e1, e3)
	}
}

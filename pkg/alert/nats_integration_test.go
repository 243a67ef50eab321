package alert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// natsURL starts an in-process nats-server (the real server module) of the test's own: the
// test uses the production subjects (news.enriched, news.alerts), which on a shared server
// would overlap with other packages' streams. The external server is covered by the bus
// conformance suite.
func natsURL(t *testing.T) string {
	srv, url, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return url
}

// natsTestBus connects a natsbus.Bus (closed when the test ends) to a server of the test's own
// (natsURL), its streams under a unique prefix it returns. An unreachable server is a failure,
// never a skip (in CI or not).
func natsTestBus(ctx context.Context, t *testing.T, prefix, name string) (*natsbus.Bus, string) {
	t.Helper()
	url := natsURL(t)
	prefix = fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e9)
	b, err := natsbus.New(ctx, natsbus.Config{URL: url, StreamPrefix: prefix, ConnectName: name}, zap.NewNop())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NATS unreachable at %s: %v", url, err)
		}
		t.Fatalf("nats: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, prefix
}

// TestNATSAlertsAndRestart runs the alerter on a real JetStream bus: enriched articles in,
// an explained alert out on news.alerts keyed by its alert id; then a restart from a snapshot
// replays every article (a new consumer group, worst-case redelivery) without re-alerting.
func TestNATSAlertsAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, _ := natsTestBus(ctx, t, "ALERTIT", "alert-it")

	// Input: 3h of background then a burst of Acme.
	var inputs []*article.Enriched
	for m := 0; m < 180; m++ {
		orgs := []string{"Filler"}
		if m%10 == 0 {
			orgs = append(orgs, "Acme")
		}
		inputs = append(inputs, art(t0.Add(time.Duration(m)*time.Minute), "", orgs...))
	}
	for i := 0; i < 10; i++ {
		inputs = append(inputs, art(t0.Add(180*time.Minute+time.Duration(i)*5*time.Second), "", "Acme"))
	}
	for i, e := range inputs {
		data, err := article.Encode(&article.Envelope{ID: fmt.Sprintf("in%04d", i), Stage: article.StageEnriched, Enriched: e})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, article.SubjectEnriched, bus.Outgoing{Key: fmt.Sprintf("in%04d", i), Data: data}); err != nil {
			t.Fatal(err)
		}
	}

	t.Logf("published %d inputs", len(inputs))
	// Collect news.alerts.
	var mu sync.Mutex
	var got []*article.Envelope
	actx, acancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = b.Consume(actx, article.SubjectAlerts, bus.ConsumeOptions{Group: "alerts-reader", Stage: "test"}, func(_ context.Context, m bus.Message) error {
			env, err := article.Decode(m.Data())
			if err != nil {
				return bus.Permanent(err)
			}
			if m.Key() != env.ID {
				t.Errorf("alert key %q != envelope id %q", m.Key(), env.ID)
			}
			mu.Lock()
			got = append(got, env)
			mu.Unlock()
			return nil
		})
	}()
	defer func() { acancel(); wg.Wait() }()

	run := func(a *Alerter, group string) {
		var seen atomic.Int32
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = b.Consume(cctx, article.SubjectEnriched, bus.ConsumeOptions{Group: group, Stage: "alerter"}, func(hctx context.Context, m bus.Message) error {
				env, err := article.Decode(m.Data())
				if err != nil {
					return bus.Permanent(err)
				}
				defer seen.Add(1)
				return a.Observe(hctx, env.Enriched)
			})
		}()
		for seen.Load() < int32(len(inputs)) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		ccancel()
		<-done
		if n := seen.Load(); n < int32(len(inputs)) {
			t.Fatalf("group %s: consumed %d of %d enriched messages before the deadline", group, n, len(inputs))
		}
	}

	a1, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, b, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0w := time.Now()
	run(a1, "alerter-1")
	t.Logf("first run %s", time.Since(t0w))
	// Snapshot once the alert is published: an alert still in the outbox is part of the
	// snapshot and (by design) republished after the restore, which is not what this tests.
	waitFor(t, ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 1 })
	var snap bytes.Buffer
	if err := a1.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	if err := a1.Close(); err != nil { // flushes the outbox
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 1 })
	mu.Lock()
	first := got[0]
	mu.Unlock()
	if first.Alert.Term != "Acme" || first.Alert.Status != StatusFiring || len(first.Alert.TopArticles) == 0 || first.Alert.Reason == "" {
		t.Fatalf("alert %+v", first.Alert)
	}

	// Restart: restore, replay everything from a new group.
	a2, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, b, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a2.Restore(&snap); err != nil {
		t.Fatal(err)
	}
	t1w := time.Now()
	run(a2, "alerter-2")
	t.Logf("second run %s", time.Since(t1w))
	if err := a2.Close(); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(a2.m.publish.WithLabelValues("ok")); n != 0 {
		t.Fatalf("restarted alerter published %v alerts for history it had already alerted on", n)
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("news.alerts has %d alerts, want 1", len(got))
	}
}

func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

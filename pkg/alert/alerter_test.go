package alert

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakePub struct {
	mu   sync.Mutex
	msgs []bus.Outgoing
	fail int // fail this many publishes first
}

func (p *fakePub) Publish(_ context.Context, subject string, m bus.Outgoing) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if subject != article.SubjectAlerts {
		return fmt.Errorf("subject %s", subject)
	}
	if p.fail > 0 {
		p.fail--
		return fmt.Errorf("broker down")
	}
	p.msgs = append(p.msgs, m)
	return nil
}

func (p *fakePub) keys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ks []string
	for _, m := range p.msgs {
		ks = append(ks, m.Key)
	}
	return ks
}

var artSeq atomic.Int64

// art builds an enriched article at time at mentioning the given ORG entities.
func art(at time.Time, cluster string, orgs ...string) *article.Enriched {
	n := artSeq.Add(1)
	url := fmt.Sprintf("https://news%d.example/a/%d", n%7, n)
	e := &article.Enriched{}
	e.URL, e.CanonicalURL = url, url
	e.Title = fmt.Sprintf("Article %d about %v", n, orgs)
	e.FetchedAt = at
	e.PublishedAt = &at
	e.ClusterID = cluster
	e.Language = "en"
	e.Source = article.Source{Name: fmt.Sprintf("news%d", n%7)}
	for _, o := range orgs {
		e.Entities = append(e.Entities, article.Entity{Type: "ORG", Name: o, Normalized: normalizeKey(o)})
	}
	return e
}

type capture struct {
	mu     sync.Mutex
	alerts []*article.Alert
}

func (c *capture) on(a *article.Alert) { c.mu.Lock(); c.alerts = append(c.alerts, a); c.mu.Unlock() }
func (c *capture) firing() []*article.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*article.Alert
	for _, a := range c.alerts {
		if a.Status == StatusFiring {
			out = append(out, a)
		}
	}
	return out
}

func newTestAlerter(t *testing.T, cfg Config, pub bus.Publisher, rules ...Rule) (*Alerter, *capture) {
	t.Helper()
	c := &capture{}
	cfg.OnAlert = c.on
	if len(rules) == 0 {
		rules = []Rule{{ID: "s", Type: RuleSpike}}
	}
	a, err := New(cfg, rules, pub, nil, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a, c
}

// warm feeds 3h of background: Acme 6/h, filler every minute.
func warm(t *testing.T, a *Alerter) time.Time {
	t.Helper()
	ctx := context.Background()
	for m := 0; m < 180; m++ {
		at := t0.Add(time.Duration(m) * time.Minute)
		orgs := []string{"Filler"}
		if m%10 == 0 {
			orgs = append(orgs, "Acme")
		}
		if err := a.Observe(ctx, art(at, "", orgs...)); err != nil {
			t.Fatal(err)
		}
	}
	return t0.Add(180 * time.Minute)
}

func TestAlerterSyndicatedFloodCountsOnce(t *testing.T) {
	a, c := newTestAlerter(t, Config{}, nil)
	at := warm(t, a)
	for i := 0; i < 200; i++ {
		if err := a.Observe(context.Background(), art(at.Add(time.Duration(i)*time.Second), "wire-1", "Acme", "Globex")); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.firing(); len(got) != 0 {
		t.Fatalf("flood of 200 reprints fired: %s", got[0].Reason)
	}
	want := 180.0 + 18 + 2 // filler + acme + one mention each from the flood
	if got := testutil.ToFloat64(a.m.mentions.WithLabelValues("counted")); got != want {
		t.Fatalf("counted mentions %v, want %v", got, want)
	}
	// The same 200 articles as independent stories do fire.
	for i := 0; i < 200; i++ {
		_ = a.Observe(context.Background(), art(at.Add(time.Duration(200+i)*time.Second), "", "Acme"))
	}
	if got := c.firing(); len(got) != 1 || got[0].Term != "Acme" {
		t.Fatalf("independent burst: %d alerts", len(got))
	}
}

func TestAlerterUnclusteredWireCopiesCountOnceByTitle(t *testing.T) {
	a, c := newTestAlerter(t, Config{}, nil)
	at := warm(t, a)
	for i := 0; i < 50; i++ {
		e := art(at.Add(time.Duration(i)*time.Second), "", "Acme") // no cluster id
		e.Title = "Acme recalls 2 million cars over brake fault"
		if i%2 == 0 {
			e.Title = "ACME recalls 2 million cars over brake fault!" // same after normalising
		}
		_ = a.Observe(context.Background(), e)
	}
	if got := c.firing(); len(got) != 0 {
		t.Fatalf("unclustered wire copies fired: %s", got[0].Reason)
	}
	if k := titleKey("Live updates", 5); k != "" {
		t.Fatalf("short title used as a dedup key: %q", k)
	}
}

func TestAlerterAlertContentAndPublish(t *testing.T) {
	pub := &fakePub{fail: 2}
	a, c := newTestAlerter(t, Config{}, pub)
	at := warm(t, a)
	for i := 0; i < 8; i++ {
		_ = a.Observe(context.Background(), art(at.Add(time.Duration(i)*5*time.Second), "", "Acme"))
	}
	got := c.firing()
	if len(got) != 1 {
		t.Fatalf("%d alerts", len(got))
	}
	al := got[0]
	if al.Term != "Acme" || al.TermKind != "ORG" || al.RuleType != RuleSpike || al.Reason == "" {
		t.Fatalf("alert %+v", al)
	}
	if len(al.TopArticles) == 0 || al.TopArticles[0].URL == "" || al.TopArticles[0].ID == "" || len(al.TopSources) == 0 {
		t.Fatalf("top articles/sources missing: %+v %v", al.TopArticles, al.TopSources)
	}
	if err := a.Close(); err != nil { // flushes the outbox (after 2 failed publishes)
		t.Fatal(err)
	}
	keys := pub.keys()
	if len(keys) != 1 || len(keys[0]) != 32 {
		t.Fatalf("published keys %v", keys)
	}
	env, err := article.Decode(pub.msgs[0].Data)
	if err != nil || env.Alert == nil || env.ID != keys[0] || env.Alert.Term != "Acme" {
		t.Fatalf("envelope %+v err %v", env, err)
	}
	if got := testutil.ToFloat64(a.m.publish.WithLabelValues("retry")); got != 2 {
		t.Fatalf("publish retries %v", got)
	}
}

func TestAlerterSnapshotRestoreDoesNotRefire(t *testing.T) {
	a, c := newTestAlerter(t, Config{}, nil)
	at := warm(t, a)
	burst := []*article.Enriched{}
	for i := 0; i < 8; i++ {
		burst = append(burst, art(at.Add(time.Duration(i)*5*time.Second), "", "Acme"))
	}
	for _, e := range burst {
		_ = a.Observe(context.Background(), e)
	}
	if len(c.firing()) != 1 {
		t.Fatalf("want one alert before the snapshot")
	}
	var buf bytes.Buffer
	if err := a.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/alerter.snap"
	if err := a.SnapshotFile(path); err != nil {
		t.Fatal(err)
	}
	b, c2 := newTestAlerter(t, Config{}, nil)
	if ok, err := b.RestoreFile(path + ".missing"); ok || err != nil {
		t.Fatalf("missing snapshot: %v %v", ok, err)
	}
	if ok, err := b.RestoreFile(path); !ok || err != nil {
		t.Fatalf("restore file: %v %v", ok, err)
	}
	if b.LiveTerms() != a.LiveTerms() {
		t.Fatalf("live terms %d vs %d", b.LiveTerms(), a.LiveTerms())
	}
	lvlA := a.det.terms["ORG:acme"].level
	if lvlB := b.det.terms["ORG:acme"].level; lvlB != lvlA || lvlA == 0 {
		t.Fatalf("baseline not restored: %v vs %v", lvlB, lvlA)
	}
	// Redelivery of the same articles after the restart: deduplicated, nothing fires.
	for _, e := range burst {
		_ = b.Observe(context.Background(), e)
	}
	// More of the same ongoing spike: the episode is already open, nothing new fires.
	for i := 8; i < 16; i++ {
		_ = b.Observe(context.Background(), art(at.Add(time.Duration(i)*5*time.Second), "", "Acme"))
	}
	if got := c2.firing(); len(got) != 0 {
		t.Fatalf("restored alerter re-fired: %s", got[0].Reason)
	}
	// A fresh alerter without the snapshot would have fired (control).
	d, c3 := newTestAlerter(t, Config{}, nil)
	if err := d.Restore(bytes.NewReader(nil)); err == nil {
		t.Fatal("restore of an empty snapshot should fail")
	}
	warm(t, d)
	for i := 0; i < 16; i++ {
		_ = d.Observe(context.Background(), art(at.Add(time.Duration(i)*5*time.Second), "", "Acme"))
	}
	if len(c3.firing()) != 1 {
		t.Fatalf("control did not fire")
	}
}

func TestAlerterShardsSplitTerms(t *testing.T) {
	const n = 3
	var owned int
	var alerters []*Alerter
	for i := 0; i < n; i++ {
		a, _ := newTestAlerter(t, Config{Shard: Shard{Index: i, Count: n}}, nil)
		alerters = append(alerters, a)
	}
	for k := 0; k < 60; k++ {
		e := art(t0, "", fmt.Sprintf("Org %d", k))
		for _, a := range alerters {
			_ = a.Observe(context.Background(), e)
		}
	}
	for _, a := range alerters {
		if a.LiveTerms() == 0 || a.LiveTerms() == 60 {
			t.Fatalf("shard holds %d of 60 terms", a.LiveTerms())
		}
		owned += a.LiveTerms()
	}
	if owned != 60 {
		t.Fatalf("shards own %d terms in total, want each of 60 exactly once", owned)
	}
	if _, err := New(Config{Shard: Shard{Index: 3, Count: 3}}, nil, nil, nil, nil, nil); err == nil {
		t.Fatal("bad shard accepted")
	}
}

func TestAlerterWatchRule(t *testing.T) {
	watch := Rule{ID: "ecb", Type: RuleWatch, Phrases: []string{"interest rate"}, Entities: []string{"European Central Bank"},
		Languages: []string{"en"}, Threshold: 3, Window: Duration(15 * time.Minute)}
	a, c := newTestAlerter(t, Config{Detector: DetectorConfig{Warmup: -1}}, nil, watch)
	mk := func(i int, lang, title string) *article.Enriched {
		e := art(t0.Add(time.Duration(i)*time.Minute), "")
		e.Language, e.Title = lang, title
		return e
	}
	_ = a.Observe(context.Background(), mk(0, "en", "The ECB holds the Interest Rate"))
	_ = a.Observe(context.Background(), mk(1, "de", "Interest rate news in German"))
	e := mk(2, "en", "Frankfurt")
	e.Entities = []article.Entity{{Type: "ORG", Name: "European Central Bank", Normalized: "european central bank"}}
	_ = a.Observe(context.Background(), e)
	if len(c.firing()) != 0 {
		t.Fatal("fired below threshold (the German article must not match)")
	}
	_ = a.Observe(context.Background(), mk(3, "en", "interest rates rise"))
	got := c.firing()
	if len(got) != 1 || got[0].RuleType != RuleWatch || got[0].TermKind != KindWatch || got[0].Current != 3 {
		t.Fatalf("watch alerts: %+v", got)
	}
}

func TestAlerterObserveNilIsPermanent(t *testing.T) {
	a, _ := newTestAlerter(t, Config{}, nil)
	if err := a.Observe(context.Background(), nil); !bus.IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestAlerterConcurrentObserve(t *testing.T) {
	a, _ := newTestAlerter(t, Config{}, &fakePub{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				_ = a.Observe(context.Background(), art(t0.Add(time.Duration(i)*time.Second), "", fmt.Sprintf("O%d", i%50), "Common"))
				if i%100 == 0 {
					a.Tick(t0.Add(time.Duration(i) * time.Second))
					var buf bytes.Buffer
					_ = a.Snapshot(&buf)
				}
			}
		}(g)
	}
	wg.Wait()
	if a.LiveTerms() != 51 {
		t.Fatalf("live %d", a.LiveTerms())
	}
}

func TestAlerterRunStops(t *testing.T) {
	a, _ := newTestAlerter(t, Config{TickInterval: time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

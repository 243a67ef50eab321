package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"go.uber.org/zap"
)

// esURL returns the real Elasticsearch of the local stack. In CI an unset or unreachable
// server fails the test; elsewhere it skips.
func esURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("NEWSFLOW_ES_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("NEWSFLOW_ES_URL is not set in CI: run `make test` (it starts the stack)")
		}
		t.Skip("NEWSFLOW_ES_URL not set; run `make stack-up` and export it, or use `make test`")
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{u}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := es.Info()
	if err != nil {
		t.Fatalf("elasticsearch at %s unreachable: %v", u, err)
	}
	res.Body.Close()
	return u
}

// proxy is a loopback TCP proxy in front of the real Elasticsearch that the test can cut, to
// make ES unreachable for the indexer without stopping the shared node.
type proxy struct {
	ln     net.Listener
	target string
	up     atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: strings.TrimPrefix(strings.TrimPrefix(target, "http://"), "https://")}
	p.up.Store(true)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.up.Load() {
				c.Close()
				continue
			}
			go p.pipe(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); p.setUp(false) })
	return p
}

func (p *proxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, u)
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

func (p *proxy) setUp(v bool) {
	p.up.Store(v)
	if !v {
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
		p.mu.Unlock()
	}
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func enriched(i int, fetched time.Time, title string) *article.Envelope {
	pub := time.Date(2026, 11, 1+i%20, 12, 0, 0, 0, time.UTC)
	s := 0.1
	url := fmt.Sprintf("https://news.example.com/story/%d", i)
	id, canon, _ := article.ID(url)
	return &article.Envelope{ID: id, Stage: article.StageEnriched, Enriched: &article.Enriched{
		Clean: article.Clean{URL: url, CanonicalURL: canon, Title: title, Text: "The quick brown foxes jumped over NATO officials in Kyiv. " + title,
			Source: article.Source{Name: "Example News", Domain: "news.example.com"}, Language: "en", PublishedAt: &pub, FetchedAt: fetched, WordCount: 12},
		EnrichmentVersion: article.EnrichmentVersion, EnrichedAt: fetched,
		Entities:  []article.Entity{{Type: "ORG", Name: "NATO", Normalized: "nato", Mentions: 1}, {Type: "LOC", Name: "Kyiv", Normalized: "kyiv", Mentions: 1}},
		Keywords:  []article.Keyword{{Term: "foxes", Score: 1}},
		Sentiment: &s,
		Places:    []article.Place{{Name: "Kyiv", CountryCode: "UA", Kind: "city", Lat: 50.45, Lon: 30.52, Mentions: 1}},
	}}
}

type harness struct {
	t      *testing.T
	bus    *natsbus.Bus
	names  Names
	es     *elasticsearch.Client
	prefix string
}

func newHarness(t *testing.T) *harness {
	u := esURL(t)
	srv, natsURL, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	b, err := natsbus.New(context.Background(), natsbus.Config{URL: natsURL}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{u}})
	prefix := fmt.Sprintf("nftest%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		res, err := es.Indices.Delete([]string{prefix + "-*"})
		if err == nil {
			res.Body.Close()
		}
	})
	return &harness{t: t, bus: b, names: Names{Prefix: prefix}, es: es, prefix: prefix}
}

func (h *harness) publish(envs ...*article.Envelope) {
	for _, e := range envs {
		b, err := article.Encode(e)
		if err != nil {
			h.t.Fatal(err)
		}
		subj := article.SubjectEnriched
		if e.Stage == article.StageAlert {
			subj = article.SubjectAlerts
		}
		// JetStream drops a second publish with the same Nats-Msg-Id inside its duplicate
		// window, which is what we want for redeliveries of the same version; a newer version
		// of an article is a different message, so the key carries the fetch time.
		key := e.ID
		if e.Enriched != nil {
			key += "@" + e.Enriched.FetchedAt.Format(time.RFC3339Nano)
		}
		if err := h.bus.Publish(context.Background(), h.prefix+"."+subj, bus.Outgoing{Key: key, Data: b}); err != nil {
			h.t.Fatal(err)
		}
	}
}

// run starts an indexer consuming <prefix>.news.enriched against esURL until the returned
// stop is called; crash=true stops it without flushing (as a killed process would).
func (h *harness) run(esURL string) (stop func(crash bool), ix *Indexer) {
	es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}, MaxRetries: 1})
	ix, err := New(Config{Setup: SetupConfig{Names: h.names}, FlushInterval: 200 * time.Millisecond, Refresh: "true"}, es, h.bus, zap.NewNop(), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := ix.Setup(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	opts := bus.ConsumeOptions{Group: h.prefix + "-indexer", Stage: "indexer", MaxDeliver: 1000, AckWait: 3 * time.Second, Concurrency: 8,
		DLQSubject: h.prefix + ".news.dlq", Backoff: bus.ExpBackoff(100*time.Millisecond, time.Second)}.Defaults()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- h.bus.Consume(ctx, h.prefix+"."+article.SubjectEnriched, opts, ix.Handler(opts)) }()
	aopts := opts
	aopts.Group = h.prefix + "-indexer-alerts"
	go func() { done <- h.bus.Consume(ctx, h.prefix+"."+article.SubjectAlerts, aopts, ix.Handler(aopts)) }()
	return func(crash bool) {
		if crash {
			// A killed process: the bulk in flight is never sent; its messages stay unacked.
			close(ix.done)
		}
		cancel()
		<-done
		<-done
		if !crash {
			_ = ix.Close(context.Background())
		}
	}, ix
}

func (h *harness) search(body string) map[string]any {
	h.t.Helper()
	_, _ = h.es.Indices.Refresh(h.es.Indices.Refresh.WithIndex(h.names.ArticlesAlias()))
	res, err := h.es.Search(h.es.Search.WithIndex(h.names.ArticlesAlias()), h.es.Search.WithBody(strings.NewReader(body)), h.es.Search.WithTrackTotalHits(true))
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode == 404 { // no document indexed yet: the alias does not exist
		return map[string]any{"hits": map[string]any{"total": map[string]any{"value": 0.0}}}
	}
	if res.IsError() {
		h.t.Fatalf("search %s: %s %v", body, res.Status(), out)
	}
	return out
}

func total(r map[string]any) int {
	return int(r["hits"].(map[string]any)["total"].(map[string]any)["value"].(float64))
}

func (h *harness) waitTotal(query string, want int, d time.Duration) int {
	deadline := time.Now().Add(d)
	got := -1
	for time.Now().Before(deadline) {
		if got = total(h.search(query)); got == want {
			return got
		}
		time.Sleep(300 * time.Millisecond)
	}
	return got
}

func TestIndexerExactlyOnceUnderFaults(t *testing.T) {
	h := newHarness(t)
	realES := os.Getenv("NEWSFLOW_ES_URL")
	px := newProxy(t, realES)
	const n = 60
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	newer := t0.Add(time.Hour)

	// 1. First delivery of every article (version t0), then the indexer is killed mid-run.
	stop, _ := h.run(px.url())
	for i := 0; i < n; i++ {
		h.publish(enriched(i, t0, fmt.Sprintf("story %d v1", i)))
	}
	time.Sleep(100 * time.Millisecond)
	stop(true)

	// 2. Restart; a third is redelivered with newer content, some older versions arrive late.
	stop, _ = h.run(px.url())
	for i := 0; i < n/3; i++ {
		h.publish(enriched(i, newer, fmt.Sprintf("story %d v2", i)))
	}
	// 3. Elasticsearch becomes unreachable for a while; messages keep arriving.
	px.setUp(false)
	for i := n / 3; i < n/2; i++ {
		h.publish(enriched(i, newer, fmt.Sprintf("story %d v2", i)))
	}
	for i := 0; i < 5; i++ {
		h.publish(enriched(i, t0.Add(-time.Hour), fmt.Sprintf("story %d v0 (stale)", i)))
	}
	time.Sleep(2 * time.Second)
	px.setUp(true)

	if got := h.waitTotal(`{"query":{"match_all":{}}}`, n, 60*time.Second); got != n {
		t.Fatalf("index holds %d documents, want exactly %d", got, n)
	}
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"v2"}}}`, n/2, 60*time.Second); got != n/2 {
		t.Fatalf("%d documents have the newest (v2) content, want %d", got, n/2)
	}
	if got := total(h.search(`{"query":{"match_phrase":{"title":"stale"}}}`)); got != 0 {
		t.Fatalf("%d stale versions overwrote newer ones", got)
	}
	stop(false)

	// The searches a Kibana user runs.
	searches := []struct {
		name  string
		query string
		min   int
	}{
		{name: "full text with stemming", query: `{"query":{"match":{"text.english":"fox jump"}}}`, min: n},
		{name: "phrase", query: `{"query":{"match_phrase":{"text":"brown foxes jumped"}}}`, min: n},
		{name: "entity filter", query: `{"query":{"bool":{"filter":[{"term":{"entities.org":"NATO"}}]}}}`, min: n},
		{name: "date range", query: `{"query":{"range":{"published_at":{"gte":"2026-11-01","lt":"2026-11-06"}}}}`, min: 1},
		{name: "geo distance", query: `{"query":{"geo_distance":{"distance":"50km","places.locations":{"lat":50.4,"lon":30.5}}}}`, min: n},
		{name: "per-language analyser", query: `{"query":{"match":{"text_lang.en.text":"jumping"}}}`, min: n},
	}
	for _, s := range searches {
		t.Run(s.name, func(t *testing.T) {
			if got := total(h.search(s.query)); got < s.min {
				t.Fatalf("%s: %d hits, want >= %d", s.query, got, s.min)
			}
		})
	}
	agg := h.search(`{"size":0,"aggs":{"top":{"terms":{"field":"entities.all"}}}}`)
	buckets := agg["aggregations"].(map[string]any)["top"].(map[string]any)["buckets"].([]any)
	if len(buckets) == 0 || buckets[0].(map[string]any)["doc_count"].(float64) != n {
		t.Fatalf("terms aggregation on entities: %v", buckets)
	}
}

func TestIndexerDeadLettersMappingRejections(t *testing.T) {
	h := newHarness(t)
	dlq := make(chan *article.DeadLetter, 4)
	dctx, dcancel := context.WithCancel(context.Background())
	ddone := make(chan struct{})
	go func() {
		defer close(ddone)
		_ = h.bus.Consume(dctx, h.prefix+".news.dlq", bus.ConsumeOptions{Group: h.prefix + "-dlq", DLQSubject: h.prefix + ".dlq2"}, func(_ context.Context, m bus.Message) error {
			env, err := article.Decode(m.Data())
			if err == nil {
				dlq <- env.DLQ
			}
			return nil
		})
	}()
	defer func() { dcancel(); <-ddone }()
	stop, _ := h.run(os.Getenv("NEWSFLOW_ES_URL"))
	defer stop(false)

	poison := enriched(1, time.Now(), "poison")
	poison.Enriched.Places = []article.Place{{Name: "Nowhere", Lat: 500, Lon: 30}} // invalid latitude: ES rejects
	h.publish(poison, enriched(2, time.Now(), "fine"))
	h.bus.Publish(context.Background(), h.prefix+"."+article.SubjectEnriched, bus.Outgoing{Key: "broken", Data: []byte(`{"schema":1,"id":"x","stage":"enr`)})

	reasons := map[string]bool{}
	timeout := time.After(30 * time.Second)
	for len(reasons) < 2 {
		select {
		case d := <-dlq:
			if strings.Contains(d.Reason, "geo") || strings.Contains(d.Reason, "latitude") {
				reasons["mapping"] = true
				var env article.Envelope
				if err := json.Unmarshal(d.Payload, &env); err != nil || env.ID != poison.ID {
					t.Fatalf("dead letter does not carry the original payload: %v", err)
				}
			}
			if strings.Contains(d.Reason, "decode") {
				reasons["decode"] = true
			}
		case <-timeout:
			t.Fatalf("dead letters seen: %v, want mapping and decode", reasons)
		}
	}
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"fine"}}}`, 1, 30*time.Second); got != 1 {
		t.Fatalf("good document next to the poison one not indexed (%d)", got)
	}
}

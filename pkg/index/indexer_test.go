package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"go.uber.org/zap"
)

// esURL returns the real Elasticsearch of the local stack. In CI an unset or unreachable
// server fails the test; elsewhere it skips.
func esURL(t *testing.T) string {
	t.Helper()
	u := testenv.Server(t, "NEWSFLOW_ES_URL")
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
	t       *testing.T
	bus     *natsbus.Bus
	names   Names
	es      *elasticsearch.Client
	prefix  string
	natsURL string
	js      jetstream.JetStream
	// subjects are prefix+subject; "" for a subprocess that uses the standard subjects.
	subjectPrefix string
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
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{u}})
	prefix := fmt.Sprintf("nftest%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { deleteAll(es, prefix) })
	return &harness{t: t, bus: b, names: Names{Prefix: prefix}, es: es, prefix: prefix, natsURL: natsURL, js: js, subjectPrefix: prefix + "."}
}

// deleteAll removes the indices and templates a test or benchmark created under prefix.
func deleteAll(es *elasticsearch.Client, prefix string) {
	for _, path := range []string{"/" + prefix + "-*", "/_index_template/" + prefix + "-*", "/_component_template/" + prefix + "-*"} {
		req, _ := http.NewRequest(http.MethodDelete, path, nil)
		if res, err := es.Perform(req); err == nil {
			res.Body.Close()
		}
	}
}

// consumer returns the JetStream state of the durable group on subject (without the prefix).
func (h *harness) consumer(subject, group string) *jetstream.ConsumerInfo {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := h.js.Consumer(ctx, natsbus.StreamName("NEWSFLOW", h.subjectPrefix+subject), group)
	if err != nil {
		h.t.Fatalf("consumer %s on %s: %v", group, subject, err)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		h.t.Fatalf("consumer %s info: %v", group, err)
	}
	return ci
}

// streamMsgs is the number of messages in the stream of subject (0 if it does not exist).
func (h *harness) streamMsgs(subject string) uint64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := h.js.Stream(ctx, natsbus.StreamName("NEWSFLOW", h.subjectPrefix+subject))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		h.t.Fatalf("stream of %s: %v", subject, err)
	}
	si, err := st.Info(ctx)
	if err != nil {
		h.t.Fatalf("stream of %s: %v", subject, err)
	}
	return si.State.Msgs
}

func (h *harness) publish(envs ...*article.Envelope) { h.publishKeyed("", envs...) }

// publishKeyed publishes with suffix appended to the dedup key: a non-empty suffix makes
// JetStream store a second copy of the same version (a redelivery the indexer really sees).
func (h *harness) publishKeyed(suffix string, envs ...*article.Envelope) {
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
		if err := h.bus.Publish(context.Background(), h.subjectPrefix+subj, bus.Outgoing{Key: key + suffix, Data: b}); err != nil {
			h.t.Fatal(err)
		}
	}
}

// crashTransport is the indexer's HTTP transport; once down it fails every request, as
// the network of a dead process would.
type crashTransport struct {
	base http.RoundTripper
	down atomic.Bool
}

func (c *crashTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.down.Load() {
		return nil, errors.New("test: indexer crashed")
	}
	return c.base.RoundTrip(r)
}

// consumeOpts are the options the harness consumes <prefix>.news.enriched with.
func (h *harness) consumeOpts() bus.ConsumeOptions {
	return bus.ConsumeOptions{Group: h.prefix + "-indexer", Stage: "indexer", MaxDeliver: 1000, AckWait: 3 * time.Second, Concurrency: 8,
		DLQSubject: h.prefix + ".news.dlq", Backoff: bus.ExpBackoff(100*time.Millisecond, time.Second)}.Defaults()
}

// run starts an indexer consuming <prefix>.news.enriched against esURL until the returned
// stop is called. stop(false) is a clean shutdown (drain, final flush, acks). stop(true) is
// an in-process crash: bulk results are ignored from then on (ix.abandon: nothing is acked,
// nacked or dead-lettered) and the transport fails, so the buffered bulk never reaches
// Elasticsearch; a bulk already on the wire may land without its messages being acked. The
// deliveries stay unsettled and JetStream redelivers them after AckWait — what a killed
// process leaves behind (TestIndexerProcessKill kills a real process).
func (h *harness) run(esURL string) (stop func(crash bool), ix *Indexer) {
	tr := &crashTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}, MaxRetries: 1, Transport: tr})
	ix, err := New(Config{Setup: SetupConfig{Names: h.names}, FlushInterval: 200 * time.Millisecond, Refresh: "true"}, es, h.bus, zap.NewNop(), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := ix.Setup(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	opts := h.consumeOpts()
	ctx, cancel := context.WithCancel(context.Background())
	context.AfterFunc(ctx, ix.StopWaiting) // as stages.AddIndexer does
	done := make(chan error, 2)
	go func() { done <- h.bus.Consume(ctx, h.prefix+"."+article.SubjectEnriched, opts, ix.Handler(opts)) }()
	aopts := opts
	aopts.Group = h.prefix + "-indexer-alerts"
	go func() { done <- h.bus.Consume(ctx, h.prefix+"."+article.SubjectAlerts, aopts, ix.Handler(aopts)) }()
	return func(crash bool) {
		if crash {
			ix.abandon()
			tr.down.Store(true)
		}
		cancel()
		<-done
		<-done
		// After a crash this only reaps the bulk workers: their flush fails on the dead
		// transport and the results are ignored.
		_ = ix.Close(context.Background())
		tr.base.(*http.Transport).CloseIdleConnections()
	}, ix
}

func (h *harness) search(body string) map[string]any {
	h.t.Helper()
	_, _ = h.es.Indices.Refresh(h.es.Indices.Refresh.WithIndex(h.names.ArticlesAlias()))
	return h.searchIndex(h.names.ArticlesAlias(), body)
}

// searchIndex runs a search on index (an alias); a missing alias counts as no hits.
// A 503 (an index created a moment ago whose primary shard is not allocated yet: "all shards
// failed", no_shard_available_action_exception) is retried for up to 30 s.
func (h *harness) searchIndex(index, body string) map[string]any {
	h.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		res, err := h.es.Search(h.es.Search.WithIndex(index), h.es.Search.WithBody(strings.NewReader(body)), h.es.Search.WithTrackTotalHits(true))
		if err != nil {
			h.t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		switch {
		case res.StatusCode == 404: // no document indexed yet: the alias does not exist
			return map[string]any{"hits": map[string]any{"total": map[string]any{"value": 0.0}}}
		case res.StatusCode == 503 && time.Now().Before(deadline):
			time.Sleep(200 * time.Millisecond)
			continue
		case res.IsError():
			h.t.Fatalf("search %s: %s %v", body, res.Status(), out)
		}
		return out
	}
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

// waitAbove polls until the query matches more than n documents and returns the count.
func (h *harness) waitAbove(query string, n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	got := 0
	for time.Now().Before(deadline) {
		if got = total(h.search(query)); got > n {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
	return got
}

func TestIndexerExactlyOnceUnderFaults(t *testing.T) {
	h := newHarness(t)
	realES := os.Getenv("NEWSFLOW_ES_URL")
	px := newProxy(t, realES)
	const n = 150
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	newer := t0.Add(time.Hour)

	// 1. First delivery of every article (version t0); the indexer crashes once some of them
	// are in Elasticsearch, with the rest buffered or on the wire and nothing settled after.
	stop, _ := h.run(px.url())
	for i := 0; i < n/2; i++ {
		h.publish(enriched(i, t0, fmt.Sprintf("story %d v1", i)))
	}
	if got := h.waitAbove(`{"query":{"match_all":{}}}`, 0, 60*time.Second); got == 0 {
		t.Fatal("nothing indexed before the crash")
	}
	for i := n / 2; i < n; i++ {
		h.publish(enriched(i, t0, fmt.Sprintf("story %d v1", i)))
	}
	stop(true)
	t.Logf("crash: %d of %d documents in Elasticsearch", total(h.search(`{"query":{"match_all":{}}}`)), n)

	// 2. Restart; a third gets newer content.
	stop, ix := h.run(px.url())
	for i := 0; i < n/3; i++ {
		h.publish(enriched(i, newer, fmt.Sprintf("story %d v2", i)))
	}

	// 3. Elasticsearch becomes unreachable. Once the indexer noticed, more messages arrive:
	// the handlers must block (backpressure) instead of pulling the stream empty, hold no
	// bulk items, and dead-letter nothing, for longer than AckWait.
	px.setUp(false)
	h.publish(enriched(n/3, newer, fmt.Sprintf("story %d v2", n/3)))
	deadline := time.Now().Add(60 * time.Second)
	for ix.healthy.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if ix.healthy.Load() {
		t.Fatal("indexer did not notice that Elasticsearch is unreachable")
	}
	outage := 0
	for i := n/3 + 1; i < 2*n/3; i++ {
		h.publish(enriched(i, newer, fmt.Sprintf("story %d v2", i)))
		outage++
	}
	for i := 0; i < 5; i++ {
		h.publish(enriched(i, t0.Add(-time.Hour), fmt.Sprintf("story %d v0 (stale)", i)))
		outage++
	}
	opts := h.consumeOpts()
	bound := opts.Concurrency + max(2*opts.Concurrency, 4) // handlers + one prefetched pull batch
	var maxWaiting int64
	var last Pending
	var ci *jetstream.ConsumerInfo
	for end := time.Now().Add(opts.AckWait + 2*time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		last = ix.Pending()
		maxWaiting = max(maxWaiting, last.Waiting)
		ci = h.consumer(article.SubjectEnriched, h.prefix+"-indexer")
	}
	t.Logf("outage: %d published, handlers waiting max %d (concurrency %d), bulk items in flight %d, stream not yet delivered %d, ack pending %d",
		outage, maxWaiting, opts.Concurrency, last.InFlight, ci.NumPending, ci.NumAckPending)
	if maxWaiting < 1 || maxWaiting > int64(opts.Concurrency) {
		t.Errorf("handlers blocked waiting for Elasticsearch: max %d, want 1..%d", maxWaiting, opts.Concurrency)
	}
	if last.InFlight != 0 {
		t.Errorf("%d bulk items held while Elasticsearch is down, want 0 (failed bulks are nacked)", last.InFlight)
	}
	if min := uint64(outage - bound); ci.NumPending < min {
		t.Errorf("consumer kept pulling during the outage: %d of %d left in the stream, want >= %d", ci.NumPending, outage, min)
	}
	if d := h.streamMsgs(h.prefix + ".news.dlq"); d != 0 {
		t.Errorf("%d messages dead-lettered during the outage", d)
	}
	px.setUp(true)

	if got := h.waitTotal(`{"query":{"match_all":{}}}`, n, 60*time.Second); got != n {
		t.Fatalf("index holds %d documents, want exactly %d", got, n)
	}
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"v2"}}}`, 2*n/3, 60*time.Second); got != 2*n/3 {
		t.Fatalf("%d documents have the newest (v2) content, want %d", got, 2*n/3)
	}
	if got := total(h.search(`{"query":{"match_phrase":{"title":"stale"}}}`)); got != 0 {
		t.Fatalf("%d stale versions overwrote newer ones", got)
	}
	if d := h.streamMsgs(h.prefix + ".news.dlq"); d != 0 {
		t.Fatalf("%d messages dead-lettered", d)
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
		{name: "english title analyser", query: `{"query":{"match":{"title.english":"stories"}}}`, min: n},
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

// TestIndexerStopsWhileElasticsearchDown: a shutdown during an outage must not wait for
// Elasticsearch. Handlers blocked by the backpressure give up (their messages are nacked),
// the consumer drains and Close returns; a later indexer indexes everything once ES is back.
func TestIndexerStopsWhileElasticsearchDown(t *testing.T) {
	h := newHarness(t)
	px := newProxy(t, os.Getenv("NEWSFLOW_ES_URL"))
	stop, ix := h.run(px.url())
	px.setUp(false)
	const n = 20
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		h.publish(enriched(i, now, fmt.Sprintf("outage %d", i)))
	}
	deadline := time.Now().Add(60 * time.Second)
	for ix.Pending().Waiting == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if ix.Pending().Waiting == 0 {
		t.Fatal("no handler blocked waiting for Elasticsearch")
	}
	stopped := make(chan struct{})
	go func() { stop(false); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(60 * time.Second): // a failure bound for a hang, not a speed assertion
		px.setUp(true) // let the stuck handlers go so the test can end
		<-stopped
		t.Fatal("stop did not return while Elasticsearch was down: the drain waits for it")
	}
	px.setUp(true)
	stop, _ = h.run(px.url())
	defer stop(false)
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"outage"}}}`, n, 90*time.Second); got != n {
		t.Fatalf("%d of %d documents indexed after the outage", got, n)
	}
	if d := h.streamMsgs(h.prefix + ".news.dlq"); d != 0 {
		t.Fatalf("%d messages dead-lettered", d)
	}
}

// TestIndexerUndatedRefetchKeepsItsIndex: an article without a published date is filed by its
// fetch month; fetched again a month later it overwrites that document instead of adding a
// second copy to the new month's index.
func TestIndexerUndatedRefetchKeepsItsIndex(t *testing.T) {
	h := newHarness(t)
	stop, _ := h.run(os.Getenv("NEWSFLOW_ES_URL"))
	defer stop(false)
	oct := time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)
	first := enriched(7, oct, "undated first fetch")
	first.Enriched.PublishedAt = nil
	h.publish(first)
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"undated first fetch"}}}`, 1, 30*time.Second); got != 1 {
		t.Fatalf("first fetch not indexed (%d)", got)
	}
	again := enriched(7, oct.AddDate(0, 1, 5), "undated second fetch")
	again.Enriched.PublishedAt = nil
	if again.ID != first.ID {
		t.Fatal("test setup: same URL must give the same ID")
	}
	h.publish(again)
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"undated second fetch"}}}`, 1, 30*time.Second); got != 1 {
		t.Fatalf("second fetch not indexed (%d)", got)
	}
	r := h.search(fmt.Sprintf(`{"query":{"ids":{"values":[%q]}}}`, first.ID))
	if n := total(r); n != 1 {
		t.Fatalf("%d documents for the article, want 1 (no second monthly copy)", n)
	}
	hit := r["hits"].(map[string]any)["hits"].([]any)[0].(map[string]any)
	if idx := hit["_index"].(string); idx != h.names.ArticleIndex(oct) {
		t.Fatalf("document in %s, want %s (the first fetch's month)", idx, h.names.ArticleIndex(oct))
	}
}

package index

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"go.uber.org/zap"
)

// benchMsg is a bus.Message held in memory: the benchmark measures Elasticsearch bulk
// throughput through the Indexer's handler, not a broker.
type benchMsg struct {
	data []byte
	wg   *sync.WaitGroup
	done atomic.Bool
}

func (m *benchMsg) Key() string               { return "" }
func (m *benchMsg) Subject() string           { return article.SubjectEnriched }
func (m *benchMsg) Data() []byte              { return m.data }
func (m *benchMsg) Header() map[string]string { return nil }
func (m *benchMsg) Attempt() int              { return 1 }
func (m *benchMsg) Ack(context.Context) error {
	if m.done.CompareAndSwap(false, true) {
		m.wg.Done()
	}
	return nil
}
func (m *benchMsg) Nack(context.Context, time.Duration) error { return m.Ack(context.Background()) }
func (m *benchMsg) Term(context.Context) error                { return m.Ack(context.Background()) }

// benchCase is one point of the throughput sweep.
type benchCase struct {
	name string
	cfg  func(*Config)
	lang string // article language ("" = en)
	cold bool   // do not create the index before timing (the old benchmark's setup)
}

// benchCases is the sweep: the first case is the baseline the others are compared with.
// Set NEWSFLOW_BENCH_CASES=a,b to run a subset (exact names).
var benchCases = []benchCase{
	{name: "default", cfg: func(*Config) {}},
	{name: "default+cold-index", cfg: func(*Config) {}, cold: true},
	// Before the idle flush (Config.FlushIdle): partial bulks waited for FlushInterval only.
	{name: "flush-idle=off", cfg: func(c *Config) { c.FlushIdle = -1 }},
	{name: "workers=1", cfg: func(c *Config) { c.Workers = 1 }},
	{name: "workers=4", cfg: func(c *Config) { c.Workers = 4 }},
	{name: "flush=512KiB", cfg: func(c *Config) { c.FlushBytes = 512 << 10 }},
	{name: "flush=5MiB", cfg: func(c *Config) { c.FlushBytes = 5 << 20 }},
	{name: "refresh=30s", cfg: func(c *Config) { c.Setup.RefreshInterval = "30s" }},
	{name: "translog=async", cfg: func(c *Config) { c.Setup.TranslogDurability = "async" }},
	{name: "refresh=30s+async", cfg: func(c *Config) { c.Setup.RefreshInterval = "30s"; c.Setup.TranslogDurability = "async" }},
	{name: "workers=3", cfg: func(c *Config) { c.Workers = 3 }},
	{name: "workers=4+flush=1MiB", cfg: func(c *Config) { c.Workers = 4; c.FlushBytes = 1 << 20 }},
	{name: "workers=4+refresh=30s", cfg: func(c *Config) { c.Workers = 4; c.Setup.RefreshInterval = "30s" }},
	{name: "workers=4+async", cfg: func(c *Config) { c.Workers = 4; c.Setup.TranslogDurability = "async" }},
	// A language with a text_lang copy (title and text stored and analysed twice); before
	// English lost its copy (see analysedLanguages) every English article cost this.
	{name: "lang-copy(de)", cfg: func(*Config) {}, lang: "de"},
}

// BenchmarkBulkIndex5KB indexes ~5 KB articles into the real local Elasticsearch through the
// Indexer (bulk, external versioning, per-item acks), sweeping workers, bulk size and index
// settings. It reports docs/s; compare each case with "default" of the same run (the box is
// shared and noisy), e.g. go test -run '^$' -bench BulkIndex5KB -benchtime 2000x ./index/
func BenchmarkBulkIndex5KB(b *testing.B) {
	u := os.Getenv("NEWSFLOW_ES_URL")
	if u == "" {
		b.Skip("NEWSFLOW_ES_URL not set")
	}
	only := os.Getenv("NEWSFLOW_BENCH_CASES")
	para := strings.Repeat("Officials in Brussels said the agreement would be signed next week after talks. ", 60) // ~5 KB
	for _, bc := range benchCases {
		if only != "" && !matchAny(bc.name, only) {
			continue
		}
		b.Run(bc.name, func(b *testing.B) {
			es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{u}})
			prefix := fmt.Sprintf("nfbench%d", time.Now().UnixNano()%1e9)
			defer deleteAll(es, prefix)
			cfg := Config{Setup: SetupConfig{Names: Names{Prefix: prefix}}}
			bc.cfg(&cfg)
			ix, err := New(cfg, es, nil, zap.NewNop(), nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Setup(context.Background()); err != nil {
				b.Fatal(err)
			}
			// Create the monthly index before timing: creation (cluster state update) is a
			// one-off cost that would dominate short runs.
			if bc.cold {
				// measured with the index creation, as the first version of this benchmark did
			} else if res, err := es.Indices.Create(cfg.Setup.Names.ArticleIndex(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))); err != nil || res.IsError() {
				b.Fatalf("create index: %v %v", err, res)
			} else {
				res.Body.Close()
			}
			opts := bus.ConsumeOptions{Group: "bench"}.Defaults()
			h := ix.Handler(opts)
			msgs := make([]*benchMsg, b.N)
			var wg sync.WaitGroup
			now := time.Now().UTC()
			var bytes int
			for i := range msgs {
				e := enriched(i, now, fmt.Sprintf("bench %d", i))
				e.Enriched.Text = para
				if bc.lang != "" {
					e.Enriched.Language = bc.lang
				}
				data, _ := article.Encode(e)
				bytes += len(data)
				msgs[i] = &benchMsg{data: data, wg: &wg}
			}
			wg.Add(b.N)
			b.ResetTimer()
			start := time.Now()
			for _, m := range msgs {
				if err := h(context.Background(), m); err != bus.ErrDeferred {
					b.Fatal(err)
				}
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			_ = ix.Close(context.Background())
			st := ix.Stats()
			if st.NumFailed > 0 {
				b.Fatalf("%d bulk items failed", st.NumFailed)
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "docs/s")
			b.ReportMetric(float64(bytes)/float64(b.N), "msgB/doc")
			b.ReportMetric(float64(st.NumRequests), "bulks")
			if st.NumRequests > 0 {
				b.ReportMetric(float64(st.FlushedMs)/float64(st.NumRequests), "ms/bulk")
			}
		})
	}
}

func matchAny(name, list string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

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

// BenchmarkBulkIndex5KB indexes ~5 KB articles into the real local Elasticsearch through the
// Indexer (bulk, external versioning, per-item acks), sweeping the bulk size. It reports
// docs/s.
func BenchmarkBulkIndex5KB(b *testing.B) {
	u := os.Getenv("NEWSFLOW_ES_URL")
	if u == "" {
		b.Skip("NEWSFLOW_ES_URL not set")
	}
	para := strings.Repeat("Officials in Brussels said the agreement would be signed next week after talks. ", 60) // ~5 KB
	for _, flush := range []int{256 << 10, 1 << 20, 2 << 20, 5 << 20} {
		b.Run(fmt.Sprintf("flush=%dKiB", flush>>10), func(b *testing.B) {
			es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{u}})
			prefix := fmt.Sprintf("nfbench%d", time.Now().UnixNano()%1e9)
			defer func() {
				if res, err := es.Indices.Delete([]string{prefix + "-*"}); err == nil {
					res.Body.Close()
				}
			}()
			ix, err := New(Config{Setup: SetupConfig{Names: Names{Prefix: prefix}}, FlushBytes: flush, FlushInterval: time.Second, Workers: 2}, es, nil, zap.NewNop(), nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Setup(context.Background()); err != nil {
				b.Fatal(err)
			}
			opts := bus.ConsumeOptions{Group: "bench"}.Defaults()
			h := ix.Handler(opts)
			msgs := make([]*benchMsg, b.N)
			var wg sync.WaitGroup
			now := time.Now().UTC()
			for i := range msgs {
				e := enriched(i, now, fmt.Sprintf("bench %d", i))
				e.Enriched.Text = para
				data, _ := article.Encode(e)
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
			b.ReportMetric(float64(b.N)/el.Seconds(), "docs/s")
		})
	}
}

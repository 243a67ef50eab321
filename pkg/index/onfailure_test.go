package index

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// settleRecorder is an in-memory bus.Message and bus.Publisher for unit-testing how bulk item
// results are settled (pure logic; the real paths run against ES in indexer_test.go).
type settleRecorder struct {
	mu          sync.Mutex
	acks, nacks int
	terms       int
	dlq         []string
}

func (r *settleRecorder) Key() string               { return "k" }
func (r *settleRecorder) Subject() string           { return article.SubjectEnriched }
func (r *settleRecorder) Data() []byte              { return []byte(`{}`) }
func (r *settleRecorder) Header() map[string]string { return nil }
func (r *settleRecorder) Attempt() int              { return 1 }
func (r *settleRecorder) Ack(context.Context) error {
	r.mu.Lock()
	r.acks++
	r.mu.Unlock()
	return nil
}
func (r *settleRecorder) Nack(context.Context, time.Duration) error {
	r.mu.Lock()
	r.nacks++
	r.mu.Unlock()
	return nil
}
func (r *settleRecorder) Term(context.Context) error {
	r.mu.Lock()
	r.terms++
	r.mu.Unlock()
	return nil
}
func (r *settleRecorder) Publish(_ context.Context, subject string, _ bus.Outgoing) error {
	r.mu.Lock()
	r.dlq = append(r.dlq, subject)
	r.mu.Unlock()
	return nil
}

func TestOnFailureSettlesByItemStatus(t *testing.T) {
	tests := []struct {
		name                    string
		status                  int
		errType                 string
		acks, nacks, terms, dlq int
	}{
		{name: "429 is retried", status: 429, errType: "es_rejected_execution_exception", nacks: 1},
		{name: "503 is retried", status: 503, errType: "unavailable_shards_exception", nacks: 1},
		{name: "500 is retried", status: 500, errType: "internal", nacks: 1},
		{name: "409 stale version is done", status: 409, errType: "version_conflict_engine_exception", acks: 1},
		{name: "400 mapping error is dead-lettered", status: 400, errType: "document_parsing_exception", terms: 1, dlq: 1},
		{name: "404 missing alias is dead-lettered", status: 404, errType: "index_not_found_exception", terms: 1, dlq: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &settleRecorder{}
			ix := &Indexer{cfg: Config{}.Defaults(), pub: rec, log: zap.NewNop(), m: newTestMetrics()}
			opts := bus.ConsumeOptions{Group: "g"}.Defaults()
			res := esutil.BulkIndexerResponseItem{Status: tt.status}
			res.Error.Type = tt.errType
			res.Error.Reason = "reason from ES"
			ix.onFailure(rec, "id1", opts, res, nil)
			if rec.acks != tt.acks || rec.nacks != tt.nacks || rec.terms != tt.terms || len(rec.dlq) != tt.dlq {
				t.Fatalf("acks %d nacks %d terms %d dlq %d; want %d %d %d %d", rec.acks, rec.nacks, rec.terms, len(rec.dlq), tt.acks, tt.nacks, tt.terms, tt.dlq)
			}
		})
	}
}

func TestVersionNeverNegative(t *testing.T) {
	tests := []struct {
		name    string
		fetched time.Time
	}{
		{name: "zero time", fetched: time.Time{}},
		{name: "before 1970", fetched: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "normal", fetched: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := Version(&article.Enriched{Clean: article.Clean{FetchedAt: tt.fetched}, EnrichmentVersion: 1}); v < 0 {
				t.Fatalf("Version = %d", v)
			}
		})
	}
}

func newTestMetrics() metrics {
	return metrics{
		items:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_items"}, []string{"outcome"}),
		flushes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "t_flush"}),
		healthy: prometheus.NewGauge(prometheus.GaugeOpts{Name: "t_up"}),
	}
}

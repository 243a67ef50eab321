package app

import (
	"testing"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/prometheus/client_golang/prometheus"
)

// TestSnapshotReadsStageLabels: the progress line reads the stages' counts from
// newsflow_stage_messages_total by its stage label.
func TestSnapshotReadsStageLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	ms := map[string]*service.StageMetrics{}
	for _, s := range []string{"cleaner", "enricher", "alerter"} {
		ms[s] = service.NewStageMetrics(s, reg)
	}
	add := func(stage, outcome string, n float64) { ms[stage].Messages.WithLabelValues(outcome).Add(n) }
	add("cleaner", "ok", 10)
	add("cleaner", "dead_letter", 2)
	add("cleaner", "decode_error", 1)
	add("cleaner", "retry", 5)
	add("enricher", "ok", 9)
	add("enricher", "dead_letter", 1)
	add("alerter", "deferred", 9)
	add("alerter", "dead_letter", 1)
	items := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_indexer_items_total"}, []string{"outcome"})
	reg.MustRegister(items)
	items.WithLabelValues("indexed").Add(8)
	items.WithLabelValues("dead_lettered").Add(1)
	got := Snapshot(reg)
	want := Counts{Cleaned: 10, Enriched: 9, Indexed: 8, DeadLettered: 2 + 1 + 1 + 1 + 1}
	if got != want {
		t.Fatalf("Snapshot = %+v, want %+v", got, want)
	}
}

package clean

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the cleaner's Prometheus collectors.
type metrics struct {
	pages      *prometheus.CounterVec
	extract    prometheus.Histogram
	removed    *prometheus.CounterVec
	duplicates prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsflow_cleaner_pages_total",
			Help: "Pages cleaned, by outcome (ok, duplicate, permanent, timeout, canceled).",
		}, []string{"outcome"}),
		extract: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "newsflow_cleaner_extract_seconds",
			Help:    "Time to clean one page.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsflow_cleaner_removed_blocks_total",
			Help: "Boilerplate blocks removed after extraction, by reason (rule, template).",
		}, []string{"reason"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "newsflow_cleaner_duplicates_total",
			Help: "Articles marked as near-duplicates of an earlier article.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.pages, m.extract, m.removed, m.duplicates} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

package fetch

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	polls        *prometheus.CounterVec
	items        *prometheus.CounterVec
	errors       *prometheus.CounterVec
	fetchSeconds *prometheus.HistogramVec
	failures     *prometheus.GaugeVec
	lastSuccess  *prometheus.GaugeVec
	feedNew      *prometheus.CounterVec
	parked       prometheus.Gauge
	distrusted   prometheus.Counter
	submitted    *prometheus.CounterVec
	submissions  *prometheus.CounterVec
	published    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_fetcher_polls_total",
			Help: "Feed polls by outcome (ok, not_modified, unchanged, partial, error, deferred, publish_error)."}, []string{"outcome"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_fetcher_items_total",
			Help: "Feed items by outcome (new, seen, deferred, invalid, publish_error)."}, []string{"outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_fetcher_errors_total",
			Help: "Fetch errors by reason (timeout, http_4xx, http_5xx, blocked, robots, too_large, parse, html_not_feed, ...)."}, []string{"reason"}),
		fetchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "newsflow_fetcher_fetch_seconds",
			Help: "HTTP fetch latency by kind (feed, page).", Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10)}, []string{"kind"}),
		failures: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsflow_fetcher_feed_consecutive_failures",
			Help: "Consecutive failed polls per feed (label feed only with PerFeedMetrics)."}, []string{"feed"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsflow_fetcher_feed_last_success_timestamp_seconds",
			Help: "Unix time of the feed's last successful poll (PerFeedMetrics)."}, []string{"feed"}),
		feedNew: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_fetcher_feed_new_items_total",
			Help: "New items per feed (PerFeedMetrics); rate over 1d = new items per day."}, []string{"feed"}),
		parked: prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsflow_fetcher_feeds_parked",
			Help: "Feeds parked after too many consecutive failures (as seen by this replica)."}),
		distrusted: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsflow_fetcher_validators_distrusted_total",
			Help: "Feeds whose ETag/Last-Modified were caught lying and are now ignored."}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_fetcher_urls_submitted_total",
			Help: "URLs submitted through POST /v1/urls by outcome (accepted: stored on news.submit, rejected: invalid, publish_error: bus did not store it)."}, []string{"outcome"}),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsflow_fetcher_submissions_total",
			Help: "news.submit messages handled by outcome (fetched, retry, dead_letter)."}, []string{"outcome"}),
		published: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "newsflow_fetcher_published_bytes",
			Help: "Size of published raw envelopes.", Buckets: prometheus.ExponentialBuckets(1024, 4, 8)}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.polls, m.items, m.errors, m.fetchSeconds, m.failures, m.lastSuccess, m.feedNew, m.parked, m.distrusted, m.submitted, m.submissions, m.published} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

package bus

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Lag is a consumer group's backlog on one subject.
type Lag struct {
	// Pending: messages stored but not yet delivered to the group (JetStream NumPending; Kafka
	// log-end offset minus committed offset, summed over partitions, which includes Unacked).
	Pending int64
	// Unacked: delivered but not yet settled (JetStream NumAckPending; 0 on Kafka, whose
	// unsettled messages are part of Pending).
	Unacked int64
}

// Backlog is the work left for the group: Pending + Unacked.
func (l Lag) Backlog() int64 { return l.Pending + l.Unacked }

// LagReporter is the optional interface of backends that can tell a group's backlog; both
// natsbus and kafkabus implement it. found is false when the group or its stream/topic does
// not exist (yet).
type LagReporter interface {
	Lag(ctx context.Context, subject, group string) (lag Lag, found bool, err error)
}

// LagCollector exports the backlog of the consumer groups it watches as the gauge
// newsflow_bus_consumer_lag_messages{stage,subject,group} (Pending+Unacked: what an autoscaler
// scales a stage on), asking the backend on each scrape (bounded by a timeout). A failed query
// counts in newsflow_bus_consumer_lag_errors_total and leaves the series out of that scrape.
type LagCollector struct {
	lr      LagReporter
	log     *zap.Logger
	timeout time.Duration
	desc    *prometheus.Desc
	errs    *prometheus.CounterVec

	mu      sync.Mutex
	watches map[lagWatch]struct{}
}

type lagWatch struct{ stage, subject, group string }

// NewLagCollector returns a collector over b, or nil when b does not implement LagReporter.
// Register it once (reg.MustRegister) and Watch each consumer group. timeout bounds one
// scrape's queries (default 5s).
func NewLagCollector(b Bus, log *zap.Logger, timeout time.Duration) *LagCollector {
	lr, ok := b.(LagReporter)
	if !ok {
		return nil
	}
	if log == nil {
		log = zap.NewNop()
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &LagCollector{
		lr: lr, log: log, timeout: timeout, watches: map[lagWatch]struct{}{},
		desc: prometheus.NewDesc("newsflow_bus_consumer_lag_messages",
			"Messages a consumer group has not finished: not yet delivered plus delivered but unsettled (JetStream num_pending+num_ack_pending, Kafka log end minus committed offset).",
			[]string{"stage", "subject", "group"}, nil),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsflow_bus_consumer_lag_errors_total",
			Help: "Consumer lag queries that failed (the lag series is missing from that scrape).",
		}, []string{"stage", "subject", "group"}),
	}
}

// Watch adds a consumer group to the collector. Idempotent; safe on a nil collector.
func (c *LagCollector) Watch(stage, subject, group string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watches[lagWatch{stage, subject, group}] = struct{}{}
}

// Describe implements prometheus.Collector.
func (c *LagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	c.errs.Describe(ch)
}

// Collect implements prometheus.Collector: one query per watched group.
func (c *LagCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	ws := make([]lagWatch, 0, len(c.watches))
	for w := range c.watches {
		ws = append(ws, w)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	for _, w := range ws {
		lag, found, err := c.lr.Lag(ctx, w.subject, w.group)
		if err != nil {
			c.errs.WithLabelValues(w.stage, w.subject, w.group).Inc()
			c.log.Debug("consumer lag query failed", zap.String("subject", w.subject), zap.String("group", w.group), zap.Error(err))
			continue
		}
		if !found {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(lag.Backlog()), w.stage, w.subject, w.group)
	}
	c.errs.Collect(ch)
}

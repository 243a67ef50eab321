package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Output is one envelope a stage emits, and where to.
type Output struct {
	Subject  string
	Envelope *article.Envelope
}

// ProcessFunc is a stage's logic: it gets a decoded envelope and returns what to publish.
// Errors wrapped with bus.Permanent dead-letter the input; other errors are retried.
type ProcessFunc func(ctx context.Context, in *article.Envelope) ([]Output, error)

// MessageProcessFunc is a ProcessFunc that also gets the delivery, for stages that settle it
// themselves: returning bus.ErrDeferred means fn has taken ownership of msg and will Ack, Nack
// or Term it later (its outputs are then ignored).
type MessageProcessFunc func(ctx context.Context, msg bus.Message, in *article.Envelope) ([]Output, error)

// StageMetrics are the per-stage counters and histograms StageHandler records.
type StageMetrics struct {
	Messages *prometheus.CounterVec // outcome: ok, deferred, retry, dead_letter, decode_error
	Seconds  prometheus.Histogram
}

// The stage metrics' names: one metric for every stage, the stage a label, so that one query
// (sum by (stage) (rate(newsflow_stage_messages_total[5m]))) covers the whole pipeline.
const (
	StageMessagesMetric = "newsflow_stage_messages_total"
	StageSecondsMetric  = "newsflow_stage_handle_seconds"
)

// NewStageMetrics registers newsflow_stage_messages_total{stage,outcome} and
// newsflow_stage_handle_seconds{stage} for stage on reg. Several stages may share one
// registry (the all-in-one): each registers its own series, told apart by the stage label.
func NewStageMetrics(stage string, reg prometheus.Registerer) *StageMetrics {
	labels := prometheus.Labels{"stage": stage}
	m := &StageMetrics{
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        StageMessagesMetric,
			Help:        "Messages handled by a stage, by outcome (ok; deferred: the stage settles it later; retry; dead_letter; decode_error).",
			ConstLabels: labels,
		}, []string{"outcome"}),
		Seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        StageSecondsMetric,
			Help:        "Time a stage takes to handle one message, publishing its outputs included.",
			Buckets:     prometheus.ExponentialBuckets(0.0005, 2.5, 12),
			ConstLabels: labels,
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Messages, m.Seconds)
	}
	return m
}

// record counts the outcome of one handled message (err as the handler returned it).
func (m *StageMetrics) record(err error) {
	switch {
	case err == nil:
		m.Messages.WithLabelValues("ok").Inc()
	case errors.Is(err, bus.ErrDeferred):
		m.Messages.WithLabelValues("deferred").Inc()
	case bus.IsPermanent(err):
		m.Messages.WithLabelValues("dead_letter").Inc()
	default:
		m.Messages.WithLabelValues("retry").Inc()
	}
}

// CountedHandler records h's outcomes and durations in m, for stages whose handler is not a
// StageHandler (the indexer, the fetcher's news.submit consumer): nil is ok, bus.ErrDeferred
// deferred, a permanent error dead_letter, any other error retry.
func CountedHandler(h bus.Handler, m *StageMetrics) bus.Handler {
	return func(ctx context.Context, msg bus.Message) error {
		start := time.Now()
		err := h(ctx, msg)
		m.Seconds.Observe(time.Since(start).Seconds())
		m.record(err)
		return err
	}
}

// StageHandler turns a ProcessFunc into a bus.Handler: decode (malformed → permanent),
// process, publish every output with the article ID as key (blocking until the broker
// accepted it), then return nil so the input is acked. It logs each failure with its reason
// and counts outcomes. The bus's Settle does the retry/backoff and dead-lettering.
func StageHandler(stage string, pub bus.Publisher, fn ProcessFunc, log *zap.Logger, m *StageMetrics) bus.Handler {
	return MessageStageHandler(stage, pub, func(ctx context.Context, _ bus.Message, in *article.Envelope) ([]Output, error) {
		return fn(ctx, in)
	}, log, m)
}

// MessageStageHandler is StageHandler for a MessageProcessFunc: when fn returns
// bus.ErrDeferred (it owns the message now) nothing is published, the outcome "deferred" is
// counted and ErrDeferred is returned so the bus leaves the message unsettled.
func MessageStageHandler(stage string, pub bus.Publisher, fn MessageProcessFunc, log *zap.Logger, m *StageMetrics) bus.Handler {
	return MessageStageHandlerSkipping(stage, pub, nil, fn, log, m)
}

// MessageStageHandlerSkipping is MessageStageHandler decoding the input without the payload
// members named in skip (article.DecodeWithout), for a stage that reads only part of it.
func MessageStageHandlerSkipping(stage string, pub bus.Publisher, skip []string, fn MessageProcessFunc, log *zap.Logger, m *StageMetrics) bus.Handler {
	return func(ctx context.Context, msg bus.Message) error {
		start := time.Now()
		defer func() { m.Seconds.Observe(time.Since(start).Seconds()) }()
		in, err := article.DecodeWithout(msg.Data(), skip...)
		if err != nil {
			m.Messages.WithLabelValues("decode_error").Inc()
			log.Warn("undecodable message, dead-lettering", zap.String("key", msg.Key()),
				zap.String("subject", msg.Subject()), zap.Int("bytes", len(msg.Data())), zap.Error(err))
			return bus.Permanent(fmt.Errorf("%s: decode: %w", stage, err))
		}
		outs, err := safeProcess(ctx, fn, msg, in)
		if err == nil {
			for _, o := range outs {
				b, encErr := article.Encode(o.Envelope)
				if encErr != nil {
					err = bus.Permanent(fmt.Errorf("%s: encode %s: %w", stage, o.Envelope.ID, encErr))
					break
				}
				if pubErr := pub.Publish(ctx, o.Subject, bus.Outgoing{Key: o.Envelope.ID, Data: b}); pubErr != nil {
					if errors.Is(pubErr, bus.ErrTooLarge) {
						pubErr = bus.Permanent(pubErr)
					}
					err = fmt.Errorf("%s: publish %s to %s: %w", stage, o.Envelope.ID, o.Subject, pubErr)
					break
				}
			}
		}
		m.record(err)
		switch {
		case err == nil, errors.Is(err, bus.ErrDeferred):
		case bus.IsPermanent(err):
			log.Warn("permanent failure, dead-lettering", zap.String("id", in.ID), zap.Error(err))
		default:
			log.Info("transient failure, will retry", zap.String("id", in.ID), zap.Int("attempt", msg.Attempt()), zap.Error(err))
		}
		return err
	}
}

// safeProcess runs fn and turns a panic into a permanent error so that one bad input can never
// crash the service.
func safeProcess(ctx context.Context, fn MessageProcessFunc, msg bus.Message, in *article.Envelope) (outs []Output, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = bus.Permanent(fmt.Errorf("panic while processing %s: %v", in.ID, r))
		}
	}()
	return fn(ctx, msg, in)
}

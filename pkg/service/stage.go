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

// NewStageMetrics registers newsflow_<stage>_messages_total and
// newsflow_<stage>_handle_seconds on reg.
func NewStageMetrics(stage string, reg prometheus.Registerer) *StageMetrics {
	m := &StageMetrics{
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsflow_" + stage + "_messages_total",
			Help: "Messages handled by the " + stage + " stage, by outcome.",
		}, []string{"outcome"}),
		Seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "newsflow_" + stage + "_handle_seconds",
			Help:    "Time to handle one message in the " + stage + " stage, publishing included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Messages, m.Seconds)
	}
	return m
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
	return func(ctx context.Context, msg bus.Message) error {
		start := time.Now()
		defer func() { m.Seconds.Observe(time.Since(start).Seconds()) }()
		in, err := article.Decode(msg.Data())
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
		switch {
		case err == nil:
			m.Messages.WithLabelValues("ok").Inc()
		case errors.Is(err, bus.ErrDeferred):
			m.Messages.WithLabelValues("deferred").Inc()
		case bus.IsPermanent(err):
			m.Messages.WithLabelValues("dead_letter").Inc()
			log.Warn("permanent failure, dead-lettering", zap.String("id", in.ID), zap.Error(err))
		default:
			m.Messages.WithLabelValues("retry").Inc()
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

package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// Outcome is what Settle did with a message, for logs and metrics.
type Outcome string

const (
	OutcomeAcked        Outcome = "acked"
	OutcomeRetried      Outcome = "retried"
	OutcomeDeadLettered Outcome = "dead_lettered"
	OutcomeDeferred     Outcome = "deferred"
	OutcomeFailed       Outcome = "settle_failed" // could not settle (will be redelivered by AckWait)
)

// Settle applies a Handler's result to m, the one rule every backend uses: nil → Ack;
// ErrDeferred → nothing; permanent error or last attempt → publish a dead letter (original
// payload, stage, reason) to opts.DLQSubject via p, then Term; other errors → Nack with
// opts.Backoff. If the dead letter cannot be published the message is Nacked, never lost.
// opts must have had Defaults applied.
func Settle(ctx context.Context, p Publisher, opts ConsumeOptions, m Message, herr error) (Outcome, error) {
	switch {
	case herr == nil:
		if err := m.Ack(ctx); err != nil {
			return OutcomeFailed, fmt.Errorf("bus: ack %s: %w", m.Key(), err)
		}
		return OutcomeAcked, nil
	case errors.Is(herr, ErrDeferred):
		return OutcomeDeferred, nil
	case IsPermanent(herr) || m.Attempt() >= opts.MaxDeliver:
		if err := DeadLetter(ctx, p, opts.DLQSubject, opts.Stage, m, herr); err != nil {
			_ = m.Nack(ctx, opts.Backoff(m.Attempt()))
			return OutcomeFailed, err
		}
		if err := m.Term(ctx); err != nil {
			return OutcomeFailed, fmt.Errorf("bus: term %s: %w", m.Key(), err)
		}
		return OutcomeDeadLettered, nil
	default:
		if err := m.Nack(ctx, opts.Backoff(m.Attempt())); err != nil {
			return OutcomeFailed, fmt.Errorf("bus: nack %s: %w", m.Key(), err)
		}
		return OutcomeRetried, nil
	}
}

// Publisher is the publishing half of Bus.
type Publisher interface {
	Publish(ctx context.Context, subject string, m Outgoing) error
}

// DeadLetter publishes m's original payload wrapped in an article.DeadLetter envelope with the
// stage and reason, keyed by the message key (or a hash of the payload when it has none).
func DeadLetter(ctx context.Context, p Publisher, dlqSubject, stage string, m Message, reason error) error {
	key := m.Key()
	if key == "" {
		sum := sha256.Sum256(m.Data())
		key = hex.EncodeToString(sum[:16])
	}
	msg := "unknown"
	if reason != nil {
		msg = reason.Error()
	}
	env := &article.Envelope{
		ID:    key,
		Stage: article.StageDLQ,
		DLQ: &article.DeadLetter{
			Stage:    stage,
			Subject:  m.Subject(),
			Reason:   msg,
			Attempts: m.Attempt(),
			Payload:  m.Data(),
			FailedAt: time.Now().UTC(),
		},
	}
	b, err := article.Encode(env)
	if err != nil {
		return fmt.Errorf("bus: dead-letter %s: %w", key, err)
	}
	// The DLQ key is made unique per failure so JetStream's dedup does not swallow a second
	// dead letter for the same article from another stage.
	out := Outgoing{Key: key + "-dlq-" + stage + "-" + strconv.FormatInt(time.Now().UnixNano(), 36), Data: b, Header: map[string]string{
		HeaderReason:  truncate(msg, 1024),
		HeaderStage:   stage,
		HeaderSubject: m.Subject(),
		HeaderAttempt: strconv.Itoa(m.Attempt()),
	}}
	if err := p.Publish(ctx, dlqSubject, out); err != nil {
		if errors.Is(err, ErrTooLarge) { // keep the reason at least; payload truncated
			env.DLQ.Payload = m.Data()[:min(len(m.Data()), 64<<10)]
			env.DLQ.Reason = msg + " (payload truncated to 64 KiB for the DLQ)"
			if b, err2 := article.Encode(env); err2 == nil {
				out.Data = b
				if err3 := p.Publish(ctx, dlqSubject, out); err3 == nil {
					return nil
				}
			}
		}
		return fmt.Errorf("bus: dead-letter %s to %s: %w", key, dlqSubject, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

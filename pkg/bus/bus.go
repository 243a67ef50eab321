// Package bus is newsflow's message bus contract: publish, consume as a durable shared group,
// and messages with idempotent Ack/Nack/Term. Backends live in subpackages (natsbus, kafkabus)
// and all pass the one conformance suite in bustest.
package bus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Header keys set by publishers and backends.
const (
	HeaderMsgID   = "Nats-Msg-Id"       // article ID; JetStream dedup key, Kafka message key
	HeaderReason  = "Newsflow-Reason"   // dead-letter reason
	HeaderStage   = "Newsflow-Stage"    // stage that dead-lettered
	HeaderSubject = "Newsflow-Subject"  // subject the dead letter was consumed from
	HeaderAttempt = "Newsflow-Attempts" // attempts made before dead-lettering
)

// Sentinel errors.
var (
	// ErrTooLarge: the payload exceeds the backend's maximum message size. Permanent.
	ErrTooLarge = errors.New("bus: message too large")
	// ErrClosed: the bus was closed.
	ErrClosed = errors.New("bus: closed")
	// ErrDeferred may be returned by a Handler that keeps the Message and settles it later
	// (e.g. after a bulk write); Consume then neither acks nor nacks it.
	ErrDeferred = errors.New("bus: settlement deferred by handler")
)

// Outgoing is a message to publish. Key is the article ID: JetStream's Nats-Msg-Id (dedup
// within the stream's duplicate window) and Kafka's partition key (per-key ordering).
type Outgoing struct {
	Key    string
	Data   []byte
	Header map[string]string
}

// Message is one delivery. Ack, Nack and Term are idempotent and safe for concurrent use:
// only the first settlement counts, later calls return nil.
type Message interface {
	Key() string
	Subject() string
	Data() []byte
	Header() map[string]string
	// Attempt is the 1-based delivery count as far as the backend knows it (see
	// Features.DeliveryCountAcrossCrashes).
	Attempt() int
	// Ack marks the message processed; it will not be delivered again to this group.
	Ack(ctx context.Context) error
	// Nack asks for redelivery after delay (0: as soon as the backend can).
	Nack(ctx context.Context, delay time.Duration) error
	// Term stops redelivery without success; the caller has already dead-lettered it.
	Term(ctx context.Context) error
}

// Handler processes one message. Returning nil acks it; an error wrapped by Permanent
// dead-letters it at once; any other error nacks it with backoff until MaxDeliver attempts,
// then dead-letters it; ErrDeferred leaves settlement to the handler. Handlers run
// concurrently up to ConsumeOptions.Concurrency.
type Handler func(ctx context.Context, m Message) error

// ConsumeOptions configures a durable, shared consumer group.
type ConsumeOptions struct {
	// Group is the durable consumer / consumer group name shared by all replicas of a stage.
	Group string
	// Stage names the consuming stage in dead letters ("cleaner").
	Stage string
	// MaxDeliver is how many attempts a message gets before it is dead-lettered (default 5).
	MaxDeliver int
	// AckWait is how long a delivery may stay unsettled before the backend redelivers it
	// (default 30s). Handlers that run long must finish well within it.
	AckWait time.Duration
	// Concurrency is the number of messages handled at once (default 1). With 1, a
	// backend that has keyed ordering delivers one key's messages in order.
	Concurrency int
	// DLQSubject receives dead letters (default news.dlq). Empty string with NoDLQ disables.
	DLQSubject string
	// Backoff gives the Nack delay for a failed attempt (default exponential 200ms..30s).
	Backoff func(attempt int) time.Duration
}

// Defaults fills zero fields.
func (o ConsumeOptions) Defaults() ConsumeOptions {
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 5
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.DLQSubject == "" {
		o.DLQSubject = "news.dlq"
	}
	if o.Backoff == nil {
		o.Backoff = ExpBackoff(200*time.Millisecond, 30*time.Second)
	}
	return o
}

// Validate reports a configuration error.
func (o ConsumeOptions) Validate() error {
	if o.Group == "" {
		return errors.New("bus: consume options: Group is required")
	}
	return nil
}

// Features records honest capability differences between backends; the conformance suite
// skips (and says so) what a backend declares it cannot do.
type Features struct {
	Name string
	// DedupOnPublish: publishing the same Key twice within the dedup window stores it once.
	DedupOnPublish bool
	// KeyedOrdering: messages with the same Key are delivered in publish order (Concurrency 1).
	KeyedOrdering bool
	// DeliveryCountAcrossCrashes: Attempt() keeps counting when a consumer dies and another
	// one gets the message.
	DeliveryCountAcrossCrashes bool
	// NackDelay: Nack's delay is honoured by the server rather than only by the client.
	NackDelay bool
	// MaxPayload is the largest Data the backend accepts (bytes).
	MaxPayload int
}

// Bus is the whole contract. Implementations are safe for concurrent use.
type Bus interface {
	// Publish blocks until the broker has durably accepted the message (JetStream PubAck,
	// Kafka acks=all) or ctx ends. Payloads above Features().MaxPayload fail with ErrTooLarge.
	Publish(ctx context.Context, subject string, m Outgoing) error
	// Consume provisions (idempotently) the stream/topic and durable group, then delivers
	// messages to h until ctx is cancelled. On cancel it stops fetching, waits for in-flight
	// handlers (drain), settles what they return, and returns nil; it returns early only
	// with a provisioning error.
	Consume(ctx context.Context, subject string, opts ConsumeOptions, h Handler) error
	// Features describes the backend.
	Features() Features
	// Close releases connections. Idempotent; safe without Consume.
	Close() error
}

// PermanentError marks an error that retrying cannot fix (bad input); the message is
// dead-lettered at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that handlers' callers dead-letter instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Permanentf is Permanent(fmt.Errorf(...)).
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// IsPermanent reports whether err (or anything it wraps) is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ExpBackoff returns an exponential backoff function doubling from min up to max.
func ExpBackoff(min, max time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := min
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		return d
	}
}

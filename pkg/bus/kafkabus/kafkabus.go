// Package kafkabus is the Apache Kafka backend of bus.Bus, built on segmentio/kafka-go.
//
// Mapping:
//   - A subject is a topic of the same name ("news.raw" → topic "news.raw"). Topics (and the
//     DLQ topic) are created idempotently with Config.Partitions partitions on first use;
//     existing topics are used as they are.
//   - Publish goes through one shared kafka.Writer (acks=all, Hash balancer on the key, so a
//     key always lands on one partition). Concurrent Publish calls share produce batches;
//     each call blocks until its batch is acknowledged by all in-sync replicas. Transient
//     broker errors are retried until ctx ends. Data above Config.MaxMessageBytes fails with
//     bus.ErrTooLarge before anything is sent; the broker's MESSAGE_TOO_LARGE maps to it too.
//   - Consume joins a Kafka consumer group (ConsumeOptions.Group) with kafka-go's
//     ConsumerGroup API and reads each assigned partition with its own kafka.Reader. A
//     partition's offset is committed only up to its lowest unsettled message, so messages
//     settled out of order (Concurrency > 1, ErrDeferred, Nack) are never skipped. Commits
//     are batched every Config.CommitInterval and made once more when a generation ends.
//   - Nack: Kafka has no per-message redelivery, so the consumer redelivers the message
//     in-process after the delay with Attempt+1 while its offset stays uncommitted.
//     AckWait: a delivery not settled within AckWait is treated as a Nack (logged).
//   - Shutdown (ctx cancelled) and rebalances: stop fetching, wait for running handlers and
//     for deferred messages (each bounded by AckWait), commit what settled, then leave the
//     group (shutdown) or rejoin (rebalance). Pending Nack redeliveries are handed back:
//     their offsets stay uncommitted and the partition's next owner redelivers them.
//
// Honest gaps (also in Features):
//   - No publish dedup (DedupOnPublish=false): kafka-go has no idempotent producer, and a
//     retried produce may store a message twice. Newsflow relies on idempotent effects keyed
//     by the article ID (the message key, the Elasticsearch _id) instead.
//   - Attempt counts survive rebalances within one process, but not a crash: the next owner
//     of the partition starts again at Attempt 1 (DeliveryCountAcrossCrashes=false). A
//     message that crashes every consumer is therefore redelivered forever rather than
//     dead-lettered.
//   - Nack delays are client-side timers (NackDelay=false); a redelivery pending at shutdown
//     is redelivered at once by the next owner.
//   - Ack returns before the commit is durable: a crash within CommitInterval after an Ack
//     redelivers the message (at-least-once, like every newsflow backend).
//   - Per-key ordering holds per partition with Concurrency 1 and no Nacks; a Nacked message
//     is redelivered after later messages of the same partition.
package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// Bus is a bus.Bus on Kafka. It is safe for concurrent use.
type Bus struct {
	cfg       Config
	log       *zap.Logger
	transport *kafka.Transport
	dialer    *kafka.Dialer
	client    *kafka.Client
	writer    *kafka.Writer

	topicsMu sync.Mutex
	topics   map[string]bool // topics known to exist

	lifeMu    sync.Mutex // orders Close against Consume registering in consumers
	closeOnce sync.Once
	done      chan struct{} // closed by Close
	consumers sync.WaitGroup
}

var _ bus.Bus = (*Bus)(nil)

// New validates cfg, checks that a broker answers (bounded by ctx) and returns the bus. It
// does not create topics; Publish and Consume do that on first use.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Bus, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("bus", "kafka"))
	tr := cfg.Transport()
	tr.IdleTimeout = 30 * time.Second
	tr.MetadataTTL = 2 * time.Second
	b := &Bus{
		cfg:       cfg,
		log:       log,
		transport: tr,
		dialer:    &kafka.Dialer{ClientID: cfg.ClientID, Timeout: cfg.DialTimeout, DualStack: true, TLS: cfg.TLS, SASLMechanism: cfg.SASL},
		client:    &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: tr, Timeout: 10 * time.Second},
		topics:    map[string]bool{},
		done:      make(chan struct{}),
	}
	b.writer = &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		Balancer:               &kafka.Hash{},
		MaxAttempts:            5,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        time.Second,
		BatchSize:              cfg.BatchSize,
		BatchBytes:             int64(cfg.MaxMessageBytes + headroom),
		BatchTimeout:           cfg.BatchTimeout,
		RequiredAcks:           kafka.RequireAll,
		AllowAutoTopicCreation: false,
		Transport:              tr,
		ErrorLogger:            kafkaLogger(log.Named("writer")),
	}
	if _, err := b.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}}); err != nil {
		b.Close()
		return nil, redact.Error(fmt.Errorf("kafkabus: connect %s: %w", redact.URL(strings.Join(cfg.Brokers, ",")), err))
	}
	return b, nil
}

// Features describes the Kafka backend; see the package doc for the reasons.
func (b *Bus) Features() bus.Features {
	return bus.Features{
		Name:                       "kafka",
		DedupOnPublish:             false,
		KeyedOrdering:              true,
		DeliveryCountAcrossCrashes: false,
		NackDelay:                  false,
		MaxPayload:                 b.cfg.MaxMessageBytes,
	}
}

// Close stops running Consume calls (they drain as on ctx cancel), waits for them, then
// closes the producer and connections. Idempotent. Do not call it from a Handler.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.lifeMu.Lock()
		close(b.done)
		b.lifeMu.Unlock()
		b.consumers.Wait()
		_ = b.writer.Close()
		b.transport.CloseIdleConnections()
	})
	return nil
}

func (b *Bus) closed() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// TopicName maps a bus subject to its Kafka topic: the same name, which must be a legal
// Kafka topic name (letters, digits, '.', '_', '-'; at most 249 characters).
func TopicName(subject string) (string, error) {
	if subject == "" || subject == "." || subject == ".." || len(subject) > 249 {
		return "", fmt.Errorf("kafkabus: invalid subject %q for a Kafka topic", subject)
	}
	for i := 0; i < len(subject); i++ {
		c := subject[i]
		ok := c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return "", fmt.Errorf("kafkabus: invalid subject %q for a Kafka topic (character %q)", subject, c)
		}
	}
	return subject, nil
}

// ensureTopic creates topic unless this bus already knows it exists. Concurrent callers
// may both send CreateTopics; TOPIC_ALREADY_EXISTS counts as success.
func (b *Bus) ensureTopic(ctx context.Context, topic string) error {
	b.topicsMu.Lock()
	known := b.topics[topic]
	b.topicsMu.Unlock()
	if known {
		return nil
	}
	res, err := b.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic:             topic,
		NumPartitions:     b.cfg.Partitions,
		ReplicationFactor: b.cfg.ReplicationFactor,
		ConfigEntries: []kafka.ConfigEntry{
			{ConfigName: "max.message.bytes", ConfigValue: strconv.Itoa(b.cfg.MaxMessageBytes + headroom)},
		},
	}}})
	if err != nil {
		return fmt.Errorf("kafkabus: create topic %s: %w", topic, err)
	}
	if terr := res.Errors[topic]; terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
		return fmt.Errorf("kafkabus: create topic %s: %w", topic, terr)
	}
	b.topicsMu.Lock()
	b.topics[topic] = true
	b.topicsMu.Unlock()
	return nil
}

// Publish writes m to subject's topic and blocks until all in-sync replicas have it or ctx
// ends. Transient errors (broker restarting, leader moving) are retried with backoff until
// ctx ends; Data above MaxMessageBytes fails at once with bus.ErrTooLarge; after Close it
// fails with bus.ErrClosed. Safe for concurrent use; concurrent calls share batches.
func (b *Bus) Publish(ctx context.Context, subject string, m bus.Outgoing) error {
	if b.closed() {
		return bus.ErrClosed
	}
	if len(m.Data) > b.cfg.MaxMessageBytes {
		return fmt.Errorf("kafkabus: publish %s key %q: %d bytes > %d: %w", subject, m.Key, len(m.Data), b.cfg.MaxMessageBytes, bus.ErrTooLarge)
	}
	topic, err := TopicName(subject)
	if err != nil {
		return err
	}
	msg := kafka.Message{Topic: topic, Value: m.Data}
	if m.Key != "" {
		msg.Key = []byte(m.Key)
	}
	if len(m.Header) > 0 {
		msg.Headers = make([]kafka.Header, 0, len(m.Header))
		for k, v := range m.Header {
			msg.Headers = append(msg.Headers, kafka.Header{Key: k, Value: []byte(v)})
		}
		sort.Slice(msg.Headers, func(i, j int) bool { return msg.Headers[i].Key < msg.Headers[j].Key })
	}
	backoff := 50 * time.Millisecond
	for {
		err := b.ensureTopic(ctx, topic)
		if err == nil {
			err = b.writer.WriteMessages(ctx, msg)
			if err == nil {
				return nil
			}
		}
		err = firstError(err)
		switch {
		case isTooLarge(err):
			return fmt.Errorf("kafkabus: publish %s key %q: %w (%v)", subject, m.Key, bus.ErrTooLarge, err)
		case errors.Is(err, io.ErrClosedPipe) || b.closed():
			return fmt.Errorf("kafkabus: publish %s key %q: %w", subject, m.Key, bus.ErrClosed)
		case ctx.Err() != nil:
			return fmt.Errorf("kafkabus: publish %s key %q: %w (last error: %v)", subject, m.Key, ctx.Err(), err)
		case !retriable(err):
			return fmt.Errorf("kafkabus: publish %s key %q: %w", subject, m.Key, err)
		}
		b.log.Debug("publish retry", zap.String("topic", topic), zap.Error(err), zap.Duration("backoff", backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("kafkabus: publish %s key %q: %w (last error: %v)", subject, m.Key, ctx.Err(), err)
		case <-b.done:
			t.Stop()
			return fmt.Errorf("kafkabus: publish %s key %q: %w", subject, m.Key, bus.ErrClosed)
		case <-t.C:
		}
		backoff = min(backoff*2, time.Second)
	}
}

// firstError unwraps kafka.WriteErrors (one entry per message; we write one at a time).
func firstError(err error) error {
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil {
				return e
			}
		}
	}
	return err
}

func isTooLarge(err error) bool {
	var mtl kafka.MessageTooLargeError
	return errors.As(err, &mtl) || errors.Is(err, kafka.MessageSizeTooLarge) || errors.Is(err, kafka.RecordListTooLarge)
}

// retriable reports whether a publish error may go away by itself (broker restart, leader
// election, topic metadata propagation, network trouble).
func retriable(err error) bool {
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary() || ke == kafka.UnknownTopicOrPartition || ke == kafka.NotEnoughReplicas ||
			ke == kafka.NotEnoughReplicasAfterAppend || ke == kafka.LeaderNotAvailable || ke == kafka.NotLeaderForPartition ||
			ke == kafka.BrokerNotAvailable || ke == kafka.RequestTimedOut || ke == kafka.KafkaStorageError
	}
	// Anything else is a connection-level failure (refused, reset, EOF, timeout,
	// metadata unavailable) of the kind a broker restart produces.
	return true
}

// kafkaLogger adapts zap to kafka-go's error logger; kafka-go logs every retry, so these go
// at debug level (the bus logs its own warnings).
func kafkaLogger(log *zap.Logger) kafka.LoggerFunc {
	s := log.Sugar()
	return func(msg string, args ...any) { s.Debugf(msg, args...) }
}

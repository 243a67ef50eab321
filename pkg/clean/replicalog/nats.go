// Package replicalog holds the two backends of clean.ReplicaLog, the ordered log through
// which cleaner replicas share their template learning and near-duplicate index: a
// JetStream stream (NATS bus) and a single-partition Kafka topic (Kafka bus, no NATS
// needed). Both are totally ordered, durable and readable from any position by every
// replica, which is all clean.Replica needs.
package replicalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/pkg/clean"
)

// NATSConfig configures a JetStream log.
type NATSConfig struct {
	// Subject of the log ("newsflow.cleaner.state"); its stream is Stream.
	Subject string
	// Stream name (letters, digits, '_' and '-').
	Stream string
	// MaxAge: records older than this leave the log (the near-duplicate window).
	MaxAge time.Duration
	// MaxBytes bounds the stream (default 1 GiB).
	MaxBytes int64
	// Replicas of the stream (1; 3 in a NATS cluster).
	Replicas int
}

// Validate checks the configuration.
func (c NATSConfig) Validate() error {
	switch {
	case c.Subject == "" || strings.ContainsAny(c.Subject, "*> \t"):
		return fmt.Errorf("replicalog: subject %q must be a literal subject", c.Subject)
	case c.Stream == "" || strings.ContainsAny(c.Stream, ".*> \t"):
		return fmt.Errorf("replicalog: stream name %q is not valid", c.Stream)
	case c.MaxAge <= 0:
		return errors.New("replicalog: max age must be > 0")
	}
	return nil
}

// NATS is a clean.ReplicaLog on a JetStream stream: positions are stream sequences.
type NATS struct {
	js     jetstream.JetStream
	cfg    NATSConfig
	stream jetstream.Stream
}

var _ clean.ReplicaLog = (*NATS)(nil)

// NewNATS creates or updates the stream (file storage, limits retention by MaxAge, a
// 2-minute duplicate window on the record keys) and returns the log.
func NewNATS(ctx context.Context, js jetstream.JetStream, cfg NATSConfig) (*NATS, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 1 << 30
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	sc := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "newsflow cleaner replicas' shared template and near-duplicate state",
		Subjects:    []string{cfg.Subject},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.MaxBytes,
		Discard:     jetstream.DiscardOld,
		Duplicates:  2 * time.Minute,
		Replicas:    cfg.Replicas,
		Storage:     jetstream.FileStorage,
	}
	st, err := js.CreateStream(ctx, sc)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = js.UpdateStream(ctx, sc)
	}
	if err != nil {
		return nil, fmt.Errorf("replicalog: stream %s: %w", cfg.Stream, err)
	}
	return &NATS{js: js, cfg: cfg, stream: st}, nil
}

// Name is the stream's name.
func (n *NATS) Name() string { return "nats:" + n.cfg.Stream }

// Append publishes rec with key as its Nats-Msg-Id and waits for the PubAck.
func (n *NATS) Append(ctx context.Context, key string, rec []byte) error {
	if _, err := n.js.Publish(ctx, n.cfg.Subject, rec, jetstream.WithMsgID(key)); err != nil {
		return fmt.Errorf("replicalog: publish %s: %w", n.cfg.Subject, err)
	}
	return nil
}

// Last is the stream's last sequence.
func (n *NATS) Last(ctx context.Context) (uint64, error) {
	info, err := n.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("replicalog: stream %s: %w", n.cfg.Stream, err)
	}
	return info.State.LastSeq, nil
}

// Read follows the stream with an ordered consumer (ephemeral, flow-controlled, recreated
// by the client after a gap or a reconnect) from sequence from.
func (n *NATS) Read(ctx context.Context, from uint64, fn func(pos uint64, rec []byte) error) error {
	oc := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		oc.DeliverPolicy, oc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := n.stream.OrderedConsumer(ctx, oc)
	if err != nil {
		return fmt.Errorf("replicalog: consumer on %s: %w", n.cfg.Stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("replicalog: consume %s: %w", n.cfg.Stream, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("replicalog: read %s: %w", n.cfg.Stream, err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("replicalog: read %s: %w", n.cfg.Stream, err)
		}
		if err := fn(meta.Sequence.Stream, m.Data()); err != nil {
			return err
		}
	}
}

package replicalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/clean"
)

// KafkaConfig configures a Kafka log.
type KafkaConfig struct {
	// Bus is the Kafka bus configuration (brokers, client ID, replication factor, TLS, SASL).
	Bus kafkabus.Config
	// Topic of the log; it is created with one partition (one total order).
	Topic string
	// Retention: records older than this are deleted (the near-duplicate window).
	Retention time.Duration
}

// Validate checks the configuration.
func (c KafkaConfig) Validate() error {
	switch {
	case len(c.Bus.Brokers) == 0:
		return errors.New("replicalog: no Kafka brokers")
	case c.Topic == "":
		return errors.New("replicalog: no topic")
	case c.Retention <= 0:
		return errors.New("replicalog: retention must be > 0")
	}
	return nil
}

// Kafka is a clean.ReplicaLog on a single-partition topic: positions are offsets + 1.
type Kafka struct {
	cfg    KafkaConfig
	client *kafka.Client
	writer *kafka.Writer
	dialer *kafka.Dialer
}

var _ clean.ReplicaLog = (*Kafka)(nil)

// NewKafka creates the topic if it does not exist (one partition, the bus's replication
// factor, retention.ms = Retention, cleanup.policy=delete) and returns the log. An existing
// topic with more than one partition is refused: it has no total order.
func NewKafka(ctx context.Context, cfg KafkaConfig) (*Kafka, error) {
	cfg.Bus = cfg.Bus.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr := cfg.Bus.Transport()
	k := &Kafka{
		cfg:    cfg,
		client: &kafka.Client{Addr: kafka.TCP(cfg.Bus.Brokers...), Transport: tr, Timeout: 10 * time.Second},
		dialer: &kafka.Dialer{ClientID: cfg.Bus.ClientID, Timeout: cfg.Bus.DialTimeout, DualStack: true, TLS: cfg.Bus.TLS, SASLMechanism: cfg.Bus.SASL},
		writer: &kafka.Writer{
			Addr:         kafka.TCP(cfg.Bus.Brokers...),
			Topic:        cfg.Topic,
			Balancer:     &kafka.LeastBytes{},
			MaxAttempts:  5,
			BatchSize:    1000,
			BatchTimeout: time.Millisecond,
			RequiredAcks: kafka.RequireAll,
			Transport:    tr,
		},
	}
	res, err := k.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic:             cfg.Topic,
		NumPartitions:     1,
		ReplicationFactor: cfg.Bus.ReplicationFactor,
		ConfigEntries: []kafka.ConfigEntry{
			{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(cfg.Retention.Milliseconds(), 10)},
			{ConfigName: "cleanup.policy", ConfigValue: "delete"},
		},
	}}})
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("replicalog: create topic %s: %w", cfg.Topic, err)
	}
	if terr := res.Errors[cfg.Topic]; terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
		k.Close()
		return nil, fmt.Errorf("replicalog: create topic %s: %w", cfg.Topic, terr)
	}
	md, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("replicalog: topic %s: %w", cfg.Topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == cfg.Topic && len(t.Partitions) != 1 {
			k.Close()
			return nil, fmt.Errorf("replicalog: topic %s has %d partitions; the shared log needs exactly 1", cfg.Topic, len(t.Partitions))
		}
	}
	return k, nil
}

// Name is the topic's name.
func (k *Kafka) Name() string { return "kafka:" + k.cfg.Topic }

// Append produces rec (acks=all) and waits for it. Kafka has no publish dedup: a retried
// produce may store rec twice, which applying is idempotent for (same article ID).
func (k *Kafka) Append(ctx context.Context, key string, rec []byte) error {
	for {
		err := k.writer.WriteMessages(ctx, kafka.Message{Key: []byte(key), Value: rec})
		if err == nil {
			return nil
		}
		// The topic's leader may be moving or not yet known right after creation.
		if ctx.Err() != nil || !retriable(err) {
			return fmt.Errorf("replicalog: produce %s: %w", k.cfg.Topic, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replicalog: produce %s: %w", k.cfg.Topic, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func retriable(err error) bool {
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil && !retriable(e) {
				return false
			}
		}
		return true
	}
	return true // network errors
}

// Last is the high watermark (the offset after the newest record, i.e. its position).
func (k *Kafka) Last(ctx context.Context) (uint64, error) {
	res, err := k.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		k.cfg.Topic: {kafka.LastOffsetOf(0)},
	}})
	if err != nil {
		return 0, fmt.Errorf("replicalog: offsets of %s: %w", k.cfg.Topic, err)
	}
	for _, p := range res.Topics[k.cfg.Topic] {
		if p.Error != nil {
			return 0, fmt.Errorf("replicalog: offsets of %s: %w", k.cfg.Topic, p.Error)
		}
		if p.Partition == 0 {
			return uint64(max(p.LastOffset, 0)), nil
		}
	}
	return 0, fmt.Errorf("replicalog: offsets of %s: partition 0 missing", k.cfg.Topic)
}

// Read follows partition 0 from position from (offset from-1) with a reader of its own (no
// consumer group: every replica reads everything).
func (k *Kafka) Read(ctx context.Context, from uint64, fn func(pos uint64, rec []byte) error) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        k.cfg.Bus.Brokers,
		Topic:          k.cfg.Topic,
		Partition:      0,
		Dialer:         k.dialer,
		MinBytes:       1,
		MaxBytes:       8 << 20,
		MaxWait:        250 * time.Millisecond,
		ReadBackoffMin: 10 * time.Millisecond,
		ReadBackoffMax: 500 * time.Millisecond,
	})
	defer r.Close()
	off := kafka.FirstOffset
	if from > 1 {
		off = int64(from - 1)
	}
	if err := r.SetOffset(off); err != nil {
		return fmt.Errorf("replicalog: read %s: %w", k.cfg.Topic, err)
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("replicalog: read %s: %w", k.cfg.Topic, err)
		}
		if err := fn(uint64(m.Offset)+1, m.Value); err != nil {
			return err
		}
	}
}

// Close releases the producer and idle connections.
func (k *Kafka) Close() error {
	err := k.writer.Close()
	if t, ok := k.client.Transport.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
	return err
}

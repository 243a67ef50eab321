package kafkabus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// Config configures the Kafka bus. Zero fields get defaults from Defaults.
type Config struct {
	// Brokers are the bootstrap broker addresses ("127.0.0.1:9092"). Required.
	Brokers []string
	// ClientID is sent to the brokers (default "newsflow").
	ClientID string
	// Partitions is the partition count of topics this bus creates (default 3). Existing
	// topics are left as they are.
	Partitions int
	// ReplicationFactor of topics this bus creates (default 1: the single local broker).
	ReplicationFactor int
	// MaxMessageBytes is the largest payload (Outgoing.Data) Publish accepts; it is
	// Features().MaxPayload (default 1,000,000, just under Kafka's 1 MiB default). Topics
	// this bus creates get max.message.bytes = MaxMessageBytes + headroom for key, headers
	// and batch framing.
	MaxMessageBytes int
	// BatchTimeout is how long the shared producer waits to fill a batch (default 1ms).
	// Concurrent Publish calls share batches; a lone Publish waits this long before its
	// batch is sent (kafka-go has no "send when idle"). Measured on the 2-core dev box
	// (BenchmarkPublishConsumeAck5KB): 1ms gave ~3x the rate of 5ms for one synchronous
	// publisher and ~1.3x for 64 concurrent ones; 5ms was ~1.3x faster with 256.
	BatchTimeout time.Duration
	// BatchSize is the most messages per produce batch and partition (default 1000).
	BatchSize int
	// SessionTimeout is the consumer-group session timeout: a consumer that stops
	// heartbeating this long loses its partitions (default 10s; brokers enforce >= 6s).
	SessionTimeout time.Duration
	// RebalanceTimeout is how long the coordinator waits for members to rejoin during a
	// rebalance (default 60s). A member drains its in-flight messages (bounded by the
	// consumer's AckWait, default 30s) before rejoining, so keep it above AckWait; a member
	// that takes longer is dropped and its uncommitted messages are redelivered.
	RebalanceTimeout time.Duration
	// HeartbeatInterval of the consumer group (default SessionTimeout/5, at least 500ms).
	HeartbeatInterval time.Duration
	// JoinGroupBackoff is the pause before rejoining a group after an error (default 1s).
	JoinGroupBackoff time.Duration
	// CommitInterval is how often settled offsets are committed (default 200ms). Offsets are
	// also committed when a generation ends (rebalance, shutdown).
	CommitInterval time.Duration
	// MaxUnsettled bounds the fetched-but-unsettled messages per Consume call (default 1024;
	// at least ConsumeOptions.Concurrency). It is the prefetch window and caps what a
	// crashed consumer hands back for redelivery.
	MaxUnsettled int
	// DialTimeout bounds connecting to a broker (default 5s).
	DialTimeout time.Duration
	// TLS, when set, encrypts every broker connection (SSL or SASL_SSL listeners).
	TLS *tls.Config
	// SASL, when set, authenticates every broker connection (PLAIN or SCRAM; kafka-go's
	// sasl/plain and sasl/scram).
	SASL sasl.Mechanism
}

// Transport returns a kafka-go transport with c's client ID, dial timeout, TLS and SASL:
// every kafka.Client of newsflow is built on one.
func (c Config) Transport() *kafka.Transport {
	return &kafka.Transport{ClientID: c.ClientID, DialTimeout: c.DialTimeout, TLS: c.TLS, SASL: c.SASL}
}

// headroom is added to MaxMessageBytes for key, headers and record-batch framing.
const headroom = 64 << 10

// Defaults returns c with zero fields filled.
func (c Config) Defaults() Config {
	if c.ClientID == "" {
		c.ClientID = "newsflow"
	}
	if c.Partitions <= 0 {
		c.Partitions = 3
	}
	if c.ReplicationFactor <= 0 {
		c.ReplicationFactor = 1
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 1_000_000
	}
	if c.BatchTimeout <= 0 {
		c.BatchTimeout = time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.RebalanceTimeout <= 0 {
		c.RebalanceTimeout = 60 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = max(c.SessionTimeout/5, 500*time.Millisecond)
	}
	if c.JoinGroupBackoff <= 0 {
		c.JoinGroupBackoff = time.Second
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = 200 * time.Millisecond
	}
	if c.MaxUnsettled <= 0 {
		c.MaxUnsettled = 1024
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	return c
}

// Validate reports a configuration error. Call it after Defaults.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("Brokers is required"))
	}
	for _, b := range c.Brokers {
		if b == "" {
			errs = append(errs, errors.New("Brokers contains an empty address"))
		}
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("Partitions %d < 1", c.Partitions))
	}
	if c.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("ReplicationFactor %d < 1", c.ReplicationFactor))
	}
	if c.MaxMessageBytes < 1024 || c.MaxMessageBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("MaxMessageBytes %d outside [1KiB, 64MiB]", c.MaxMessageBytes))
	}
	if c.SessionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("SessionTimeout %s < 1s", c.SessionTimeout))
	}
	if c.HeartbeatInterval >= c.SessionTimeout {
		errs = append(errs, fmt.Errorf("HeartbeatInterval %s must be below SessionTimeout %s", c.HeartbeatInterval, c.SessionTimeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafkabus: config: %w", errors.Join(errs...))
	}
	return nil
}

package natsbus

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Config configures the NATS JetStream backend. Zero fields take the values in Defaults.
type Config struct {
	// URL of the NATS server(s), comma-separated (default nats://127.0.0.1:4222).
	URL string
	// StreamPrefix prefixes every stream name: subject "news.raw" lives in stream
	// StreamPrefix+"_NEWS_RAW" (default "NEWSFLOW"). Letters, digits, '_' and '-' only.
	StreamPrefix string
	// MaxAge bounds how long a stream keeps messages (default 7 days). Streams use limits
	// retention, so several groups (indexer and alerter on news.enriched) each read every
	// message; messages are removed by age/size, not when one group acks them.
	MaxAge time.Duration
	// MaxBytes bounds each stream's size; the oldest messages go first (default 1 GiB, -1
	// unlimited).
	MaxBytes int64
	// DuplicateWindow is how long JetStream remembers Nats-Msg-Id values to drop duplicate
	// publishes (default 2m).
	DuplicateWindow time.Duration
	// Replicas per stream (default 1; 3 in a NATS cluster).
	Replicas int
	// MemoryStorage keeps streams in memory instead of files (tests only; default false).
	MemoryStorage bool
	// ConnectName is the client connection name shown by the server (default "newsflow").
	ConnectName string
	// ReconnectWait between reconnect attempts (default 1s).
	ReconnectWait time.Duration
	// MaxReconnects before giving up; -1 (the default when 0) retries forever.
	MaxReconnects int
	// ConnectTimeout for the initial dial (default 5s).
	ConnectTimeout time.Duration
	// MaxAckPending bounds the unacknowledged deliveries of one consumer group across all
	// its replicas (default 1024). It is raised to at least 4×Concurrency.
	MaxAckPending int
	// PublishWindow bounds the outstanding async publishes of PublishBatch (default 256).
	PublishWindow int
	// ProvisionTimeout bounds how long Consume retries creating its stream and consumer on
	// transient errors (API timeouts, server starting) before returning the error (default 30s).
	ProvisionTimeout time.Duration
	// PullExpiry is how long one pull request waits on the server (default 5s); the idle
	// heartbeat is a fifth of it, so a stuck pull is noticed and re-issued within 2/5 of it.
	PullExpiry time.Duration
	// AckSync makes Ack wait for the server's confirmation (a round trip per message).
	// Default false: acks are sent without waiting and flushed when Consume drains, which
	// keeps at-least-once (a lost ack means a redelivery, never a loss).
	AckSync bool
	// Options are extra connect options: credentials (nats.UserInfo, nats.Token,
	// nats.UserCredentials, nats.Nkey) and TLS (nats.Secure), built by the service from its
	// NEWSFLOW_NATS_* security settings. They are applied after the bus's own options.
	Options []nats.Option
}

// Defaults returns c with zero fields filled.
func (c Config) Defaults() Config {
	if c.URL == "" {
		c.URL = "nats://127.0.0.1:4222"
	}
	if c.StreamPrefix == "" {
		c.StreamPrefix = "NEWSFLOW"
	}
	if c.MaxAge == 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 1 << 30
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.ConnectName == "" {
		c.ConnectName = "newsflow"
	}
	if c.ReconnectWait == 0 {
		c.ReconnectWait = time.Second
	}
	if c.MaxReconnects == 0 {
		c.MaxReconnects = -1
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = 1024
	}
	if c.PublishWindow == 0 {
		c.PublishWindow = 256
	}
	if c.PullExpiry == 0 {
		c.PullExpiry = 5 * time.Second
	}
	if c.ProvisionTimeout == 0 {
		c.ProvisionTimeout = 30 * time.Second
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("URL is required"))
	}
	if c.StreamPrefix == "" || strings.IndexFunc(c.StreamPrefix, func(r rune) bool { return !nameRune(r) }) >= 0 {
		errs = append(errs, fmt.Errorf("StreamPrefix %q must be non-empty letters, digits, '_' or '-'", c.StreamPrefix))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("MaxAge %v must be >= 0", c.MaxAge))
	}
	if c.MaxBytes < -1 || c.MaxBytes == 0 {
		errs = append(errs, fmt.Errorf("MaxBytes %d must be > 0 or -1", c.MaxBytes))
	}
	if c.DuplicateWindow < 0 || (c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge) {
		errs = append(errs, fmt.Errorf("DuplicateWindow %v must be >= 0 and <= MaxAge", c.DuplicateWindow))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("Replicas %d must be 1..5", c.Replicas))
	}
	if c.ReconnectWait < 0 || c.ConnectTimeout <= 0 {
		errs = append(errs, errors.New("ReconnectWait must be >= 0 and ConnectTimeout > 0"))
	}
	if c.PullExpiry < 5*time.Second/2 {
		errs = append(errs, fmt.Errorf("PullExpiry %v must be >= 2.5s", c.PullExpiry))
	}
	if c.MaxReconnects < -1 {
		errs = append(errs, fmt.Errorf("MaxReconnects %d must be >= -1", c.MaxReconnects))
	}
	if c.MaxAckPending < 1 || c.PublishWindow < 1 || c.ProvisionTimeout < 0 {
		errs = append(errs, errors.New("MaxAckPending and PublishWindow must be >= 1, ProvisionTimeout >= 0"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("natsbus: config: %w", err)
	}
	return nil
}

func nameRune(r rune) bool {
	return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' || r == '-'
}

// StreamName is the stream that holds subject under prefix: one stream per subject, so
// Nats-Msg-Id deduplication (the article ID) is per subject — one stream for all of
// "news.>" would drop news.clean for an article already seen on news.raw.
func StreamName(prefix, subject string) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	sb.WriteByte('_')
	for _, r := range strings.ToUpper(subject) {
		if nameRune(r) {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// durableName turns a group into a valid durable consumer name.
func durableName(group string) string {
	return strings.Map(func(r rune) rune {
		if nameRune(r) {
			return r
		}
		return '_'
	}, group)
}

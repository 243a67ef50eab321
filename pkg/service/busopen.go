package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"go.uber.org/zap"
)

// OpenBus connects the backend cfg.Bus names, with the credentials and TLS of cfg.Security.
// The caller owns the returned Bus and must Close it (Runtime.OnStop is the usual place).
// Rejected credentials, an untrusted certificate or an unreadable file give a *ConnError
// (IsConnError): one line naming the server, the mechanism and what failed.
func OpenBus(ctx context.Context, cfg Config, log *zap.Logger) (bus.Bus, error) {
	secrets := append(redact.Credentials(cfg.NATSURL), cfg.Security.Secrets()...)
	switch cfg.Bus {
	case "nats":
		nc, err := NATSBusConfig(cfg)
		if err != nil {
			return nil, redact.Error(err, secrets...)
		}
		b, err := natsbus.New(ctx, nc, log.Named("bus"))
		if err != nil {
			return nil, redact.Error(connFailure("nats "+redact.URL(cfg.NATSURL), cfg.Security.NATS.Describe(), err,
				fmt.Errorf("service: nats bus at %s: %w", redact.URL(cfg.NATSURL), err)), secrets...)
		}
		return b, nil
	case "kafka":
		kc, err := KafkaBusConfig(cfg, log)
		if err != nil {
			return nil, redact.Error(err, secrets...)
		}
		brokers := redact.URL(strings.Join(cfg.KafkaBrokers, ","))
		b, err := kafkabus.New(ctx, kc, log.Named("bus"))
		if err != nil {
			return nil, redact.Error(connFailure("kafka "+brokers, cfg.Security.Kafka.Describe(), err,
				fmt.Errorf("service: kafka bus at %s: %w", brokers, err)), secrets...)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("service: unknown bus %q", cfg.Bus)
	}
}

// NATSBusConfig is the natsbus configuration of cfg: URL, connection name, replicas and the
// NEWSFLOW_NATS_* credentials and TLS.
func NATSBusConfig(cfg Config) (natsbus.Config, error) {
	opts, err := cfg.Security.NATS.Options()
	if err != nil {
		return natsbus.Config{}, withServer(err, "nats "+redact.URL(cfg.NATSURL))
	}
	return natsbus.Config{URL: cfg.NATSURL, ConnectName: "newsflow-" + cfg.Service, Replicas: cfg.NATSReplicas, Options: opts}, nil
}

// KafkaBusConfig is the kafkabus configuration of cfg: brokers, client ID, topic settings and
// the NEWSFLOW_KAFKA_* SASL and TLS. Skipping certificate verification is logged as a warning.
func KafkaBusConfig(cfg Config, log *zap.Logger) (kafkabus.Config, error) {
	k := cfg.Security.Kafka
	kc := kafkabus.Config{Brokers: cfg.KafkaBrokers, ClientID: "newsflow-" + cfg.Service, Partitions: cfg.KafkaPartitions, ReplicationFactor: cfg.KafkaReplicas}
	server := "kafka " + redact.URL(strings.Join(cfg.KafkaBrokers, ","))
	mech, err := k.SASL()
	if err != nil {
		return kc, &ConnError{Server: server, Mechanism: k.Describe(), What: "SASL settings", Err: err}
	}
	kc.SASL = mech
	if k.TLS {
		tc, err := k.TLSFiles.Config()
		if err != nil {
			return kc, &ConnError{Server: server, Mechanism: k.Describe(), What: "TLS settings", Err: err}
		}
		kc.TLS = tc
		if tc.InsecureSkipVerify && log != nil {
			log.Warn("INSECURE: NEWSFLOW_KAFKA_TLS_INSECURE_SKIP_VERIFY=true — the Kafka brokers' certificates are NOT verified; anyone on the network path can impersonate them and read the SASL credentials. Use NEWSFLOW_KAFKA_TLS_CA_FILE instead.")
		}
	}
	return kc, nil
}

// withServer fills the server of a *ConnError that does not name one yet.
func withServer(err error, server string) error {
	if ce, ok := err.(*ConnError); ok && (ce.Server == "" || ce.Server == "nats" || ce.Server == "kafka") {
		c := *ce
		c.Server = server
		return &c
	}
	return err
}

// connFailure returns a *ConnError when err is a security failure (credentials, certificate,
// TLS), else plain.
func connFailure(server, mechanism string, err, plain error) error {
	if ce := ConnFailure(server, mechanism, err); ce != nil {
		return ce
	}
	return plain
}

// ConsumeOptions builds the bus options for a stage from the shared config: the durable
// group is "newsflow-<group>" so all replicas of a stage share the work.
func (c Config) ConsumeOptions(group string) bus.ConsumeOptions {
	return bus.ConsumeOptions{
		Group:       "newsflow-" + group,
		Stage:       group,
		MaxDeliver:  c.MaxDeliver,
		AckWait:     c.AckWait,
		Concurrency: c.Concurrency,
	}.Defaults()
}

// Consume adds an actor that consumes subject with h until the service stops (then drains).
func (r *Runtime) Consume(b bus.Bus, subject string, opts bus.ConsumeOptions, h bus.Handler) {
	r.WatchConsumer(b, subject, opts.Group) // /readyz: consumer set up, bus answering
	r.Go("consume "+subject, func(ctx context.Context) error {
		return b.Consume(ctx, subject, opts, h)
	})
}

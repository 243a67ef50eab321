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

// OpenBus connects the backend cfg.Bus names. The caller owns the returned Bus and must Close
// it (Runtime.OnStop is the usual place).
func OpenBus(ctx context.Context, cfg Config, log *zap.Logger) (bus.Bus, error) {
	switch cfg.Bus {
	case "nats":
		b, err := natsbus.New(ctx, natsbus.Config{URL: cfg.NATSURL, ConnectName: "newsflow-" + cfg.Service, Replicas: cfg.NATSReplicas}, log.Named("bus"))
		if err != nil {
			return nil, redact.Error(fmt.Errorf("service: nats bus at %s: %w", redact.URL(cfg.NATSURL), err), redact.Credentials(cfg.NATSURL)...)
		}
		return b, nil
	case "kafka":
		b, err := kafkabus.New(ctx, kafkabus.Config{Brokers: cfg.KafkaBrokers, ClientID: "newsflow-" + cfg.Service, Partitions: cfg.KafkaPartitions, ReplicationFactor: cfg.KafkaReplicas}, log.Named("bus"))
		if err != nil {
			return nil, redact.Error(fmt.Errorf("service: kafka bus at %s: %w", redact.URL(strings.Join(cfg.KafkaBrokers, ",")), err))
		}
		return b, nil
	default:
		return nil, fmt.Errorf("service: unknown bus %q", cfg.Bus)
	}
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
	r.Go("consume "+subject, func(ctx context.Context) error {
		return b.Consume(ctx, subject, opts, h)
	})
}

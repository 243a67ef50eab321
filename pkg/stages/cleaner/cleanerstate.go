package cleaner

import (
	"context"
	"fmt"
	"time"

	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/clean"
	"github.com/newsflow/newsflow/pkg/clean/replicalog"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages/kit"
	"go.uber.org/zap"
)

// cleanerSnapshot is the state-dir file of a cleaner whose state is shared through the log:
// the state and the log position it reflects.
const cleanerSnapshot = "cleaner-shared.snap"

// addSharedCleanerState opens the cleaners' shared state log on the service's own backend
// (a JetStream stream on the NATS bus, a one-partition topic on the Kafka bus: no other
// server is needed), attaches the cleaner's template learner and near-duplicate index to it,
// restores the snapshot and adds the actor that applies the log. It returns false when the
// bus is not one the service opened itself (a wrapped bus, as in tests): the state then
// stays per replica.
func addSharedCleanerState(c kit.Common, cfg CleanerConfig, cl *clean.Cleaner, log *zap.Logger) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	window := cfg.Clean.Dedup.Window
	var rl clean.ReplicaLog
	switch b := c.Bus.(type) {
	case *natsbus.Bus:
		l, err := replicalog.NewNATS(ctx, b.JetStream(), replicalog.NATSConfig{Subject: cfg.StateLog,
			Stream: natsbus.StreamName("NEWSFLOW", cfg.StateLog), MaxAge: window, Replicas: c.RT.Cfg.NATSReplicas})
		if err != nil {
			return false, fmt.Errorf("cleaner: shared state: %w", err)
		}
		rl = l
	case *kafkabus.Bus:
		kc, err := service.KafkaBusConfig(c.RT.Cfg, nil)
		if err != nil {
			return false, fmt.Errorf("cleaner: shared state: %w", err)
		}
		l, err := replicalog.NewKafka(ctx, replicalog.KafkaConfig{Bus: kc, Topic: cfg.StateLog, Retention: window})
		if err != nil {
			return false, fmt.Errorf("cleaner: shared state: %w", err)
		}
		c.RT.OnStop(func() { _ = l.Close() })
		rl = l
	default:
		log.Info("cleaner state kept per replica: the bus is not one the service opened", zap.String("bus", fmt.Sprintf("%T", c.Bus)))
		return false, nil
	}
	rep, err := clean.NewReplica(rl, clean.ReplicaConfig{Wait: c.RT.Cfg.AckWait}, cl.Template, cl.Dedup, log, c.RT.Reg)
	if err != nil {
		return false, fmt.Errorf("cleaner: shared state: %w", err)
	}
	restore(c, log, cleanerSnapshot, rep.Restore)
	c.RT.PersistEvery(c.State, cleanerSnapshot, cfg.SaveInterval, rep.Snapshot)
	c.RT.Go("cleaner shared state", rep.Run)
	// Not ready while replaying the log (a rolling update then keeps the old pod meanwhile).
	c.RT.AddReadyCheck(func(context.Context) error {
		if !rep.CaughtUp() {
			return fmt.Errorf("cleaner: shared state: replaying %s (at %d)", rl.Name(), rep.Applied())
		}
		return nil
	})
	log.Info("cleaner state shared by all replicas", zap.String("log", rl.Name()), zap.Uint64("from", rep.Applied()))
	return true, nil
}

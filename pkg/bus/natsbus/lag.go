package natsbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/pkg/bus"
)

var _ bus.LagReporter = (*Bus)(nil)

// Lag implements bus.LagReporter from the durable consumer's info: NumPending (not yet
// delivered) and NumAckPending (delivered, unsettled). found is false while the stream or the
// consumer does not exist.
func (b *Bus) Lag(ctx context.Context, subject, group string) (bus.Lag, bool, error) {
	stream := StreamName(b.cfg.StreamPrefix, subject)
	c, err := b.js.Consumer(ctx, stream, durableName(group))
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return bus.Lag{}, false, nil
	}
	if err != nil {
		return bus.Lag{}, false, fmt.Errorf("natsbus: lag of %s on %s: %w", group, stream, err)
	}
	info := c.CachedInfo() // fetched by Consumer just now
	return bus.Lag{Pending: int64(info.NumPending), Unacked: int64(info.NumAckPending)}, true, nil
}

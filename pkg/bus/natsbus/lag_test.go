package natsbus_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// TestLag: a group's backlog is what it has not settled — the published messages while its
// handler defers them all, nothing once it acks them; an unknown group is not found.
func TestLag(t *testing.T) {
	e := startEmbedded(t)
	b, err := natsbus.New(context.Background(), natsbus.Config{URL: e.url}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if _, found, err := b.Lag(ctx, "lag.in", "nobody"); err != nil || found {
		t.Fatalf("Lag of a missing stream = found %v, %v; want not found", found, err)
	}
	const n = 7
	for i := range n {
		if err := b.Publish(ctx, "lag.in", bus.Outgoing{Key: fmt.Sprintf("k%d", i), Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	var ack atomic.Bool
	var settled atomic.Int64
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Consume(cctx, "lag.in", bus.ConsumeOptions{Group: "g", Concurrency: 8, AckWait: 2 * time.Second},
			func(context.Context, bus.Message) error {
				if ack.Load() {
					settled.Add(1)
					return nil
				}
				return bus.ErrDeferred
			})
	}()
	bustest.WaitLag(t, b, "lag.in", "g", 30*time.Second, func(l bus.Lag) bool { return l.Backlog() == n && l.Unacked > 0 })
	ack.Store(true) // the deferred deliveries come back after AckWait and are acked
	bustest.WaitLag(t, b, "lag.in", "g", 30*time.Second, func(l bus.Lag) bool { return l.Backlog() == 0 })
	cancel()
	<-done
	if _, found, err := b.Lag(ctx, "lag.in", "nobody"); err != nil || found {
		t.Fatalf("Lag of a missing group = found %v, %v; want not found", found, err)
	}
}

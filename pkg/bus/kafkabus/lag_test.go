package kafkabus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/bustest"
)

// TestLag: before its group has consumed anything, the backlog is every published message;
// once the group has acked and committed them, it is zero; a missing topic is not found.
func TestLag(t *testing.T) {
	bs := brokers(t)
	ctx := context.Background()
	b, err := New(ctx, testConfig(bs), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	prefix := fmt.Sprintf("lagtest%d", time.Now().UnixNano())
	subject := prefix + ".in"
	t.Cleanup(func() { deleteTopics(t, bs, []string{prefix}) })
	if _, found, err := b.Lag(ctx, subject, "g"); err != nil || found {
		t.Fatalf("Lag of a missing topic = found %v, %v; want not found", found, err)
	}
	const n = 9
	for i := range n {
		if err := b.Publish(ctx, subject, bus.Outgoing{Key: fmt.Sprintf("k%d", i), Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	bustest.WaitLag(t, b, subject, "g", 60*time.Second, func(l bus.Lag) bool { return l.Backlog() == n })
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Consume(cctx, subject, bus.ConsumeOptions{Group: "g", DLQSubject: prefix + ".dlq"},
			func(context.Context, bus.Message) error { return nil })
	}()
	bustest.WaitLag(t, b, subject, "g", 60*time.Second, func(l bus.Lag) bool { return l.Backlog() == 0 })
	cancel()
	<-done
}

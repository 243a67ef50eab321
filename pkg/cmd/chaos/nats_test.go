package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// TestNATSRedeliveries: on a real NATS server, three messages and one nacked delivery count as
// exactly one redelivery.
func TestNATSRedeliveries(t *testing.T) {
	url := os.Getenv("NEWSFLOW_NATS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("NEWSFLOW_NATS_URL unset in CI")
		}
		t.Skip("NEWSFLOW_NATS_URL unset")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("CHAOSTEST%d", time.Now().UnixNano())
	b, err := natsbus.New(ctx, natsbus.Config{URL: url, StreamPrefix: prefix, ConnectName: "chaos-test"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	js := b.JetStream()
	subject, dlqSubject := "chaostest.redeliveries."+prefix, "chaostest.dlq."+prefix // no overlap with other streams
	defer func() {
		for _, s := range []string{subject, dlqSubject} {
			_ = js.DeleteStream(context.Background(), natsbus.StreamName(prefix, s))
		}
	}()

	// published before the group exists: the durable starts from the stream's first message
	for i := range 3 {
		if err := b.Publish(ctx, subject, bus.Outgoing{Key: fmt.Sprintf("k%d", i), Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	acked, nacked := 0, false
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, subject, bus.ConsumeOptions{Group: "chaos-test", Stage: "test", DLQSubject: dlqSubject},
			func(ctx context.Context, m bus.Message) error {
				mu.Lock()
				defer mu.Unlock()
				if !nacked { // a transient failure: Consume nacks, the backend redelivers
					nacked = true
					return errors.New("first attempt fails")
				}
				acked++
				return nil
			})
	}()
	for {
		mu.Lock()
		n := acked
		mu.Unlock()
		if n == 3 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("consume ended after %d of 3 acked: %v", n, err)
		case <-ctx.Done():
			t.Fatalf("acked %d of 3", n)
		case <-time.After(100 * time.Millisecond):
		}
	}
	stop()
	<-done
	got, err := natsRedeliveries(ctx, b, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if got != 1 {
		t.Fatalf("natsRedeliveries = %d, want 1", got)
	}
}

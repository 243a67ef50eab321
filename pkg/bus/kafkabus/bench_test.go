package kafkabus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/bus"
)

// BenchmarkPublishConsumeAck5KB measures end-to-end throughput against the real broker:
// b.N 5 KB messages published by concurrent publishers (one shared batching writer, acks=all)
// and consumed, handled (no-op) and acked by one consumer group member. The clock runs from
// the first publish until the last message is acked; the consumer has joined beforehand.
//
//	NEWSFLOW_KAFKA_BROKERS=127.0.0.1:9092 go test -run '^$' -bench 'PublishConsumeAck5KB/pub(64|256)' -benchtime 30000x ./bus/kafkabus/
//	NEWSFLOW_KAFKA_BROKERS=127.0.0.1:9092 go test -run '^$' -bench 'PublishConsumeAck5KB/pub1-' -benchtime 1000x ./bus/kafkabus/
//
// The pub1 baseline (one publisher waiting for each ack) is latency-bound (~BatchTimeout +
// a produce round trip per message); run it with a small -benchtime.
func BenchmarkPublishConsumeAck5KB(b *testing.B) {
	for _, tc := range []struct {
		name         string
		publishers   int
		concurrency  int
		batchTimeout time.Duration // 0: Config default (1ms)
	}{
		{"pub1-conc1", 1, 1, 0}, // baseline: one publisher waiting for each ack, one handler
		{"pub1-conc1-bt5ms", 1, 1, 5 * time.Millisecond},
		{"pub64-conc8", 64, 8, 0},
		{"pub64-conc8-bt5ms", 64, 8, 5 * time.Millisecond},
		{"pub256-conc8", 256, 8, 0},
		{"pub256-conc8-bt5ms", 256, 8, 5 * time.Millisecond},
	} {
		b.Run(tc.name, func(b *testing.B) { benchPublishConsume(b, tc.publishers, tc.concurrency, tc.batchTimeout) })
	}
}

func benchPublishConsume(b *testing.B, publishers, concurrency int, batchTimeout time.Duration) {
	bs := brokers(b)
	ctx := context.Background()
	cfg := testConfig(bs)
	cfg.BatchTimeout = batchTimeout
	kb, err := New(ctx, cfg, testLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer kb.Close()
	var id [4]byte
	_, _ = rand.Read(id[:])
	subject := "bench." + hex.EncodeToString(id[:]) + ".in"
	defer deleteTopics(b, bs, []string{"bench." + hex.EncodeToString(id[:])})

	payload := make([]byte, 5<<10)
	_, _ = rand.Read(payload)

	var acked atomic.Int64
	target := int64(b.N) + 1 // + the warm-up message
	all := make(chan struct{})
	warm := make(chan struct{}, 1)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- kb.Consume(cctx, subject, bus.ConsumeOptions{Group: "bench", Stage: "bench", Concurrency: concurrency,
			DLQSubject: subject + ".dlq"}, func(_ context.Context, m bus.Message) error {
			if m.Key() == "warm-up" {
				select {
				case warm <- struct{}{}:
				default:
				}
			}
			if acked.Add(1) == target {
				close(all)
			}
			return nil
		})
	}()
	defer func() { cancel(); <-done }()
	if err := kb.Publish(ctx, subject, bus.Outgoing{Key: "warm-up", Data: payload}); err != nil {
		b.Fatal(err)
	}
	select {
	case <-warm:
	case <-time.After(60 * time.Second):
		b.Fatal("warm-up message not consumed")
	}

	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var perr atomic.Value
	for range publishers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := kb.Publish(ctx, subject, bus.Outgoing{Key: fmt.Sprintf("article-%d", i), Data: payload}); err != nil {
					perr.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := perr.Load().(error); err != nil {
		b.Fatal(err)
	}
	pubDone := time.Since(start)
	select {
	case <-all:
	case <-time.After(5*time.Minute + pubDone):
		b.Fatalf("consumed %d of %d", acked.Load(), target)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/pubDone.Seconds(), "pub_msgs/s")
}

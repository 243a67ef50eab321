package natsbus_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// BenchmarkPublishConsumeAck5KB publishes b.N 5 KB messages to an embedded JetStream (file
// storage) while a consumer (Concurrency 8) handles and acks them; it reports end-to-end
// msgs/s (last ack) and publish-only msgs/s. Modes:
//   - sync: one goroutine calling Publish (one PubAck round trip per message);
//   - parallel8: 8 goroutines calling Publish (how stages publish from concurrent handlers);
//   - batch: PublishBatch, async publishes with up to PublishWindow acks outstanding.
//
// Each mode runs over the loopback TCP port (tcp: what the all-in-one uses with its embedded
// server) and over an in-process connection (inproc, nats.InProcessServer, which the all-in-one
// does not use: it cost more CPU per message here, commit ae7e2c3). cpu-µs/msg is the
// process's user+system CPU (client and server together) per message.
//
// Run: go test -run '^$' -bench PublishConsumeAck5KB -benchtime 20000x ./bus/natsbus/
func BenchmarkPublishConsumeAck5KB(b *testing.B) {
	e := startEmbedded(b)
	payload := make([]byte, 5<<10)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	modes := []struct {
		name    string
		publish func(b *testing.B, nb *natsbus.Bus, subject string, n int)
	}{
		{"sync", func(b *testing.B, nb *natsbus.Bus, subject string, n int) {
			for i := range n {
				if err := nb.Publish(context.Background(), subject, bus.Outgoing{Key: fmt.Sprint(i), Data: payload}); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"parallel8", func(b *testing.B, nb *natsbus.Bus, subject string, n int) {
			var wg sync.WaitGroup
			var next atomic.Int64
			for range 8 {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= n {
							return
						}
						if err := nb.Publish(context.Background(), subject, bus.Outgoing{Key: fmt.Sprint(i), Data: payload}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		}},
		{"batch", func(b *testing.B, nb *natsbus.Bus, subject string, n int) {
			const chunk = 1000
			for start := 0; start < n; start += chunk {
				ms := make([]bus.Outgoing, 0, chunk)
				for i := start; i < min(n, start+chunk); i++ {
					ms = append(ms, bus.Outgoing{Key: fmt.Sprint(i), Data: payload})
				}
				if err := nb.PublishBatch(context.Background(), subject, ms); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
	transports := []struct {
		name string
		opts func() []nats.Option
	}{
		{"tcp", func() []nats.Option { return nil }},
		{"inproc", func() []nats.Option { return []nats.Option{nats.InProcessServer(e)} }},
	}
	run := 0
	for _, tr := range transports {
		for _, mode := range modes {
			run++
			benchPublishConsume(b, e, tr.name+"/"+mode.name, run, tr.opts(), payload, mode.publish)
		}
	}
}

func benchPublishConsume(b *testing.B, e *embedded, name string, run int, opts []nats.Option, payload []byte,
	publish func(b *testing.B, nb *natsbus.Bus, subject string, n int)) {
	b.Run(name, func(b *testing.B) {
		nb, err := natsbus.New(context.Background(), natsbus.Config{URL: e.url, StreamPrefix: "BENCH", Options: opts}, testLogger(b))
		if err != nil {
			b.Fatal(err)
		}
		defer nb.Close()
		subject := fmt.Sprintf("bench.%d.%d", time.Now().UnixNano(), run)
		var handled, lastH atomic.Int64
		lastH.Store(time.Now().UnixNano())
		done := make(chan struct{})
		n := int64(b.N)
		ctx, cancel := context.WithCancel(context.Background())
		consumeErr := make(chan error, 1)
		go func() {
			consumeErr <- nb.Consume(ctx, subject, bus.ConsumeOptions{Group: "bench", Concurrency: 8},
				func(_ context.Context, m bus.Message) error {
					now := time.Now().UnixNano()
					if gap := time.Duration(now - lastH.Swap(now)); gap > time.Second && os.Getenv("NEWSFLOW_TEST_LOG") != "" {
						b.Logf("gap %v at %d attempt %d", gap, handled.Load(), m.Attempt())
					}
					if handled.Add(1) == n {
						close(done)
					}
					return nil
				})
		}()
		b.SetBytes(int64(len(payload)))
		b.ResetTimer()
		cpu0 := processCPU()
		start := time.Now()
		publish(b, nb, subject, b.N)
		pubDur := time.Since(start)
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			b.Fatalf("consumed %d of %d", handled.Load(), n)
		}
		total := time.Since(start)
		cpu := processCPU() - cpu0
		b.StopTimer()
		cancel()
		if err := <-consumeErr; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/total.Seconds(), "msgs/s")
		b.ReportMetric(float64(b.N)/pubDur.Seconds(), "pub_msgs/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	})
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package natsbus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
)

// provision ensures the subject's stream, the DLQ stream and the durable consumer.
func (b *Bus) provision(ctx context.Context, subject string, opts bus.ConsumeOptions) (jetstream.Consumer, error) {
	stream, err := b.ensureStream(ctx, subject)
	if err != nil {
		return nil, err
	}
	if opts.DLQSubject != "" {
		if _, err := b.ensureStream(ctx, opts.DLQSubject); err != nil {
			return nil, err
		}
	}
	cc := jetstream.ConsumerConfig{
		Durable:       durableName(opts.Group),
		Description:   "newsflow " + opts.Stage + " on " + subject,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       opts.AckWait,
		// +2: attempt MaxDeliver+1 (after a crash on the last attempt) still runs the handler;
		// attempt MaxDeliver+2 is dead-lettered unseen (see handle). The server never drops a
		// message silently before that.
		MaxDeliver:    opts.MaxDeliver + 2,
		FilterSubject: subject,
		MaxAckPending: max(b.cfg.MaxAckPending, 4*opts.Concurrency),
	}
	c, err := b.js.CreateConsumer(ctx, stream, cc) // idempotent for an identical config
	if errors.Is(err, jetstream.ErrConsumerExists) {
		c, err = b.js.UpdateConsumer(ctx, stream, cc)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbus: provision consumer %s on %s: %w", cc.Durable, stream, err)
	}
	return c, nil
}

// provisionRetry retries provision on transient failures (API timeouts on a busy server, a
// server still starting, a reconnect) for up to Config.ProvisionTimeout; a definite answer
// from the server (invalid config, overlapping subjects) fails at once.
func (b *Bus) provisionRetry(ctx context.Context, subject string, opts bus.ConsumeOptions, log *zap.Logger) (jetstream.Consumer, error) {
	deadline := time.Now().Add(b.cfg.ProvisionTimeout)
	wait := 250 * time.Millisecond
	for {
		c, err := b.provision(ctx, subject, opts)
		if err == nil {
			return c, nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.Code != 503 || ctx.Err() != nil || b.closed() || time.Now().Add(wait).After(deadline) {
			return nil, err
		}
		log.Warn("provisioning failed, retrying", zap.Duration("in", wait), zap.Error(err))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("natsbus: provision %s: %w", subject, ctx.Err())
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Consume implements bus.Bus. It provisions the stream and the durable consumer, then pulls
// messages and runs h on up to opts.Concurrency goroutines. When ctx is cancelled (or the Bus
// closed) it stops pulling, hands prefetched but unstarted messages back (Nak), waits for
// running handlers, settles their results with bus.Settle, flushes the acks and returns nil
// (ErrClosed after Close). Handlers get a context that is not cancelled by ctx — in-flight
// work finishes — but is cancelled by Close.
func (b *Bus) Consume(ctx context.Context, subject string, opts bus.ConsumeOptions, h bus.Handler) error {
	opts = opts.Defaults()
	if err := opts.Validate(); err != nil {
		return err
	}
	if h == nil {
		return errors.New("natsbus: nil handler")
	}
	if b.closed() {
		return bus.ErrClosed
	}
	log := b.log.With(zap.String("subject", subject), zap.String("group", opts.Group))
	cons, err := b.provisionRetry(ctx, subject, opts, log)
	if err != nil {
		return b.mapErr(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopOnClose := context.AfterFunc(b.closedCtx, cancel)
	defer stopOnClose()

	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	stopH := context.AfterFunc(b.closedCtx, hcancel)
	defer stopH()

	// opts.Concurrency long-lived workers run the handlers (not a goroutine per message: a
	// worker keeps its grown stack from one message to the next unless the GC shrinks it,
	// where each new goroutine grew its stack again in the extractor and the NER; end to end
	// the difference was within noise, 77d5f36). sem holds one token per worker that is busy
	// or about to take a message, so a message is pulled from the iterator only when a worker
	// is free for it.
	sem := make(chan struct{}, opts.Concurrency)
	work := make(chan jetstream.Msg)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() {
			for msg := range work {
				b.handle(hctx, msg, opts, h, log)
				<-sem
			}
		})
	}
	batch := max(2*opts.Concurrency, 4)
	log.Info("consuming", zap.Int("concurrency", opts.Concurrency), zap.Duration("ack_wait", opts.AckWait))

	for runCtx.Err() == nil {
		// Short pull expiry and heartbeat: if the client's pull accounting drifts from the
		// server's (seen under CPU starvation: the iterator believes a pull is pending, the
		// server has none, nothing arrives), the missed heartbeat resets it within ~2×heartbeat
		// instead of the 30s default.
		it, err := cons.Messages(jetstream.PullMaxMessages(batch),
			jetstream.PullExpiry(b.cfg.PullExpiry), jetstream.PullHeartbeat(b.cfg.PullExpiry/5))
		if err != nil {
			log.Warn("start pulling", zap.Error(err))
		} else {
			stopIt := context.AfterFunc(runCtx, it.Drain)
			b.pull(runCtx, it, sem, work, log)
			stopIt()
			it.Stop()
		}
		if runCtx.Err() != nil || b.nc.IsClosed() {
			break
		}
		// The iterator ended on its own (consumer deleted, connection trouble): provision
		// again after a pause and carry on.
		select {
		case <-runCtx.Done():
		case <-time.After(time.Second):
		}
		if runCtx.Err() != nil {
			break
		}
		if c, err := b.provisionRetry(runCtx, subject, opts, log); err != nil {
			log.Warn("re-provision consumer", zap.Error(err))
		} else {
			cons = c
		}
	}
	close(work)
	wg.Wait()
	if !b.nc.IsClosed() {
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := b.nc.FlushWithContext(fctx); err != nil {
			log.Warn("flush acks on drain", zap.Error(err))
		}
		fcancel()
	}
	log.Info("consumer drained")
	if b.closed() && ctx.Err() == nil {
		return bus.ErrClosed
	}
	return nil
}

// pull hands messages from it to the workers until the iterator ends, taking a sem token
// for each (a worker returns it when done). After runCtx ends the iterator is draining: the
// remaining prefetched messages are handed back with Nak.
func (b *Bus) pull(runCtx context.Context, it jetstream.MessagesContext, sem chan struct{},
	work chan<- jetstream.Msg, log *zap.Logger) {
	for {
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-runCtx.Done():
		}
		msg, err := it.Next()
		if err != nil {
			if acquired {
				<-sem
			}
			if errors.Is(err, jetstream.ErrNoHeartbeat) {
				// Not fatal: the iterator has reset its pull accounting and pulls again on
				// the next Next. Tearing it down instead would strand the messages already
				// on their way to it until AckWait (a 30s stall).
				log.Info("pull: missed server heartbeat, pulling again")
				continue
			}
			if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				log.Warn("pull", zap.Error(err))
			}
			return
		}
		if !acquired || runCtx.Err() != nil {
			if acquired {
				<-sem
			}
			_ = msg.Nak() // hand back: another replica (or our restart) takes it now
			continue
		}
		work <- msg // a worker is free or finishing: the token says so
	}
}

// handle runs h on one delivery and settles the result.
func (b *Bus) handle(ctx context.Context, raw jetstream.Msg, opts bus.ConsumeOptions, h bus.Handler, log *zap.Logger) {
	m := b.wrap(raw)
	var herr error
	if m.attempt > opts.MaxDeliver+1 {
		herr = bus.Permanentf("natsbus: delivered %d times without being settled (handler crashed or overran AckWait %v)", m.attempt, opts.AckWait)
	} else {
		herr = safeCall(ctx, h, m)
	}
	out, err := bus.Settle(ctx, b, opts, m, herr)
	switch {
	case err != nil:
		log.Error("settle", zap.String("key", m.key), zap.Int("attempt", m.attempt), zap.String("outcome", string(out)),
			zap.NamedError("handler_error", herr), zap.Error(err))
	case out == bus.OutcomeDeadLettered:
		log.Warn("dead-lettered", zap.String("key", m.key), zap.Int("attempt", m.attempt), zap.NamedError("reason", herr))
	case out == bus.OutcomeRetried:
		log.Info("retry", zap.String("key", m.key), zap.Int("attempt", m.attempt), zap.Error(herr))
	}
}

// safeCall runs h, turning a panic into an (retryable) error.
func safeCall(ctx context.Context, h bus.Handler, m bus.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("natsbus: handler panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, m)
}

// message adapts a jetstream.Msg to bus.Message with idempotent settlement.
type message struct {
	b       *Bus
	msg     jetstream.Msg
	key     string
	subject string
	header  map[string]string
	attempt int
	settled atomic.Bool
}

func (b *Bus) wrap(msg jetstream.Msg) *message {
	m := &message{b: b, msg: msg, subject: msg.Subject(), attempt: 1}
	hdr := msg.Headers()
	m.key = hdr.Get(nats.MsgIdHdr)
	m.header = make(map[string]string, len(hdr))
	for k, v := range hdr {
		if len(v) > 0 {
			m.header[k] = v[0]
		}
	}
	if md, err := msg.Metadata(); err == nil && md.NumDelivered > 0 {
		m.attempt = int(md.NumDelivered)
	}
	return m
}

func (m *message) Key() string               { return m.key }
func (m *message) Subject() string           { return m.subject }
func (m *message) Data() []byte              { return m.msg.Data() }
func (m *message) Header() map[string]string { return m.header }
func (m *message) Attempt() int              { return m.attempt }

// settle runs op if the message is not settled yet; a failed op leaves it unsettled so the
// caller may try again.
func (m *message) settle(what string, op func() error) error {
	if !m.settled.CompareAndSwap(false, true) {
		return nil
	}
	if err := op(); err != nil {
		m.settled.Store(false)
		return fmt.Errorf("natsbus: %s %s: %w", what, m.key, m.b.mapErr(err))
	}
	return nil
}

// Ack implements bus.Message.
func (m *message) Ack(ctx context.Context) error {
	return m.settle("ack", func() error {
		if m.b.cfg.AckSync {
			return m.msg.DoubleAck(ctx)
		}
		return m.msg.Ack()
	})
}

// Nack implements bus.Message: the server redelivers after delay.
func (m *message) Nack(_ context.Context, delay time.Duration) error {
	return m.settle("nack", func() error {
		if delay > 0 {
			return m.msg.NakWithDelay(delay)
		}
		return m.msg.Nak()
	})
}

// Term implements bus.Message.
func (m *message) Term(context.Context) error {
	return m.settle("term", m.msg.Term)
}

// Package natsbus is the NATS JetStream backend of bus.Bus, on nats.go's jetstream API.
//
// Topology: one stream per subject (StreamName: "news.raw" → "NEWSFLOW_NEWS_RAW"), file
// storage, limits retention (MaxAge/MaxBytes), a DuplicateWindow for Nats-Msg-Id dedup. One
// stream per subject, because dedup is per stream and the same article ID travels through
// news.raw, news.clean and news.enriched; limits (not work-queue) retention, because several
// groups (indexer, alerter) each consume news.enriched. Streams are created or updated
// idempotently on first Publish/Consume of a subject.
//
// Each consumer group is a durable pull consumer on its subject's stream (AckExplicit,
// AckWait, MaxDeliver = opts.MaxDeliver+2 as a backstop, MaxAckPending from Config); every
// replica of a stage pulls from the same durable, so they compete for messages. Settlement
// follows bus.Settle: Ack, NakWithDelay(backoff), dead letter + Term. A delivery that comes
// back opts.MaxDeliver+2 times without ever being settled (the handler crashes the process or
// overruns AckWait every time) is dead-lettered without running the handler again.
//
// Ordering: JetStream delivers a stream in order, so one consumer with Concurrency 1 sees one
// subject's messages in publish order (Features.KeyedOrdering); several replicas or
// Concurrency > 1 process in parallel and redeliveries come out of order.
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// headerReserve is kept out of Features.MaxPayload for headers (msg ID, dead-letter reason).
const headerReserve = 4 << 10

// Bus is the JetStream bus. Safe for concurrent use.
type Bus struct {
	cfg     Config
	log     *zap.Logger
	nc      *nats.Conn
	ownConn bool
	js      jetstream.JetStream

	serverMax int // server max_payload (data + headers)

	streams sync.Map // subject → struct{}: stream ensured

	closeOnce sync.Once
	closedCtx context.Context // cancelled by Close
	closeFn   context.CancelFunc
}

var _ bus.Bus = (*Bus)(nil)

// New connects to cfg.URL and returns a Bus that owns the connection. It blocks until
// connected or ctx ends / cfg.ConnectTimeout passes.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Bus, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("bus", "nats"))
	opts := []nats.Option{
		nats.Name(cfg.ConnectName),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.MaxReconnects(cfg.MaxReconnects),
		nats.Timeout(cfg.ConnectTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", zap.Error(err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", redact.Field("url", nc.ConnectedUrlRedacted()))
		}),
		nats.ClosedHandler(func(*nats.Conn) { log.Debug("nats connection closed") }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			log.Warn("nats async error", zap.String("subscription", subj), zap.Error(err))
		}),
	}
	opts = append(opts, cfg.Options...)
	type result struct {
		nc  *nats.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(cfg.URL, opts...)
		ch <- result{nc, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, connectError(cfg.URL, ctx.Err())
	}
	if r.err != nil {
		return nil, connectError(cfg.URL, r.err)
	}
	b, err := newBus(r.nc, cfg, log)
	if err != nil {
		r.nc.Close()
		return nil, err
	}
	b.ownConn = true
	log.Info("nats connected", redact.Field("url", r.nc.ConnectedUrlRedacted()), zap.Int("max_payload", b.serverMax))
	return b, nil
}

// connectError names the server(s) of url without their passwords or tokens.
func connectError(url string, err error) error {
	return redact.Error(fmt.Errorf("natsbus: connect %s: %w", redact.URL(url), err), redact.Credentials(url)...)
}

// NewFromConn returns a Bus over an existing connection (the all-in-one's embedded server).
// Close does not close nc; the connection's own handlers are left as they are.
func NewFromConn(nc *nats.Conn, cfg Config, log *zap.Logger) (*Bus, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	return newBus(nc, cfg, log.With(zap.String("bus", "nats")))
}

func newBus(nc *nats.Conn, cfg Config, log *zap.Logger) (*Bus, error) {
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(cfg.PublishWindow*2))
	if err != nil {
		return nil, fmt.Errorf("natsbus: jetstream: %w", err)
	}
	max := int(nc.MaxPayload())
	if max <= headerReserve {
		return nil, fmt.Errorf("natsbus: server max_payload %d too small (not connected?)", max)
	}
	b := &Bus{cfg: cfg, log: log, nc: nc, js: js, serverMax: max}
	b.closedCtx, b.closeFn = context.WithCancel(context.Background())
	return b, nil
}

// Conn returns the underlying connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream returns the underlying JetStream handle (for admin tasks and tests).
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Features implements bus.Bus.
func (b *Bus) Features() bus.Features {
	return bus.Features{
		Name:                       "nats",
		DedupOnPublish:             true,
		KeyedOrdering:              true,
		DeliveryCountAcrossCrashes: true,
		NackDelay:                  true,
		MaxPayload:                 b.serverMax - headerReserve,
	}
}

// Close stops all Consume loops (they drain: in-flight handlers finish, but their acks may
// fail once the connection is gone — those messages are redelivered) and closes the
// connection when the Bus owns it. It does not wait for handlers. Idempotent.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.closeFn()
		if b.ownConn {
			b.nc.Close()
		}
	})
	return nil
}

func (b *Bus) closed() bool { return b.closedCtx.Err() != nil }

// ensureStream creates or updates the stream of subject once per Bus.
func (b *Bus) ensureStream(ctx context.Context, subject string) (string, error) {
	name := StreamName(b.cfg.StreamPrefix, subject)
	if _, ok := b.streams.Load(subject); ok {
		return name, nil
	}
	if subject == "" || strings.ContainsAny(subject, "*> \t") {
		return "", fmt.Errorf("natsbus: subject %q must be a literal subject", subject)
	}
	storage := jetstream.FileStorage
	if b.cfg.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	sc := jetstream.StreamConfig{
		Name:        name,
		Description: "newsflow " + subject,
		Subjects:    []string{subject},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      b.cfg.MaxAge,
		MaxBytes:    b.cfg.MaxBytes,
		Discard:     jetstream.DiscardOld,
		Duplicates:  b.cfg.DuplicateWindow,
		Replicas:    b.cfg.Replicas,
		Storage:     storage,
	}
	// Create is idempotent for an identical config; only a changed config is updated. (Not
	// CreateOrUpdateStream: it always takes the server's update path, which is heavier.)
	_, err := b.js.CreateStream(ctx, sc)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		_, err = b.js.UpdateStream(ctx, sc)
	}
	if err != nil {
		return "", fmt.Errorf("natsbus: provision stream %s for %s: %w", name, subject, err)
	}
	b.streams.Store(subject, struct{}{})
	return name, nil
}

// buildMsg checks sizes and maps an Outgoing to a NATS message.
func (b *Bus) buildMsg(subject string, m bus.Outgoing) (*nats.Msg, error) {
	if len(m.Data) > b.serverMax-headerReserve {
		return nil, fmt.Errorf("natsbus: %s key %s: %d bytes > %d: %w", subject, m.Key, len(m.Data), b.serverMax-headerReserve, bus.ErrTooLarge)
	}
	msg := nats.NewMsg(subject)
	msg.Data = m.Data
	hsize := 12 // "NATS/1.0\r\n" + "\r\n"
	for k, v := range m.Header {
		msg.Header.Set(k, v)
		hsize += len(k) + len(v) + 4
	}
	if m.Key != "" {
		msg.Header.Set(nats.MsgIdHdr, m.Key)
		hsize += len(nats.MsgIdHdr) + len(m.Key) + 4
	}
	if len(m.Data)+hsize > b.serverMax {
		return nil, fmt.Errorf("natsbus: %s key %s: %d bytes with headers > %d: %w", subject, m.Key, len(m.Data)+hsize, b.serverMax, bus.ErrTooLarge)
	}
	return msg, nil
}

// Publish implements bus.Bus: it blocks until JetStream has stored the message (PubAck) or
// ctx ends (without a deadline, the jetstream default timeout of 5s applies). A duplicate
// Key within DuplicateWindow is acknowledged but not stored again.
func (b *Bus) Publish(ctx context.Context, subject string, m bus.Outgoing) error {
	if b.closed() {
		return bus.ErrClosed
	}
	msg, err := b.buildMsg(subject, m)
	if err != nil {
		return err
	}
	if _, err := b.ensureStream(ctx, subject); err != nil {
		return b.mapErr(err)
	}
	ack, err := b.js.PublishMsg(ctx, msg)
	if errors.Is(err, jetstream.ErrNoStreamResponse) { // stream deleted behind our back
		b.streams.Delete(subject)
		if _, err2 := b.ensureStream(ctx, subject); err2 == nil {
			ack, err = b.js.PublishMsg(ctx, msg)
		}
	}
	if err != nil {
		return fmt.Errorf("natsbus: publish %s key %s: %w", subject, m.Key, b.mapErr(err))
	}
	if ack.Duplicate {
		b.log.Debug("duplicate publish dropped", zap.String("subject", subject), zap.String("key", m.Key))
	}
	return nil
}

// PublishBatch publishes ms to subject with up to Config.PublishWindow acks outstanding and
// blocks until every message is stored (or the first error / ctx end). It is the fast path
// for producers with many messages at once; a failed batch may be retried whole (duplicates
// are dropped by Nats-Msg-Id). Size errors are reported before anything is sent.
func (b *Bus) PublishBatch(ctx context.Context, subject string, ms []bus.Outgoing) error {
	if b.closed() {
		return bus.ErrClosed
	}
	msgs := make([]*nats.Msg, len(ms))
	for i, m := range ms {
		msg, err := b.buildMsg(subject, m)
		if err != nil {
			return err
		}
		msgs[i] = msg
	}
	if _, err := b.ensureStream(ctx, subject); err != nil {
		return b.mapErr(err)
	}
	window := make([]jetstream.PubAckFuture, 0, b.cfg.PublishWindow)
	wait := func(f jetstream.PubAckFuture) error {
		select {
		case <-f.Ok():
			return nil
		case err := <-f.Err():
			return fmt.Errorf("natsbus: publish %s key %s: %w", subject, f.Msg().Header.Get(nats.MsgIdHdr), b.mapErr(err))
		case <-ctx.Done():
			return fmt.Errorf("natsbus: publish batch to %s: %w", subject, ctx.Err())
		case <-b.closedCtx.Done():
			return bus.ErrClosed
		}
	}
	for _, msg := range msgs {
		if len(window) == cap(window) {
			if err := wait(window[0]); err != nil {
				return err
			}
			window = append(window[:0], window[1:]...)
		}
		f, err := b.js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("natsbus: publish %s: %w", subject, b.mapErr(err))
		}
		window = append(window, f)
	}
	for _, f := range window {
		if err := wait(f); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bus) mapErr(err error) error {
	switch {
	case errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %w", bus.ErrTooLarge, err)
	case errors.Is(err, nats.ErrConnectionClosed) || b.closed():
		return fmt.Errorf("%w: %w", bus.ErrClosed, err)
	}
	return err
}

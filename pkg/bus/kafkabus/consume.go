package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
)

// Consume joins consumer group opts.Group on subject's topic (creating the topic and the
// DLQ topic if needed) and delivers messages to h, up to opts.Concurrency at a time, until
// ctx is cancelled or the bus is closed. It then stops fetching, waits for running handlers
// and unsettled deferred messages (each bounded by AckWait), commits what settled, leaves
// the group and returns nil. It returns early only with a configuration or provisioning
// error. Handlers get a context that is not cancelled by shutdown (so they can finish) but
// ends after AckWait.
func (b *Bus) Consume(ctx context.Context, subject string, opts bus.ConsumeOptions, h bus.Handler) error {
	opts = opts.Defaults()
	if err := opts.Validate(); err != nil {
		return err
	}
	if h == nil {
		return errors.New("kafkabus: consume: nil handler")
	}
	topic, err := TopicName(subject)
	if err != nil {
		return err
	}
	dlqTopic, err := TopicName(opts.DLQSubject)
	if err != nil {
		return fmt.Errorf("kafkabus: DLQ subject: %w", err)
	}
	b.lifeMu.Lock()
	if b.closed() {
		b.lifeMu.Unlock()
		return bus.ErrClosed
	}
	b.consumers.Add(1)
	b.lifeMu.Unlock()
	defer b.consumers.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-b.done:
			cancel()
		case <-ctx.Done():
		}
	}()

	for _, t := range []string{topic, dlqTopic} {
		if err := b.ensureTopic(ctx, t); err != nil {
			return fmt.Errorf("kafkabus: consume %s group %s: %w", subject, opts.Group, err)
		}
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                    opts.Group,
		Brokers:               b.cfg.Brokers,
		Dialer:                b.dialer,
		Topics:                []string{topic},
		HeartbeatInterval:     b.cfg.HeartbeatInterval,
		SessionTimeout:        b.cfg.SessionTimeout,
		RebalanceTimeout:      b.cfg.RebalanceTimeout,
		JoinGroupBackoff:      b.cfg.JoinGroupBackoff,
		WatchPartitionChanges: true,
		StartOffset:           kafka.FirstOffset,
		ErrorLogger:           kafkaLogger(b.log.Named("group")),
	})
	if err != nil {
		return fmt.Errorf("kafkabus: consume %s group %s: %w", subject, opts.Group, err)
	}
	c := &consumer{
		b:        b,
		topic:    topic,
		subject:  subject,
		opts:     opts,
		h:        h,
		log:      b.log.With(zap.String("topic", topic), zap.String("group", opts.Group)),
		hctx:     context.WithoutCancel(ctx),
		attempts: map[partOffset]int{},
	}
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			c.log.Warn("consumer group: waiting for next generation", zap.Error(err))
			continue
		}
		drained := make(chan struct{})
		gen.Start(func(gctx context.Context) {
			c.runGeneration(ctx, gctx, gen)
			close(drained)
			if ctx.Err() != nil {
				// Hold the generation until cg.Close so that the group does not rejoin
				// between our drain and leaving.
				<-gctx.Done()
			}
		})
		<-drained
		if ctx.Err() != nil {
			break
		}
	}
	_ = cg.Close() // leaves the group
	c.log.Info("consumer stopped")
	return nil
}

type partOffset struct {
	partition int
	offset    int64
}

// consumer is the state of one Consume call that outlives generations.
type consumer struct {
	b       *Bus
	topic   string
	subject string
	opts    bus.ConsumeOptions
	h       bus.Handler
	log     *zap.Logger
	hctx    context.Context

	mu       sync.Mutex
	attempts map[partOffset]int // deliveries made in this process of unsettled offsets
}

func (c *consumer) nextAttempt(k partOffset) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts[k]++
	return c.attempts[k]
}

func (c *consumer) forget(k partOffset) {
	c.mu.Lock()
	delete(c.attempts, k)
	c.mu.Unlock()
}

// prune drops attempt counts of partitions we no longer own or offsets already committed.
func (c *consumer) prune(assigned []kafka.PartitionAssignment) {
	start := map[int]int64{}
	for _, pa := range assigned {
		start[pa.ID] = pa.Offset
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.attempts {
		if s, ok := start[k.partition]; !ok || k.offset < s {
			delete(c.attempts, k)
		}
	}
}

// generation runs the partitions assigned in one consumer-group generation.
type generation struct {
	c      *consumer
	gen    *kafka.Generation
	parts  []*partState
	tokens chan struct{} // one per unresolved entry (MaxUnsettled)
	live   sync.WaitGroup

	commitFailures int // consecutive; only touched by the generation's own goroutine

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*delivery
	stopped bool
	timers  map[*delivery]*time.Timer // pending Nack redeliveries
}

// partState tracks the offsets of one partition: entries in offset order, committed only
// up to the first unsettled one.
type partState struct {
	id        int
	mu        sync.Mutex
	entries   []*entry
	next      int64 // offset after the last fetched message, -1 before the first
	committed int64
}

type entry struct {
	offset   int64
	resolved bool // settled (done) or abandoned; guarded by partState.mu
	done     bool
}

// commitPoint is the offset to commit: the first unsettled offset, or the next offset to
// fetch when everything fetched has settled.
func (p *partState) commitPoint() (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := 0
	for i < len(p.entries) && p.entries[i].done {
		i++
	}
	p.entries = p.entries[i:]
	if len(p.entries) > 0 {
		return p.entries[0].offset, true
	}
	return p.next, p.next >= 0
}

func (c *consumer) runGeneration(ctx, gctx context.Context, gen *kafka.Generation) {
	cfg := c.b.cfg
	assigned := gen.Assignments[c.topic]
	c.prune(assigned)
	g := &generation{
		c:      c,
		gen:    gen,
		tokens: make(chan struct{}, max(cfg.MaxUnsettled, c.opts.Concurrency)),
		timers: map[*delivery]*time.Timer{},
	}
	g.cond = sync.NewCond(&g.mu)
	ids := make([]int, 0, len(assigned))
	for _, pa := range assigned {
		ids = append(ids, pa.ID)
	}
	log := c.log.With(zap.Int32("generation", gen.ID))
	log.Info("partitions assigned", zap.Ints("partitions", ids))

	fctx, fcancel := context.WithCancel(context.Background())
	var fetchers sync.WaitGroup
	readers := make([]*kafka.Reader, 0, len(assigned))
	for _, pa := range assigned {
		p := &partState{id: pa.ID, next: -1, committed: pa.Offset}
		g.parts = append(g.parts, p)
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers:         cfg.Brokers,
			Topic:           c.topic,
			Partition:       pa.ID,
			Dialer:          c.b.dialer,
			QueueCapacity:   256,
			MinBytes:        1,
			MaxBytes:        max(4<<20, 2*(cfg.MaxMessageBytes+headroom)),
			MaxWait:         250 * time.Millisecond,
			ReadLagInterval: -1,
			ReadBackoffMin:  50 * time.Millisecond,
			ReadBackoffMax:  time.Second,
			ErrorLogger:     kafkaLogger(log.Named("reader")),
		})
		if err := r.SetOffset(pa.Offset); err != nil {
			log.Error("set offset", zap.Int("partition", pa.ID), zap.Error(err))
		}
		readers = append(readers, r)
		fetchers.Go(func() { g.fetch(fctx, p, r) })
	}
	for range c.opts.Concurrency {
		go g.work()
	}

	tick := time.NewTicker(cfg.CommitInterval)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-gctx.Done():
			break loop
		case <-tick.C:
			g.commit(log)
		}
	}
	tick.Stop()

	// Drain: stop fetching, hand back queued and pending-redelivery messages, let running
	// handlers and deferred settlements finish (AckWait bounds each), commit.
	fcancel()
	fetchers.Wait()
	for _, r := range readers {
		_ = r.Close()
	}
	abandoned := g.stop()
	// Every unresolved entry resolves by settlement or by its AckWait timer, so this wait
	// is bounded by AckWait. A handler stuck beyond AckWait is not waited for: its delivery
	// was handed back, and its worker exits when the handler returns.
	g.live.Wait()
	g.commit(log)
	log.Info("generation drained", zap.Int("handed_back", abandoned))
}

// fetch reads partition p and queues its messages until ctx ends.
func (g *generation) fetch(ctx context.Context, p *partState, r *kafka.Reader) {
	for {
		select {
		case g.tokens <- struct{}{}:
		case <-ctx.Done():
			return
		}
		m, err := r.FetchMessage(ctx)
		if err != nil {
			<-g.tokens
			if ctx.Err() != nil {
				return
			}
			g.c.log.Warn("fetch", zap.Int("partition", p.id), zap.Error(err))
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			continue
		}
		e := &entry{offset: m.Offset}
		p.mu.Lock()
		p.entries = append(p.entries, e)
		p.next = m.Offset + 1
		p.mu.Unlock()
		g.live.Add(1)
		d := &delivery{g: g, p: p, e: e, rec: &m, attempt: g.c.nextAttempt(partOffset{p.id, m.Offset})}
		if !g.push(d) {
			g.resolve(d, false)
			return
		}
	}
}

// push queues d for a worker; false if the generation is stopping.
func (g *generation) push(d *delivery) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.queue = append(g.queue, d)
	g.cond.Signal()
	return true
}

func (g *generation) pop() *delivery {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.queue) == 0 && !g.stopped {
		g.cond.Wait()
	}
	if len(g.queue) == 0 {
		return nil
	}
	d := g.queue[0]
	g.queue[0] = nil
	g.queue = g.queue[1:]
	return d
}

// stop makes the generation refuse new work and hands back (abandons) queued messages and
// pending redeliveries. It returns how many it handed back.
func (g *generation) stop() int {
	g.mu.Lock()
	g.stopped = true
	back := g.queue
	g.queue = nil
	for d, t := range g.timers {
		if t.Stop() { // else the callback runs, sees stopped and abandons d itself
			delete(g.timers, d)
			back = append(back, d)
		}
	}
	g.cond.Broadcast()
	g.mu.Unlock()
	for _, d := range back {
		g.resolve(d, false)
	}
	return len(back)
}

// resolve ends d's entry: done (acked or terminated: committable) or abandoned (left
// uncommitted for the partition's next owner).
func (g *generation) resolve(d *delivery, done bool) {
	p, e := d.p, d.e
	p.mu.Lock()
	if e.resolved {
		p.mu.Unlock()
		return
	}
	e.resolved, e.done = true, done
	p.mu.Unlock()
	if done {
		g.c.forget(partOffset{p.id, e.offset})
	}
	<-g.tokens
	g.live.Done()
}

// retry redelivers d's record after delay with the next attempt number, or abandons it if
// the generation is stopping.
func (g *generation) retry(d *delivery, delay time.Duration) {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		g.resolve(d, false)
		return
	}
	nd := &delivery{g: g, p: d.p, e: d.e, rec: d.rec, attempt: g.c.nextAttempt(partOffset{d.p.id, d.e.offset})}
	if delay <= 0 {
		g.queue = append(g.queue, nd)
		g.cond.Signal()
		g.mu.Unlock()
		return
	}
	g.timers[nd] = time.AfterFunc(delay, func() {
		g.mu.Lock()
		if _, ok := g.timers[nd]; !ok {
			g.mu.Unlock()
			return
		}
		delete(g.timers, nd)
		if g.stopped {
			g.mu.Unlock()
			g.resolve(nd, false)
			return
		}
		g.queue = append(g.queue, nd)
		g.cond.Signal()
		g.mu.Unlock()
	})
	g.mu.Unlock()
}

func (g *generation) work() {
	for {
		d := g.pop()
		if d == nil {
			return
		}
		g.handle(d)
	}
}

func (g *generation) handle(d *delivery) {
	c := g.c
	ackWait := c.opts.AckWait
	d.ackTimer.Store(time.AfterFunc(ackWait, func() {
		if d.state.CompareAndSwap(0, 1) {
			c.log.Warn("message not settled within AckWait; redelivering",
				zap.String("key", d.Key()), zap.Int("partition", d.p.id), zap.Int64("offset", d.e.offset),
				zap.Int("attempt", d.attempt), zap.Duration("ack_wait", ackWait))
			g.retry(d, c.opts.Backoff(d.attempt))
		}
	}))
	hctx, cancel := context.WithTimeout(c.hctx, ackWait)
	herr := callHandler(hctx, c.h, d)
	cancel()
	sctx, cancel := context.WithTimeout(c.hctx, ackWait)
	outcome, err := bus.Settle(sctx, c.b, c.opts, d, herr)
	cancel()
	if err != nil {
		c.log.Warn("settle", zap.String("key", d.Key()), zap.Int("partition", d.p.id), zap.Int64("offset", d.e.offset),
			zap.Int("attempt", d.attempt), zap.String("outcome", string(outcome)), zap.NamedError("handler_error", herr), zap.Error(err))
	} else if outcome != bus.OutcomeAcked && outcome != bus.OutcomeDeferred {
		c.log.Info("message not acked", zap.String("key", d.Key()), zap.Int("partition", d.p.id), zap.Int64("offset", d.e.offset),
			zap.Int("attempt", d.attempt), zap.String("outcome", string(outcome)), zap.NamedError("handler_error", herr))
	}
}

// callHandler runs h, turning a panic into an error so one bad message cannot kill the
// consumer (it is retried and finally dead-lettered like any failure).
func callHandler(ctx context.Context, h bus.Handler, m bus.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kafkabus: handler panic: %v", r)
		}
	}()
	return h(ctx, m)
}

// commit commits every partition's commit point that moved. Errors are logged: the offsets
// stay uncommitted and are redelivered, at worst, to the next owner.
func (g *generation) commit(log *zap.Logger) {
	offs := map[int]int64{}
	for _, p := range g.parts {
		if o, ok := p.commitPoint(); ok && o > p.committed {
			offs[p.id] = o
		}
	}
	if len(offs) == 0 {
		return
	}
	if err := g.gen.CommitOffsets(map[string]map[int]int64{g.c.topic: offs}); err != nil {
		lvl := zap.WarnLevel
		if g.commitFailures++; g.commitFailures > 1 {
			lvl = zap.DebugLevel // the generation is usually ending; one warning is enough
		}
		log.Log(lvl, "commit offsets", zap.Any("offsets", offs), zap.Int("failures", g.commitFailures), zap.Error(err))
		return
	}
	g.commitFailures = 0
	for _, p := range g.parts {
		if o, ok := offs[p.id]; ok {
			p.committed = o
		}
	}
}

// delivery is one delivery of a record; a redelivery is a new delivery of the same entry.
type delivery struct {
	g        *generation
	p        *partState
	e        *entry
	rec      *kafka.Message
	attempt  int
	hdrOnce  sync.Once
	hdr      map[string]string
	state    atomic.Int32 // 0 unsettled, 1 settled
	ackTimer atomic.Pointer[time.Timer]
}

var _ bus.Message = (*delivery)(nil)

func (d *delivery) Key() string     { return string(d.rec.Key) }
func (d *delivery) Subject() string { return d.g.c.subject }
func (d *delivery) Data() []byte    { return d.rec.Value }
func (d *delivery) Attempt() int    { return d.attempt }

// Header returns the record's headers (last value wins for repeated keys). Do not modify.
func (d *delivery) Header() map[string]string {
	d.hdrOnce.Do(func() {
		if d.hdr != nil || len(d.rec.Headers) == 0 {
			return
		}
		h := make(map[string]string, len(d.rec.Headers))
		for _, kv := range d.rec.Headers {
			h[kv.Key] = string(kv.Value)
		}
		d.hdr = h
	})
	return d.hdr
}

func (d *delivery) settle() bool {
	if !d.state.CompareAndSwap(0, 1) {
		return false
	}
	if t := d.ackTimer.Load(); t != nil {
		t.Stop()
	}
	return true
}

// Ack marks the message processed; its offset is committed once every earlier offset of
// its partition has settled (within CommitInterval). Idempotent; never blocks.
func (d *delivery) Ack(context.Context) error {
	if d.settle() {
		d.g.resolve(d, true)
	}
	return nil
}

// Term marks the message finished without success (already dead-lettered); its offset is
// committed like an Ack. Idempotent; never blocks.
func (d *delivery) Term(ctx context.Context) error { return d.Ack(ctx) }

// Nack redelivers the message in this process after delay with Attempt+1; its offset stays
// uncommitted meanwhile. Idempotent; never blocks.
func (d *delivery) Nack(_ context.Context, delay time.Duration) error {
	if d.settle() {
		d.g.retry(d, delay)
	}
	return nil
}

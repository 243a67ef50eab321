// Package bustest is the one conformance suite every bus backend must pass, run against a real
// broker (watermill-style): a backend's test builds a Factory and calls Run.
//
//	func TestConformance(t *testing.T) {
//		srv := startBroker(t)
//		bustest.Run(t, bustest.Factory{
//			New: func(t testing.TB) (bus.Bus, error) { return mybus.New(ctx, cfgFor(srv), log) },
//			RestartBroker: func(t testing.TB) error { return srv.Restart() }, // optional
//		})
//	}
//
// Every subtest uses its own subjects, groups and keys (derived from Factory.Prefix), so the
// suite can run against a long-lived shared server; it never deletes anything itself (use
// Factory.Cleanup for that). Subtests run sequentially. What a backend declares it cannot do
// in bus.Features is skipped or asserted more weakly, and the subtest says so in its log.
package bustest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// Factory is what a backend gives the suite.
//
//   - New (required) returns a fresh, independent bus.Bus connected to the same real broker
//     as every other instance it returns — several instances play several replicas of a
//     stage, and closing one simulates a crashed replica. The suite closes every instance
//     it creates (t.Cleanup), so New must not register its own Close.
//   - Features (optional): the backend's capabilities; when Name is empty the suite uses
//     New(t).Features().
//   - Prefix (optional) returns a subject/topic prefix unique to one test (e.g.
//     "bt.k3j9x.dlq"); subjects are Prefix+".in", Prefix+".dlq" and so on and consumer groups
//     are derived from it with '.' replaced by '_'. The default is "bt" + random + test name,
//     lowercase [a-z0-9.] only, which is a valid NATS subject and Kafka topic.
//   - RestartBroker (optional) stops the broker and starts it again on the same address with
//     the same storage, returning once it accepts connections. nil skips BrokerRestart.
//   - Cleanup (optional) is called once at the end of Run with every prefix used, to delete
//     streams/topics from a shared server.
//   - Timeout (optional, default 20s) bounds each wait for an expected delivery. Kafka needs
//     longer than NATS (group joins take seconds); the suite only waits that long on failure.
//   - AckWait (optional, default 1s) is the ConsumeOptions.AckWait of the subtests that need
//     unsettled messages to come back (crash, ack-stops-redelivery, drain); quiet periods that
//     assert "nothing more arrives" last 2×AckWait.
type Factory struct {
	New           func(t testing.TB) (bus.Bus, error)
	Features      bus.Features
	Prefix        func(t testing.TB) string
	RestartBroker func(t testing.TB) error
	Cleanup       func(t testing.TB, prefixes []string)
	Timeout       time.Duration
	AckWait       time.Duration
}

// suite carries a Factory with defaults applied.
type suite struct {
	f        Factory
	feat     bus.Features
	mu       sync.Mutex
	prefixes []string
}

// Run runs every conformance subtest against the backend f describes. It blocks until all
// subtests finish.
func Run(t *testing.T, f Factory) {
	t.Helper()
	if f.New == nil {
		t.Fatal("bustest: Factory.New is required")
	}
	if f.Timeout <= 0 {
		f.Timeout = 20 * time.Second
	}
	if f.AckWait <= 0 {
		f.AckWait = time.Second
	}
	if f.Prefix == nil {
		runID := randHex(4)
		var n atomic.Int64
		f.Prefix = func(t testing.TB) string {
			return fmt.Sprintf("bt%s.%d%s", runID, n.Add(1), sanitize(t.Name(), 24))
		}
	}
	s := &suite{f: f, feat: f.Features}
	if s.feat.Name == "" {
		b := s.newBus(t)
		s.feat = b.Features()
	}
	t.Logf("bustest: backend %q features %+v", s.feat.Name, s.feat)
	if f.Cleanup != nil {
		t.Cleanup(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			f.Cleanup(t, s.prefixes)
		})
	}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"PublishConsume", s.testPublishConsume},
		{"AckStopsRedelivery", s.testAckStopsRedelivery},
		{"SettleIdempotent", s.testSettleIdempotent},
		{"NackRedelivers", s.testNackRedelivers},
		{"CrashRedelivers", s.testCrashRedelivers},
		{"CompetingConsumers", s.testCompetingConsumers},
		{"DeadLetterAfterMaxDeliver", s.testDLQAfterMaxDeliver},
		{"PermanentErrorDeadLetters", s.testPermanent},
		{"DuplicatePublish", s.testDuplicatePublish},
		{"KeyedOrdering", s.testKeyedOrdering},
		{"GracefulDrain", s.testGracefulDrain},
		{"TooLarge", s.testTooLarge},
		{"Deferred", s.testDeferred},
		{"InvalidOptionsAndClose", s.testInvalidOptionsAndClose},
		{"BrokerRestart", s.testBrokerRestart},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

// ---- helpers ---------------------------------------------------------------------------

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sanitize lowercases s and keeps [a-z0-9], at most n characters.
func sanitize(s string, n int) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s[strings.LastIndexByte(s, '/')+1:]) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
		}
		if sb.Len() >= n {
			break
		}
	}
	return sb.String()
}

// names holds one test's subjects and group names.
type names struct {
	prefix string
	in     string // main subject
	dlq    string // dead-letter subject
}

func (n names) group(suffix string) string {
	return strings.ReplaceAll(n.prefix, ".", "_") + "_" + suffix
}

func (n names) key(i int) string {
	return fmt.Sprintf("%s-k%03d", strings.ReplaceAll(n.prefix, ".", "-"), i)
}

func (s *suite) names(t *testing.T) names {
	p := s.f.Prefix(t)
	s.mu.Lock()
	s.prefixes = append(s.prefixes, p)
	s.mu.Unlock()
	return names{prefix: p, in: p + ".in", dlq: p + ".dlq"}
}

// newBus returns a fresh bus closed at the end of the test.
func (s *suite) newBus(t testing.TB) bus.Bus {
	t.Helper()
	b, err := s.f.New(t)
	if err != nil {
		t.Fatalf("bustest: new bus: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// opts returns ConsumeOptions with fast retries, DLQ at n.dlq and Defaults applied.
func (s *suite) opts(n names, group string) bus.ConsumeOptions {
	return bus.ConsumeOptions{
		Group:      n.group(group),
		Stage:      "bustest",
		MaxDeliver: 5,
		AckWait:    30 * time.Second,
		DLQSubject: n.dlq,
		Backoff:    func(int) time.Duration { return 50 * time.Millisecond },
	}.Defaults()
}

func (s *suite) quiet() time.Duration { return 2 * s.f.AckWait }

// consumer is a running Consume call.
type consumer struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// consume starts b.Consume in a goroutine; stop() (also run at cleanup) cancels it and waits.
func (s *suite) consume(t testing.TB, b bus.Bus, subject string, o bus.ConsumeOptions, h bus.Handler) *consumer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- b.Consume(ctx, subject, o, h) }()
	t.Cleanup(func() {
		if err := c.stop(t, s.f.Timeout); err != nil && !errors.Is(err, bus.ErrClosed) {
			t.Errorf("Consume(%s, group %s) returned %v", subject, o.Group, err)
		}
	})
	return c
}

// stop cancels the consumer and waits for Consume to return, failing t if it does not
// within d. It returns Consume's error.
func (c *consumer) stop(t testing.TB, d time.Duration) error {
	t.Helper()
	c.once.Do(func() {
		c.cancel()
		select {
		case c.err = <-c.done:
		case <-time.After(d):
			c.err = errors.New("bustest: Consume did not return after cancel")
			t.Errorf("Consume did not return within %v of ctx cancel", d)
		}
	})
	return c.err
}

// returnedEarly reports (without blocking) whether Consume has already returned.
func (c *consumer) returnedEarly() (bool, error) {
	select {
	case err := <-c.done:
		c.done <- err
		return true, err
	default:
		return false, nil
	}
}

// publish publishes keyed messages, failing t on error.
func (s *suite) publish(t testing.TB, b bus.Bus, subject string, msgs ...bus.Outgoing) {
	t.Helper()
	for _, m := range msgs {
		ctx, cancel := context.WithTimeout(context.Background(), s.f.Timeout)
		err := b.Publish(ctx, subject, m)
		cancel()
		if err != nil {
			t.Fatalf("publish %s key %s: %v", subject, m.Key, err)
		}
	}
}

func (s *suite) out(n names, i int) bus.Outgoing {
	return bus.Outgoing{Key: n.key(i), Data: []byte(fmt.Sprintf(`{"n":%d,"key":%q}`, i, n.key(i)))}
}

// delivery is what a recording handler saw.
type delivery struct {
	key     string
	subject string
	data    []byte
	header  map[string]string
	attempt int
	who     int // consumer index
}

// recorder collects deliveries and lets tests wait for conditions on them.
type recorder struct {
	mu   sync.Mutex
	all  []delivery
	cond chan struct{} // closed and replaced on each record
}

func newRecorder() *recorder { return &recorder{cond: make(chan struct{})} }

func (r *recorder) record(d delivery) {
	r.mu.Lock()
	r.all = append(r.all, d)
	close(r.cond)
	r.cond = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) snapshot() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.all...)
}

// waitFor blocks until pred(deliveries) holds or d passes; it reports whether pred held.
func (r *recorder) waitFor(d time.Duration, pred func([]delivery) bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := pred(r.all)
		ch := r.cond
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			return pred(r.all)
		}
	}
}

// handler records a delivery then returns fn's result (nil fn: ack).
func (r *recorder) handler(who int, fn func(ctx context.Context, m bus.Message) error) bus.Handler {
	return func(ctx context.Context, m bus.Message) error {
		r.record(delivery{key: m.Key(), subject: m.Subject(), data: append([]byte(nil), m.Data()...),
			header: m.Header(), attempt: m.Attempt(), who: who})
		if fn == nil {
			return nil
		}
		return fn(ctx, m)
	}
}

func keysOf(ds []delivery) map[string]int {
	m := make(map[string]int, len(ds))
	for _, d := range ds {
		m[d.key]++
	}
	return m
}

func hasAll(keys []string) func([]delivery) bool {
	return func(ds []delivery) bool {
		got := keysOf(ds)
		for _, k := range keys {
			if got[k] == 0 {
				return false
			}
		}
		return true
	}
}

func countAtLeast(key string, n int) func([]delivery) bool {
	return func(ds []delivery) bool { return keysOf(ds)[key] >= n }
}

// dlqWatcher consumes the DLQ subject and decodes envelopes.
func (s *suite) dlqWatcher(t *testing.T, b bus.Bus, n names) *recorder {
	r := newRecorder()
	o := s.opts(n, "dlqwatch")
	o.DLQSubject = n.prefix + ".dlqdlq"
	s.consume(t, b, n.dlq, o, r.handler(0, nil))
	return r
}

func decodeDLQ(t *testing.T, d delivery) *article.DeadLetter {
	t.Helper()
	env, err := article.Decode(d.data)
	if err != nil {
		t.Fatalf("DLQ message %s does not decode as an article envelope: %v\n%s", d.key, err, d.data)
	}
	if env.Stage != article.StageDLQ || env.DLQ == nil {
		t.Fatalf("DLQ envelope stage = %q, dlq = %v", env.Stage, env.DLQ)
	}
	return env.DLQ
}

// ---- subtests ----------------------------------------------------------------------------

// testPublishConsume: what is published arrives once with key, subject, data and headers.
func (s *suite) testPublishConsume(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	const N = 10
	var keys []string
	for i := range N {
		m := s.out(n, i)
		m.Header = map[string]string{"X-Test": fmt.Sprint(i), "Content-Type": "application/json"}
		s.publish(t, b, n.in, m)
		keys = append(keys, m.Key)
	}
	r := newRecorder()
	s.consume(t, b, n.in, s.opts(n, "g"), r.handler(0, nil))
	if !r.waitFor(s.f.Timeout, hasAll(keys)) {
		t.Fatalf("received %d of %d messages", len(keysOf(r.snapshot())), N)
	}
	for _, d := range r.snapshot() {
		var i int
		if _, err := fmt.Sscanf(d.key[strings.LastIndex(d.key, "-k")+2:], "%d", &i); err != nil {
			t.Fatalf("unexpected key %q", d.key)
		}
		want := s.out(n, i)
		if !bytes.Equal(d.data, want.Data) {
			t.Errorf("key %s: data = %q, want %q", d.key, d.data, want.Data)
		}
		if d.subject != n.in {
			t.Errorf("key %s: subject = %q, want %q", d.key, d.subject, n.in)
		}
		if d.header["X-Test"] != fmt.Sprint(i) || d.header["Content-Type"] != "application/json" {
			t.Errorf("key %s: headers = %v, want X-Test=%d and Content-Type", d.key, d.header, i)
		}
		if d.attempt != 1 {
			t.Errorf("key %s: attempt = %d, want 1", d.key, d.attempt)
		}
	}
}

// testAckStopsRedelivery: an acked message is not delivered again, neither to the same
// consumer after AckWait nor to a new member of the group.
func (s *suite) testAckStopsRedelivery(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	o := s.opts(n, "g")
	o.AckWait = s.f.AckWait
	s.publish(t, b, n.in, s.out(n, 1))
	r := newRecorder()
	c := s.consume(t, b, n.in, o, r.handler(0, nil))
	if !r.waitFor(s.f.Timeout, countAtLeast(n.key(1), 1)) {
		t.Fatal("message not received")
	}
	if r.waitFor(s.quiet(), countAtLeast(n.key(1), 2)) {
		t.Fatalf("acked message delivered again: %+v", r.snapshot())
	}
	c.stop(t, s.f.Timeout)

	// A new group member sees only what is published after.
	b2 := s.newBus(t)
	r2 := newRecorder()
	s.consume(t, b2, n.in, o, r2.handler(1, nil))
	s.publish(t, b, n.in, s.out(n, 2))
	if !r2.waitFor(s.f.Timeout, countAtLeast(n.key(2), 1)) {
		t.Fatal("new group member did not receive the next message")
	}
	if r2.waitFor(s.quiet(), countAtLeast(n.key(1), 1)) {
		t.Fatal("acked message delivered again to a new group member")
	}
}

// testSettleIdempotent: only the first of Ack/Nack/Term counts; later calls return nil.
func (s *suite) testSettleIdempotent(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	o := s.opts(n, "g")
	o.AckWait = s.f.AckWait
	// k0: Ack first (twice, concurrently with Nack and Term), then returned nil → Ack again.
	// k1: Nack(0) first, then Ack and Term → must be redelivered.
	// k2: Term first, then Nack → must not be redelivered (and not dead-lettered by the bus).
	s.publish(t, b, n.in, s.out(n, 0), s.out(n, 1), s.out(n, 2))
	var errs sync.Map
	r := newRecorder()
	dlq := s.dlqWatcher(t, b, n)
	s.consume(t, b, n.in, o, r.handler(0, func(ctx context.Context, m bus.Message) error {
		if m.Attempt() > 1 {
			return nil
		}
		var calls []func() error
		switch m.Key() {
		case n.key(0):
			if err := m.Ack(ctx); err != nil {
				errs.Store(m.Key()+" first Ack", err)
			}
			calls = []func() error{func() error { return m.Ack(ctx) }, func() error { return m.Nack(ctx, 0) }, func() error { return m.Term(ctx) }}
		case n.key(1):
			if err := m.Nack(ctx, 0); err != nil {
				errs.Store(m.Key()+" first Nack", err)
			}
			calls = []func() error{func() error { return m.Ack(ctx) }, func() error { return m.Term(ctx) }}
		case n.key(2):
			if err := m.Term(ctx); err != nil {
				errs.Store(m.Key()+" first Term", err)
			}
			calls = []func() error{func() error { return m.Nack(ctx, 0) }, func() error { return m.Ack(ctx) }}
		}
		var wg sync.WaitGroup
		for i, call := range calls {
			wg.Go(func() {
				if err := call(); err != nil {
					errs.Store(fmt.Sprintf("%s later call %d", m.Key(), i), err)
				}
			})
		}
		wg.Wait()
		return nil // Consume settles again: must be a no-op
	}))
	if !r.waitFor(s.f.Timeout, func(ds []delivery) bool {
		k := keysOf(ds)
		return k[n.key(0)] >= 1 && k[n.key(1)] >= 2 && k[n.key(2)] >= 1
	}) {
		t.Fatalf("deliveries = %v; want k0, k2 once and k1 (nacked) twice", keysOf(r.snapshot()))
	}
	if r.waitFor(s.quiet(), func(ds []delivery) bool {
		k := keysOf(ds)
		return k[n.key(0)] > 1 || k[n.key(2)] > 1
	}) {
		t.Errorf("acked or termed message redelivered: %v", keysOf(r.snapshot()))
	}
	errs.Range(func(k, v any) bool {
		t.Errorf("%s: %v (want nil: settlement is idempotent)", k, v)
		return true
	})
	if got := dlq.snapshot(); len(got) != 0 {
		t.Errorf("Term must not dead-letter by itself; DLQ got %d messages", len(got))
	}
}

// testNackRedelivers: a failing handler's message comes back with a growing attempt count
// until it succeeds.
func (s *suite) testNackRedelivers(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	s.publish(t, b, n.in, s.out(n, 1))
	r := newRecorder()
	s.consume(t, b, n.in, s.opts(n, "g"), r.handler(0, func(_ context.Context, m bus.Message) error {
		if m.Attempt() < 3 {
			return fmt.Errorf("transient failure %d", m.Attempt())
		}
		return nil
	}))
	if !r.waitFor(s.f.Timeout, countAtLeast(n.key(1), 3)) {
		t.Fatalf("deliveries = %+v, want 3", r.snapshot())
	}
	if r.waitFor(s.quiet(), countAtLeast(n.key(1), 4)) {
		t.Errorf("message delivered again after success")
	}
	for i, d := range r.snapshot() {
		if d.attempt != i+1 {
			t.Errorf("delivery %d attempt = %d, want %d", i, d.attempt, i+1)
		}
	}
}

// testCrashRedelivers: a consumer that dies mid-handler (its bus closed without settling)
// loses nothing: another member of the group gets the message after AckWait.
func (s *suite) testCrashRedelivers(t *testing.T) {
	n := s.names(t)
	pub := s.newBus(t)
	o := s.opts(n, "g")
	o.AckWait = s.f.AckWait
	s.publish(t, pub, n.in, s.out(n, 1))

	dying, err := s.f.New(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dying.Close() })
	release := make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	r := newRecorder()
	c1 := s.consume(t, dying, n.in, o, r.handler(1, func(context.Context, bus.Message) error {
		<-release // "crash": never settles before the bus is gone
		return nil
	}))
	if !r.waitFor(s.f.Timeout, countAtLeast(n.key(1), 1)) {
		t.Fatal("first consumer did not receive the message")
	}
	closed := make(chan error, 1)
	go func() { closed <- dying.Close() }() // must not wait for the stuck handler

	survivor := s.newBus(t)
	s.consume(t, survivor, n.in, o, r.handler(2, nil))
	if !r.waitFor(s.f.Timeout+o.AckWait, func(ds []delivery) bool {
		for _, d := range ds {
			if d.who == 2 && d.key == n.key(1) {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("message of the crashed consumer was not redelivered to the survivor: %+v", r.snapshot())
	}
	for _, d := range r.snapshot() {
		if d.who == 2 {
			if s.feat.DeliveryCountAcrossCrashes && d.attempt < 2 {
				t.Errorf("redelivered attempt = %d, want >= 2 (DeliveryCountAcrossCrashes)", d.attempt)
			} else if !s.feat.DeliveryCountAcrossCrashes {
				t.Logf("backend %s does not count deliveries across crashes; attempt = %d", s.feat.Name, d.attempt)
			}
			break
		}
	}
	releaseOnce.Do(func() { close(release) })
	select {
	case <-closed:
	case <-time.After(s.f.Timeout):
		t.Error("Close did not return")
	}
	c1.stop(t, s.f.Timeout)
}

// testCompetingConsumers: members of one group split the work; every message is handled
// and acked by someone.
func (s *suite) testCompetingConsumers(t *testing.T) {
	n := s.names(t)
	pub := s.newBus(t)
	const members = 2
	r := newRecorder()
	o := s.opts(n, "g")
	for i := range members {
		b := s.newBus(t)
		s.consume(t, b, n.in, o, r.handler(i, func(context.Context, bus.Message) error {
			time.Sleep(5 * time.Millisecond) // work, so that one member cannot take everything at once
			return nil
		}))
	}
	// Publish in batches until every member has handled something (group joins may take a
	// few seconds on some backends), then check that everything published was handled.
	var keys []string
	deadline := time.Now().Add(s.f.Timeout)
	each := func(ds []delivery) bool {
		seen := map[int]bool{}
		for _, d := range ds {
			seen[d.who] = true
		}
		return len(seen) == members
	}
	for i := 0; ; {
		for range 10 {
			m := s.out(n, i)
			s.publish(t, pub, n.in, m)
			keys = append(keys, m.Key)
			i++
		}
		if len(keys) >= 40 && r.waitFor(200*time.Millisecond, each) {
			break
		}
		if time.Now().After(deadline) {
			perWho := map[int]int{}
			for _, d := range r.snapshot() {
				perWho[d.who]++
			}
			t.Fatalf("after %d messages not every member got work: per member %v", len(keys), perWho)
		}
	}
	if !r.waitFor(s.f.Timeout, hasAll(keys)) {
		t.Fatalf("handled %d of %d distinct messages", len(keysOf(r.snapshot())), len(keys))
	}
	perWho := map[int]int{}
	dups := 0
	for _, c := range keysOf(r.snapshot()) {
		dups += c - 1
	}
	for _, d := range r.snapshot() {
		perWho[d.who]++
	}
	t.Logf("%d messages, per member %v, %d duplicate deliveries", len(keys), perWho, dups)
}

// testDLQAfterMaxDeliver: a message that always fails is dead-lettered on its last attempt
// with stage, reason, subject, attempts and the original payload, and is not delivered again.
func (s *suite) testDLQAfterMaxDeliver(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	o := s.opts(n, "g")
	o.MaxDeliver = 3
	dlq := s.dlqWatcher(t, b, n)
	orig := s.out(n, 7)
	s.publish(t, b, n.in, orig)
	r := newRecorder()
	s.consume(t, b, n.in, o, r.handler(0, func(_ context.Context, m bus.Message) error {
		return fmt.Errorf("boom on attempt %d", m.Attempt())
	}))
	if !dlq.waitFor(s.f.Timeout, func(ds []delivery) bool { return len(ds) >= 1 }) {
		t.Fatalf("nothing dead-lettered; handler deliveries %+v", r.snapshot())
	}
	if r.waitFor(s.quiet(), countAtLeast(orig.Key, o.MaxDeliver+1)) {
		t.Errorf("message delivered %d times, MaxDeliver is %d", keysOf(r.snapshot())[orig.Key], o.MaxDeliver)
	}
	ds := r.snapshot()
	if len(ds) != o.MaxDeliver {
		t.Errorf("handler ran %d times, want MaxDeliver=%d", len(ds), o.MaxDeliver)
	}
	for i, d := range ds {
		if d.attempt != i+1 {
			t.Errorf("delivery %d attempt = %d, want %d", i, d.attempt, i+1)
		}
	}
	dl := dlq.snapshot()
	if len(dl) != 1 {
		t.Errorf("DLQ got %d messages, want 1", len(dl))
	}
	got := decodeDLQ(t, dl[0])
	if got.Stage != o.Stage || got.Subject != n.in || got.Attempts != o.MaxDeliver ||
		!strings.Contains(got.Reason, fmt.Sprintf("boom on attempt %d", o.MaxDeliver)) {
		t.Errorf("dead letter = {stage %q subject %q attempts %d reason %q}, want {%q %q %d boom...}",
			got.Stage, got.Subject, got.Attempts, got.Reason, o.Stage, n.in, o.MaxDeliver)
	}
	if !bytes.Equal(got.Payload, orig.Data) {
		t.Errorf("dead letter payload = %q, want original %q", got.Payload, orig.Data)
	}
	if h := dl[0].header; h[bus.HeaderStage] != o.Stage || h[bus.HeaderSubject] != n.in || h[bus.HeaderReason] == "" {
		t.Errorf("dead letter headers = %v", h)
	}
}

// testPermanent: a permanent error dead-letters on the first attempt.
func (s *suite) testPermanent(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	o := s.opts(n, "g")
	dlq := s.dlqWatcher(t, b, n)
	orig := s.out(n, 3)
	s.publish(t, b, n.in, orig)
	r := newRecorder()
	s.consume(t, b, n.in, o, r.handler(0, func(context.Context, bus.Message) error {
		return bus.Permanentf("bustest: malformed input")
	}))
	if !dlq.waitFor(s.f.Timeout, func(ds []delivery) bool { return len(ds) >= 1 }) {
		t.Fatal("permanent failure not dead-lettered")
	}
	if r.waitFor(s.quiet(), countAtLeast(orig.Key, 2)) {
		t.Errorf("permanently failed message delivered again")
	}
	got := decodeDLQ(t, dlq.snapshot()[0])
	if got.Attempts != 1 || !strings.Contains(got.Reason, "malformed input") || !bytes.Equal(got.Payload, orig.Data) {
		t.Errorf("dead letter = %+v", got)
	}
}

// testDuplicatePublish: the same Key published twice is stored once where the backend
// deduplicates; otherwise at least once (consumers are idempotent by article ID).
func (s *suite) testDuplicatePublish(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	m := s.out(n, 1)
	s.publish(t, b, n.in, m, m)
	s.publish(t, b, n.in, s.out(n, 2)) // marker: once it arrives, the duplicate would have too
	r := newRecorder()
	s.consume(t, b, n.in, s.opts(n, "g"), r.handler(0, nil))
	if !r.waitFor(s.f.Timeout, hasAll([]string{m.Key, n.key(2)})) {
		t.Fatal("messages not received")
	}
	r.waitFor(s.f.AckWait, countAtLeast(m.Key, 2))
	got := keysOf(r.snapshot())[m.Key]
	if s.feat.DedupOnPublish && got != 1 {
		t.Errorf("duplicate publish delivered %d times, want 1 (DedupOnPublish)", got)
	}
	if !s.feat.DedupOnPublish {
		t.Logf("backend %s does not dedup on publish: duplicate delivered %d times (>= 1 required)", s.feat.Name, got)
	}
}

// testKeyedOrdering: with Concurrency 1 one key's messages arrive in publish order. A backend
// that deduplicates by Key cannot carry two messages with one Key, so there each message gets
// its own Key and the logical key travels in a header.
func (s *suite) testKeyedOrdering(t *testing.T) {
	if !s.feat.KeyedOrdering {
		t.Skipf("backend %s declares no keyed ordering", s.feat.Name)
	}
	n := s.names(t)
	b := s.newBus(t)
	const perKey = 15
	logical := []string{"a", "b", "c"}
	var all []string
	for i := range perKey {
		for _, l := range logical {
			key := n.key(0) + l
			if s.feat.DedupOnPublish {
				key = fmt.Sprintf("%s%s-%d", n.key(0), l, i)
			}
			all = append(all, key)
			s.publish(t, b, n.in, bus.Outgoing{Key: key, Data: []byte(fmt.Sprint(i)),
				Header: map[string]string{"X-Logical": l, "X-Seq": fmt.Sprint(i)}})
		}
	}
	r := newRecorder()
	o := s.opts(n, "g")
	o.Concurrency = 1
	s.consume(t, b, n.in, o, r.handler(0, nil))
	if !r.waitFor(s.f.Timeout, func(ds []delivery) bool { return len(ds) >= len(all) }) {
		t.Fatalf("received %d of %d", len(r.snapshot()), len(all))
	}
	last := map[string]int{}
	for _, d := range r.snapshot() {
		l := d.header["X-Logical"]
		var seq int
		fmt.Sscan(d.header["X-Seq"], &seq)
		if prev, ok := last[l]; ok && seq <= prev {
			t.Errorf("key %s: seq %d after %d", l, seq, prev)
		}
		last[l] = seq
	}
}

// testGracefulDrain: cancelling Consume while handlers run waits for them, settles their
// results, and returns; nothing is lost and nothing completed is delivered again.
func (s *suite) testGracefulDrain(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	o := s.opts(n, "g")
	o.Concurrency = 3
	o.AckWait = s.f.AckWait
	const N = 6
	var keys []string
	for i := range N {
		m := s.out(n, i)
		keys = append(keys, m.Key)
	}
	s.publish(t, b, n.in, s.outs(n, N)...)

	var started, finished sync.Map
	r := newRecorder()
	c := s.consume(t, b, n.in, o, r.handler(0, func(ctx context.Context, m bus.Message) error {
		started.Store(m.Key(), true)
		time.Sleep(300 * time.Millisecond) // in-flight work that ignores cancellation
		finished.Store(m.Key(), true)
		return nil
	}))
	if !r.waitFor(s.f.Timeout, func(ds []delivery) bool { return len(ds) >= 1 }) {
		t.Fatal("nothing delivered")
	}
	if err := c.stop(t, s.f.Timeout); err != nil {
		t.Errorf("Consume after cancel = %v, want nil", err)
	}
	var done []string
	started.Range(func(k, _ any) bool {
		if _, ok := finished.Load(k); !ok {
			t.Errorf("Consume returned while handler for %v was still running", k)
		}
		done = append(done, k.(string))
		return true
	})
	t.Logf("%d of %d handled before drain completed", len(done), N)

	// A new member of the group gets exactly the rest (and a marker), never the drained ones.
	b2 := s.newBus(t)
	r2 := newRecorder()
	s.consume(t, b2, n.in, o, r2.handler(1, nil))
	marker := s.out(n, 99)
	s.publish(t, b2, n.in, marker)
	var rest []string
	for _, k := range keys {
		if _, ok := finished.Load(k); !ok {
			rest = append(rest, k)
		}
	}
	if !r2.waitFor(s.f.Timeout+o.AckWait, hasAll(append(rest, marker.Key))) {
		t.Fatalf("after drain, new member got %v; want all of %v", keysOf(r2.snapshot()), rest)
	}
	r2.waitFor(s.quiet(), func(ds []delivery) bool { return false })
	for k := range keysOf(r2.snapshot()) {
		if _, ok := finished.Load(k); ok {
			t.Errorf("message %s handled before drain was delivered again (its ack was lost)", k)
		}
	}
}

func (s *suite) outs(n names, count int) []bus.Outgoing {
	var ms []bus.Outgoing
	for i := range count {
		ms = append(ms, s.out(n, i))
	}
	return ms
}

// testTooLarge: payloads above Features.MaxPayload fail with ErrTooLarge; exactly MaxPayload
// is accepted and delivered.
func (s *suite) testTooLarge(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	max := b.Features().MaxPayload
	if max <= 0 {
		t.Fatalf("Features.MaxPayload = %d, want > 0", max)
	}
	err := b.Publish(context.Background(), n.in, bus.Outgoing{Key: n.key(1), Data: make([]byte, max+1)})
	if !errors.Is(err, bus.ErrTooLarge) {
		t.Errorf("Publish(MaxPayload+1 = %d bytes) = %v, want ErrTooLarge", max+1, err)
	}
	if max > 8<<20 {
		t.Logf("MaxPayload %d: not publishing a message that large", max)
		return
	}
	big := bytes.Repeat([]byte("x"), max)
	s.publish(t, b, n.in, bus.Outgoing{Key: n.key(2), Data: big, Header: map[string]string{"X-Big": "1"}})
	r := newRecorder()
	s.consume(t, b, n.in, s.opts(n, "g"), r.handler(0, nil))
	if !r.waitFor(s.f.Timeout, countAtLeast(n.key(2), 1)) {
		t.Fatal("MaxPayload message not delivered")
	}
	if d := r.snapshot(); len(d[0].data) != max || d[0].key == n.key(1) {
		t.Errorf("delivered %d bytes key %s, want %d key %s", len(d[0].data), d[0].key, max, n.key(2))
	}
}

// testDeferred: a handler returning ErrDeferred settles later from another goroutine; Consume
// does not settle it meanwhile.
func (s *suite) testDeferred(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	o := s.opts(n, "g")
	s.publish(t, b, n.in, s.out(n, 1), s.out(n, 2))
	settleErrs := make(chan error, 4)
	r := newRecorder()
	s.consume(t, b, n.in, o, r.handler(0, func(_ context.Context, m bus.Message) error {
		if m.Attempt() > 1 {
			return nil
		}
		go func() {
			time.Sleep(200 * time.Millisecond) // e.g. a bulk flush
			ctx := context.Background()
			if m.Key() == n.key(1) {
				settleErrs <- m.Ack(ctx)
			} else {
				settleErrs <- m.Nack(ctx, 0)
			}
		}()
		return bus.ErrDeferred
	}))
	if !r.waitFor(s.f.Timeout, func(ds []delivery) bool {
		k := keysOf(ds)
		return k[n.key(1)] >= 1 && k[n.key(2)] >= 2
	}) {
		t.Fatalf("deliveries %v: want k1 once, k2 (nacked later) twice", keysOf(r.snapshot()))
	}
	for range 2 {
		if err := <-settleErrs; err != nil {
			t.Errorf("deferred settlement: %v", err)
		}
	}
	if r.waitFor(s.quiet(), countAtLeast(n.key(1), 2)) {
		t.Errorf("deferred message acked later was delivered again")
	}
	for _, d := range r.snapshot() {
		if d.key == n.key(2) && d.attempt > 2 {
			t.Errorf("k2 attempt %d", d.attempt)
		}
	}
}

// testInvalidOptionsAndClose: a missing Group is an error, not a hang; Close is idempotent;
// Publish and Consume after Close fail with ErrClosed.
func (s *suite) testInvalidOptionsAndClose(t *testing.T) {
	n := s.names(t)
	b := s.newBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), s.f.Timeout)
	defer cancel()
	if err := b.Consume(ctx, n.in, bus.ConsumeOptions{}, func(context.Context, bus.Message) error { return nil }); err == nil {
		t.Error("Consume without Group returned nil, want an error")
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := b.Publish(ctx, n.in, s.out(n, 1)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := b.Consume(ctx, n.in, s.opts(n, "g"), func(context.Context, bus.Message) error { return nil }); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Consume after Close = %v, want ErrClosed", err)
	}
}

// testBrokerRestart: publishing and consuming carry on across a broker restart; messages
// published before and after are all delivered. Publish may fail while the broker is down
// (the caller retries, as the runtime does); Consume must not return.
func (s *suite) testBrokerRestart(t *testing.T) {
	if s.f.RestartBroker == nil {
		t.Skipf("backend %s: Factory.RestartBroker not given, cannot restart this broker", s.feat.Name)
	}
	n := s.names(t)
	b := s.newBus(t)
	r := newRecorder()
	c := s.consume(t, b, n.in, s.opts(n, "g"), r.handler(0, nil))
	const N = 5
	s.publish(t, b, n.in, s.outs(n, N)...)
	if !r.waitFor(s.f.Timeout, func(ds []delivery) bool { return len(keysOf(ds)) >= N }) {
		t.Fatal("messages before restart not received")
	}
	if err := s.f.RestartBroker(t); err != nil {
		t.Fatalf("restart broker: %v", err)
	}
	var keys []string
	for i := range 2 * N {
		keys = append(keys, n.key(i))
	}
	for i := N; i < 2*N; i++ {
		m := s.out(n, i)
		deadline := time.Now().Add(s.f.Timeout)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := b.Publish(ctx, n.in, m)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("publish after restart: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !r.waitFor(s.f.Timeout, hasAll(keys)) {
		t.Fatalf("after restart received %v, want all %d", keysOf(r.snapshot()), 2*N)
	}
	if early, err := c.returnedEarly(); early {
		t.Errorf("Consume returned during broker restart: %v", err)
	}
}

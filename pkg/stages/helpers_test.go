package stages_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestMain checks for leaked goroutines, except two nats-server internals: an embedded
// server's file store can be created by a stream request racing the server's Shutdown, and
// nats-server then never stops that store's flush loop nor its access-time ticker (seen once
// in a few make test runs, still there a minute later). Every other goroutine, ours and the
// nats client's, is still checked.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(cleanupM{m},
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*fileStore).flushStreamStateLoop"),
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server/ats.Register.func1"))
}

// cleanupM removes what the whole run shared (the built service binary) after the tests.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	return code
}

// waitLimit bounds every wait for pipeline output. It is a failure bound for a stuck
// pipeline, not a speed assertion: the 2-core box is noisy and the enricher loads its models
// on first use.
const waitLimit = 60 * time.Second

func testLogger() *zap.Logger { return testenv.Logger() }

// backend is a real bus server the stages run against.
type backend struct {
	name string
	// set points a service config at the server.
	set func(c *service.Config)
	// prefix isolates this test on a shared server: every subject, consumer group and the
	// DLQ subject are prefixed (see isolatedBus). "" on a fresh server of our own, where the
	// stages run on the real fixed subjects news.raw, news.clean, ...
	prefix string
}

// uniquePrefix is a subject/topic prefix no other run uses ("t<hex>.").
func uniquePrefix() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + "."
}

func requireServer(t testing.TB, env string) string { return testenv.Server(t, env) }

func dialable(t testing.TB, env, addr string) { testenv.Dialable(t, env, addr) }

// embeddedNATS starts a fresh in-process nats-server (JetStream, temp store) for this test
// only and returns it as a backend on the real subjects.
func embeddedNATS(t testing.TB) backend {
	t.Helper()
	srv, url, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return backend{name: "nats-embedded", set: func(c *service.Config) { c.Bus, c.NATSURL = "nats", url }}
}

// externalNATS is NEWSFLOW_NATS_URL, isolated by a unique subject prefix; the streams this
// test created are deleted at the end.
func externalNATS(t testing.TB) backend {
	t.Helper()
	url := requireServer(t, "NEWSFLOW_NATS_URL")
	host := strings.TrimPrefix(strings.Split(url, ",")[0], "nats://")
	dialable(t, "NEWSFLOW_NATS_URL", host)
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteNATSStreams(t, url, prefix) })
	return backend{name: "nats", prefix: prefix, set: func(c *service.Config) { c.Bus, c.NATSURL = "nats", url }}
}

func deleteNATSStreams(t testing.TB, url, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := natsbus.New(ctx, natsbus.Config{URL: url}, zap.NewNop())
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer b.Close()
	js := b.JetStream()
	want := natsbus.StreamName("NEWSFLOW", prefix)
	names := js.StreamNames(ctx)
	var del []string
	for n := range names.Name() {
		if strings.HasPrefix(n, want) {
			del = append(del, n)
		}
	}
	for _, n := range del {
		if err := js.DeleteStream(ctx, n); err != nil {
			t.Logf("cleanup: delete stream %s: %v", n, err)
		}
	}
}

// externalKafka is NEWSFLOW_KAFKA_BROKERS, isolated by a unique topic and group prefix; the
// topics this test created are deleted at the end.
func externalKafka(t testing.TB) backend {
	t.Helper()
	v := requireServer(t, "NEWSFLOW_KAFKA_BROKERS")
	var bs []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			bs = append(bs, s)
		}
	}
	dialable(t, "NEWSFLOW_KAFKA_BROKERS", bs[0])
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteKafkaTopics(t, bs, prefix) })
	return backend{name: "kafka", prefix: prefix, set: func(c *service.Config) {
		c.Bus, c.KafkaBrokers, c.KafkaPartitions = "kafka", bs, 2
	}}
}

func deleteKafkaTopics(t testing.TB, bs []string, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := kafkabus.DeleteTopicsWithPrefix(ctx, bs, prefix); err != nil {
		t.Logf("cleanup: %v", err)
	}
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(bs...), Transport: tr, Timeout: 10 * time.Second}
	// The (now empty) consumer groups too, or they linger until offsets.retention.
	gs, err := cl.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil {
		t.Logf("cleanup: list groups: %v", err)
		return
	}
	var groups []string
	for _, g := range gs.Groups {
		if strings.HasPrefix(g.GroupID, prefix) {
			groups = append(groups, g.GroupID)
		}
	}
	if len(groups) > 0 {
		if _, err := cl.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: groups}); err != nil {
			t.Logf("cleanup: delete %d groups: %v", len(groups), err)
		}
	}
}

// isolatedBus is the real bus with every subject, consumer group and DLQ subject prefixed,
// so the stages (which use the fixed subjects of DESIGN.md and the fixed groups
// "newsflow-<stage>") can run on a server other runs share. Nothing else changes: messages,
// settlement and dead-lettering are the backend's own.
type isolatedBus struct {
	bus.Bus
	prefix string
}

func (b isolatedBus) Publish(ctx context.Context, subject string, m bus.Outgoing) error {
	return b.Bus.Publish(ctx, b.prefix+subject, m)
}

func (b isolatedBus) Consume(ctx context.Context, subject string, opts bus.ConsumeOptions, h bus.Handler) error {
	opts = opts.Defaults()
	opts.Group = b.prefix + opts.Group
	opts.DLQSubject = b.prefix + opts.DLQSubject
	return b.Bus.Consume(ctx, b.prefix+subject, opts, h)
}

// onRealBackends runs fn as one subtest per real backend: a fresh embedded NATS, the
// external NATS and the external Kafka (each isolated; see embeddedNATS, externalNATS,
// externalKafka for when an external server is required).
func onRealBackends(t *testing.T, fn func(t *testing.T, be backend)) {
	for _, tc := range []struct {
		name    string
		backend func(testing.TB) backend
	}{
		{"nats-embedded", embeddedNATS},
		{"nats", externalNATS},
		{"kafka", externalKafka},
	} {
		t.Run(tc.name, func(t *testing.T) { fn(t, tc.backend(t)) })
	}
}

// subject is subject as it appears on the server for this backend.
func (be backend) subject(s string) string { return be.prefix + s }

// config is a service config for name on this backend.
func (be backend) config(name string) service.Config {
	c := service.DefaultConfig(name)
	be.set(&c)
	c.HTTPAddr = "127.0.0.1:0"
	c.ShutdownTimeout = 15 * time.Second
	c.LogLevel = "warn"
	return c
}

// openBus opens the backend's bus the way stages.Main does, wrapped when the server is shared.
func (be backend) openBus(t testing.TB, cfg service.Config, log *zap.Logger) (bus.Bus, func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := service.OpenBus(ctx, cfg, log)
	if err != nil {
		t.Fatalf("%s: %v", be.name, err)
	}
	if be.prefix == "" {
		return b, b.Close
	}
	return isolatedBus{Bus: b, prefix: be.prefix}, b.Close
}

// pipeline is a service.Runtime with stages added, running in a goroutine.
type pipeline struct {
	rt     *service.Runtime
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// startPipeline builds a runtime like stages.Main does (bus closed OnStop), lets add wire
// stages on it and runs it until stop.
func startPipeline(t testing.TB, be backend, name string, state service.StateDir, add func(c stages.Common) error) *pipeline {
	t.Helper()
	cfg := be.config(name)
	log := testLogger().With(zap.String("service", name))
	rt := service.New(cfg, log)
	b, closeBus := be.openBus(t, cfg, log)
	rt.OnStop(func() { _ = closeBus() })
	if err := add(stages.Common{RT: rt, Bus: b, State: state}); err != nil {
		_ = closeBus()
		t.Fatalf("stage setup: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipeline{rt: rt, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- rt.Run(ctx) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop cancels Run's context (what SIGTERM does) and returns Run's result; the runtime
// must drain and return within its shutdown budget.
func (p *pipeline) stop(t testing.TB) error {
	t.Helper()
	p.once.Do(func() {
		p.cancel()
		select {
		case p.err = <-p.done:
		case <-time.After(p.rt.Cfg.ShutdownTimeout + 30*time.Second):
			t.Fatalf("runtime did not stop within its shutdown budget")
		}
	})
	return p.err
}

// sink records every envelope published on one subject, through a consumer group of its own.
type sink struct {
	mu   sync.Mutex
	envs []*article.Envelope
	bad  []string
}

// startSink consumes subject on b (which the test owns) until the test ends.
func startSink(t testing.TB, b bus.Bus, subject string) *sink {
	t.Helper()
	s := &sink{}
	opts := bus.ConsumeOptions{Group: "test-sink-" + strings.ReplaceAll(subject, ".", "-"), Stage: "test-sink", Concurrency: 4}.Defaults()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, subject, opts, func(_ context.Context, m bus.Message) error {
			e, err := article.Decode(m.Data())
			s.mu.Lock()
			defer s.mu.Unlock()
			if err != nil {
				s.bad = append(s.bad, err.Error())
				return nil
			}
			s.envs = append(s.envs, e)
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sink %s: %v", subject, err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.bad) > 0 {
			t.Errorf("sink %s: %d undecodable messages, first: %s", subject, len(s.bad), s.bad[0])
		}
	})
	return s
}

// snapshot returns the envelopes seen so far.
func (s *sink) snapshot() []*article.Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*article.Envelope(nil), s.envs...)
}

// byKey returns the envelopes seen so far indexed by key(e); envelopes whose key is "" are
// left out, and a later envelope with the same key replaces an earlier one.
func (s *sink) byKey(key func(e *article.Envelope) string) map[string]*article.Envelope {
	m := map[string]*article.Envelope{}
	for _, e := range s.snapshot() {
		if k := key(e); k != "" {
			m[k] = e
		}
	}
	return m
}

// envID is the envelope's ID, a key for sink.byKey.
func envID(e *article.Envelope) string { return e.ID }

// waitFor polls cond until it holds or waitLimit passes (then fails with what).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitLimit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testClient is a bus connection of the test's own (publisher and sinks), closed last.
func testClient(t testing.TB, be backend) bus.Bus {
	t.Helper()
	cfg := be.config("stagetest-client")
	b, closeBus := be.openBus(t, cfg, zap.NewNop())
	t.Cleanup(func() { _ = closeBus() })
	return b
}

// rawEnvelope is a raw article as the fetcher publishes it.
func rawEnvelope(t testing.TB, url, contentType, body string, fetched time.Time) (string, []byte) {
	t.Helper()
	id, canon, err := article.ID(url)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.Split(strings.TrimPrefix(strings.TrimPrefix(canon, "https://"), "http://"), "/")[0]
	e := &article.Envelope{ID: id, Stage: article.StageRaw, Raw: &article.Raw{
		URL:          url,
		CanonicalURL: canon,
		Source:       article.Source{Name: host, Domain: host, Language: "en"},
		HTTP:         &article.HTTPFacts{Status: 200, Bytes: len(body)},
		ContentType:  contentType,
		Body:         body,
		FetchedAt:    fetched,
	}}
	b, err := article.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return id, b
}

// publish puts data on subject with key, as the fetcher does.
func publish(t testing.TB, b bus.Bus, subject, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Publish(ctx, subject, bus.Outgoing{Key: key, Data: data}); err != nil {
		t.Fatalf("publish %s to %s: %v", key, subject, err)
	}
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

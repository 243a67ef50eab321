package service

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", env: map[string]string{}, check: func(t *testing.T, c Config) {
			if c.Bus != "nats" || c.Concurrency != 4 || c.MaxDeliver != 5 {
				t.Fatalf("unexpected defaults %+v", c)
			}
		}},
		{name: "kafka brokers list", env: map[string]string{"NEWSFLOW_BUS": "KAFKA", "NEWSFLOW_KAFKA_BROKERS": "a:1, b:2,"}, check: func(t *testing.T, c Config) {
			if c.Bus != "kafka" || len(c.KafkaBrokers) != 2 || c.KafkaBrokers[1] != "b:2" {
				t.Fatalf("brokers %+v", c.KafkaBrokers)
			}
		}},
		{name: "unknown bus", env: map[string]string{"NEWSFLOW_BUS": "redis"}, wantErr: "want nats or kafka"},
		{name: "bad duration", env: map[string]string{"NEWSFLOW_ACK_WAIT": "soon"}, wantErr: "not a duration"},
		{name: "bad int", env: map[string]string{"NEWSFLOW_CONCURRENCY": "many"}, wantErr: "not an integer"},
		{name: "several errors at once", env: map[string]string{"NEWSFLOW_LOG_LEVEL": "loud", "NEWSFLOW_MAX_DELIVER": "0"}, wantErr: "NEWSFLOW_MAX_DELIVER=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig("test", func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// fakeMsg and capturePublisher are in-memory stand-ins for unit-testing the pure middleware
// logic; the real backends are exercised by pkg/bus/bustest.
type fakeMsg struct {
	data    []byte
	attempt int
}

func (m *fakeMsg) Key() string                               { return "k" }
func (m *fakeMsg) Subject() string                           { return "news.raw" }
func (m *fakeMsg) Data() []byte                              { return m.data }
func (m *fakeMsg) Header() map[string]string                 { return nil }
func (m *fakeMsg) Attempt() int                              { return m.attempt }
func (m *fakeMsg) Ack(context.Context) error                 { return nil }
func (m *fakeMsg) Nack(context.Context, time.Duration) error { return nil }
func (m *fakeMsg) Term(context.Context) error                { return nil }

type capturePublisher struct {
	mu   sync.Mutex
	subj []string
	err  error
}

func (p *capturePublisher) Publish(_ context.Context, subject string, _ bus.Outgoing) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.subj = append(p.subj, subject)
	return nil
}

func TestStageHandler(t *testing.T) {
	good, _ := article.Encode(&article.Envelope{ID: "abc", Stage: article.StageRaw, Raw: &article.Raw{URL: "https://e.com/"}})
	forward := func(_ context.Context, in *article.Envelope) ([]Output, error) {
		return []Output{{Subject: article.SubjectClean, Envelope: &article.Envelope{ID: in.ID, Stage: article.StageClean, Clean: &article.Clean{}}}}, nil
	}
	tests := []struct {
		name      string
		data      []byte
		fn        ProcessFunc
		pubErr    error
		permanent bool
		wantErr   bool
		outcome   string
		published int
	}{
		{name: "ok publishes and acks", data: good, fn: forward, outcome: "ok", published: 1},
		{name: "broken json is permanent", data: []byte("{not json"), fn: forward, wantErr: true, permanent: true, outcome: "decode_error"},
		{name: "processing panic is permanent", data: good, fn: func(context.Context, *article.Envelope) ([]Output, error) { panic("boom") }, wantErr: true, permanent: true, outcome: "dead_letter"},
		{name: "transient error retried", data: good, fn: func(context.Context, *article.Envelope) ([]Output, error) { return nil, errors.New("es down") }, wantErr: true, outcome: "retry"},
		{name: "publish failure retried", data: good, fn: forward, pubErr: errors.New("no pub ack"), wantErr: true, outcome: "retry"},
		{name: "deferred passes through unsettled", data: good, fn: func(context.Context, *article.Envelope) ([]Output, error) { return nil, bus.ErrDeferred }, wantErr: true, outcome: "deferred"},
		{name: "too large is permanent", data: good, fn: forward, pubErr: bus.ErrTooLarge, wantErr: true, permanent: true, outcome: "dead_letter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := NewStageMetrics("test", reg)
			pub := &capturePublisher{err: tt.pubErr}
			h := StageHandler("test", pub, tt.fn, zap.NewNop(), m)
			err := h(context.Background(), &fakeMsg{data: tt.data, attempt: 1})
			if (err != nil) != tt.wantErr || bus.IsPermanent(err) != tt.permanent {
				t.Fatalf("err = %v (permanent %v), want err %v permanent %v", err, bus.IsPermanent(err), tt.wantErr, tt.permanent)
			}
			if got := testutil.ToFloat64(m.Messages.WithLabelValues(tt.outcome)); got != 1 {
				t.Fatalf("outcome %s counted %v times", tt.outcome, got)
			}
			if len(pub.subj) != tt.published {
				t.Fatalf("published %d, want %d", len(pub.subj), tt.published)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	opts := bus.ConsumeOptions{Group: "g", Stage: "test", MaxDeliver: 3}.Defaults()
	tests := []struct {
		name    string
		herr    error
		attempt int
		want    bus.Outcome
		dlq     int
	}{
		{name: "nil acks", want: bus.OutcomeAcked},
		{name: "transient retries", herr: errors.New("x"), attempt: 1, want: bus.OutcomeRetried},
		{name: "last attempt dead-letters", herr: errors.New("x"), attempt: 3, want: bus.OutcomeDeadLettered, dlq: 1},
		{name: "permanent dead-letters at once", herr: bus.Permanent(errors.New("bad")), attempt: 1, want: bus.OutcomeDeadLettered, dlq: 1},
		{name: "deferred left alone", herr: bus.ErrDeferred, attempt: 1, want: bus.OutcomeDeferred},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &capturePublisher{}
			got, err := bus.Settle(context.Background(), pub, opts, &fakeMsg{data: []byte("x"), attempt: tt.attempt}, tt.herr)
			if err != nil || got != tt.want || len(pub.subj) != tt.dlq {
				t.Fatalf("Settle = %v, %v (dlq %d), want %v (dlq %d)", got, err, len(pub.subj), tt.want, tt.dlq)
			}
		})
	}
}

func TestRuntimeStopsOnActorEnd(t *testing.T) {
	cfg := DefaultConfig("test")
	rt := New(cfg, zap.NewNop())
	stopped := false
	rt.OnStop(func() { stopped = true })
	rt.Go("worker", func(ctx context.Context) error { return nil }) // ends at once → group stops
	if err := rt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !stopped {
		t.Fatal("OnStop hook not run")
	}
}

func TestRuntimeDrainBudget(t *testing.T) {
	tests := []struct {
		name    string
		handler func(ctx context.Context, forced <-chan struct{}) error
		want    error
	}{
		{name: "clean drain returns nil", handler: func(ctx context.Context, _ <-chan struct{}) error { <-ctx.Done(); return nil }},
		{name: "stuck drain is cut off", handler: func(ctx context.Context, forced <-chan struct{}) error { <-ctx.Done(); <-forced; return nil }, want: ErrDrainTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig("test")
			cfg.ShutdownTimeout = 200 * time.Millisecond
			rt := New(cfg, zap.NewNop())
			forced := make(chan struct{})
			rt.OnForce(func() { close(forced) })
			rt.Go("worker", func(ctx context.Context) error { return tt.handler(ctx, forced) })
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- rt.Run(ctx) }()
			for rt.Addr() == "" {
				time.Sleep(5 * time.Millisecond)
			}
			res, err := http.Get("http://" + rt.Addr() + "/readyz")
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("readyz before stop: %v %v", res, err)
			}
			res.Body.Close()
			cancel()
			if err := <-done; !errors.Is(err, tt.want) && err != tt.want {
				t.Fatalf("Run = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestStateDirQuarantine(t *testing.T) {
	d := StateDir(t.TempDir())
	if got, err := d.Quarantine("x.snap"); err != nil || got != "" {
		t.Fatalf("quarantine of a missing snapshot = %q, %v; want nothing", got, err)
	}
	if err := d.Save("x.snap", []byte("corrupt")); err != nil {
		t.Fatal(err)
	}
	got, err := d.Quarantine("x.snap")
	if err != nil || !strings.Contains(got, "x.snap.bad-") {
		t.Fatalf("quarantine = %q, %v", got, err)
	}
	if b, err := d.Load("x.snap"); err != nil || b != nil {
		t.Fatalf("snapshot still loads after quarantine: %q, %v", b, err)
	}
	if b, err := os.ReadFile(got); err != nil || string(b) != "corrupt" {
		t.Fatalf("kept copy = %q, %v", b, err)
	}
}

// lagBus is a bus that reports a fixed backlog for its groups (pure wiring test).
type lagBus struct{ bus.Bus }

func (*lagBus) Lag(_ context.Context, subject, group string) (bus.Lag, bool, error) {
	return bus.Lag{Pending: 7, Unacked: 2}, true, nil
}

func TestConsumerLagExported(t *testing.T) {
	rt := New(DefaultConfig("cleaner"), zap.NewNop())
	b := &lagBus{}
	rt.WatchConsumer(b, "news.raw", "newsflow-cleaner")
	rt.WatchConsumer(b, "news.raw", "newsflow-cleaner")            // idempotent
	rt.WatchConsumer(&lagBus{}, "news.clean", "newsflow-enricher") // a second bus: not exported
	const want = `
# HELP newsflow_bus_consumer_lag_messages Messages a consumer group has not finished: not yet delivered plus delivered but unsettled (JetStream num_pending+num_ack_pending, Kafka log end minus committed offset).
# TYPE newsflow_bus_consumer_lag_messages gauge
newsflow_bus_consumer_lag_messages{group="newsflow-cleaner",stage="cleaner",subject="news.raw"} 9
`
	if err := testutil.GatherAndCompare(rt.Reg, strings.NewReader(want), "newsflow_bus_consumer_lag_messages"); err != nil {
		t.Fatal(err)
	}
}

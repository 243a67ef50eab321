package dlq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
)

// msg is a consumed message for bus.DeadLetter.
type msg struct {
	key, subject string
	data         []byte
	attempt      int
}

func (m msg) Key() string                               { return m.key }
func (m msg) Subject() string                           { return m.subject }
func (m msg) Data() []byte                              { return m.data }
func (m msg) Header() map[string]string                 { return nil }
func (m msg) Attempt() int                              { return m.attempt }
func (m msg) Ack(context.Context) error                 { return nil }
func (m msg) Nack(context.Context, time.Duration) error { return nil }
func (m msg) Term(context.Context) error                { return nil }

// TestDLQNATS runs the scenario against NEWSFLOW_NATS_URL (required in CI), in streams of its
// own prefix, deleted at the end.
func TestDLQNATS(t *testing.T) {
	url := testenv.Server(t, "NEWSFLOW_NATS_URL")
	prefix := fmt.Sprintf("DLQT%d", time.Now().UnixNano()%1e9)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tool, err := Open(ctx, Config{Bus: "nats", NATSURL: url, StreamPrefix: prefix, Subject: "dlqtest.dlq"})
	if err != nil {
		t.Fatalf("NATS at %s unreachable: %v", url, err)
	}
	nb := tool.be.(*natsBackend)
	t.Cleanup(func() {
		js := nb.b.JetStream()
		names := js.StreamNames(context.Background())
		var del []string
		for n := range names.Name() {
			if strings.HasPrefix(n, prefix+"_") {
				del = append(del, n)
			}
		}
		for _, n := range del {
			if err := js.DeleteStream(context.Background(), n); err != nil {
				t.Errorf("cleanup: delete stream %s: %v", n, err)
			}
		}
		tool.Close()
	})
	scenario(t, ctx, tool, "dlqtest")
}

// TestDLQKafka runs the scenario against NEWSFLOW_KAFKA_BROKERS (required in CI), on topics of
// its own prefix, deleted at the end.
func TestDLQKafka(t *testing.T) {
	bs := strings.Split(testenv.Server(t, "NEWSFLOW_KAFKA_BROKERS"), ",")
	testenv.Dialable(t, "NEWSFLOW_KAFKA_BROKERS", bs[0])
	prefix := fmt.Sprintf("dlqt%d", time.Now().UnixNano()%1e9)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tool, err := Open(ctx, Config{Bus: "kafka", KafkaBrokers: bs, Subject: prefix + ".dlq"})
	if err != nil {
		t.Fatalf("Kafka at %v unreachable: %v", bs, err)
	}
	t.Cleanup(func() {
		tool.Close()
		cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer ccancel()
		if _, err := kafkabus.DeleteTopicsWithPrefix(cctx, bs, prefix+"."); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	scenario(t, ctx, tool, prefix)
}

// scenario: three dead letters of different stages and reasons; list with each filter; show
// one; requeue one (arrives once on its subject; a second requeue republishes nothing);
// purge one (gone from the list).
func scenario(t *testing.T, ctx context.Context, tool *Tool, prefix string) {
	t.Helper()
	start := time.Now().Add(-time.Second)
	seeds := []struct {
		stage, subject, key, reason string
	}{
		{"cleaner", prefix + ".raw", "a1", "permanent: no article text"},
		{"enricher", prefix + ".clean", "a2", "language detector timeout"},
		{"indexer", prefix + ".enriched", "a3", "permanent: mapping conflict on field x"},
	}
	for i, s := range seeds {
		payload := []byte(fmt.Sprintf(`{"id":%q,"n":%d}`, s.key, i))
		if err := bus.DeadLetter(ctx, publisher{tool.be}, tool.Subject(), s.stage, msg{key: s.key, subject: s.subject, data: payload, attempt: i + 1}, errors.New(s.reason)); err != nil {
			t.Fatalf("seed dead letter %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond) // distinct FailedAt for the time filters
	}
	all, err := tool.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("list: %d dead letters, want 3: %+v", len(all), all)
	}
	for i, e := range all {
		if e.Stage != seeds[i].stage || e.Subject != seeds[i].subject || e.Key != seeds[i].key || e.Reason != seeds[i].reason || e.Attempts != i+1 {
			t.Errorf("entry %d = %+v, want %+v", i, e, seeds[i])
		}
	}
	ids := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, e.Key)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want string
	}{
		{"stage", Filter{Stage: "Enricher"}, "a2"},
		{"reason", Filter{Reason: "PERMANENT"}, "a1,a3"},
		{"since", Filter{Since: all[1].Time}, "a2,a3"},
		{"until", Filter{Until: all[1].Time}, "a1"},
		{"since-future", Filter{Since: time.Now().Add(time.Hour)}, ""},
		{"since-start", Filter{Since: start}, "a1,a2,a3"},
		{"limit", Filter{Limit: 2}, "a1,a2"},
		{"id", Filter{IDs: []string{all[2].ID}}, "a3"},
		{"combined", Filter{Reason: "permanent", Stage: "indexer"}, "a3"},
	} {
		got, err := tool.List(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ids(got) != tc.want {
			t.Errorf("list %s: got %q, want %q", tc.name, ids(got), tc.want)
		}
	}

	// show
	e, err := tool.Get(ctx, all[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteEntry(&out, e); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stage:     cleaner", "subject:   " + prefix + ".raw", "attempts:  1", "permanent: no article text", "\"id\": \"a1\""} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := tool.Get(ctx, "999999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("show of an unknown id: %v, want ErrNotFound", err)
	}

	// requeue one: the payload arrives once on its original subject
	res, err := tool.Requeue(ctx, Filter{IDs: []string{all[1].ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Requeued) != 1 || len(res.Skipped) != 0 {
		t.Fatalf("requeue: %d requeued, %d skipped; want 1, 0", len(res.Requeued), len(res.Skipped))
	}
	arrived := func() []raw {
		rs, err := tool.be.read(ctx, seeds[1].subject)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	rs := arrived()
	if len(rs) != 1 || string(rs[0].data) != `{"id":"a2","n":1}` || rs[0].header[HeaderRequeuedFrom] != tool.Subject()+"/"+all[1].ID {
		t.Fatalf("on %s after requeue: %+v, want the one original payload", seeds[1].subject, rs)
	}
	res, err = tool.Requeue(ctx, Filter{Stage: "enricher"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Requeued) != 0 || len(res.Skipped) != 1 {
		t.Errorf("second requeue: %d requeued, %d skipped; want 0, 1", len(res.Requeued), len(res.Skipped))
	}
	if rs := arrived(); len(rs) != 1 {
		t.Errorf("on %s after a second requeue: %d messages, want 1", seeds[1].subject, len(rs))
	}
	if got, _ := tool.List(ctx, Filter{Stage: "enricher"}); len(got) != 1 || !got[0].Requeued {
		t.Errorf("list after requeue: %+v, want it marked requeued", got)
	}

	// purge one
	gone, err := tool.Purge(ctx, Filter{IDs: []string{all[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 {
		t.Fatalf("purge: %d, want 1", len(gone))
	}
	left, err := tool.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if ids(left) != "a2,a3" {
		t.Errorf("list after purge: %q, want a2,a3", ids(left))
	}
	if _, err := tool.Get(ctx, all[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("show after purge: %v, want ErrNotFound", err)
	}
	// A purged dead letter cannot be requeued.
	if res, err := tool.Requeue(ctx, Filter{IDs: []string{all[0].ID}}); err != nil || len(res.Requeued) != 0 {
		t.Errorf("requeue after purge: %+v, %v", res, err)
	}
	var tbl bytes.Buffer
	if err := WriteTable(&tbl, left); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tbl.String(), "REASON") || !strings.Contains(tbl.String(), "mapping conflict") {
		t.Errorf("table:\n%s", tbl.String())
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if got, err := ParseTime("2h", now); err != nil || !got.Equal(now.Add(-2*time.Hour)) {
		t.Errorf("2h: %v %v", got, err)
	}
	if got, err := ParseTime("2026-11-01T00:00:00Z", now); err != nil || got.Day() != 1 || got.Month() != 11 {
		t.Errorf("rfc3339: %v %v", got, err)
	}
	if _, err := ParseTime("yesterday", now); err == nil {
		t.Error("yesterday: no error")
	}
	if got, err := ParseTime("", now); err != nil || !got.IsZero() {
		t.Errorf("empty: %v %v", got, err)
	}
}

type publisher struct{ be backend }

func (p publisher) Publish(ctx context.Context, subject string, m bus.Outgoing) error {
	return p.be.publish(ctx, subject, m)
}

package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

type fakeMsg struct {
	key, subject string
	data         []byte
	attempt      int
	calls        []string
	failAck      bool
}

func (m *fakeMsg) Key() string               { return m.key }
func (m *fakeMsg) Subject() string           { return m.subject }
func (m *fakeMsg) Data() []byte              { return m.data }
func (m *fakeMsg) Header() map[string]string { return nil }
func (m *fakeMsg) Attempt() int              { return m.attempt }
func (m *fakeMsg) Ack(context.Context) error {
	m.calls = append(m.calls, "ack")
	if m.failAck {
		return errors.New("ack failed")
	}
	return nil
}
func (m *fakeMsg) Nack(_ context.Context, d time.Duration) error {
	m.calls = append(m.calls, "nack "+d.String())
	return nil
}
func (m *fakeMsg) Term(context.Context) error { m.calls = append(m.calls, "term"); return nil }

type fakePub struct {
	subjects []string
	msgs     []bus.Outgoing
	err      error
}

func (p *fakePub) Publish(_ context.Context, subject string, m bus.Outgoing) error {
	if p.err != nil {
		return p.err
	}
	p.subjects = append(p.subjects, subject)
	p.msgs = append(p.msgs, m)
	return nil
}

func TestSettle(t *testing.T) {
	opts := bus.ConsumeOptions{Group: "g", Stage: "cleaner", MaxDeliver: 3,
		Backoff: func(a int) time.Duration { return time.Duration(a) * time.Second }}.Defaults()
	tests := []struct {
		name      string
		attempt   int
		herr      error
		pubErr    error
		failAck   bool
		want      bus.Outcome
		wantCalls string
		wantDLQ   bool
		wantErr   bool
	}{
		{"success acks", 1, nil, nil, false, bus.OutcomeAcked, "ack", false, false},
		{"ack failure reported", 1, nil, nil, true, bus.OutcomeFailed, "ack", false, true},
		{"deferred does nothing", 1, bus.ErrDeferred, nil, false, bus.OutcomeDeferred, "", false, false},
		{"wrapped deferred", 1, errors.Join(errors.New("x"), bus.ErrDeferred), nil, false, bus.OutcomeDeferred, "", false, false},
		{"transient retries with backoff", 2, errors.New("timeout"), nil, false, bus.OutcomeRetried, "nack 2s", false, false},
		{"last attempt dead-letters", 3, errors.New("timeout"), nil, false, bus.OutcomeDeadLettered, "term", true, false},
		{"permanent dead-letters at once", 1, bus.Permanentf("bad json"), nil, false, bus.OutcomeDeadLettered, "term", true, false},
		{"DLQ publish failure nacks", 1, bus.Permanentf("bad"), errors.New("down"), false, bus.OutcomeFailed, "nack 1s", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeMsg{key: "abc", subject: "news.raw", data: []byte("payload"), attempt: tc.attempt, failAck: tc.failAck}
			p := &fakePub{err: tc.pubErr}
			got, err := bus.Settle(context.Background(), p, opts, m, tc.herr)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("Settle = %v, %v; want %v, err %v", got, err, tc.want, tc.wantErr)
			}
			if calls := strings.Join(m.calls, ","); calls != tc.wantCalls {
				t.Errorf("calls = %q, want %q", calls, tc.wantCalls)
			}
			if (len(p.msgs) == 1) != tc.wantDLQ {
				t.Fatalf("dead letters = %d, want %v", len(p.msgs), tc.wantDLQ)
			}
			if !tc.wantDLQ {
				return
			}
			if p.subjects[0] != article.SubjectDLQ {
				t.Errorf("DLQ subject = %q", p.subjects[0])
			}
			env, err := article.Decode(p.msgs[0].Data)
			if err != nil {
				t.Fatal(err)
			}
			dl := env.DLQ
			if dl.Stage != "cleaner" || dl.Subject != "news.raw" || dl.Attempts != tc.attempt ||
				string(dl.Payload) != "payload" || !strings.Contains(dl.Reason, tc.herr.Error()) {
				t.Errorf("dead letter = %+v", dl)
			}
			if h := p.msgs[0].Header; h[bus.HeaderStage] != "cleaner" || h[bus.HeaderSubject] != "news.raw" {
				t.Errorf("headers = %v", h)
			}
		})
	}
}

func TestExpBackoff(t *testing.T) {
	f := bus.ExpBackoff(200*time.Millisecond, time.Second)
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, 200 * time.Millisecond}, {1, 200 * time.Millisecond}, {2, 400 * time.Millisecond},
		{3, 800 * time.Millisecond}, {4, time.Second}, {50, time.Second},
	}
	for _, tc := range tests {
		if got := f(tc.attempt); got != tc.want {
			t.Errorf("ExpBackoff(200ms,1s)(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

package dlq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

type natsBackend struct {
	b      *natsbus.Bus
	prefix string
}

func openNATS(ctx context.Context, cfg Config) (*natsBackend, error) {
	if cfg.StreamPrefix == "" {
		cfg.StreamPrefix = "NEWSFLOW"
	}
	b, err := natsbus.New(ctx, natsbus.Config{URL: cfg.NATSURL, StreamPrefix: cfg.StreamPrefix, ConnectName: cfg.ClientName, MaxReconnects: 2, ConnectTimeout: 5 * time.Second, Options: cfg.NATSOptions}, zap.NewNop())
	if err != nil {
		return nil, err
	}
	return &natsBackend{b: b, prefix: cfg.StreamPrefix}, nil
}

func (n *natsBackend) close() error { return n.b.Close() }

func (n *natsBackend) publish(ctx context.Context, subject string, m bus.Outgoing) error {
	return n.b.Publish(ctx, subject, m)
}

// requeueKey is the Nats-Msg-Id of a requeued payload: unique per dead letter, so a requeue
// retried within the stream's duplicate window is dropped by JetStream.
func (n *natsBackend) requeueKey(e Entry) string { return e.Key + "-requeue-" + e.ID }

func (n *natsBackend) stream(ctx context.Context, subject string) (jetstream.Stream, error) {
	name := natsbus.StreamName(n.prefix, subject)
	st, err := n.b.JetStream().Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dlq: stream %s: %w", name, err)
	}
	return st, nil
}

// read walks the subject's stream with an ordered consumer: ephemeral, no acks, no effect on
// the pipeline's durable consumers.
func (n *natsBackend) read(ctx context.Context, subject string) ([]raw, error) {
	st, err := n.stream(ctx, subject)
	if err != nil || st == nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dlq: stream info: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, fmt.Errorf("dlq: read %s: %w", subject, err)
	}
	var out []raw
	for empty := 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// FetchNoWait returns what is stored at once; the wait is only for a stream whose last
		// message was deleted (so no message has NumPending 0).
		batch, err := cons.FetchNoWait(256)
		if empty > 0 {
			batch, err = cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		}
		if err != nil {
			return nil, fmt.Errorf("dlq: read %s: %w", subject, err)
		}
		got, done := 0, false
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("dlq: read %s: %w", subject, err)
			}
			h := map[string]string{}
			for k := range m.Headers() {
				h[k] = m.Headers().Get(k)
			}
			out = append(out, raw{id: strconv.FormatUint(md.Sequence.Stream, 10), key: h[bus.HeaderMsgID], data: m.Data(), time: md.Timestamp, header: h})
			if md.NumPending == 0 || md.Sequence.Stream >= info.State.LastSeq {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("dlq: read %s: %w", subject, err)
		}
		if done || empty > 0 && got == 0 {
			return out, nil
		}
		if got == 0 {
			empty++
		}
	}
}

func (n *natsBackend) remove(ctx context.Context, subject string, e Entry) (bool, error) {
	seq, err := strconv.ParseUint(e.ID, 10, 64)
	if err != nil {
		return false, fmt.Errorf("dlq: id %q is not a stream sequence", e.ID)
	}
	st, err := n.stream(ctx, subject)
	if err != nil {
		return false, err
	}
	if st == nil {
		return false, fmt.Errorf("%w: %s", ErrNotFound, e.ID)
	}
	if err := st.DeleteMsg(ctx, seq); err != nil {
		return false, err
	}
	return true, nil
}

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"go.uber.org/zap"
)

// TestDLQUsage: help starts nothing (the bus is unreachable), bad flags and values, a purge
// without --yes and a requeue that selects nothing exit 2 before connecting.
func TestDLQUsage(t *testing.T) {
	env := map[string]string{"NEWSFLOW_NATS_URL": "nats://127.0.0.1:1"}
	for _, tt := range []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"dlq", "-h"}, env, 0, "requeue"},
		{[]string{"dlq", "list", "--help"}, env, 0, "--reason"},
		{[]string{"dlq", "purge", "-h"}, env, 0, "--yes"},
		{[]string{"dlq"}, env, 2, "a dlq command is required"},
		{[]string{"dlq", "list", "--bogus"}, env, 2, "unknown flag: --bogus"},
		{[]string{"dlq", "list", "--since", "yesterday"}, env, 2, "want RFC 3339"},
		{[]string{"dlq", "list", "-o", "yaml"}, env, 2, "want table or json"},
		{[]string{"dlq", "show"}, env, 2, "accepts 1 arg"},
		{[]string{"dlq", "purge", "7"}, env, 2, "add --yes"},
		{[]string{"dlq", "requeue"}, env, 2, "or --all"},
		{[]string{"dlq", "list"}, map[string]string{"NEWSFLOW_BUS": "rabbit"}, 2, "want nats or kafka"},
		{[]string{"dlq", "list"}, env, 1, "127.0.0.1:1"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, func(k string) string { return tt.env[k] }, nil, &out, &errb)
			if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("code %d (want %d), output %q", code, tt.code, out.String()+errb.String())
			}
		})
	}
}

// TestDLQCommand runs list, show, requeue and purge through the command line on both
// backends (each required in CI), on an isolated DLQ subject.
func TestDLQCommand(t *testing.T) {
	for _, backend := range []string{"nats", "kafka"} {
		t.Run(backend, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			env := map[string]string{"NEWSFLOW_BUS": backend}
			tag := fmt.Sprintf("dlqcli%d", time.Now().UnixNano()%1e9)
			subject := tag + ".dlq"
			args := []string{"--subject", subject}
			var b bus.Bus
			var err error
			if backend == "nats" {
				env["NEWSFLOW_NATS_URL"] = testenv.Server(t, "NEWSFLOW_NATS_URL")
				prefix := strings.ToUpper(tag)
				args = append(args, "--stream-prefix", prefix)
				nb, err2 := natsbus.New(ctx, natsbus.Config{URL: env["NEWSFLOW_NATS_URL"], StreamPrefix: prefix}, zap.NewNop())
				if err2 == nil {
					// Delete the streams before closing the connection (a deferred Close ran
					// before this cleanup, so every stream, 1 GiB of JetStream's storage
					// reservation each, was left on the shared server).
					t.Cleanup(func() {
						for _, s := range []string{subject, subject + ".requeued", tag + ".raw"} {
							if err := nb.JetStream().DeleteStream(context.Background(), natsbus.StreamName(prefix, s)); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
								t.Logf("delete stream %s: %v", natsbus.StreamName(prefix, s), err)
							}
						}
						_ = nb.Close()
					})
				}
				b, err = nb, err2
			} else {
				env["NEWSFLOW_KAFKA_BROKERS"] = testenv.Server(t, "NEWSFLOW_KAFKA_BROKERS")
				bs := strings.Split(env["NEWSFLOW_KAFKA_BROKERS"], ",")
				b, err = kafkabus.New(ctx, kafkabus.Config{Brokers: bs}, zap.NewNop())
				t.Cleanup(func() { _, _ = kafkabus.DeleteTopicsWithPrefix(context.Background(), bs, tag+".") })
				if err == nil {
					t.Cleanup(func() { _ = b.Close() })
				}
			}
			if err != nil {
				t.Fatalf("%s unreachable: %v", backend, err)
			}
			for i, stage := range []string{"cleaner", "indexer"} {
				payload := []byte(fmt.Sprintf(`{"id":"c%d"}`, i))
				env, err := article.Encode(&article.Envelope{ID: fmt.Sprintf("c%d", i), Stage: article.StageDLQ, DLQ: &article.DeadLetter{
					Stage: stage, Subject: tag + ".raw", Reason: "permanent: broken " + stage, Attempts: 3, Payload: payload, FailedAt: time.Now().UTC(),
				}})
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Publish(ctx, subject, bus.Outgoing{Key: fmt.Sprintf("c%d-dlq", i), Data: env}); err != nil {
					t.Fatal(err)
				}
			}
			run := func(code int, a ...string) string {
				t.Helper()
				var out, errb bytes.Buffer
				if got := Main(append(append([]string{"dlq"}, a...), args...), func(k string) string { return env[k] }, nil, &out, &errb); got != code {
					t.Fatalf("dlq %v: exit %d, want %d: %s%s", a, got, code, out.String(), errb.String())
				}
				return out.String()
			}
			var list []struct {
				ID, Stage, Reason string
				Requeued          bool
			}
			if err := json.Unmarshal([]byte(run(0, "list", "-o", "json")), &list); err != nil || len(list) != 2 {
				t.Fatalf("list -o json: %v %+v", err, list)
			}
			if out := run(0, "list", "--stage", "indexer"); !strings.Contains(out, "broken indexer") || strings.Contains(out, "broken cleaner") {
				t.Errorf("list --stage indexer:\n%s", out)
			}
			if out := run(0, "show", list[0].ID); !strings.Contains(out, "attempts:  3") || !strings.Contains(out, `"id": "c0"`) {
				t.Errorf("show:\n%s", out)
			}
			run(1, "show", "12345")
			if out := run(0, "requeue", list[0].ID); !strings.Contains(out, "1 requeued, 0 skipped") {
				t.Errorf("requeue:\n%s", out)
			}
			if out := run(0, "requeue", "--reason", "broken cleaner"); !strings.Contains(out, "0 requeued, 1 skipped") {
				t.Errorf("second requeue:\n%s", out)
			}
			if out := run(0, "purge", "--stage", "indexer", "--yes"); !strings.Contains(out, "1 purged") {
				t.Errorf("purge:\n%s", out)
			}
			if out := run(0, "list"); strings.Contains(out, "broken indexer") || !strings.Contains(out, "yes") {
				t.Errorf("list after purge and requeue:\n%s", out)
			}
		})
	}
}

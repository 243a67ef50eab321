package app

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
)

// TestReplayKafka retains clean messages in a topic of the real dev Kafka, some before and
// some after --from, and checks that replay --bus kafka re-enriches exactly those at or after
// --from (an undecodable one counted as failed), keyed by article ID, without NATS.
func TestReplayKafka(t *testing.T) {
	brokers := testenv.Server(t, "NEWSFLOW_KAFKA_BROKERS")
	bs := strings.Split(brokers, ",")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tag := fmt.Sprintf("replaytest%d", time.Now().UnixNano()%1e9)
	clean, enriched := tag+".clean", tag+".enriched"
	b, err := kafkabus.New(ctx, kafkabus.Config{Brokers: bs, Partitions: 3}, zap.NewNop())
	if err != nil {
		t.Fatalf("kafka unreachable: %v", err)
	}
	defer b.Close()
	t.Cleanup(func() { _, _ = kafkabus.DeleteTopicsWithPrefix(context.Background(), bs, tag+".") })

	publish := func(id string, data []byte) {
		t.Helper()
		if data == nil {
			c := &article.Clean{URL: "https://e.example/" + id, Title: "Bridge " + id, Text: "Bridge " + id + " opens. Mayor Anne Hidalgo spoke in Paris on Tuesday.", Language: "en", FetchedAt: time.Now()}
			var err error
			if data, err = article.Encode(&article.Envelope{ID: id, Stage: article.StageClean, Clean: c}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Publish(ctx, clean, bus.Outgoing{Key: id, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"old1", "old2"} {
		publish(id, nil)
	}
	time.Sleep(50 * time.Millisecond)
	from := time.Now()
	time.Sleep(50 * time.Millisecond)
	for _, id := range []string{"new1", "new2", "new3", "new4"} {
		publish(id, nil)
	}
	publish("broken", []byte("not an envelope"))

	env := map[string]string{"NEWSFLOW_BUS": "kafka", "NEWSFLOW_KAFKA_BROKERS": brokers, "NEWSFLOW_NATS_URL": "nats://127.0.0.1:1"}
	var out, errb bytes.Buffer
	if code := Main([]string{"replay", "--from", from.UTC().Format(time.RFC3339Nano), "--subject", clean, "--to", enriched}, func(k string) string { return env[k] }, nil, &out, &errb); code != 0 {
		t.Fatalf("replay exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "4 re-enriched, 1 failed") {
		t.Fatalf("replay output %q", out.String())
	}

	var mu sync.Mutex
	got := map[string]string{} // key -> envelope ID
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, enriched, bus.ConsumeOptions{Group: tag + "-check", DLQSubject: tag + ".dlq"}, func(_ context.Context, m bus.Message) error {
			e, err := article.Decode(m.Data())
			if err != nil || e.Enriched == nil || e.Enriched.EnrichmentVersion != article.EnrichmentVersion {
				t.Errorf("not an enriched envelope: %v %q", err, m.Data())
				return nil
			}
			mu.Lock()
			got[m.Key()] = e.ID
			mu.Unlock()
			return nil
		})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // anything more would show up now
	ccancel()
	if err := <-done; err != nil && ctx.Err() == nil && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("consume: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{"new1": "new1", "new2": "new2", "new3": "new3", "new4": "new4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("re-enriched by key %v, want %v", got, want)
	}
}

// TestReplayKafkaMissingTopic: replaying a topic that does not exist is an error naming it.
func TestReplayKafkaMissingTopic(t *testing.T) {
	brokers := testenv.Server(t, "NEWSFLOW_KAFKA_BROKERS")
	topic := fmt.Sprintf("replaymissing%d.clean", time.Now().UnixNano()%1e9)
	env := map[string]string{"NEWSFLOW_KAFKA_BROKERS": brokers}
	var out, errb bytes.Buffer
	if code := Main([]string{"replay", "--bus", "kafka", "--from", "1h", "--subject", topic}, func(k string) string { return env[k] }, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), topic+" does not exist") {
		t.Fatalf("exit %d, want 1 naming the topic: %s%s", code, out.String(), errb.String())
	}
}

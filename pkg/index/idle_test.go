package index

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"go.uber.org/zap"
)

// TestIdleFlush: with a flush interval far longer than the test, an article arriving alone is
// sent (and its message acked) once the input is idle for FlushIdle; with the idle flush off
// it waits for the interval. Real Elasticsearch; messages held in memory.
func TestIdleFlush(t *testing.T) {
	u := esURL(t)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{u}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		idle      time.Duration
		wantAcked bool // within 10 s, against a 10-minute interval
	}{
		{name: "idle flush", idle: 20 * time.Millisecond, wantAcked: true},
		{name: "off", idle: -1, wantAcked: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := fmt.Sprintf("nfidle%d%d", time.Now().UnixNano()%1e8, i)
			defer deleteAll(es, prefix)
			ix, err := New(Config{Setup: SetupConfig{Names: Names{Prefix: prefix}}, FlushInterval: 10 * time.Minute, FlushIdle: tt.idle}, es, nil, zap.NewNop(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := ix.Setup(context.Background()); err != nil {
				t.Fatal(err)
			}
			h := ix.Handler(bus.ConsumeOptions{Group: "idle"}.Defaults())
			var wg sync.WaitGroup
			data, err := article.Encode(enriched(i, time.Now().UTC(), "idle flush"))
			if err != nil {
				t.Fatal(err)
			}
			m := &benchMsg{data: data, wg: &wg}
			wg.Add(1)
			if err := h(context.Background(), m); err != bus.ErrDeferred {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
				if !tt.wantAcked {
					t.Fatal("acked before the flush interval with the idle flush off")
				}
			case <-time.After(10 * time.Second):
				if tt.wantAcked {
					t.Fatal("not acked within 10 s: the idle flush did not send the bulk")
				}
			}
			if err := ix.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			<-done // Close flushed it
			if st := ix.Stats(); st.NumIndexed != 1 {
				t.Fatalf("indexed %d", st.NumIndexed)
			}
		})
	}
}

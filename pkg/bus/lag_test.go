package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newsflow/newsflow/pkg/bus"
)

// fakeLagBus is a bus.Bus with a canned Lag per group (unit test of the collector only).
type fakeLagBus struct {
	bus.Bus
	lags map[string]bus.Lag
	errs map[string]error
}

func (f fakeLagBus) Lag(_ context.Context, _, group string) (bus.Lag, bool, error) {
	if err := f.errs[group]; err != nil {
		return bus.Lag{}, false, err
	}
	l, ok := f.lags[group]
	return l, ok, nil
}

type noLagBus struct{ bus.Bus }

func TestLagCollector(t *testing.T) {
	tests := []struct {
		name    string
		watch   [][3]string
		want    string
		wantErr float64
	}{
		{"backlog is pending plus unacked", [][3]string{{"cleaner", "news.raw", "g1"}},
			`newsflow_bus_consumer_lag_messages{group="g1",stage="cleaner",subject="news.raw"} 12`, 0},
		{"unknown group left out", [][3]string{{"cleaner", "news.raw", "g1"}, {"indexer", "news.enriched", "nope"}},
			`newsflow_bus_consumer_lag_messages{group="g1",stage="cleaner",subject="news.raw"} 12`, 0},
		{"failed query counted, others kept", [][3]string{{"cleaner", "news.raw", "g1"}, {"enricher", "news.clean", "bad"}},
			`newsflow_bus_consumer_lag_messages{group="g1",stage="cleaner",subject="news.raw"} 12`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := fakeLagBus{lags: map[string]bus.Lag{"g1": {Pending: 10, Unacked: 2}}, errs: map[string]error{"bad": errors.New("boom")}}
			c := bus.NewLagCollector(b, nil, 0)
			for _, w := range tc.watch {
				c.Watch(w[0], w[1], w[2])
				c.Watch(w[0], w[1], w[2]) // idempotent
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(c)
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var gotErr float64 // first scrape
			for _, mf := range mfs {
				if mf.GetName() == "newsflow_bus_consumer_lag_errors_total" {
					for _, m := range mf.GetMetric() {
						gotErr += m.GetCounter().GetValue()
					}
				}
			}
			if gotErr != tc.wantErr {
				t.Errorf("errors_total = %v, want %v", gotErr, tc.wantErr)
			}
			want := "# HELP newsflow_bus_consumer_lag_messages Messages a consumer group has not finished: not yet delivered plus delivered but unsettled (JetStream num_pending+num_ack_pending, Kafka log end minus committed offset).\n# TYPE newsflow_bus_consumer_lag_messages gauge\n" + tc.want + "\n"
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "newsflow_bus_consumer_lag_messages"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLagCollectorNeedsReporter(t *testing.T) {
	c := bus.NewLagCollector(noLagBus{}, nil, 0)
	if c != nil {
		t.Fatalf("NewLagCollector on a bus without Lag = %v, want nil", c)
	}
	c.Watch("s", "x", "g") // nil-safe
}

package alert

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// FuzzObserve feeds arbitrary enriched payloads (as JSON) to an Alerter with every rule type:
// whatever decodes must be observed without a panic.
func FuzzObserve(f *testing.F) {
	seed := art(t0, "c1", "Acme", "Globex")
	b, _ := json.Marshal(seed)
	f.Add(b)
	f.Add([]byte(`{"published_at":"0001-01-01T00:00:00Z","fetched_at":"9999-12-31T23:59:59Z","entities":[{"type":"","name":"","normalized":""}]}`))
	f.Add([]byte(`{"keywords":[{"term":"   "}],"title":"ECB interest rate","text":"fed","language":"EN","source":{"tags":["x"]}}`))
	f.Add([]byte(`{"published_at":"1970-01-01T00:00:00Z","fetched_at":"1970-01-01T00:00:01Z","cluster_id":"x"}`))
	rules := []Rule{{ID: "s", Type: RuleSpike}, {ID: "es", Type: RuleESSpike, Timeframe: Duration(5 * time.Minute), SpikeHeight: 2, SpikeType: "both"},
		{ID: "w", Type: RuleWatch, Terms: []string{"fed"}, Phrases: []string{"interest rate"}, Tags: []string{"x"}}}
	a, err := New(Config{Detector: DetectorConfig{Warmup: -1}}, rules, nil, nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer a.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		var e article.Enriched
		if json.Unmarshal(data, &e) != nil {
			return
		}
		if err := a.Observe(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		a.Tick(e.FetchedAt)
	})
}

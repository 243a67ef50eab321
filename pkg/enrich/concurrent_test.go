package enrich

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentEnrichMatchesSerial enriches the golden corpus one article at a time, then
// with several goroutines enriching different articles at once (twice, so that the pooled
// scanners, scratch buffers and word caches warmed by one article serve another), and
// requires the same output for every article. IDF weighting stays neutral (DFMinDocs above
// the number of articles observed), so the outputs do not depend on the order of the
// articles; any difference comes from state shared between concurrent calls.
func TestConcurrentEnrichMatchesSerial(t *testing.T) {
	if testing.Short() {
		t.Skip("enriches the golden corpus three times")
	}
	docs := goldenCorpus(t)
	cfg := func() Config {
		return Config{Now: func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }, DFMinDocs: 1 << 30}
	}
	enrichJSON := func(e *Enricher, i int) string {
		d := docs[i]
		c := d.clean
		out, err := e.Enrich(context.Background(), d.name, &c)
		if err != nil {
			t.Errorf("%s: %v", d.name, err)
			return ""
		}
		out.Clean = c
		out.Clean.Text = ""
		js, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(js)
	}
	serial, err := New(cfg(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(docs))
	for i := range docs {
		want[i] = enrichJSON(serial, i)
	}
	e, err := New(cfg(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 6
	for round := range 2 {
		got := make([]string, len(docs))
		next := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					got[i] = enrichJSON(e, i)
				}
			}()
		}
		for _, i := range rand.New(rand.NewPCG(uint64(round), 9)).Perm(len(docs)) { // a different order each round
			next <- i
		}
		close(next)
		wg.Wait()
		for i := range docs {
			if got[i] != want[i] {
				t.Errorf("round %d, %s: concurrent output differs from serial\n got  %.300s\n want %.300s", round, docs[i].name, got[i], want[i])
			}
		}
	}
}

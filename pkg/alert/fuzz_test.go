package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

// FuzzRestore feeds arbitrary bytes to Restore (a snapshot file is read back after a crash and
// may be truncated or corrupt): it must return an error or a usable Alerter, never panic, and
// a restored Alerter must keep observing, ticking and snapshotting.
func FuzzRestore(f *testing.F) {
	src, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}, {ID: "es", Type: RuleESSpike, Timeframe: Duration(5 * time.Minute), SpikeHeight: 2}}, nil, nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		_ = src.Observe(context.Background(), art(t0.Add(time.Duration(i)*time.Minute), "", "Acme", "Globex"))
	}
	var good bytes.Buffer
	if err := src.Snapshot(&good); err != nil {
		f.Fatal(err)
	}
	src.Close()
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte{})
	f.Add([]byte("not a snapshot"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}, {ID: "es", Type: RuleESSpike, Timeframe: Duration(5 * time.Minute), SpikeHeight: 2}}, nil, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if a.Restore(bytes.NewReader(data)) != nil {
			return
		}
		_ = a.Observe(context.Background(), art(t0.Add(time.Hour), "", "Acme", "Initech"))
		a.Tick(t0.Add(2 * time.Hour))
		if err := a.Snapshot(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeDeltaLog feeds arbitrary bytes as delta log frames (a log is read back after a
// crash and may be torn or corrupt): readFrame and decodeRecord must return an error or a
// record, never panic; and a record that decodes re-encodes to the same frame
// (TestDeltaLogBadInput covers OpenDeltaLog over damaged logs).
func FuzzDecodeDeltaLog(f *testing.F) {
	obs := observation{at: t0.UnixNano(), titled: true,
		terms: []Term{{Key: "ORG:acme", Kind: "ORG", Display: "Acme"}, {Key: "keyword:rate cut", Kind: "keyword", Display: "rate cut"}},
		pairs: []uint64{1, 2, 3, 4}, ref: articleRef{id: "abc", title: "Acme cuts rates", url: "https://a.example/1", source: "a"}}
	valid := appendObserveRecord(nil, &obs)
	valid = appendTickRecord(valid, t0.Add(time.Minute).UnixNano())
	valid = appendSettleRecord(valid, "0123456789abcdef")
	valid = appendObserveRecord(valid, &observation{at: -1})
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(appendObserveRecord(nil, &observation{at: 5, terms: obs.terms[:1], pairs: []uint64{9}}))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var rec logRecord
		for {
			p, err := readFrame(r, nil)
			if err != nil {
				break
			}
			if decodeRecord(p, &rec) != nil {
				break
			}
			var again []byte
			switch rec.kind {
			case recObserve:
				again = appendObserveRecord(nil, &rec.obs)
			case recTick:
				again = appendTickRecord(nil, rec.now)
			case recSettle:
				again = appendSettleRecord(nil, rec.id)
			}
			if !bytes.Equal(again[frameHeader:], p) {
				t.Fatalf("record %x re-encodes as %x", p, again[frameHeader:])
			}
		}
	})
}

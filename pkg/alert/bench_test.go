package alert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newsflow/newsflow/pkg/article"
)

// benchCorpus builds n articles over nTerms terms (Zipf-ish popularity, 6 terms per article)
// at rate articles per second of event time.
func benchCorpus(n, nTerms int, perSec float64) []*article.Enriched {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 4, uint64(nTerms-1))
	names := make([]string, nTerms)
	for i := range names {
		names[i] = fmt.Sprintf("entity number %d", i)
	}
	kinds := []string{"PER", "ORG", "LOC", "MISC"}
	out := make([]*article.Enriched, n)
	for i := range out {
		at := t0.Add(time.Duration(float64(i) / perSec * float64(time.Second)))
		e := &article.Enriched{}
		e.URL = fmt.Sprintf("https://s%d.example/%d", i%40, i)
		e.CanonicalURL = e.URL
		e.Title = "title " + e.URL
		e.Source.Name = fmt.Sprintf("s%d", i%40)
		e.FetchedAt = at
		e.PublishedAt = &at
		if i%20 == 0 {
			e.ClusterID = fmt.Sprintf("c%d", i/200)
		}
		for j := 0; j < 4; j++ {
			k := int(zipf.Uint64())
			if j == 0 {
				k = i % nTerms // every term appears: 100,000 live terms
			}
			e.Entities = append(e.Entities, article.Entity{Type: kinds[k%4], Name: names[k], Normalized: names[k]})
		}
		for j := 0; j < 2; j++ {
			k := int(zipf.Uint64())
			e.Keywords = append(e.Keywords, article.Keyword{Term: names[k], Score: 1})
		}
		out[i] = e
	}
	return out
}

func heapMB() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkObserve100kTerms: articles/s through Observe with 100,000 live terms (each article
// carries 6 terms; spike + es_spike rules), and the heap held by the alerter.
func BenchmarkObserve100kTerms(b *testing.B) {
	const terms = 100_000
	warmN := 2 * terms
	corpus := benchCorpus(warmN+200_000, terms, 200)
	before := heapMB()
	rules := []Rule{{ID: "s", Type: RuleSpike}, {ID: "es", Type: RuleESSpike, Timeframe: Duration(10 * time.Minute), SpikeHeight: 3, ThresholdCur: 10}}
	a, err := New(Config{}, rules, nil, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	for _, e := range corpus[:warmN] {
		_ = a.Observe(ctx, e)
	}
	if a.LiveTerms() < terms {
		b.Fatalf("live terms %d", a.LiveTerms())
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		_ = a.Observe(ctx, corpus[warmN+i%200_000])
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "articles/s")
	b.ReportMetric(heapMB()-before, "heapMB")
	b.ReportMetric(float64(a.LiveTerms()), "terms")
	runtime.KeepAlive(corpus)
}

// BenchmarkDecodeEnriched is the same-run reference: decoding one enriched envelope, which the
// alerter service must do per message anyway.
func BenchmarkDecodeEnriched(b *testing.B) {
	e := benchCorpus(1, 10, 1)[0]
	e.Text = string(bytes.Repeat([]byte("word "), 600))
	data, err := article.Encode(&article.Envelope{ID: "x", Stage: article.StageEnriched, Enriched: e})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := article.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "articles/s")
}

// BenchmarkSnapshot100kTerms measures Snapshot of an alerter with 100,000 live terms.
func BenchmarkSnapshot100kTerms(b *testing.B) {
	a, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, nil, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for _, e := range benchCorpus(100_000, 100_000, 200) {
		_ = a.Observe(context.Background(), e)
	}
	var n countWriter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n = 0
		if err := a.Snapshot(&n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/(1<<20), "MB")
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// BenchmarkCheckpointedObserve100kTerms: articles/s through Observe plus checkpointed acks,
// the alerter stage's path, with 100,000 live terms: the stage's delta log (OpenDeltaLog in a
// temp dir, default compaction thresholds) under a NewLogCheckpointer; every 500 articles (the
// default MaxPending) a checkpoint appends their records to the log and fsyncs before acking
// them, and compacts the log (full snapshot, fsync, rename) when due. heapMB is HeapAlloc
// after GC minus the corpus, i.e. what the alerter holds. Compare with
// BenchmarkObserve100kTerms in the same run.
func BenchmarkCheckpointedObserve100kTerms(b *testing.B) {
	const terms = 100_000
	warmN := 2 * terms
	corpus := benchCorpus(warmN+200_000, terms, 200)
	before := heapMB()
	a, err := New(Config{}, []Rule{{ID: "s", Type: RuleSpike}}, nil, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	for _, e := range corpus[:warmN] {
		_ = a.Observe(ctx, e)
	}
	reg := prometheus.NewRegistry()
	dl, _, err := OpenDeltaLog(DeltaLogConfig{Dir: b.TempDir()}, a, nil)
	if err != nil {
		b.Fatal(err)
	}
	ck, err := NewLogCheckpointer(CheckpointConfig{Interval: time.Hour, SaveInterval: time.Hour}, dl, nil, reg)
	if err != nil {
		b.Fatal(err)
	}
	defer ck.Close(ctx)
	msgs := make([]ckMsg, 500)
	compacted := testutil.ToFloat64(dl.m.compactions.WithLabelValues("ok"))
	b.ResetTimer()
	start := time.Now()
	checkpoints := 0
	for i := 0; i < b.N; i++ {
		_ = a.Observe(ctx, corpus[warmN+i%200_000])
		if err := ck.Add(&msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		if ck.Pending() >= len(msgs) {
			if err := ck.Checkpoint(ctx); err != nil {
				b.Fatal(err)
			}
			checkpoints++
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "articles/s")
	b.ReportMetric(heapMB()-before, "heapMB")
	b.ReportMetric(float64(a.LiveTerms()), "terms")
	b.ReportMetric(float64(checkpoints), "checkpoints")
	b.ReportMetric(testutil.ToFloat64(dl.m.compactions.WithLabelValues("ok"))-compacted, "compactions")
	runtime.KeepAlive(corpus)
}

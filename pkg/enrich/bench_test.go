package enrich

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/enrich/dates"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
	"github.com/newsflow/newsflow/pkg/enrich/keywords"
	"github.com/newsflow/newsflow/pkg/enrich/quotes"
	"github.com/newsflow/newsflow/pkg/enrich/sentiment"
)

// article600 returns the first 600 words of the seed article (a typical news article length).
func article600(b *testing.B) string {
	raw, err := os.ReadFile("testdata/seed.txt")
	if err != nil {
		b.Fatal(err)
	}
	text := string(raw)
	n := 0
	for i := range text {
		if i > 0 && text[i] == ' ' && text[i-1] != ' ' {
			n++
			if n == 600 {
				return text[:i]
			}
		}
	}
	return text
}

// BenchmarkEnrich measures the whole enrichment of a 600-word article (sub-benchmark "full")
// next to its parts, so ratios can be read from one run on a noisy machine.
func BenchmarkEnrich(b *testing.B) {
	text := article600(b)
	e := testEnricher(b)
	pub := time.Date(2021, 12, 29, 0, 0, 0, 0, time.UTC)
	c := &article.Clean{Text: text, Language: "en", PublishedAt: &pub}
	words := float64(len(strings.Fields(text)))
	// The machine is shared and noisy: besides wall-clock rates, report process CPU time per
	// article (getrusage, includes GC), i.e. the throughput of one fully available core.
	var cpu0 time.Duration
	start := func(b *testing.B) { cpu0 = cpuTime() }
	report := func(b *testing.B) {
		cpu := cpuTime() - cpu0
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
		b.ReportMetric(words*float64(b.N)/b.Elapsed().Seconds(), "words/s")
		if cpu > 0 {
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "articles/cpu-s")
		}
	}
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		start(b)
		for b.Loop() {
			if _, err := e.Enrich(context.Background(), "bench", c); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("ner-only", func(b *testing.B) {
		start(b)
		for b.Loop() {
			e.ner.Extract(text)
		}
		report(b)
	})
	b.Run("entities+places", func(b *testing.B) {
		start(b)
		for b.Loop() {
			e.analyse(text, textutil.Tokenize(text), "en")
		}
		report(b)
	})
	b.Run("keywords", func(b *testing.B) {
		start(b)
		for b.Loop() {
			keywords.Extract(text, keywords.Options{Lang: "en"})
		}
		report(b)
	})
	b.Run("sentiment", func(b *testing.B) {
		start(b)
		for b.Loop() {
			sentiment.Score(text)
		}
		report(b)
	})
	b.Run("quotes", func(b *testing.B) {
		start(b)
		for b.Loop() {
			quotes.Find(text, nil, quotes.Options{})
		}
		report(b)
	})
	b.Run("dates", func(b *testing.B) {
		start(b)
		for b.Loop() {
			dates.Find(text, pub)
		}
		report(b)
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

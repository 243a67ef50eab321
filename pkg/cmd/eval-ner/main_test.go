package main

import (
	"github.com/jdkato/prose/v2"
	"github.com/newsflow/newsflow/pkg/enrich/ner"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRunQuick(t *testing.T) {
	data, eval := "../../../../shared/ml", "../../../../shared/eval"
	if _, err := os.Stat(filepath.Join(data, "ner/en/en_ewt-test.iob2")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("eval data missing: %v", err)
		}
		t.Skipf("eval data not available: %v", err)
	}
	sets := []dataset{
		{"en-ewt-test", filepath.Join(data, "ner/en/en_ewt-test.iob2"), "en"},
		{"wikigold-dev", filepath.Join(eval, "ner/wikigold-dev.conll"), "en"},
	}
	var b strings.Builder
	if err := run(&b, sets, "", 40, true, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"en-ewt-test", "wikigold-dev", "prose/v2", "micro", "words/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestAlign(t *testing.T) {
	words := []string{"Joe", "Biden", "met", "Joe", "Biden", "'s", "aide"}
	used := make([]bool, len(words))
	a, ok := align(words, used, "Joe Biden")
	b, ok2 := align(words, used, "Joe Biden's")
	if !ok || !ok2 || a.Start != 0 || a.End != 2 || b.Start != 3 || b.End != 6 {
		t.Fatalf("align = %v %v, %v %v", a, ok, b, ok2)
	}
	if _, ok := align(words, used, "Putin"); ok {
		t.Fatal("aligned a missing entity")
	}
}

const benchText = "President Joe Biden met NATO officials in Moscow on Thursday, the White House said. " +
	"Kremlin spokesman Dmitry Peskov told Reuters that Russia had no plans to invade Ukraine, while " +
	"Secretary of State Antony Blinken warned of \"massive consequences\" in talks with Sergei Lavrov in Geneva. "

// BenchmarkVsProse measures words/s of ner.Default().Extract and of the
// prose/v2 baseline (model loaded once) on the same news text in one run.
func BenchmarkVsProse(b *testing.B) {
	text := strings.Repeat(benchText, 5)
	words := len(ner.Tokenize(text))
	b.Run("ours", func(b *testing.B) {
		m := ner.Default()
		for i := 0; i < b.N; i++ {
			m.Extract(text)
		}
		b.ReportMetric(float64(words*b.N)/b.Elapsed().Seconds(), "words/s")
	})
	b.Run("prose", func(b *testing.B) {
		d, err := prose.NewDocument("Warm up.")
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			if _, err := prose.NewDocument(text, prose.UsingModel(d.Model)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(words*b.N)/b.Elapsed().Seconds(), "words/s")
	})
}

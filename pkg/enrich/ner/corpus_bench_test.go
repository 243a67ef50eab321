package ner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkExtractCorpus tags the 91 article bodies of the extraction
// ground truth in turn with the English model, so that, unlike
// BenchmarkExtract's one repeated paragraph, the weight rows an article
// needs are mostly not in the CPU caches yet (as in the pipeline, where
// other stages run between articles).
func BenchmarkExtractCorpus(b *testing.B) { benchExtractCorpus(b, false) }

// BenchmarkExtractCorpusCold is BenchmarkExtractCorpus with the model's
// word caches emptied before each pass over the corpus: every word is a
// miss at its first occurrence in the pass (21% of the tokens), as at the
// start of a run, against none when the corpus's words stay cached.
func BenchmarkExtractCorpusCold(b *testing.B) { benchExtractCorpus(b, true) }

// BenchmarkExtractCorpusParallel is BenchmarkExtractCorpus with four
// workers taking the articles in turn, as the enricher does at its default
// concurrency (NEWSFLOW_CONCURRENCY=4): more tagging calls at once than the
// model keeps idle word caches.
func BenchmarkExtractCorpusParallel(b *testing.B) {
	texts, words, size := corpusTexts(b)
	m := Default()
	m.Extract("warm up")
	cpu0 := processCPU()
	for b.Loop() {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					k := int(next.Add(1)) - 1
					if k >= len(texts) {
						return
					}
					m.Extract(texts[k])
				}
			})
		}
		wg.Wait()
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(words*b.N)/b.Elapsed().Seconds(), "words/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N*len(texts)), "cpu-us/article")
}

// corpusTexts returns the article bodies of the extraction ground truth,
// sorted, with their tokens and bytes in all.
func corpusTexts(b *testing.B) (texts []string, words, size int) {
	raw, err := os.ReadFile(filepath.Join(sharedDir, "eval/extraction/ground-truth.json"))
	if err != nil {
		b.Skipf("shared data: %v", err)
	}
	var gt map[string]struct {
		ArticleBody string `json:"articleBody"`
	}
	if err := json.Unmarshal(raw, &gt); err != nil {
		b.Fatal(err)
	}
	for _, v := range gt {
		texts = append(texts, v.ArticleBody)
		words += len(Tokenize(v.ArticleBody))
		size += len(v.ArticleBody)
	}
	sort.Strings(texts)
	return texts, words, size
}

func benchExtractCorpus(b *testing.B, cold bool) {
	texts, words, size := corpusTexts(b)
	m := Default()
	m.Extract("warm up") // load the model and build its tables outside the timing
	cpu0 := processCPU()
	for b.Loop() {
		if cold {
			m.cacheMu.Lock()
			m.caches = nil
			m.cacheMu.Unlock()
		}
		for _, t := range texts {
			sink = m.Extract(t)
		}
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(words*b.N)/b.Elapsed().Seconds(), "words/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N*len(texts)), "cpu-us/article")
}

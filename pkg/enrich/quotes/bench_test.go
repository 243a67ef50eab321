package quotes

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFind: Find over the enrich test articles.
func BenchmarkFind(b *testing.B) {
	paths, _ := filepath.Glob("../testdata/*.txt")
	var texts []string
	for _, p := range paths {
		t, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		texts = append(texts, string(t))
	}
	for b.Loop() {
		for _, t := range texts {
			Find(t, nil, Options{})
		}
	}
}

package dates

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFind: Find over the enrich test articles (dense in dates) and, when ../shared is
// there, over the 91 human-written bodies of the extraction eval set (ns/op is for the set).
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
	if len(texts) == 0 {
		b.Fatal("no ../testdata/*.txt")
	}
	sets := []struct {
		name  string
		texts []string
	}{{"testdata", texts}}
	var gt map[string]struct {
		ArticleBody string `json:"articleBody"`
	}
	if raw, err := os.ReadFile("../../../../shared/eval/extraction/ground-truth.json"); err == nil && json.Unmarshal(raw, &gt) == nil {
		var bodies []string
		for _, v := range gt {
			bodies = append(bodies, v.ArticleBody)
		}
		sets = append(sets, struct {
			name  string
			texts []string
		}{"extraction", bodies})
	}
	ref := time.Date(2022, 1, 6, 9, 30, 0, 0, time.UTC)
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			size := 0
			for _, t := range set.texts {
				size += len(t)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				for _, t := range set.texts {
					Find(t, ref)
				}
			}
		})
	}
}

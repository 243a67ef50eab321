package keywords

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var printGolden = flag.Bool("keywords.golden", false, "print the keyword golden hash instead of checking it")

// keywordGolden is the sha256 of every keyword (term and score) Extract
// returns over the enrich testdata articles, whole and paragraph by
// paragraph, under several option sets. A refactor of Extract must leave it
// unchanged; a deliberate change updates it (-keywords.golden).
const keywordGolden = "fcad495bef49429e76e7c36e4f7cd2f044661fefff974dc12b22f452d7b50664"

// TestExtractGolden proves that Extract's output over a fixed corpus is
// unchanged.
func TestExtractGolden(t *testing.T) {
	paths, err := filepath.Glob("../testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("corpus: %v (%d files)", err, len(paths))
	}
	sort.Strings(paths)
	var texts []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
		for _, para := range strings.Split(string(b), "\n\n") {
			if strings.TrimSpace(para) != "" {
				texts = append(texts, para)
			}
		}
	}
	df := NewDocFreq(0, 2)
	for _, tx := range texts {
		df.Observe(tx)
	}
	opts := []Options{
		{},
		{Lang: "en", Max: 25, MaxWords: 4},
		{Lang: "de", Max: 5, MaxWords: 1},
		{Lang: "en", DF: df, Title: "Biden offers Putin a diplomatic path over Ukraine"},
	}
	h := sha256.New()
	for oi, o := range opts {
		for ti, tx := range texts {
			for _, k := range Extract(tx, o) {
				fmt.Fprintf(h, "%d\t%d\t%q\t%v\n", oi, ti, k.Term, k.Score)
			}
		}
	}
	got := hex.EncodeToString(h.Sum(nil))
	if *printGolden {
		t.Logf("keywordGolden = %q", got)
		return
	}
	if got != keywordGolden {
		t.Errorf("Extract output changed: sha256 %s, want %s", got, keywordGolden)
	}
}

package enrich

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// updateEnrichGolden: with -enrich.golden TestEnrichGolden rewrites testdata/golden/ after a
// deliberate change of enrichment output.
var updateEnrichGolden = flag.Bool("enrich.golden", false, "rewrite testdata/golden/ instead of checking it")

// goldenShared is ../shared relative to the repository root.
const goldenShared = "../../../shared"

// goldenDoc is one article of the golden corpus.
type goldenDoc struct {
	name  string
	clean article.Clean
}

// goldenCorpus returns the articles whose complete enrichment TestEnrichGolden pins, in a fixed
// order (the stream document frequencies make keyword scores depend on what came before): the
// enrich testdata; then, when ../shared is there (always in CI), the seed article, the
// human-written bodies of the 91 extraction dev pages, and one document per NER test set of
// another language (its first 60 sentences' raw text) under the article's language and once
// more with the language left to enrichment.
func goldenCorpus(t *testing.T) []goldenDoc {
	t.Helper()
	pub := time.Date(2022, 1, 6, 9, 30, 0, 0, time.UTC)
	fetched := time.Date(2022, 1, 6, 10, 0, 0, 0, time.UTC)
	doc := func(name, title, text, lang string) goldenDoc {
		p := pub
		return goldenDoc{name: name, clean: article.Clean{Title: title, Text: text, Language: lang, PublishedAt: &p, FetchedAt: fetched}}
	}
	var out []goldenDoc
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("testdata: %v (%d files)", err, len(paths))
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(filepath.Base(p), ".txt")
		title, _, _ := strings.Cut(string(b), "\n")
		out = append(out, doc(base, title, string(b), "en"), doc(base+".nolang", "", string(b), ""))
	}
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(goldenShared, rel))
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("shared data missing in CI: %v", err)
			}
			t.Logf("shared data not available, in-repo corpus only: %v", err)
			return nil
		}
		return b
	}
	seed := read("corpus/seed-article.txt")
	if seed == nil {
		return out
	}
	out = append(out, doc("shared/seed-article", "", string(seed), "en"))
	var gt map[string]struct {
		ArticleBody string `json:"articleBody"`
	}
	if b := read("eval/extraction/ground-truth.json"); b == nil {
		return out
	} else if err := json.Unmarshal(b, &gt); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(gt))
	for id := range gt {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, doc("extraction/"+id[:12], "", gt[id].ArticleBody, "en"))
	}
	for _, f := range []struct{ lang, path string }{
		{"hr", "ml/ner/multi/Croatian-SET/hr_set-ud-test.iob2"},
		{"da", "ml/ner/multi/Danish-DDT/da_ddt-ud-test.iob2"},
		{"pt", "ml/ner/multi/Portuguese-Bosque/pt_bosque-ud-test.iob2"},
		{"sv", "ml/ner/multi/Swedish-Talbanken/sv_talbanken-ud-test.iob2"},
		{"zh", "ml/ner/multi/Chinese-GSDSIMP/zh_gsdsimp-ud-test.iob2"},
	} {
		b := read(f.path)
		if b == nil {
			return out
		}
		sep := " "
		if f.lang == "zh" {
			sep = ""
		}
		var sents []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() && len(sents) < 60 {
			if s, ok := strings.CutPrefix(sc.Text(), "# text = "); ok {
				sents = append(sents, s)
			}
		}
		text := strings.Join(sents, sep)
		out = append(out, doc("ner/"+f.lang, "", text, f.lang), doc("ner/"+f.lang+".nolang", "", text, ""))
	}
	return out
}

// TestEnrichGolden pins the complete enrichment (entities, keywords, tone, quotes, places, main
// country, dates, categories) of a fixed corpus of real articles, so a speed change provably
// changes no output: testdata/golden/sums.txt holds the sha256 of each article's enrichment
// (JSON, the cleaned article's own fields left out) and testdata/golden/<name>.json the full
// output of the in-repo articles, to diff. A deliberate change rewrites them:
//
//	go test ./enrich -run TestEnrichGolden -args -enrich.golden
func TestEnrichGolden(t *testing.T) {
	e, err := New(Config{Now: func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	if !*updateEnrichGolden {
		b, err := os.ReadFile("testdata/golden/sums.txt")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			name, sum, _ := strings.Cut(line, " ")
			want[name] = sum
		}
	}
	if *updateEnrichGolden {
		if err := os.MkdirAll("testdata/golden", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var sums strings.Builder
	checked := 0
	for _, d := range goldenCorpus(t) {
		out, err := e.Enrich(context.Background(), d.name, &d.clean)
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		out.Clean = article.Clean{}
		js, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(js)
		got := hex.EncodeToString(h[:])
		file := filepath.Join("testdata/golden", strings.ReplaceAll(d.name, "/", "_")+".json")
		inRepo := !strings.Contains(d.name, "/")
		if *updateEnrichGolden {
			fmt.Fprintf(&sums, "%s %s\n", d.name, got)
			if inRepo {
				if err := os.WriteFile(file, append(js, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		w, ok := want[d.name]
		if !ok {
			t.Errorf("%s: no golden sum (new corpus document? rewrite with -enrich.golden)", d.name)
			continue
		}
		checked++
		if got != w {
			msg := ""
			if inRepo {
				msg = "; diff " + file + " against:\n" + string(js)
			}
			t.Errorf("%s: enrichment output changed: sha256 %s, want %s%s", d.name, got, w, msg)
		}
	}
	if *updateEnrichGolden {
		if err := os.WriteFile("testdata/golden/sums.txt", []byte(sums.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Logf("%d articles' enrichment identical to the golden output", checked)
}

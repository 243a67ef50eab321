// Command eval-extraction scores newsflow's cleaner, plain go-trafilatura and plain
// go-readability on an article-extraction benchmark folder (html/<id>.html.gz +
// ground-truth.json) with the benchmark's own metric (see pkg/clean/evalscore), and prints
// precision, recall, F1 and pages/s for each in one run; with -multilingual, also the snippet
// metric of a multilingual set (html/<stem>.html.gz + evaldata.json, see evalscore.Snippets).
//
//	go run ./cmd/eval-extraction -dir ../../shared/eval/extraction -multilingual ../../shared/eval/multilingual
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	trafilatura "github.com/markusmobius/go-trafilatura"
	"go.uber.org/zap"
	"golang.org/x/net/html"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/clean"
	"github.com/newsflow/newsflow/pkg/clean/evalscore"
)

type page struct {
	ID, URL, Truth string
	HTML           []byte
	With, Without  []string // snippets (multilingual set)
}

type extractor struct {
	name string
	run  func(p page) (string, error)
}

func main() {
	dir := flag.String("dir", "", "benchmark folder (default: ../shared/eval/extraction relative to the repo root)")
	out := flag.String("out", "", "write newsflow predictions as JSON {id: {articleBody}} to this file")
	split := flag.String("split", "all", "pages to score: all, even or odd (first byte of sha256(id))")
	verbose := flag.Bool("v", false, "print per-page F1 of the newsflow cleaner, worst first")
	only := flag.String("only", "", "comma-separated extractor names to run (newsflow,go-trafilatura,go-readability)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	multi := flag.String("multilingual", "", "also score the multilingual snippet set in this folder (html/*.html.gz + evaldata.json)")
	dump := flag.String("dump", "", "write each extractor's multilingual texts as JSON {file: text} to DIR/<extractor>.json (for loss analysis)")
	memprofile := flag.String("memprofile", "", "write an allocation profile of the run to this file (go tool pprof -sample_index=alloc_space)")
	flag.Parse()
	if *memprofile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			f, err := os.Create(*memprofile)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "eval-extraction:", err)
			}
		}()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "eval-extraction:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "eval-extraction:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*dir, *out, *split, *only, *multi, *dump, *verbose); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "eval-extraction:", err)
		os.Exit(1)
	}
}

func findDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			c := filepath.Join(d, "..", "shared", "eval", "extraction")
			if _, err := os.Stat(c); err == nil {
				return c, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no -dir given and ../shared/eval/extraction not found above a go.work")
		}
	}
}

func load(dir, split string) ([]page, error) {
	b, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		return nil, err
	}
	var gt map[string]struct {
		URL         string `json:"url"`
		ArticleBody string `json:"articleBody"`
	}
	if err := json.Unmarshal(b, &gt); err != nil {
		return nil, fmt.Errorf("ground-truth.json: %w", err)
	}
	var pages []page
	for id, v := range gt {
		if !inSplit(id, split) {
			continue
		}
		h, err := readGzip(filepath.Join(dir, "html", id+".html.gz"))
		if err != nil {
			return nil, err
		}
		pages = append(pages, page{ID: id, URL: v.URL, Truth: v.ArticleBody, HTML: h})
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].ID < pages[j].ID })
	return pages, nil
}

// inSplit assigns a page to the even or odd half by the first byte of sha256(id), so the
// halves are stable and independent of the benchmark's own ordering.
func inSplit(id, split string) bool {
	if split == "all" || split == "" {
		return true
	}
	h := sha256.Sum256([]byte(id))
	even := h[0]%2 == 0
	return (split == "even") == even
}

func run(dir, out, split, only, multi, dump string, verbose bool) error {
	if split != "all" && split != "even" && split != "odd" {
		return fmt.Errorf("-split must be all, even or odd, got %q", split)
	}
	if dir == "" {
		d, err := findDir()
		if err != nil {
			return err
		}
		dir = d
	}
	pages, err := load(dir, split)
	if err != nil {
		return err
	}
	if len(pages) == 0 {
		return fmt.Errorf("no pages in %s", dir)
	}
	cfg := clean.DefaultConfig()
	cl, err := clean.New(cfg, zap.NewNop(), nil)
	if err != nil {
		return err
	}
	exts := []extractor{
		{"newsflow", func(p page) (string, error) {
			c, err := cl.Clean(context.Background(), p.ID, &article.Raw{
				URL: p.URL, ContentType: "text/html", Body: string(p.HTML), FetchedAt: time.Now(),
				Source: article.Source{Domain: hostOf(p.URL)},
			})
			if err != nil {
				return "", err
			}
			return strings.Join(c.Paragraphs, "\n"), nil
		}},
		{"go-trafilatura", func(p page) (string, error) {
			u, _ := url.Parse(p.URL)
			r, err := trafilatura.Extract(bytes.NewReader(p.HTML), trafilatura.Options{OriginalURL: u, EnableFallback: true, ExcludeComments: true})
			if err != nil {
				return "", err
			}
			return r.ContentText, nil
		}},
		{"go-readability", func(p page) (string, error) {
			u, _ := url.Parse(p.URL)
			doc, err := html.Parse(bytes.NewReader(p.HTML))
			if err != nil {
				return "", err
			}
			a, err := readability.FromDocument(doc, u)
			if err != nil {
				return "", err
			}
			var sb strings.Builder
			if err := a.RenderText(&sb); err != nil {
				return "", err
			}
			return sb.String(), nil
		}},
	}
	if only != "" {
		want := map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			want[strings.TrimSpace(s)] = true
		}
		var kept []extractor
		for _, e := range exts {
			if want[e.name] {
				kept = append(kept, e)
			}
		}
		exts = kept
	}
	fmt.Printf("dir=%s split=%s pages=%d\n\n", dir, split, len(pages))
	fmt.Printf("%-16s %9s %9s %9s %9s %12s %7s\n", "extractor", "precision", "recall", "F1", "pages/s", "pages/cpu-s", "errors")
	for _, e := range exts {
		scores := make([]evalscore.Page, len(pages))
		preds := make(map[string]map[string]string, len(pages))
		nerr := 0
		runtime.GC()
		start, cpu0 := time.Now(), cpuTime()
		texts := make([]string, len(pages))
		for i, p := range pages {
			t, err := e.run(p)
			if err != nil {
				nerr++
			}
			texts[i] = t
		}
		el, cpuEl := time.Since(start), cpuTime()-cpu0
		for i, p := range pages {
			scores[i] = evalscore.ScorePage(p.Truth, texts[i])
			preds[p.ID] = map[string]string{"articleBody": texts[i]}
		}
		r := evalscore.Aggregate(scores)
		fmt.Printf("%-16s %9.4f %9.4f %9.4f %9.1f %12.1f %7d\n", e.name, r.Precision, r.Recall, r.F1,
			float64(len(pages))/el.Seconds(), float64(len(pages))/cpuEl.Seconds(), nerr)
		if e.name == "newsflow" {
			if verbose {
				idx := make([]int, len(pages))
				for i := range idx {
					idx[i] = i
				}
				sort.Slice(idx, func(a, b int) bool { return scores[idx[a]].F1() < scores[idx[b]].F1() })
				for _, i := range idx[:min(25, len(idx))] {
					s := scores[i]
					fmt.Printf("   %s P=%.3f R=%.3f F1=%.3f %s\n", pages[i].ID[:12], s.Precision(), s.Recall(), s.F1(), pages[i].URL)
				}
			}
			if out != "" {
				b, err := json.MarshalIndent(preds, "", " ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(out, b, 0o644); err != nil {
					return err
				}
			}
		}
	}
	if multi != "" {
		return scoreMultilingual(multi, dump, split, exts)
	}
	return nil
}

// cpuTime is the process's user+system CPU time: pages per CPU-second is "pages/s per core"
// and, unlike wall time, barely moves when other processes load the machine (it includes
// GC work done on other cores).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(p.Hostname()), "www.")
}

// scoreMultilingual runs every extractor over the multilingual snippet set in dir and prints
// the snippet metric (micro-averaged over all pages) and speed for each.
func scoreMultilingual(dir, dump, split string, exts []extractor) error {
	b, err := os.ReadFile(filepath.Join(dir, "evaldata.json"))
	if err != nil {
		return err
	}
	var data map[string]struct {
		File    string   `json:"file"`
		With    []string `json:"with"`
		Without []string `json:"without"`
	}
	if err := json.Unmarshal(b, &data); err != nil {
		return fmt.Errorf("evaldata.json: %w", err)
	}
	var pages []page
	for u, v := range data {
		if !inSplit(u, split) { // by URL: the file names all fall in the even half
			continue
		}
		h, err := readGzip(filepath.Join(dir, "html", v.File+".gz"))
		if err != nil {
			return err
		}
		pages = append(pages, page{ID: v.File, URL: u, HTML: h, With: v.With, Without: v.Without})
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].ID < pages[j].ID })
	fmt.Printf("\nmultilingual=%s split=%s pages=%d (snippet metric)\n\n", dir, split, len(pages))
	fmt.Printf("%-16s %9s %9s %9s %9s %9s %12s %7s\n", "extractor", "precision", "recall", "F1", "accuracy", "pages/s", "pages/cpu-s", "errors")
	for _, e := range exts {
		var total evalscore.Snippets
		nerr := 0
		texts := map[string]string{}
		runtime.GC()
		start, cpu0 := time.Now(), cpuTime()
		for _, p := range pages {
			t, err := e.run(p)
			if err != nil {
				nerr++
			}
			total = total.Add(evalscore.ScoreSnippets(t, p.With, p.Without))
			if dump != "" {
				texts[p.ID] = t
			}
		}
		el, cpuEl := time.Since(start), cpuTime()-cpu0
		if dump != "" {
			b, err := json.Marshal(texts)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dump, e.name+".json"), b, 0o644); err != nil {
				return err
			}
		}
		fmt.Printf("%-16s %9.4f %9.4f %9.4f %9.4f %9.1f %12.1f %7d\n", e.name, total.Precision(), total.Recall(), total.F1(),
			total.Accuracy(), float64(len(pages))/el.Seconds(), float64(len(pages))/cpuEl.Seconds(), nerr)
	}
	return nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

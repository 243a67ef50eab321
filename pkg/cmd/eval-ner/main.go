// Command eval-ner scores the embedded NER models (and, in the same run,
// github.com/jdkato/prose/v2 as a baseline) on EWT test, wikigold-dev and
// each available language's UNER test split and the held-out tail of each
// Europeana file (de, fr, nl): precision / recall / F1 per
// type and micro over PER, LOC, ORG (exact span match), plus words/s.
//
//	go run ./cmd/eval-ner -data ../../shared/ml -eval ../../shared/eval
//
// -quick limits every dataset to its first sentences (used by tests).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jdkato/prose/v2"
	"github.com/newsflow/newsflow/pkg/enrich/ner"
)

type dataset struct {
	name, path, lang string
}

func main() {
	data := flag.String("data", "../../shared/ml", "shared/ml directory")
	evalDir := flag.String("eval", "../../shared/eval", "shared/eval directory")
	modelDir := flag.String("model", "", "load models from this directory instead of the embedded ones")
	quick := flag.Int("quick", 0, "if > 0, only the first N sentences of each dataset")
	noProse := flag.Bool("no-prose", false, "skip the prose/v2 baseline")
	noCons := flag.Bool("no-consistency", false, "disable document-level consistency")
	only := flag.String("only", "", "comma-separated dataset names to run (default all); also offers the dev splits, which the embedded models were trained on (score them with -model DIR of a -with-dev=false training)")
	extra := flag.String("files", "", "comma-separated extra English CoNLL files to score (named by file)")
	flag.BoolVar(&dumpErrors, "errors", false, "print gold/predicted span mismatches to stderr")
	flag.Float64Var(&orgBias, "org-bias", 0, "add this to the English model's ORG emission scores before scoring (decoding-bias sweeps)")
	flag.BoolVar(&biasFirst, "bias-first", false, "with -org-bias: also bias the first pass of a stacked model")
	flag.Parse()
	log.SetFlags(0)
	sets := []dataset{
		{"en-ewt-test", filepath.Join(*data, "ner/en/en_ewt-test.iob2"), "en"},
		{"wikigold-dev", filepath.Join(*evalDir, "ner/wikigold-dev.conll"), "en"},
	}
	multi, _ := filepath.Glob(filepath.Join(*data, "ner/multi/*/*-test.iob2"))
	sort.Strings(multi)
	for _, p := range multi {
		b := filepath.Base(p)
		sets = append(sets, dataset{strings.TrimSuffix(b, ".iob2"), p, b[:2]})
	}
	// Europeana: the held-out tail of each file (train-ner never sees it)
	enp, _ := filepath.Glob(filepath.Join(*data, "ner/extra/europeana/*.bio"))
	sort.Strings(enp)
	for _, p := range enp {
		b := strings.TrimSuffix(filepath.Base(p), ".bio") // enp_DE.lft
		code := strings.TrimPrefix(b, "enp_")
		if len(code) < 2 {
			continue
		}
		lang := strings.ToLower(code[:2])
		sets = append(sets, dataset{b + "-tail10", p, lang})
	}
	if *extra != "" {
		for _, p := range strings.Split(*extra, ",") {
			sets = append(sets, dataset{filepath.Base(p), p, "en"})
		}
	}
	if *only != "" {
		// dev splits are for tuning; only run when asked for.
		sets = append(sets, dataset{"en-ewt-dev", filepath.Join(*data, "ner/en/en_ewt-dev.iob2"), "en"})
		devs, _ := filepath.Glob(filepath.Join(*data, "ner/multi/*/*-dev.iob2"))
		for _, p := range devs {
			b := filepath.Base(p)
			sets = append(sets, dataset{strings.TrimSuffix(b, ".iob2"), p, b[:2]})
		}
		keep := map[string]bool{}
		if *extra != "" {
			for _, p := range strings.Split(*extra, ",") {
				keep[filepath.Base(p)] = true
			}
		}
		for _, s := range strings.Split(*only, ",") {
			keep[s] = true
		}
		var f []dataset
		for _, s := range sets {
			if keep[s.name] {
				f = append(f, s)
			}
		}
		sets = f
	}
	if err := run(os.Stdout, sets, *modelDir, *quick, !*noProse, !*noCons); err != nil {
		log.Fatalf("eval-ner: %v", err)
	}
}

var (
	orgBias   float64
	biasFirst bool
	biased    = map[*ner.Model]bool{}
)

func loadModel(dir, lang string) (*ner.Model, error) {
	m, err := loadModelRaw(dir, lang)
	if err != nil || m == nil || orgBias == 0 || m.Lang != "en" || biased[m] {
		return m, err
	}
	biased[m] = true
	if err := m.AddTypeBias("ORG", float32(orgBias), biasFirst); err != nil {
		return nil, err
	}
	return m, nil
}

func loadModelRaw(dir, lang string) (*ner.Model, error) {
	if dir == "" {
		return ner.ForLanguage(lang), nil
	}
	name := "multi"
	if lang == "en" || lang == "zh" {
		name = lang
	}
	b, err := os.ReadFile(filepath.Join(dir, ner.ModelFile(name)))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ner.LoadModelBytes(b)
}

var mainTypes = []string{"PER", "LOC", "ORG"}

func run(w io.Writer, sets []dataset, modelDir string, quick int, withProse, cons bool) error {
	fmt.Fprintf(w, "%-28s %-8s %-5s %6s %6s %6s %6s\n", "dataset", "system", "type", "P", "R", "F1", "gold")
	var summary []string
	for _, ds := range sets {
		docs, err := ner.ReadCoNLLFile(ds.path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(ds.name, "-tail10") {
			_, tail := ner.SplitTail(docs, ner.HeldOutFraction)
			docs = []ner.Document{tail}
		}
		docs = limit(docs, quick)
		words := 0
		for _, d := range docs {
			for _, s := range d.Sentences {
				words += len(s.Words)
			}
		}
		if ds.lang == "zh" {
			// the character model tags Han characters; exact span match on
			// characters equals it on the gold words (entities are whole words);
			// words/s still counts the gold words
			for _, d := range docs {
				for i := range d.Sentences {
					d.Sentences[i].Words, d.Sentences[i].Tags = ner.SplitHan(d.Sentences[i].Words, d.Sentences[i].Tags)
				}
			}
		}
		m, err := loadModel(modelDir, ds.lang)
		if err != nil {
			return fmt.Errorf("load model for %s: %w", ds.name, err)
		}
		if m == nil {
			fmt.Fprintf(w, "%-28s %-8s no model for language %q\n", ds.name, "ours", ds.lang)
		} else {
			m.SetConsistency(cons)
			sc := ner.NewScorer()
			t0 := time.Now()
			for _, d := range docs {
				ws := make([][]string, len(d.Sentences))
				for i, s := range d.Sentences {
					ws[i] = s.Words
				}
				pred := m.TagDocument(ws)
				for i, s := range d.Sentences {
					g, p := ner.SpansFromTags(s.Tags), ner.SpansFromTags(pred[i])
					sc.Add(g, p)
					if dumpErrors {
						dump(s.Words, g, p)
					}
				}
			}
			tagWPS := float64(words) / time.Since(t0).Seconds()
			// end to end on raw text (tokenise + split + tag)
			t1 := time.Now()
			for _, d := range docs {
				m.Extract(docText(d, ds.lang))
			}
			extWPS := float64(words) / time.Since(t1).Seconds()
			f1 := report(w, ds.name, "ours", sc)
			if dumpErrors {
				fmt.Fprintf(os.Stderr, "== %s\n", ds.name)
				printMissKinds()
			}
			summary = append(summary, fmt.Sprintf("%-28s ours   F1 %.3f  %9.0f words/s tagging gold tokens, %9.0f words/s Extract on raw text (%d words)", ds.name, f1, tagWPS, extWPS, words))
		}
		if withProse && ds.lang == "en" {
			sc, wps, err := evalProse(docs, words)
			if err != nil {
				fmt.Fprintf(w, "%-28s %-8s error: %v\n", ds.name, "prose/v2", err)
				continue
			}
			f1 := report(w, ds.name, "prose/v2", sc)
			summary = append(summary, fmt.Sprintf("%-28s prose  F1 %.3f  %9.0f words/s (model loaded once)", ds.name, f1, wps))
		}
	}
	fmt.Fprintln(w)
	for _, s := range summary {
		fmt.Fprintln(w, s)
	}
	return nil
}

func limit(docs []ner.Document, n int) []ner.Document {
	if n <= 0 {
		return docs
	}
	var out []ner.Document
	for _, d := range docs {
		if n <= 0 {
			break
		}
		if len(d.Sentences) > n {
			d.Sentences = d.Sentences[:n]
		}
		n -= len(d.Sentences)
		out = append(out, d)
	}
	return out
}

// docText is d's raw text: words joined by spaces (Chinese: by nothing),
// sentences by blank lines.
func docText(d ner.Document, lang string) string {
	sep := " "
	if lang == "zh" {
		sep = ""
	}
	var b strings.Builder
	for _, s := range d.Sentences {
		b.WriteString(strings.Join(s.Words, sep))
		b.WriteString("\n\n")
	}
	return b.String()
}

func report(w io.Writer, name, sys string, sc *ner.Scorer) float64 {
	for _, t := range sc.Types() {
		c := sc.ByType[t]
		fmt.Fprintf(w, "%-28s %-8s %-5s %6.3f %6.3f %6.3f %6d\n", name, sys, t, c.P(), c.R(), c.F1(), c.TP+c.FN)
	}
	c := sc.Micro(mainTypes...)
	fmt.Fprintf(w, "%-28s %-8s %-5s %6.3f %6.3f %6.3f %6d\n", name, sys, "micro", c.P(), c.R(), c.F1(), c.TP+c.FN)
	return c.F1()
}

var proseModel *prose.Model

// evalProse runs prose/v2 sentence by sentence on the gold tokens joined by
// spaces and aligns its entities back to gold tokens by their characters.
func evalProse(docs []ner.Document, words int) (*ner.Scorer, float64, error) {
	if proseModel == nil {
		d, err := prose.NewDocument("Warm up.", prose.WithSegmentation(false))
		if err != nil {
			return nil, 0, err
		}
		proseModel = d.Model
	}
	sc := ner.NewScorer()
	t0 := time.Now()
	for _, d := range docs {
		for _, s := range d.Sentences {
			doc, err := prose.NewDocument(strings.Join(s.Words, " "), prose.WithSegmentation(false), prose.UsingModel(proseModel))
			if err != nil {
				return nil, 0, err
			}
			var pred []ner.TokenSpan
			used := make([]bool, len(s.Words))
			for _, e := range doc.Entities() {
				typ := mapProse(e.Label)
				if typ == "" {
					continue
				}
				if sp, ok := align(s.Words, used, e.Text); ok {
					sp.Type = typ
					pred = append(pred, sp)
				}
			}
			sc.Add(ner.SpansFromTags(s.Tags), pred)
		}
	}
	return sc, float64(words) / time.Since(t0).Seconds(), nil
}

func mapProse(l string) string {
	switch l {
	case "PERSON", "PER":
		return "PER"
	case "GPE", "LOC", "LOCATION":
		return "LOC"
	case "ORG", "ORGANIZATION":
		return "ORG"
	}
	return ""
}

// align finds the first unused token range whose characters (without
// spaces) equal text's.
func align(words []string, used []bool, text string) (ner.TokenSpan, bool) {
	target := strings.Join(strings.Fields(text), "")
	for i := range words {
		if used[i] {
			continue
		}
		acc := ""
		for j := i; j < len(words); j++ {
			acc += words[j]
			if acc == target {
				for k := i; k <= j; k++ {
					used[k] = true
				}
				return ner.TokenSpan{Start: i, End: j + 1}, true
			}
			if len(acc) >= len(target) || !strings.HasPrefix(target, acc) {
				break
			}
		}
	}
	return ner.TokenSpan{}, false
}

var dumpErrors bool

func dump(words []string, gold, pred []ner.TokenSpan) {
	in := func(x ner.TokenSpan, l []ner.TokenSpan) bool {
		for _, y := range l {
			if x == y {
				return true
			}
		}
		return false
	}
	txt := func(x ner.TokenSpan) string { return strings.Join(words[x.Start:x.End], " ") }
	for _, g := range gold {
		if !in(g, pred) && g.Type != "MISC" {
			kind := missKind(g, pred)
			missKinds[g.Type+" "+kind]++
			fmt.Fprintf(os.Stderr, "FN %s %s\t%s\t| %s\n", g.Type, kind, txt(g), strings.Join(words, " "))
		}
	}
	for _, p := range pred {
		if !in(p, gold) && p.Type != "MISC" {
			fmt.Fprintf(os.Stderr, "FP %s\t%s\n", p.Type, txt(p))
		}
	}
}

// missKinds counts gold spans missed (with -errors) by type and kind.
var missKinds = map[string]int{}

// missKind classifies a missed gold span: "type" (a predicted span with the
// same boundaries and another type), "boundary" (an overlapping predicted
// span of the same type), "overlap-type" (overlapping, another type) or
// "miss" (no overlapping prediction).
func missKind(g ner.TokenSpan, pred []ner.TokenSpan) string {
	kind := "miss"
	for _, p := range pred {
		if p.End <= g.Start || p.Start >= g.End {
			continue
		}
		switch {
		case p.Start == g.Start && p.End == g.End:
			return "type"
		case p.Type == g.Type:
			kind = "boundary"
		case kind == "miss":
			kind = "overlap-type"
		}
	}
	return kind
}

func printMissKinds() {
	if len(missKinds) == 0 {
		return
	}
	keys := make([]string, 0, len(missKinds))
	for k := range missKinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(os.Stderr, "missed %-22s %d\n", k, missKinds[k])
	}
	clear(missKinds)
}

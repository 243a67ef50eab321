// Command train-ner trains the named-entity models embedded by package
// enrich/ner from the shared training data:
//
//	go run ./cmd/train-ner -data ../../shared/ml -out enrich/ner/model
//
// It is deterministic for a given -seed and finishes in a few minutes on two
// cores. It writes <lang>.ner.gz files (weights plus the compiled gazetteer).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/enrich/ner"
)

func main() {
	data := flag.String("data", "../../shared/ml", "directory with ner/ and gazetteers/")
	out := flag.String("out", "enrich/ner/model", "output directory for model files")
	langs := flag.String("lang", "en,multi", "models to train (en, multi)")
	epochs := flag.Int("epochs", 0, "training epochs (0 = per-model default)")
	bits := flag.Uint("bits", 0, "feature hash bits (0 = per-model default)")
	seed := flag.Uint64("seed", 1, "shuffle seed")
	withDev := flag.Bool("with-dev", true, "also train on the dev splits (final models)")
	fileFlag := flag.String("files", "", "override training files: comma-separated globs relative to -data (one model)")
	flag.Parse()
	log.SetFlags(0)
	t0 := time.Now()
	gaz, notes, err := ner.CompileGazetteer(filepath.Join(*data, "gazetteers"))
	if err != nil {
		log.Fatalf("train-ner: gazetteer: %v", err)
	}
	for _, n := range notes {
		log.Printf("gazetteer %s", n)
	}
	log.Printf("gazetteer: %d keys in %v", gaz.Len(), time.Since(t0).Round(time.Millisecond))
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatalf("train-ner: %v", err)
	}
	for _, lang := range strings.Split(*langs, ",") {
		t1 := time.Now()
		files := trainFiles(*data, lang, *withDev)
		if *fileFlag != "" {
			files = nil
			for _, g := range strings.Split(*fileFlag, ",") {
				m, _ := filepath.Glob(filepath.Join(*data, g))
				files = append(files, m...)
			}
		}
		var sents []ner.Sentence
		for _, f := range files {
			docs, err := ner.ReadCoNLLFile(f)
			if err != nil {
				log.Fatalf("train-ner: %v", err)
			}
			n := 0
			for _, d := range docs {
				sents = append(sents, d.Sentences...)
				n += len(d.Sentences)
			}
			log.Printf("[%s] %s: %d sentences", lang, f, n)
		}
		if lang == "en" {
			// EWT marks OTH (incl. nationalities) as O; keep the English
			// label set consistent: MISC -> O, lone demonyms -> O.
			demonyms := 0
			for _, s := range sents {
				for i, t := range s.Tags {
					if strings.HasSuffix(t, "MISC") {
						s.Tags[i] = "O"
					}
				}
				for _, sp := range ner.SpansFromTags(s.Tags) {
					if sp.End-sp.Start == 1 {
						m := gaz.Lookup(s.Words[sp.Start])
						if m&(1<<ner.GazDemonym) != 0 && m&(1<<ner.GazCountry) == 0 {
							s.Tags[sp.Start] = "O"
							demonyms++
						}
					}
				}
			}
			log.Printf("[en] relabelled %d demonym spans as O", demonyms)
		}
		cfg := ner.TrainConfig{Lang: lang, Seed: *seed, Log: os.Stderr, Epochs: *epochs, Bits: *bits, MinWeight: 1}
		if lang != "en" {
			if cfg.Bits == 0 {
				cfg.Bits = 21
			}
			cfg.MinWeight = 2
		}
		m, err := ner.Train(sents, gaz, nil, cfg)
		if err != nil {
			log.Fatalf("train-ner: %v", err)
		}
		path := filepath.Join(*out, ner.ModelFile(lang))
		f, err := os.Create(path)
		if err != nil {
			log.Fatalf("train-ner: %v", err)
		}
		n, err := m.WriteTo(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			log.Fatalf("train-ner: write %s: %v", path, err)
		}
		log.Printf("[%s] wrote %s (%.1f MB) in %v", lang, path, float64(n)/1e6, time.Since(t1).Round(time.Second))
	}
	fmt.Printf("train-ner: done in %v\n", time.Since(t0).Round(time.Second))
}

func trainFiles(data, lang string, withDev bool) []string {
	var fs []string
	add := func(pattern string) {
		m, _ := filepath.Glob(filepath.Join(data, pattern))
		fs = append(fs, m...)
	}
	switch lang {
	case "en":
		add("ner/en/en_ewt-train.iob2")
		if withDev {
			add("ner/en/en_ewt-dev.iob2")
		}
		add("ner/extra/BTC/*.conll")
		add("ner/extra/SEC-filings/*.conll")
	case "multi":
		for _, l := range []string{"Portuguese-Bosque", "Croatian-SET", "Serbian-SET", "Danish-DDT", "Slovak-SNK", "Swedish-Talbanken"} {
			add("ner/multi/" + l + "/*-train.iob2")
			if withDev {
				add("ner/multi/" + l + "/*-dev.iob2")
			}
		}
		add("ner/extra/europeana/*.bio")
	}
	return fs
}

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
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/enrich/ner"
)

func main() {
	data := flag.String("data", "../../shared/ml", "directory with ner/ and gazetteers/")
	out := flag.String("out", "enrich/ner/model", "output directory for model files")
	langs := flag.String("lang", "en,multi,zh", "models to train (en, multi, zh)")
	epochs := flag.Int("epochs", 0, "training epochs (0 = per-model default)")
	bits := flag.Uint("bits", 0, "feature hash bits (0 = per-model default)")
	seed := flag.Uint64("seed", 1, "shuffle seed")
	withDev := flag.Bool("with-dev", true, "also train on the dev splits (final models)")
	fileFlag := flag.String("files", "", "override training files: comma-separated globs relative to -data (one model)")
	minFeat := flag.Int("min-feat-count", 0, "drop features seen fewer times in the training data")
	lowerAug := flag.Float64("lower-aug", 0, "en: fraction of training sentences added again lower-cased")
	upperAug := flag.Float64("upper-aug", 0, "en: fraction of training sentences added again upper-cased")
	shortCo := flag.Bool("short-companies", false, "en: add company short forms (Toyota Motor Corp -> Toyota) to the gazetteer")
	dropout := flag.Float64("dropout", 0, "en: feature dropout probability during training")
	margin := flag.Float64("margin", 0, "en: cost-augmented training margin (0 = plain perceptron)")
	orgWeight := flag.Float64("org-weight", 0, "en: scale perceptron updates on gold-ORG tokens (0 = unweighted)")
	ensemble := flag.Int("ensemble", 1, "en: average the weights of this many differently shuffled perceptrons")
	orgLex := flag.Bool("org-lex", false, "en: fold-wise company-lexicon feature from normalised SEC names")
	orgLexPlain := flag.Bool("org-lex-plain", false, "en: with -org-lex, no fold-wise hiding of names seen as ORG in training")
	orgLexStrict := flag.Bool("org-lex-strict", false, "en: with -org-lex, leave out single-word names that are common forenames, surnames or places, and forename+surname pairs")
	runGaz := flag.Bool("run-gaz", false, "en: exact-run and longest-match gazetteer features")
	stack := flag.Int("stack", 4, "en: train a two-pass (stacked) model with this many jackknife folds (0 = single pass)")
	clusters := flag.Bool("clusters", true, "derive word clusters from unlabelled text for the en model")
	clusterGlobs := flag.String("cluster-text", "ner/en/en_ewt-train.iob2,ner/extra/BTC/*,ner/extra/SEC-filings/*", "comma-separated globs (relative to -data) of files whose words feed the clusters")
	clusterMin := flag.Int("cluster-min", 6, "minimum word count for a cluster")
	lexPath := flag.String("lexicon", "", "en: spacy-lookups-data wheel for Brown-cluster and word-probability features (empty: fetch "+ner.SpacyLookupsFile+" into -cache; \"off\": none)")
	lexMin := flag.Float64("lexicon-min-logprob", -17.5, "en: keep lexicon words at least this probable (plus every word with a Brown cluster)")
	cacheDir := flag.String("cache", defaultCache(), "download cache for -lexicon")
	zhClusters := flag.Bool("zh-clusters", true, "zh: character clusters from the training text")
	hanKeys := flag.Bool("han-keys", true, "zh: organisation/place heads and person titles in the han gazetteer")
	hanGaz := flag.Bool("han-gaz", true, "zh: gazetteer of Han place, country and person names (else the Latin-script one)")
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
		var allDocs []ner.Document
		for _, f := range files {
			docs, err := ner.ReadCoNLLFile(f)
			if err != nil {
				log.Fatalf("train-ner: %v", err)
			}
			if filepath.Base(filepath.Dir(f)) == "europeana" {
				// the tail is eval-ner's test split for this language
				tr, _ := ner.SplitTail(docs, ner.HeldOutFraction)
				docs = []ner.Document{tr}
			}
			n := 0
			for _, d := range docs {
				sents = append(sents, d.Sentences...)
				n += len(d.Sentences)
				if strings.Contains(f, "BTC") {
					// tweets: no document structure, one document each
					for _, s := range d.Sentences {
						allDocs = append(allDocs, ner.Document{Sentences: []ner.Sentence{s}})
					}
				} else {
					allDocs = append(allDocs, d)
				}
			}
			log.Printf("[%s] %s: %d sentences", lang, f, n)
		}
		if lang == "zh" {
			// character model: one token per Han character
			for i := range sents {
				sents[i].Words, sents[i].Tags = ner.SplitHan(sents[i].Words, sents[i].Tags)
			}
			for _, d := range allDocs {
				for i := range d.Sentences {
					d.Sentences[i].Words, d.Sentences[i].Tags = ner.SplitHan(d.Sentences[i].Words, d.Sentences[i].Tags)
				}
			}
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
			sents = augmentCase(sents, *lowerAug, *upperAug, *seed)
		}
		cfg := ner.TrainConfig{Lang: lang, Seed: *seed, Log: os.Stderr, Epochs: *epochs, Bits: *bits, MinWeight: 1, MinFeatCount: *minFeat}
		if lang == "en" {
			cfg.Features = ner.FeatRunCats
			cfg.Ensemble = *ensemble
			cfg.Margin = float32(*margin)
			cfg.Dropout = float32(*dropout)
			cfg.OrgWeight = float32(*orgWeight)
			if *runGaz {
				cfg.Features |= ner.FeatRunGaz
			}
		} else {
			if cfg.Bits == 0 {
				cfg.Bits = 21
			}
			cfg.MinWeight = 2
			if lang == "zh" {
				cfg.Features = ner.FeatHanChars
				if cfg.Epochs == 0 {
					cfg.Epochs = 30 // small data: EWT-style 12 epochs underfit (dev 0.535 vs 0.568)
				}
			}
		}
		var clus map[string]uint16
		if lang == "zh" && *zhClusters {
			// character clusters from the training text: zh dev +2.2 F1 over seeds 1-3 (the
			// multi model gains nothing from word clusters of its text: +0.3, noise)
			t2 := time.Now()
			var text [][]string
			for _, s := range sents {
				text = append(text, s.Words)
			}
			clus = ner.BuildClusters(text, ner.ClusterConfig{Seed: *seed, MinCount: *clusterMin})
			log.Printf("[%s] clusters: %d words from %d training sentences in %v", lang, len(clus), len(text), time.Since(t2).Round(time.Millisecond))
		}
		if lang == "en" && *clusters {
			t2 := time.Now()
			text := unlabelled(*data, strings.Split(*clusterGlobs, ","), *withDev)
			clus = ner.BuildClusters(text, ner.ClusterConfig{Seed: *seed, MinCount: *clusterMin})
			log.Printf("[en] clusters: %d words from %d unlabelled sentences in %v", len(clus), len(text), time.Since(t2).Round(time.Millisecond))
		}
		g := gaz
		if lang == "zh" && *hanGaz {
			var notes []string
			g, notes, err = ner.CompileHanGazetteer(filepath.Join(*data, "gazetteers"))
			if err != nil {
				log.Fatalf("train-ner: han gazetteer: %v", err)
			}
			if *hanKeys {
				g.AddHanKeywords()
			}
			log.Printf("[zh] han gazetteer: %d keys (%s)", g.Len(), strings.Join(notes, "; "))
		}
		if lang == "en" {
			// English keywords: a second compile keeps the multi gazetteer as is
			g, _, err = ner.CompileGazetteer(filepath.Join(*data, "gazetteers"))
			if err != nil {
				log.Fatalf("train-ner: gazetteer: %v", err)
			}
			g.AddKeywords()
			if *shortCo {
				// a word seen lower-cased in running text is too common to
				// stand for a company on its own
				lowerSeen := map[string]int{}
				for _, ws := range unlabelled(*data, strings.Split(*clusterGlobs, ","), *withDev) {
					for _, w := range ws {
						if w != "" && w == strings.ToLower(w) {
							lowerSeen[w]++
						}
					}
				}
				n, err := g.AddCompanyStems(filepath.Join(*data, "gazetteers"), func(w string) bool { return lowerSeen[w] > 0 })
				if err != nil {
					log.Fatalf("train-ner: company short forms: %v", err)
				}
				log.Printf("[en] %d company short forms", n)
			}
		}
		if lang == "en" && *orgLex {
			// a single word seen lower-cased in running text is too common
			// to stand for a company on its own
			lowerSeen := map[string]int{}
			for _, ws := range unlabelled(*data, strings.Split(*clusterGlobs, ","), *withDev) {
				for _, w := range ws {
					if w != "" && w == strings.ToLower(w) {
						lowerSeen[w]++
					}
				}
			}
			person := func(w string, bits uint16) bool { return g.Lookup(w)&bits != 0 }
			const firstBits, nameBits = 1<<ner.GazFirst | 1<<ner.GazFirstRare, 1<<ner.GazFirst | 1<<ner.GazSurname | 1<<ner.GazCountry | 1<<ner.GazCityBig | 1<<ner.GazCity | 1<<ner.GazRegion
			ol, err := ner.BuildOrgLex(filepath.Join(*data, "gazetteers"), func(ws []string) bool {
				if len(ws) == 1 {
					return lowerSeen[ws[0]] > 0 || (*orgLexStrict && person(ws[0], nameBits))
				}
				// "John Wiley": a forename then a surname reads as a person
				return *orgLexStrict && len(ws) == 2 && person(ws[0], firstBits) && person(ws[1], 1<<ner.GazSurname|1<<ner.GazSurnameRare)
			})
			if err != nil {
				log.Fatalf("train-ner: %v", err)
			}
			log.Printf("[en] org lexicon: %d keys", ol.Len())
			cfg.OrgLex = ol
			cfg.OrgLexPlain = *orgLexPlain
			cfg.Features |= ner.FeatOrgLex
		}
		if lang == "en" && *lexPath != "off" {
			p := *lexPath
			if p == "" {
				p, err = fetchPinned(*cacheDir, ner.SpacyLookupsURL, ner.SpacyLookupsFile, ner.SpacyLookupsSHA256)
				if err != nil {
					log.Fatalf("train-ner: lexicon: %v", err)
				}
			} else if err := checkSHA256(p, ner.SpacyLookupsSHA256); err != nil {
				log.Printf("train-ner: warning: lexicon is not the pinned wheel, the model will differ: %v", err)
			}
			t2 := time.Now()
			lex, err := ner.ReadSpacyLookups(p, *lexMin)
			if err != nil {
				log.Fatalf("train-ner: %v", err)
			}
			log.Printf("[en] word lexicon: %d words from %s in %v", lex.Len(), filepath.Base(p), time.Since(t2).Round(time.Millisecond))
			cfg.Lexicon = lex
			cfg.Features |= ner.FeatLexicon
		}
		var m *ner.Model
		if lang == "en" && *stack > 1 {
			// documents share the sentences' tag slices, so the relabelling
			// above applies (case augmentation does not)
			m, err = ner.TrainStacked(allDocs, g, clus, cfg, *stack)
		} else {
			m, err = ner.Train(sents, g, clus, cfg)
		}
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
	case "zh":
		add("ner/multi/Chinese-GSDSIMP/*-train.iob2")
		if withDev {
			add("ner/multi/Chinese-GSDSIMP/*-dev.iob2")
		}
	}
	return fs
}

// unlabelled returns the tokenised sentences used to derive word clusters:
// the words (not the labels) of the files matching globs (by default the
// English training files; clusters from all languages' text scored lower on
// EWT dev) and the text in ../corpus. Test splits and ../eval are never read;
// dev splits only when withDev (final models).
func unlabelled(data string, globs []string, withDev bool) [][]string {
	var files []string
	for _, g := range globs {
		m, _ := filepath.Glob(filepath.Join(data, g))
		files = append(files, m...)
	}
	if withDev {
		files = append(files, filepath.Join(data, "ner/en/en_ewt-dev.iob2"))
	}
	var out [][]string
	for _, f := range files {
		b := filepath.Base(f)
		if ext := filepath.Ext(b); strings.Contains(b, "-test.") || (ext != ".conll" && ext != ".bio" && ext != ".iob2") {
			continue
		}
		docs, err := ner.ReadCoNLLFile(f)
		if err != nil {
			log.Printf("unlabelled: skip %s: %v", f, err)
			continue
		}
		for _, d := range docs {
			for _, s := range d.Sentences {
				out = append(out, s.Words)
			}
		}
	}
	txt, _ := filepath.Glob(filepath.Join(data, "..", "corpus", "*.txt"))
	for _, f := range txt {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		toks := ner.Tokenize(s)
		for _, sent := range ner.Sentences(s, toks) {
			w := make([]string, len(sent))
			for i, t := range sent {
				w[i] = t.Text
			}
			out = append(out, w)
		}
	}
	return out
}

// augmentCase appends lower-cased copies of a fraction lower and upper-cased
// copies of a fraction upper of the sentences (deterministic for a seed),
// so the model sees names without their capitals (web text, headlines).
func augmentCase(sents []ner.Sentence, lower, upper float64, seed uint64) []ner.Sentence {
	if lower <= 0 && upper <= 0 {
		return sents
	}
	rng := rand.New(rand.NewPCG(seed, 0xca5e))
	n := len(sents)
	for i := 0; i < n; i++ {
		s := sents[i]
		for _, a := range []struct {
			p  float64
			fn func(string) string
		}{{lower, strings.ToLower}, {upper, strings.ToUpper}} {
			if rng.Float64() >= a.p {
				continue
			}
			w := make([]string, len(s.Words))
			for j, x := range s.Words {
				w[j] = a.fn(x)
			}
			sents = append(sents, ner.Sentence{Words: w, Tags: s.Tags})
		}
	}
	log.Printf("[en] case augmentation: %d sentences added", len(sents)-n)
	return sents
}

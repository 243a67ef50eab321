package ner

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// updateGolden: with -ner.golden TestFeaturizerGolden prints the values
// to paste into featureGolden after a deliberate feature change.
var updateGolden = flag.Bool("ner.golden", false, "print the featurizer golden hashes instead of checking them")

// sharedDir is ../shared relative to the repository root.
const sharedDir = "../../../../shared"

// equivCorpus is one fixed set of tokenised documents.
type equivCorpus struct {
	name string
	docs [][][]string // documents → sentences → words
	sum  string       // sha256 of the source file(s), to tell data changes from code changes
}

// featureGolden holds, per corpus and model, the sha256 of the featurizer's
// complete output (every token's hashed features, in order). A refactor of
// features.go must leave these unchanged; a deliberate feature change
// updates them (go test -run TestFeaturizerGolden -ner.golden).
var featureGolden = map[string]string{
	"testdata/en":                                                  "cc084b39cb33b17e4606b2703adadd8dcd8a3b14200b8bd7b8439ceabe7a41ee",
	"testdata/en.first":                                            "c887ab3515ad5bdff4a9c2b0e6a8f5a22281718db3dcf0989c2948bcb123c2c5",
	"testdata/multi":                                               "1fa8fd05ffe2ccf41d576df473cae3898cafd01bf882f436f3f9bef71f4cee54",
	"testdata/zh":                                                  "561a861520481a1a8d7b1d958b1d8dde4889126e9c054e3ee6997871bc75384b",
	"eval/ner/wikigold-dev.conll/en":                               "a31fd7f6ea6f960bae8e5dbb44c073b9b473f605b35960b6a3eae4e1af53617c",
	"eval/ner/wikigold-dev.conll/en.first":                         "83bc605d324c8db371952f41b0ad04c6b8af0c0132e956eb97f1ee03728e38bb",
	"eval/ner/wikigold-dev.conll/multi":                            "328ec73268dd3682155ec19bc5fc70e00208a8fe346b9300f771f9e076da21d1",
	"eval/ner/wikigold-dev.conll/zh":                               "75ddfc2e369f26d3081276c34a874b40e0e9822303091b649621896096440285",
	"ml/ner/en/en_ewt-dev.iob2/en":                                 "31a78289132157c6ace0ebbf2ccb0550de73c8e1b9193283d8632a0231354e73",
	"ml/ner/en/en_ewt-dev.iob2/en.first":                           "044264dc7428d35b5979141bdc68aa6b10d156e8eb684817845a630ffc1e7e1f",
	"ml/ner/en/en_ewt-dev.iob2/multi":                              "41fd4b04076c3293b934ef3a33e4169917656f65af0d9ef711c59ac1cb4a2c00",
	"ml/ner/en/en_ewt-dev.iob2/zh":                                 "02412451d11756a714a1a0b64e5bf84a43bac4c1f6b68cd09a32a87a3adee20c",
	"ml/ner/multi/Chinese-GSDSIMP/zh_gsdsimp-ud-dev.iob2/en":       "97840274c19e000ba103edeed3309155aebae0dad8d8a868827ade18075a09bb",
	"ml/ner/multi/Chinese-GSDSIMP/zh_gsdsimp-ud-dev.iob2/en.first": "cbaf62e218327c22c3a0b5cb4ef238385e182dad2ff5f14543c21f1b4ee9d2d8",
	"ml/ner/multi/Chinese-GSDSIMP/zh_gsdsimp-ud-dev.iob2/multi":    "ac1190416e18fd37313a58814de0206108ac0f8eec223a42bb5fc3a41d7af80d",
	"ml/ner/multi/Chinese-GSDSIMP/zh_gsdsimp-ud-dev.iob2/zh":       "3bb4e8d1f7d9c42fdb29c28998e3fde0861b1596e0cfb1cbfabda0fbf126806e",
}

// corpusSums pins the source data each golden entry was computed from.
var corpusSums = map[string]string{
	"testdata":                    "6c0f7440581777fbce4b6be81ab8a45e2de8c1efd2d7b97b8137a49686c9e072",
	"eval/ner/wikigold-dev.conll": "8e2057b3801546e8c274fb7cced3985e6c00f5994a8c1389df537f6e41521303",
	"ml/ner/en/en_ewt-dev.iob2":   "0cafd881cf31d39897b6d588420fab8fbbe4423d271725c59921ac9dd49c0713",
	"ml/ner/multi/Chinese-GSDSIMP/zh_gsdsimp-ud-dev.iob2": "8aeab3ac662468e258a65f887844c50cee8311cb080b60a421ff7aa8a05e8032",
}

// inRepoCorpus tokenises the enrich testdata articles into sentences.
func inRepoCorpus(t *testing.T) equivCorpus {
	t.Helper()
	paths, err := filepath.Glob("../testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("in-repo corpus: %v (%d files)", err, len(paths))
	}
	sort.Strings(paths)
	c := equivCorpus{name: "testdata"}
	h := sha256.New()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
		var doc [][]string
		var cur []string
		for _, tk := range Tokenize(string(b)) {
			if tk.Text == "\n" {
				continue
			}
			cur = append(cur, tk.Text)
			if tk.Text == "." || tk.Text == "!" || tk.Text == "?" {
				doc = append(doc, cur)
				cur = nil
			}
		}
		if len(cur) > 0 {
			doc = append(doc, cur)
		}
		// a Han-split copy exercises the character model's tokens too
		han := make([][]string, len(doc))
		for i, s := range doc {
			han[i], _ = SplitHan(s, nil)
		}
		c.docs = append(c.docs, doc, han)
	}
	c.sum = hex.EncodeToString(h.Sum(nil))
	return c
}

// sharedCorpora reads the NER evaluation data under ../shared when present;
// in CI its absence is a failure.
func sharedCorpora(t *testing.T) []equivCorpus {
	t.Helper()
	files := []string{
		"eval/ner/wikigold-dev.conll",
		"ml/ner/en/en_ewt-dev.iob2",
		"ml/ner/multi/Chinese-GSDSIMP/zh_gsdsimp-ud-dev.iob2",
	}
	var out []equivCorpus
	for _, f := range files {
		p := filepath.Join(sharedDir, f)
		b, err := os.ReadFile(p)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("shared NER data missing in CI: %v", err)
			}
			t.Logf("shared NER data not available, in-repo corpus only: %v", err)
			return nil
		}
		docs, err := ReadCoNLL(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		sum := sha256.Sum256(b)
		c := equivCorpus{name: f, sum: hex.EncodeToString(sum[:])}
		for _, d := range docs {
			var doc [][]string
			for _, s := range d.Sentences {
				doc = append(doc, s.Words)
			}
			c.docs = append(c.docs, doc)
		}
		out = append(out, c)
	}
	return out
}

// hashFeatures writes sentence i's features (count, then each) into h.
func hashFeatures(h hash.Hash, f *featurizer, n int) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	h.Write(b[:])
	for i := 0; i < n; i++ {
		fs := f.feats[f.off[i]:f.off[i+1]]
		binary.LittleEndian.PutUint32(b[:], uint32(len(fs)))
		h.Write(b[:])
		for _, x := range fs {
			binary.LittleEndian.PutUint32(b[:], x)
			h.Write(b[:])
		}
	}
}

// featureDigest featurizes every sentence of c with m's feature templates
// (for a stacked model, the second pass sees the document features computed
// from its first pass's labels, as in tagDoc) and returns the digest.
func featureDigest(m *Model, c equivCorpus) string {
	h := sha256.New()
	ws := m.ws()
	defer m.pool.Put(ws)
	for _, doc := range c.docs {
		var ex []docExtra
		if m.first != nil {
			labs := make([][]int, len(doc))
			fws := m.first.ws()
			for i, s := range doc {
				labs[i] = make([]int, len(s))
				m.first.tagInto(fws, s, labs[i], nil)
			}
			m.first.pool.Put(fws)
			ex = docFeatures(doc, labs)
		}
		for i, s := range doc {
			if len(s) == 0 {
				continue
			}
			if ex != nil {
				ws.f.extra, ws.f.extraOff = ex[i].h, ex[i].off
			}
			ws.f.extract(s)
			hashFeatures(h, &ws.f, len(s))
		}
		ws.f.extra, ws.f.extraOff = nil, nil
	}
	return hex.EncodeToString(h.Sum(nil))
}

// shippedModels returns the embedded models and, for stacked ones, their
// first passes.
func shippedModels(t *testing.T) map[string]*Model {
	t.Helper()
	ms := map[string]*Model{}
	for _, lang := range []string{"en", "multi", "zh"} {
		m := ForLanguage(lang)
		if m == nil {
			t.Fatalf("no embedded %s model", lang)
		}
		ms[lang] = m
		if m.first != nil {
			ms[lang+".first"] = m.first
		}
	}
	return ms
}

// TestFeaturizerGolden proves that the featurizer's output over a fixed
// corpus is unchanged, for the feature templates of every shipped model.
func TestFeaturizerGolden(t *testing.T) {
	corpora := append([]equivCorpus{inRepoCorpus(t)}, sharedCorpora(t)...)
	ms := shippedModels(t)
	names := make([]string, 0, len(ms))
	for n := range ms {
		names = append(names, n)
	}
	sort.Strings(names)
	var dump strings.Builder
	for _, c := range corpora {
		if *updateGolden {
			dump.WriteString("\t\"" + c.name + "\": \"" + c.sum + "\",\n")
		} else if want := corpusSums[c.name]; want != c.sum {
			t.Fatalf("corpus %s changed (sha256 %s, golden computed from %s): recompute the golden hashes with -ner.golden on the commit before yours", c.name, c.sum, want)
		}
		for _, n := range names {
			key := c.name + "/" + n
			got := featureDigest(ms[n], c)
			if *updateGolden {
				dump.WriteString("\t\"" + key + "\": \"" + got + "\",\n")
				continue
			}
			if want := featureGolden[key]; got != want {
				t.Errorf("%s: featurizer output changed: sha256 %s, want %s", key, got, want)
			}
		}
	}
	if *updateGolden {
		t.Logf("golden values:\n%s", dump.String())
	}
}

// TestShippedModelRoundTrip proves that WriteTo(ReadModel(file)) gives back
// every shipped model file byte for byte, and that reading it again gives
// the same bytes.
func TestShippedModelRoundTrip(t *testing.T) {
	langs := []string{"en", "multi", "zh"}
	if testing.Short() || raceEnabled {
		// zh alone: the others take minutes to gzip at BestCompression
		// under -race; run without -race to check them
		langs = []string{"zh"}
	}
	for _, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			orig, err := modelFS.ReadFile("model/" + ModelFile(lang))
			if err != nil {
				t.Fatal(err)
			}
			m, err := LoadModelBytes(orig)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			n, err := m.WriteTo(&b)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(b.Len()) {
				t.Errorf("WriteTo reported %d bytes, wrote %d", n, b.Len())
			}
			if !bytes.Equal(b.Bytes(), orig) {
				t.Fatalf("re-encoded model differs from the shipped file (%d vs %d bytes)", b.Len(), len(orig))
			}
			m2, err := LoadModelBytes(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			var b2 bytes.Buffer
			if _, err := m2.WriteTo(&b2); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b2.Bytes(), orig) {
				t.Fatal("second round trip differs")
			}
		})
	}
}

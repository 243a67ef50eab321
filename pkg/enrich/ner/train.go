package ner

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// TrainConfig configures Train.
type TrainConfig struct {
	Lang   string // model language tag
	Bits   uint   // feature hash bits (table rows = 1<<Bits); default 22
	Epochs int    // passes over the data; default 12
	Seed   uint64 // shuffling seed; default 1
	// Features selects optional feature templates (stored in the model).
	Features FeatureSet
	// Margin > 0 trains with cost-augmented decoding (each wrong label's
	// score raised by Margin), a large-margin perceptron variant.
	Margin float32
	// Dropout is the probability that a feature occurrence is hidden from
	// one training visit of its sentence (0 = none).
	Dropout float32
	// OrgWeight scales the perceptron update for tokens whose gold label is
	// ORG (class-weighted updates; 0 or 1 = unweighted).
	OrgWeight float32
	// Ensemble averages the weights of this many perceptrons trained with
	// different shuffling seeds (0 or 1 = one).
	Ensemble int
	// MinFeatCount drops features seen fewer times in the training data
	// (0 or 1 = keep all).
	MinFeatCount int
	// MinWeight prunes quantised weights with smaller magnitude (0 = keep all).
	MinWeight int
	// OrgLex is the company lexicon for FeatOrgLex (ignored without it).
	OrgLex *OrgLex
	// OrgLexFolds is the number of folds for the fold-wise lexicon feature
	// (default 4). Sentences are assigned to folds by document in
	// TrainStacked and by blocks of 20 sentences in Train.
	OrgLexFolds int
	// OrgLexPlain computes the lexicon feature from the whole lexicon in
	// training and tagging alike (no fold-wise hiding; for comparison).
	OrgLexPlain bool
	// Lexicon is the word lexicon for FeatLexicon (required with it).
	Lexicon *WordLexicon
	Log     io.Writer // progress (may be nil)
	// sentFold assigns training sentences to lexicon folds (nil: blocks).
	sentFold []int
}

func (c *TrainConfig) defaults() {
	if c.Bits == 0 {
		c.Bits = 22
	}
	if c.Epochs == 0 {
		c.Epochs = 12
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Lang == "" {
		c.Lang = "en"
	}
}

// Validate checks the configuration.
func (c TrainConfig) Validate() error {
	if c.Bits < 16 || c.Bits > 26 {
		return fmt.Errorf("ner: train: Bits %d out of range [16,26]", c.Bits)
	}
	if c.Epochs < 1 {
		return fmt.Errorf("ner: train: Epochs %d < 1", c.Epochs)
	}
	return nil
}

type trainSent struct {
	feats []uint32
	off   []int32
	gold  []int
}

// Train fits a model on the labelled sentences with a structured averaged
// perceptron. It is deterministic for a given config and input order.
func Train(sents []Sentence, gaz *Gazetteer, clus map[string]uint16, cfg TrainConfig) (*Model, error) {
	return train(sents, nil, gaz, clus, cfg)
}

// train is Train with optional extra per-sentence features (stacking).
func train(sents []Sentence, extra []docExtra, gaz *Gazetteer, clus map[string]uint16, cfg TrainConfig) (*Model, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logf := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format, a...)
		}
	}
	var olex *OrgLex
	var seen map[uint64]uint16
	foldOf := func(i int) int {
		if cfg.sentFold != nil {
			return cfg.sentFold[i]
		}
		return (i / 20) % max(cfg.OrgLexFolds, 2)
	}
	var lex *WordLexicon
	if cfg.Features&FeatLexicon != 0 {
		if cfg.Lexicon == nil {
			return nil, fmt.Errorf("ner: train: FeatLexicon without Lexicon")
		}
		lex = cfg.Lexicon
	}
	if cfg.Features&FeatOrgLex != 0 {
		if cfg.OrgLex == nil {
			return nil, fmt.Errorf("ner: train: FeatOrgLex without OrgLex")
		}
		if cfg.OrgLexPlain {
			olex = cfg.OrgLex
		} else {
			seen = orgSeen(sents, foldOf)
			olex = cfg.OrgLex.without(seen)
		}
	}
	// featurise in parallel (deterministic: each sentence independent)
	data := make([]trainSent, len(sents))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			f := featurizer{bits: cfg.Bits, gaz: gaz, clus: clus, lex: lex, set: cfg.Features}
			for i := w; i < len(sents); i += workers {
				s := sents[i]
				if extra != nil {
					f.extra, f.extraOff = extra[i].h, extra[i].off
				}
				if olex != nil {
					f.olex = orgLexView{lex: cfg.OrgLex, seen: seen, fold: foldOf(i)}
				}
				f.extract(s.Words)
				ts := trainSent{feats: append([]uint32(nil), f.feats...), off: make([]int32, len(f.off)), gold: make([]int, len(s.Words))}
				for j, o := range f.off {
					ts.off[j] = int32(o)
				}
				for j, t := range s.Tags {
					ts.gold[j] = labelIndex(t)
				}
				data[i] = ts
			}
		}(w)
	}
	wg.Wait()
	rows := 1 << cfg.Bits
	if cfg.MinFeatCount > 1 {
		cnt := make([]uint8, rows)
		for i := range data {
			for _, r := range data[i].feats {
				if cnt[r] < 255 {
					cnt[r]++
				}
			}
		}
		dropped := 0
		for i := range data {
			d := &data[i]
			out := d.feats[:0]
			var o int32
			for t := 0; t+1 < len(d.off); t++ {
				s, e := d.off[t], d.off[t+1]
				d.off[t] = o
				for _, r := range d.feats[s:e] {
					if int(cnt[r]) >= cfg.MinFeatCount {
						out = append(out, r)
						o++
					} else {
						dropped++
					}
				}
			}
			d.off[len(d.off)-1] = o
			d.feats = out
		}
		logf("dropped %d rare feature occurrences\n", dropped)
	}
	// Ensemble members differ only in shuffling; they run in parallel and
	// their averaged weights are averaged again (a cheap, deterministic
	// variance reduction: same model size and tagging speed).
	k := max(cfg.Ensemble, 1)
	res := make([]perceptronResult, k)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var pwg sync.WaitGroup
	for e := 0; e < k; e++ {
		pwg.Add(1)
		sem <- struct{}{}
		go func(e int) {
			defer pwg.Done()
			defer func() { <-sem }()
			lf := logf
			if e > 0 {
				lf = func(string, ...any) {}
			}
			res[e] = perceptron(data, rows, cfg.Epochs, cfg.Seed+uint64(e)*7919, cfg.Margin, cfg.Dropout, cfg.OrgWeight, lf)
		}(e)
	}
	pwg.Wait()
	avg := res[0].avg
	for e := 1; e < k; e++ {
		for i, v := range res[e].avg {
			avg[i] += v
		}
	}
	m := &Model{Lang: cfg.Lang, bits: cfg.Bits, gaz: gaz, clus: clus, feats: cfg.Features, olex: olex, lex: lex, consistency: true}
	var maxAbs float64
	for i := range avg {
		avg[i] /= float32(k)
		maxAbs = max(maxAbs, math.Abs(float64(avg[i])))
	}
	for a := range m.trans {
		for b := range m.trans[a] {
			var t float64
			for e := range res {
				t += res[e].trans[a][b]
			}
			m.trans[a][b] = float32(t / float64(k))
		}
		var st float64
		for e := range res {
			st += res[e].start[a]
		}
		m.start[a] = float32(st / float64(k))
	}
	res = nil
	if maxAbs == 0 {
		maxAbs = 1
	}
	m.scale = float32(maxAbs / 32000)
	var keep []uint32
	var w16 []int16
	for r := 0; r < rows; r++ {
		var q [numLabels]int16
		nz := false
		for l := 0; l < numLabels; l++ {
			v := int16(math.Round(float64(avg[r*numLabels+l]) / float64(m.scale)))
			if int(v) > -cfg.MinWeight-1 && int(v) < cfg.MinWeight+1 && cfg.MinWeight > 0 {
				v = 0
			}
			q[l] = v
			if v != 0 {
				nz = true
			}
		}
		if nz {
			keep = append(keep, uint32(r))
			w16 = append(w16, q[:]...)
		}
	}
	m.w = w16
	m.buildTable(keep)
	logf("model: %d non-zero rows of %d, scale %.3g\n", len(keep), rows, m.scale)
	return m, nil
}

// perceptronResult is one averaged-perceptron run.
type perceptronResult struct {
	avg   []float32
	trans [numLabels][numLabels]float64
	start [numLabels]float64
}

// perceptron runs the structured averaged perceptron over data with one
// shuffling seed.
func perceptron(data []trainSent, rows, epochs int, seed uint64, margin, dropout, orgWeight float32, logf func(string, ...any)) perceptronResult {
	W := make([]float32, rows*numLabels)
	U := make([]float64, rows*numLabels)
	var T, TU [numLabels][numLabels]float64
	var S, SU [numLabels]float64
	var tf [numLabels][numLabels]float32
	var sf [numLabels]float32
	c := 1.0
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	var emit []float32
	var back []int8
	score := make([]float32, 2*numLabels)
	var pred []int
	var tmp trainSent
	drng := rand.New(rand.NewPCG(seed^0xd509, seed))
	for ep := 0; ep < epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		errs, toks := 0, 0
		for _, si := range order {
			d := &data[si]
			n := len(d.gold)
			if n == 0 {
				continue
			}
			if dropout > 0 {
				// feature dropout: this visit sees a random subset
				tmp.feats, tmp.off = tmp.feats[:0], append(tmp.off[:0], 0)
				for i := 0; i < n; i++ {
					for _, r := range d.feats[d.off[i]:d.off[i+1]] {
						if drng.Float32() >= dropout {
							tmp.feats = append(tmp.feats, r)
						}
					}
					tmp.off = append(tmp.off, int32(len(tmp.feats)))
				}
				tmp.gold = d.gold
				d = &tmp
			}
			for a := range tf {
				for b := range tf[a] {
					tf[a][b] = float32(T[a][b])
				}
				sf[a] = float32(S[a])
			}
			if cap(emit) < n*numLabels {
				emit = make([]float32, n*numLabels)
				back = make([]int8, n*numLabels)
				pred = make([]int, n)
			}
			emit, back, pred = emit[:n*numLabels], back[:n*numLabels], pred[:n]
			for i := 0; i < n; i++ {
				var acc [numLabels]float32
				for _, r := range d.feats[d.off[i]:d.off[i+1]] {
					wv := W[int(r)*numLabels : int(r)*numLabels+numLabels]
					for l := range acc {
						acc[l] += wv[l]
					}
				}
				if margin > 0 {
					// cost-augmented decoding: wrong labels get a head
					// start, so updates continue until gold wins by a margin
					for l := range acc {
						if l != d.gold[i] {
							acc[l] += margin
						}
					}
				}
				copy(emit[i*numLabels:], acc[:])
			}
			viterbi(emit, n, &tf, &sf, back, score, pred)
			toks += n
			for i := 0; i < n; i++ {
				g, p := d.gold[i], pred[i]
				if g != p {
					errs++
					wt := float32(1)
					if orgWeight > 0 && (g == lBORG || g == lIORG) {
						wt = orgWeight
					}
					wc := c * float64(wt)
					for _, r := range d.feats[d.off[i]:d.off[i+1]] {
						W[int(r)*numLabels+g] += wt
						W[int(r)*numLabels+p] -= wt
						U[int(r)*numLabels+g] += wc
						U[int(r)*numLabels+p] -= wc
					}
				}
				gp, pp := lO, lO
				if i > 0 {
					gp, pp = d.gold[i-1], pred[i-1]
				}
				if g != p || gp != pp {
					if i == 0 {
						S[g]++
						S[p]--
						SU[g] += c
						SU[p] -= c
					} else {
						T[gp][g]++
						T[pp][p]--
						TU[gp][g] += c
						TU[pp][p] -= c
					}
				}
			}
			c++
		}
		logf("epoch %d: token error rate %.4f\n", ep+1, float64(errs)/float64(max(toks, 1)))
	}
	var res perceptronResult
	res.avg = make([]float32, len(W))
	for i := range W {
		res.avg[i] = float32(float64(W[i]) - U[i]/c)
	}
	for a := range T {
		for b := range T[a] {
			res.trans[a][b] = T[a][b] - TU[a][b]/c
		}
		res.start[a] = S[a] - SU[a]/c
	}
	return res
}

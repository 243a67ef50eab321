package ner

import (
	"math"
	"math/rand/v2"
	"sort"
)

// ClusterConfig configures BuildClusters.
type ClusterConfig struct {
	MinCount     int    // words seen fewer times get no cluster; default 3
	ContextWords int    // most frequent words used as context dimensions; default 500
	Branch       int    // clusters per split; default 16 (codes use 4 bits per level)
	Iters        int    // k-means iterations per split; default 10
	Seed         uint64 // k-means++ seeding; default 1
}

func (c *ClusterConfig) defaults() {
	if c.MinCount <= 0 {
		c.MinCount = 3
	}
	if c.ContextWords <= 0 {
		c.ContextWords = 500
	}
	if c.Branch <= 1 || c.Branch > 16 {
		c.Branch = 16
	}
	if c.Iters <= 0 {
		c.Iters = 10
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// BuildClusters derives distributional word clusters from unlabelled,
// tokenised sentences: each lower-cased word with at least MinCount
// occurrences is represented by its (log-count, L2-normalised) left and right
// neighbours at distance one and two among the ContextWords most frequent
// words, and words are grouped by three levels of spherical k-means (Branch
// clusters per level). The code of a word is level1<<8 | level2<<4 | level3,
// so code>>8 and code>>4 are coarser clusters. The result is deterministic for
// a given input and config. It is a cheap stand-in for Brown clustering: a
// few seconds on a million tokens.
func BuildClusters(sents [][]string, cfg ClusterConfig) map[string]uint16 {
	cfg.defaults()
	counts := map[string]int{}
	lsents := make([][]string, len(sents))
	for i, s := range sents {
		ls := make([]string, len(s))
		for j, w := range s {
			ls[j] = lowerASCIIFast(w)
			counts[ls[j]]++
		}
		lsents[i] = ls
	}
	words := make([]string, 0, len(counts))
	for w, c := range counts {
		if c >= cfg.MinCount {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool {
		if counts[words[i]] != counts[words[j]] {
			return counts[words[i]] > counts[words[j]]
		}
		return words[i] < words[j]
	})
	if len(words) == 0 {
		return nil
	}
	D := min(cfg.ContextWords, len(words))
	ctx := make(map[string]int, D)
	for i := 0; i < D; i++ {
		ctx[words[i]] = i
	}
	vid := make(map[string]int, len(words))
	for i, w := range words {
		vid[w] = i
	}
	dims := 4 * (D + 2) // left1, right1, left2, right2; +2 for sentence boundary and "other"
	acc := make([]map[int32]float32, len(words))
	for i := range acc {
		acc[i] = map[int32]float32{}
	}
	cidx := func(ls []string, j int) int {
		if j < 0 || j >= len(ls) {
			return D
		}
		if c, ok := ctx[ls[j]]; ok {
			return c
		}
		return D + 1
	}
	for _, ls := range lsents {
		for j, w := range ls {
			v, ok := vid[w]
			if !ok {
				continue
			}
			a := acc[v]
			a[int32(cidx(ls, j-1))]++
			a[int32((D+2)+cidx(ls, j+1))]++
			a[int32(2*(D+2)+cidx(ls, j-2))] += 0.5
			a[int32(3*(D+2)+cidx(ls, j+2))] += 0.5
		}
	}
	type sparse struct {
		idx []int32
		val []float32
	}
	vecs := make([]sparse, len(words))
	for i, a := range acc {
		var sv sparse
		for k := range a {
			sv.idx = append(sv.idx, k)
		}
		sort.Slice(sv.idx, func(x, y int) bool { return sv.idx[x] < sv.idx[y] })
		var norm float64
		for _, k := range sv.idx {
			v := float32(math.Log1p(float64(a[k])))
			sv.val = append(sv.val, v)
			norm += float64(v) * float64(v)
		}
		if norm > 0 {
			inv := float32(1 / math.Sqrt(norm))
			for j := range sv.val {
				sv.val[j] *= inv
			}
		}
		vecs[i] = sv
	}
	acc = nil
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x2545F4914F6CDD1D))
	dot := func(s sparse, c []float32) float32 {
		var d float32
		for j, k := range s.idx {
			d += s.val[j] * c[k]
		}
		return d
	}
	// kmeans splits items into at most k groups (spherical k-means with
	// k-means++ seeding) and returns each item's group.
	kmeans := func(items []int, k int) []int {
		asg := make([]int, len(items))
		if k <= 1 || len(items) <= k {
			for i := range asg {
				asg[i] = i % max(k, 1)
			}
			return asg
		}
		cents := make([][]float32, 0, k)
		addCent := func(it int) {
			c := make([]float32, dims)
			s := vecs[it]
			for j, x := range s.idx {
				c[x] = s.val[j]
			}
			cents = append(cents, c)
		}
		addCent(items[rng.IntN(len(items))])
		dist := make([]float64, len(items))
		for i := range dist {
			dist[i] = math.Inf(1)
		}
		for len(cents) < k {
			c := cents[len(cents)-1]
			var tot float64
			for i, it := range items {
				d := math.Max(0, 1-float64(dot(vecs[it], c)))
				dist[i] = math.Min(dist[i], d)
				tot += dist[i] * dist[i]
			}
			if tot == 0 {
				break
			}
			r := rng.Float64() * tot
			pick := len(items) - 1
			for i := range items {
				r -= dist[i] * dist[i]
				if r <= 0 {
					pick = i
					break
				}
			}
			addCent(items[pick])
		}
		k = len(cents)
		for it := 0; it < cfg.Iters; it++ {
			changed := 0
			for i, x := range items {
				best, arg := float32(-2), 0
				for c := range cents {
					if d := dot(vecs[x], cents[c]); d > best {
						best, arg = d, c
					}
				}
				if asg[i] != arg || it == 0 {
					changed++
				}
				asg[i] = arg
			}
			if changed == 0 {
				break
			}
			for c := range cents {
				clear(cents[c])
			}
			for i, x := range items {
				c := cents[asg[i]]
				s := vecs[x]
				for j, d := range s.idx {
					c[d] += s.val[j]
				}
			}
			for _, c := range cents {
				var n float64
				for _, v := range c {
					n += float64(v) * float64(v)
				}
				if n > 0 {
					inv := float32(1 / math.Sqrt(n))
					for j := range c {
						c[j] *= inv
					}
				}
			}
		}
		return asg
	}
	out := make(map[string]uint16, len(words))
	var split func(items []int, level int, code uint16)
	split = func(items []int, level int, code uint16) {
		if level == 3 {
			for _, it := range items {
				out[words[it]] = code
			}
			return
		}
		k := cfg.Branch
		if level > 0 {
			k = min(k, len(items)/8)
		}
		asg := kmeans(items, k)
		groups := make([][]int, cfg.Branch)
		for i, it := range items {
			groups[asg[i]] = append(groups[asg[i]], it)
		}
		shift := uint(8 - 4*level)
		for g, gi := range groups {
			if len(gi) > 0 {
				split(gi, level+1, code|uint16(g)<<shift)
			}
		}
	}
	all := make([]int, len(words))
	for i := range all {
		all[i] = i
	}
	split(all, 0, 0)
	return out
}

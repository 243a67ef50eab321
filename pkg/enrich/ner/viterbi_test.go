package ner

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// viterbiFull is viterbi scoring every predecessor of every label (the
// version before I-X labels skipped the predecessors IOB2 forbids).
func viterbiFull(emit []float32, n int, trans *[numLabels][numLabels]float32, start *[numLabels]float32, back []int8, score []float32, out []int) {
	if n == 0 {
		return
	}
	cur := score[:numLabels]
	nxt := score[numLabels : 2*numLabels]
	for l := 0; l < numLabels; l++ {
		if allowed(lO, l) {
			cur[l] = start[l] + emit[l]
		} else {
			cur[l] = negInf
		}
	}
	var tr [numLabels][numLabels]float32
	for p := 0; p < numLabels; p++ {
		for l := 0; l < numLabels; l++ {
			if allowed(p, l) {
				tr[l][p] = trans[p][l]
			} else {
				tr[l][p] = negInf
			}
		}
	}
	for i := 1; i < n; i++ {
		e := emit[i*numLabels : i*numLabels+numLabels]
		for l := 0; l < numLabels; l++ {
			best, arg := negInf, 0
			t := &tr[l]
			for p := 0; p < numLabels; p++ {
				if s := cur[p] + t[p]; s > best {
					best, arg = s, p
				}
			}
			nxt[l] = best + e[l]
			back[i*numLabels+l] = int8(arg)
		}
		cur, nxt = nxt, cur
	}
	best, arg := negInf, 0
	for l := 0; l < numLabels; l++ {
		if cur[l] > best {
			best, arg = cur[l], l
		}
	}
	out[n-1] = arg
	for i := n - 1; i > 0; i-- {
		arg = int(back[i*numLabels+arg])
		out[i-1] = arg
	}
}

// checkViterbiSame fails t unless viterbi and viterbiFull decode emit alike
// (labels, back pointers and final scores).
func checkViterbiSame(t *testing.T, emit []float32, n int, trans *[numLabels][numLabels]float32, start *[numLabels]float32) {
	t.Helper()
	b1, b2 := make([]int8, n*numLabels), make([]int8, n*numLabels)
	s1, s2 := make([]float32, 2*numLabels), make([]float32, 2*numLabels)
	o1, o2 := make([]int, n), make([]int, n)
	viterbi(emit, n, trans, start, b1, s1, o1)
	viterbiFull(emit, n, trans, start, b2, s2, o2)
	if !reflect.DeepEqual(o1, o2) || !reflect.DeepEqual(b1, b2) || !reflect.DeepEqual(s1, s2) {
		t.Fatalf("viterbi %v, scoring every predecessor %v", o1, o2)
	}
}

// FuzzViterbiSkipsForbidden proves that skipping the predecessors IOB2
// forbids decodes exactly as scoring them all, with ties (small integer
// scores) and the shipped models' transitions.
func FuzzViterbiSkipsForbidden(f *testing.F) {
	f.Add(uint64(1), uint8(5), uint8(3), false)
	f.Add(uint64(2), uint8(40), uint8(1), true)
	f.Add(uint64(3), uint8(1), uint8(0), true)
	en := Default()
	f.Fuzz(func(t *testing.T, seed uint64, n, spread uint8, shipped bool) {
		r := rand.New(rand.NewPCG(seed, 7))
		k := int(n%64) + 1
		sp := float32(spread%8) + 1
		emit := make([]float32, k*numLabels)
		for i := range emit {
			emit[i] = float32(r.IntN(int(2*sp+1))) - sp
		}
		var trans [numLabels][numLabels]float32
		var start [numLabels]float32
		if shipped {
			trans, start = en.trans, en.start
		} else {
			for a := range trans {
				for b := range trans[a] {
					trans[a][b] = float32(r.IntN(3)) - 1
				}
				start[a] = float32(r.IntN(3)) - 1
			}
		}
		checkViterbiSame(t, emit, k, &trans, &start)
	})
}

// BenchmarkViterbi decodes a 30-token sentence with the English model's
// transitions; /full scores every predecessor.
func BenchmarkViterbi(b *testing.B) {
	en := Default()
	r := rand.New(rand.NewPCG(1, 2))
	n := 30
	emit := make([]float32, n*numLabels)
	for i := range emit {
		emit[i] = r.Float32()*8 - 4
	}
	back, score, out := make([]int8, n*numLabels), make([]float32, 2*numLabels), make([]int, n)
	for _, c := range []struct {
		name string
		fn   func([]float32, int, *[numLabels][numLabels]float32, *[numLabels]float32, []int8, []float32, []int)
	}{{"skip", viterbi}, {"full", viterbiFull}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.fn(emit, n, &en.trans, &en.start, back, score, out)
			}
		})
	}
}

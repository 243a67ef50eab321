package clean

import (
	"strings"
	"testing"
)

// simHashOracle is SimHash as it was before simHashNorm: strings.Fields over normLine.
func simHashOracle(text string) uint64 {
	words := strings.Fields(normLine(text))
	if len(words) == 0 {
		return 0
	}
	var v [64]int32
	add := func(x uint64) {
		for i := 0; i < 64; i++ {
			v[i] += int32(x>>uint(i)&1)*2 - 1
		}
	}
	if len(words) < 3 {
		add(fnv64a(fnvOffset, strings.Join(words, " ")))
	}
	for i := 0; i+3 <= len(words); i++ {
		h := fnv64a(fnvOffset, words[i])
		h = fnv64a(h, " ")
		h = fnv64a(h, words[i+1])
		h = fnv64a(h, " ")
		add(fnv64a(h, words[i+2]))
	}
	var out uint64
	for i := 0; i < 64; i++ {
		if v[i] > 0 {
			out |= 1 << uint(i)
		}
	}
	return out
}

var simHashSeeds = []string{"", " ", "one", "one two", "one two three", "  One,  two; THREE four  ", "a\n\nb c\td",
	"Ünïcödé wörds 123 and 4,5", "漢字 かな カナ", "x y", "x y z w v u", "\u00a0a\u2003b\u3000c d", "\xff\xfe bad utf8 \xc3",
	"word\u0301 with mark", "-- -- --", "0 0 0 0"}

// TestSimHashMatchesOracle: simHashNorm gives the old SimHash on the seeds and on the text of
// every shared eval page and farm page (TestCleanOutputUnchanged covers the cleaner's texts).
func TestSimHashMatchesOracle(t *testing.T) {
	texts := append([]string{}, simHashSeeds...)
	if !testing.Short() {
		for _, d := range append(sharedEvalDocs(t), farmDocs(t)[:40]...) {
			texts = append(texts, d.raw.Body)
		}
	}
	for _, s := range texts {
		if got, want := SimHash(s), simHashOracle(s); got != want {
			t.Fatalf("SimHash(%.60q) = %016x, oracle %016x", s, got, want)
		}
	}
}

func FuzzSimHashMatchesOracle(f *testing.F) {
	for _, s := range simHashSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := SimHash(s), simHashOracle(s); got != want {
			t.Fatalf("SimHash(%q) = %016x, oracle %016x", s, got, want)
		}
		if strings.TrimSpace(s) == "" && SimHash(s) != 0 {
			t.Fatalf("SimHash of blank %q not 0", s)
		}
	})
}

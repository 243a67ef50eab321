package dates

import (
	"regexp"
	"strings"
	"testing"
)

// futureCue is the expression hasFutureCue replaces (the oracle).
var futureCue = regexp.MustCompile(`(?i)\b(will|would|shall|scheduled|schedule|planned|plans?|expected|due|upcoming|next|set to|going to|to be held|to meet|to speak)\b`)

var cueSeeds = []string{"", "will", "He WILL come", "xwill", "willx", "will_", "_will", "plan", "plans", "plansx", "planſ", "planſx",
	"ſhall", "xſhall", "ſhall x", "\u212anext", "set to", "set  to", "SET TO", "going to meet", "to be held", "to be", "dUe.", "9due9",
	"über will", "\xffwill\xff", "will\u00e9", "Ɑnext", "the schedule's", "is scheduled", "expected", "upcoming", "to speak"}

// TestHasFutureCueMatchesRegexp compares hasFutureCue with futureCue.MatchString on every cue
// under case changes, the ſ/K folds and every byte (and ſ, K, é) before and after it, and on
// the sentences of the testdata.
func TestHasFutureCueMatchesRegexp(t *testing.T) {
	texts := append([]string(nil), cueSeeds...)
	edges := []string{"", "\u017f", "\u212a", "\u00e9"}
	for b := 0; b < 256; b++ {
		edges = append(edges, string([]byte{byte(b)}))
	}
	for _, cue := range futureCues {
		forms := []string{cue, strings.ToUpper(cue), strings.ReplaceAll(cue, "s", "\u017f"), strings.ReplaceAll(cue, "k", "\u212a")}
		for _, f := range forms {
			for _, a := range edges {
				texts = append(texts, a+f, f+a, a+f+a)
			}
		}
	}
	for _, tx := range texts {
		if got, want := hasFutureCue(tx), futureCue.MatchString(tx); got != want {
			t.Errorf("hasFutureCue(%q) = %v, want %v", tx, got, want)
		}
	}
}

func FuzzHasFutureCue(f *testing.F) {
	for _, s := range cueSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasFutureCue(s), futureCue.MatchString(s); got != want {
			t.Fatalf("hasFutureCue(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkFutureCue(b *testing.B) {
	s := "Officials said on Monday that the ministers met in Brussels to discuss the budget and the talks"
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			futureCue.MatchString(s)
		}
	})
	b.Run("hasFutureCue", func(b *testing.B) {
		for b.Loop() {
			hasFutureCue(s)
		}
	})
}

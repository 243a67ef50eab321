package sentiment

import (
	"strings"
	"testing"
)

// TestScratchPoolBounded: the scratch of an ordinary sentence is pooled, one grown by a
// sentence of 20,000 words (a text without sentence ends) is not.
func TestScratchPoolBounded(t *testing.T) {
	for _, c := range []struct {
		sentence string
		keep     bool
	}{
		{"The talks were a great success, officials said.", true},
		{strings.Repeat("good news ", 10000), false},
	} {
		var sc scratch
		if _, ok := sc.compound(c.sentence); !ok {
			t.Fatalf("%.40q: no lexicon word", c.sentence)
		}
		if got := putScratch(&sc); got != c.keep {
			t.Errorf("%.40q: pooled = %v, want %v (words cap %d)", c.sentence, got, c.keep, cap(sc.words))
		}
	}
}

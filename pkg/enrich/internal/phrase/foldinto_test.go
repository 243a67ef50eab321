package phrase

import (
	"slices"
	"testing"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

// TestFoldIntoReuses checks that FoldInto gives Fold's tokens whatever dst held, and writes
// into dst's storage when it is large enough.
func TestFoldIntoReuses(t *testing.T) {
	toks := textutil.Tokenize("Zelenskyy’s  Kyïv talks, U.S. and NATO")
	want := Fold(toks)
	dirty := []string{"x", "y", "z", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	for _, dst := range [][]string{nil, dirty[:0], dirty[:3], dirty[:1:1]} {
		got := FoldInto(dst, toks)
		if !slices.Equal(got, want) {
			t.Fatalf("FoldInto(%q) = %q, want %q", dst, got, want)
		}
		if cap(dst) >= len(toks) && &got[0] != &dst[:1][0] {
			t.Errorf("FoldInto allocated despite a large enough dst (cap %d)", cap(dst))
		}
	}
}

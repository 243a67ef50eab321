package evalscore

import (
	"math"
	"testing"
)

func TestTokens(t *testing.T) {
	got := Tokens("Café—naïve x_y, 42% 日本語!")
	want := []string{"Café", "naïve", "x_y", "42", "日本語"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		name        string
		truth, pred string
		p, r        float64
	}{
		{"perfect", "a b c d e", "a b c d e", 1, 1},
		{"both empty", "", "", 1, 1},
		{"empty prediction", "a b c d e", "", 0, 0},
		{"short texts are one shingle", "a b", "a b", 1, 1},
		{"extra text", "a b c d e", "a b c d e f g", 2.0 / 4, 1},
		{"missing text", "a b c d e f g", "a b c d e", 1, 2.0 / 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ScorePage(tc.truth, tc.pred)
			if math.Abs(p.Precision()-tc.p) > 1e-9 || math.Abs(p.Recall()-tc.r) > 1e-9 {
				t.Errorf("P=%v R=%v, want %v %v", p.Precision(), p.Recall(), tc.p, tc.r)
			}
		})
	}
	agg := Aggregate([]Page{ScorePage("a b c d e", "a b c d e"), ScorePage("a b c d e f g", "a b c d e")})
	if math.Abs(agg.Precision-1) > 1e-9 || math.Abs(agg.Recall-0.75) > 1e-9 || math.Abs(agg.F1-2*0.75/1.75) > 1e-9 {
		t.Errorf("aggregate %+v", agg)
	}
}

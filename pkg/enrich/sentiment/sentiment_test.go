package sentiment

import (
	"strings"
	"testing"
)

func TestCompound(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		min, max float64
	}{
		{"positive", "The talks were a great success.", 0.5, 1},
		{"negative", "The attack killed dozens and destroyed the hospital.", -1, -0.5},
		{"negation flips", "The talks were not a success.", -1, -0.1},
		{"booster raises", "The result was very good.", 0.45, 1},
		{"neutral", "The meeting is on Thursday.", 0, 0},
		{"but weights the second clause", "The plan is good but the execution was terrible.", -1, -0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := Compound(tt.in)
			if c < tt.min || c > tt.max {
				t.Fatalf("Compound(%q) = %.3f, want in [%.2f, %.2f]", tt.in, c, tt.min, tt.max)
			}
		})
	}
	g, _ := Compound("The result was good.")
	vg, _ := Compound("The result was very good.")
	if vg <= g {
		t.Errorf("booster: very good %.3f <= good %.3f", vg, g)
	}
}

func TestScoreEmpty(t *testing.T) {
	if s, n := Score(""); s != 0 || n != 0 {
		t.Fatalf("Score(\"\") = %v, %d", s, n)
	}
}

func FuzzShouted(f *testing.F) {
	for _, s := range []string{"NATO", "Nato", "nato", "U.S.", "123", "", "ΑΘΗΝΑ", "ß", "\xff", "ǅ", "İSTANBUL", "ﬁ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		if got, want := shouted(w), strings.ToUpper(w) == w && strings.ToLower(w) != w; got != want {
			t.Fatalf("shouted(%q) = %v, want %v", w, got, want)
		}
	})
}

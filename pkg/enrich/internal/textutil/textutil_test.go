package textutil

import (
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Zelenskyy’s  Kyïv": "zelenskyy's kyiv", "Dmitriy PESKOV": "dmitriy peskov", "Straße": "strasse",
		"Łódź": "lodz", "  ": "", "Москва": "москва",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"U.S. President Biden's call.", []string{"U.S.", "President", "Biden", "'s", "call", "."}},
		{"Zelensky’s “support”", []string{"Zelensky", "’s", "“", "support", "”"}},
		{"don't stop", []string{"do", "n't", "stop"}},
		{"AT&T paid $1,000.50 to Mr. Smith", []string{"AT&T", "paid", "$", "1,000.50", "to", "Mr.", "Smith"}},
		{"ThursdayThe official", []string{"ThursdayThe", "official"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			toks := Tokenize(tt.in)
			if len(toks) != len(tt.want) {
				t.Fatalf("got %+v", toks)
			}
			for i, tk := range toks {
				if tk.Text != tt.want[i] || tt.in[tk.Start:tk.End] != tk.Text {
					t.Fatalf("token %d = %+v, want %q", i, tk, tt.want[i])
				}
			}
		})
	}
}

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"blinken", "blinkin", 1}, {"", "abc", 3}, {"peskov", "peskov", 0}, {"kitten", "sitting", 3}} {
		if got := Levenshtein(c.a, c.b); got != c.d {
			t.Errorf("Levenshtein(%q,%q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("héllo", 2); got != "h" {
		t.Errorf("Truncate cut inside a rune: %q", got)
	}
}

func FuzzFoldFastPath(f *testing.F) {
	for _, s := range []string{"Kyiv", "U.S.", "two words", "", " ", "a\tb", "Zelenskyy’s  Kyïv", "\v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ascii(s) {
			return // the fast path is for ASCII only
		}
		if want, got := strings.Join(strings.Fields(strings.ToLower(s)), " "), Fold(s); got != want {
			t.Fatalf("Fold(%q) = %q, want %q", s, got, want)
		}
	})
}

package phrase

import (
	"testing"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

func TestFindAll(t *testing.T) {
	b := NewBuilder()
	b.Add("New York", 1)
	b.Add("New York Times", 2)
	b.Add("NATO", 3)
	b.Add("Côte d'Ivoire", 4)
	m := b.Build()
	tests := []struct {
		name, text string
		want       []int
	}{
		{"longest wins", "He reads the New York Times daily", []int{2}},
		{"shorter", "She lives in New York.", []int{1}},
		{"all-caps alias needs caps", "Nato and NATO", []int{3}},
		{"lower case not matched", "new york", nil},
		{"diacritics folded", "in Cote d'Ivoire", []int{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks := textutil.Tokenize(tt.text)
			got := m.FindAll(toks)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want ids %v", got, tt.want)
			}
			for i, g := range got {
				if g.IDs[0] != tt.want[i] {
					t.Fatalf("got %+v, want ids %v", got, tt.want)
				}
				folded := m.FindAllFolded(toks, Fold(toks))
				if len(folded) != len(got) || folded[i].Start != g.Start {
					t.Fatalf("FindAllFolded differs: %+v vs %+v", folded, got)
				}
			}
		})
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"U.S. President Joe Biden's", "\xff\xfe", "’s", "a.b.c.", "日本語のテキスト", "x'", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		last := 0
		for _, tk := range textutil.Tokenize(s) {
			if tk.Start < last || tk.End <= tk.Start || tk.End > len(s) || s[tk.Start:tk.End] != tk.Text {
				t.Fatalf("bad token %+v in %q", tk, s)
			}
			last = tk.End
		}
		Key(s)
	})
}

package alert

import (
	"fmt"
	"testing"

	"github.com/newsflow/newsflow/pkg/article"
)

func TestRepresentativeArticles(t *testing.T) {
	art := func(id, title string) article.AlertArticle { return article.AlertArticle{ID: id, Title: title} }
	// Newest first, as topArticles collects them: the newest are off-topic or one-offs, the
	// burst's main story is told by most articles, a second story by a few.
	cands := []article.AlertArticle{
		art("n1", "Acme stock ticker: daily market wrap"),
		art("n2", "Weather: rain expected on Thursday across Acme county"),
		art("m1", "Acme recalls two million cars over brake defect"),
		art("m2", "Acme recalls cars over brake defect, regulator says"),
		art("m3", "Brake defect: Acme recalls two million cars"),
		art("s1", "Acme shares fall after car recall announcement"),
		art("m4", "Acme to recall two million cars over brake defect"),
		art("s2", "Acme shares fall sharply after recall"),
	}
	tests := []struct {
		name string
		n    int
		want []string
	}{
		{name: "main story first, then a distinct one", n: 2, want: []string{"m1", "s2"}},
		{name: "one per story before repeats", n: 3, want: []string{"m1", "s2", "n1"}},
		{name: "n larger than the candidates", n: 20, want: nil},
		{name: "none asked", n: 0, want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := representative(cands, tc.n)
			ids := []string{}
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if tc.want == nil {
				if len(got) != len(cands) {
					t.Fatalf("got %d articles, want all %d", len(got), len(cands))
				}
				return
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
		})
	}
}

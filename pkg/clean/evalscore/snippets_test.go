package evalscore

import "testing"

func TestScoreSnippets(t *testing.T) {
	tests := []struct {
		name          string
		text          string
		with, without []string
		want          Snippets
	}{
		{name: "whitespace collapsed on both sides", text: "Der  Bundestag\nhat   beschlossen.",
			with: []string{"Bundestag hat", "hat\tbeschlossen"}, want: Snippets{TP: 2}},
		{name: "missed and leaked", text: "Article body. Share on Facebook",
			with: []string{"Article body", "second paragraph"}, without: []string{"Share on Facebook", "Cookie banner"},
			want: Snippets{TP: 1, FN: 1, FP: 1, TN: 1}},
		{name: "empty extraction", text: "", with: []string{"x"}, without: []string{"y"}, want: Snippets{FN: 1, TN: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ScoreSnippets(tc.text, tc.with, tc.without); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	s := Snippets{TP: 8, FP: 2, FN: 2, TN: 8}
	if s.Precision() != 0.8 || s.Recall() != 0.8 || s.F1() < 0.7999 || s.F1() > 0.8001 || s.Accuracy() != 0.8 {
		t.Fatalf("metrics of %+v: %v %v %v %v", s, s.Precision(), s.Recall(), s.F1(), s.Accuracy())
	}
}

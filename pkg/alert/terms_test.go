package alert

import (
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

func TestExtractTerms(t *testing.T) {
	e := &article.Enriched{}
	e.Title = "Acme and the Interest-Rate question"
	e.Text = "The FED met today."
	e.Source = article.Source{Name: "Reuters", Tags: []string{"Finance"}}
	e.Language = "en"
	e.Entities = []article.Entity{
		{Type: "ORG", Name: "Acme Corp", Normalized: "acme corp"},
		{Type: "org", Name: "ACME Corp.", Normalized: "Acme  Corp"}, // same key after normalising
		{Type: "PERSON", Name: "Jane Doe", Normalized: "jane doe"},  // unknown type → MISC
		{Type: "LOC", Name: "Paris"},                                // no Normalized → from Name
	}
	e.Keywords = []article.Keyword{{Term: "Rate Cut"}, {Term: ""}}
	watch := func(r Rule) *watchMatcher { r = r.WithDefaults(); return compileWatch(&r) }
	ws := []*watchMatcher{
		watch(Rule{ID: "fed", Type: RuleWatch, Terms: []string{"fed"}}),
		watch(Rule{ID: "fedx", Type: RuleWatch, Terms: []string{"fe"}}), // whole words only
		watch(Rule{ID: "rates", Type: RuleWatch, Phrases: []string{"interest-rate"}, Sources: []string{"reuters"}, Tags: []string{"finance"}}),
		watch(Rule{ID: "de-only", Type: RuleWatch, Terms: []string{"fed"}, Languages: []string{"de"}}),
		watch(Rule{ID: "acme", Type: RuleWatch, Entities: []string{"Acme Corp"}}),
	}
	got := map[string]string{}
	for _, tm := range ExtractTerms(nil, e, ws) {
		if _, dup := got[tm.Key]; dup {
			t.Fatalf("duplicate term %s", tm.Key)
		}
		got[tm.Key] = tm.Kind
	}
	want := map[string]string{"ORG:acme corp": "ORG", "MISC:jane doe": "MISC", "LOC:paris": "LOC",
		"keyword:rate cut": "keyword", "watch:fed": "watch", "watch:rates": "watch", "watch:acme": "watch"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestEventTime(t *testing.T) {
	a := &Alerter{cfg: Config{}.WithDefaults()}
	fetched := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name      string
		published *time.Time
		want      time.Time
	}{
		{"plausible published date", ptr(fetched.Add(-20 * time.Minute)), fetched.Add(-20 * time.Minute)},
		{"no published date", nil, fetched},
		{"published after fetch", ptr(fetched.Add(time.Hour)), fetched},
		{"published long before fetch (backfill)", ptr(fetched.Add(-48 * time.Hour)), fetched},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &article.Enriched{}
			e.FetchedAt, e.PublishedAt = fetched, tc.published
			if got := a.eventTime(e); !got.Equal(tc.want) {
				t.Fatalf("got %s want %s", got, tc.want)
			}
		})
	}
}

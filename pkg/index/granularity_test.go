package index

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

func TestArticleIndexGranularity(t *testing.T) {
	n := Names{Prefix: "p"}
	day := 24 * time.Hour
	fetched := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(pub time.Time) *article.Enriched {
		return &article.Enriched{Clean: article.Clean{PublishedAt: &pub, FetchedAt: fetched}}
	}
	undated := &article.Enriched{Clean: article.Clean{FetchedAt: fetched}}
	tests := []struct {
		name         string
		e            *article.Enriched
		archiveAfter time.Duration
		want         string
	}{
		{"fresh item: its month", at(fetched.Add(-2 * day)), DefaultArchiveAfter, "p-articles-2026.11"},
		{"just inside the cutoff: its month", at(fetched.Add(-30 * day)), DefaultArchiveAfter, "p-articles-2026.11"},
		{"old item: its year", at(time.Date(2019, 5, 3, 0, 0, 0, 0, time.UTC)), DefaultArchiveAfter, "p-articles-2019"},
		{"old item, archive disabled: its month", at(time.Date(2019, 5, 3, 0, 0, 0, 0, time.UTC)), -1, "p-articles-2019.05"},
		{"undated: fetch month", undated, DefaultArchiveAfter, "p-articles-2026.12"},
		{"published after fetch (clock skew): its month", at(fetched.Add(day)), DefaultArchiveAfter, "p-articles-2026.12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := n.articleIndex(tt.e, tt.archiveAfter); got != tt.want {
				t.Errorf("index %q, want %q", got, tt.want)
			}
		})
	}
}

// TestIndexerArchivesOldItems: a feed's back catalogue (24 items over 24 months; the
// real-world feeds of ../shared/eval/feeds put 87 documents in 31 monthly indices) lands in
// yearly indices behind the articles alias instead of one monthly index per month;
// redelivery stays exactly-once, and a recent article re-fetched after the cutoff keeps its
// monthly document.
func TestIndexerArchivesOldItems(t *testing.T) {
	h := newHarness(t)
	stop, _ := h.run(os.Getenv("NEWSFLOW_ES_URL"))
	defer stop(false)
	fetched := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var envs []*article.Envelope
	const n = 24
	for i := 0; i < n; i++ {
		e := enriched(1000+i, fetched, fmt.Sprintf("backlog item %d", i))
		pub := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).AddDate(0, i, i%27)
		e.Enriched.PublishedAt = &pub
		envs = append(envs, e)
	}
	h.publish(envs...)
	h.publish(envs[:5]...) // redelivered
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"backlog item"}}}`, n, 240*time.Second); got != n {
		t.Fatalf("%d of %d indexed", got, n)
	}
	indices := indicesOf(t, h, `{"query":{"match_phrase":{"title":"backlog item"}}}`)
	want := []string{h.prefix + "-articles-2024", h.prefix + "-articles-2025", h.prefix + "-articles-2026"}
	if fmt.Sprint(indices) != fmt.Sprint(want) {
		t.Fatalf("indices %v, want %v", indices, want)
	}

	// Recent when first fetched (monthly), fetched again 40 days later: still one document,
	// in its monthly index.
	first := enriched(2000, fetched, "recent then refetched")
	h.publish(first)
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"recent then refetched"}}}`, 1, 30*time.Second); got != 1 {
		t.Fatalf("first fetch not indexed (%d)", got)
	}
	again := enriched(2000, fetched.Add(40*24*time.Hour), "recent then refetched again")
	h.publish(again)
	if got := h.waitTotal(`{"query":{"match_phrase":{"title":"refetched again"}}}`, 1, 30*time.Second); got != 1 {
		t.Fatalf("re-fetch not indexed (%d)", got)
	}
	r := h.search(fmt.Sprintf(`{"query":{"ids":{"values":[%q]}}}`, first.ID))
	if n := total(r); n != 1 {
		t.Fatalf("%d documents for the re-fetched article, want 1", n)
	}
	if idx := indicesOf(t, h, fmt.Sprintf(`{"query":{"ids":{"values":[%q]}}}`, first.ID)); len(idx) != 1 || idx[0] != h.names.ArticleIndex(*first.Enriched.PublishedAt) {
		t.Fatalf("re-fetched article in %v, want its monthly index", idx)
	}
}

// indicesOf returns the sorted distinct indices of the documents matching query.
func indicesOf(t *testing.T, h *harness, query string) []string {
	t.Helper()
	r := h.search(query[:len(query)-1] + `,"size":1000}`)
	seen := map[string]bool{}
	for _, hit := range r["hits"].(map[string]any)["hits"].([]any) {
		seen[hit.(map[string]any)["_index"].(string)] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

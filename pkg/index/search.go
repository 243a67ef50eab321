package index

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// Hit is one search result.
type Hit struct {
	ID, Title, URL, Source string
	Published              time.Time
	Highlights             []string
}

// Search runs a full-text query over title and text (with the per-language and English
// subfields) on the articles alias, newest relevance first, with highlights.
func Search(ctx context.Context, es *elasticsearch.Client, n Names, query string, size int) ([]Hit, int, error) {
	body := map[string]any{
		"size": size,
		"query": map[string]any{"multi_match": map[string]any{"query": query, "type": "best_fields",
			"fields": []string{"title^3", "title.english^2", "text", "text.english", "text_lang.*.text", "text_lang.*.title^2", "entities.per", "entities.org", "entities.loc", "keywords"}}},
		"highlight": map[string]any{"fields": map[string]any{"text": map[string]any{"fragment_size": 120, "number_of_fragments": 2}, "title": map[string]any{}},
			"pre_tags": []string{"\x1b[1m"}, "post_tags": []string{"\x1b[0m"}},
		"_source": []string{"title", "url", "source.name", "@timestamp"},
	}
	b, _ := json.Marshal(body)
	res, err := es.Search(es.Search.WithContext(ctx), es.Search.WithIndex(n.ArticlesAlias()), es.Search.WithBody(strings.NewReader(string(b))), es.Search.WithTrackTotalHits(true))
	if err != nil {
		return nil, 0, fmt.Errorf("index: search: %w", err)
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
			Hits  []struct {
				ID     string `json:"_id"`
				Source struct {
					Title     string                `json:"title"`
					URL       string                `json:"url"`
					Timestamp time.Time             `json:"@timestamp"`
					Source    struct{ Name string } `json:"source"`
				} `json:"_source"`
				Highlight map[string][]string `json:"highlight"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if res.IsError() {
		return nil, 0, fmt.Errorf("index: search: %s", res.String())
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, 0, fmt.Errorf("index: search response: %w", err)
	}
	hits := make([]Hit, 0, len(out.Hits.Hits))
	for _, h := range out.Hits.Hits {
		hits = append(hits, Hit{ID: h.ID, Title: h.Source.Title, URL: h.Source.URL, Source: h.Source.Source.Name, Published: h.Source.Timestamp, Highlights: h.Highlight["text"]})
	}
	return hits, out.Hits.Total.Value, nil
}

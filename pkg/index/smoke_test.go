package index

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
)

// TestElasticsearchSmoke is the foundation's check of the real node with the official client
// (which refuses servers that are not Elasticsearch): create an index, bulk two documents,
// search them, delete the index.
func TestElasticsearchSmoke(t *testing.T) {
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL(t)}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := es.Info()
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	var banner struct {
		Version struct{ Number string } `json:"version"`
		Tagline string                  `json:"tagline"`
	}
	_ = json.NewDecoder(info.Body).Decode(&banner)
	info.Body.Close()
	if !strings.HasPrefix(banner.Version.Number, "8.") || banner.Tagline != "You Know, for Search" {
		t.Fatalf("not an Elasticsearch 8 banner: %+v", banner)
	}
	name := fmt.Sprintf("nfsmoke%d", time.Now().UnixNano()%1e9)
	res, err := es.Indices.Create(name)
	if err != nil || res.IsError() {
		t.Fatalf("create index: %v %v", err, res)
	}
	res.Body.Close()
	defer func() {
		if r, err := es.Indices.Delete([]string{name}); err == nil {
			r.Body.Close()
		}
	}()
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: name, Refresh: "wait_for"})
	if err != nil {
		t.Fatal(err)
	}
	for i, title := range []string{"Volcano erupts in Iceland", "Central bank holds rates"} {
		body, _ := json.Marshal(map[string]string{"title": title})
		if err := bi.Add(context.Background(), esutil.BulkIndexerItem{Action: "index", DocumentID: fmt.Sprint(i), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := bi.Stats(); st.NumIndexed != 2 || st.NumFailed != 0 {
		t.Fatalf("bulk stats %+v", st)
	}
	sr, err := es.Search(es.Search.WithIndex(name), es.Search.WithBody(strings.NewReader(`{"query":{"match":{"title":"volcano"}}}`)))
	if err != nil || sr.IsError() {
		t.Fatalf("search: %v %v", err, sr)
	}
	defer sr.Body.Close()
	var out struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
	}
	_ = json.NewDecoder(sr.Body).Decode(&out)
	if out.Hits.Total.Value != 1 {
		t.Fatalf("search found %d documents, want 1", out.Hits.Total.Value)
	}
}

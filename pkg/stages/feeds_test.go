package stages_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestFeedsEndpoint: the fetcher serves GET /v1/feeds, every source's health as JSON.
func TestFeedsEndpoint(t *testing.T) {
	srv, url, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	p := startPipeline(t, backendAt(url), "fetcher", "", func(c stages.Common) error {
		cfg := stages.FetcherConfigFromEnv(&service.Env{Get: func(string) string { return "" }}, "memory")
		cfg.Sources = []fetch.Source{{Name: "example", URL: "http://127.0.0.1:1/feed.xml", Kind: "feed"}}
		_, err := stages.AddFetcher(context.Background(), c, cfg, nil)
		return err
	})
	waitFor(t, "the HTTP server", func() bool { return p.rt.Addr() != "" })
	res, err := http.Get("http://" + p.rt.Addr() + "/v1/feeds")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Feeds []fetch.FeedStatus `json:"feeds"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/feeds: %s, %v", res.Status, err)
	}
	if len(body.Feeds) != 1 || body.Feeds[0].Name != "example" {
		t.Fatalf("feeds %+v, want the one source", body.Feeds)
	}
}

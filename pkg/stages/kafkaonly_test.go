package stages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestFetcherKafkaOnly: with the Kafka bus and no NATS reachable (NEWSFLOW_NATS_URL points at
// a closed port) the fetcher stage keeps its state in Elasticsearch (the default with Kafka),
// publishes a feed's items and a submitted URL, and a second replica started on the same
// state publishes nothing again.
func TestFetcherKafkaOnly(t *testing.T) {
	be := externalKafka(t)
	esURL := requireServer(t, "NEWSFLOW_ES_URL")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedNATS := "nats://" + l.Addr().String()
	l.Close()

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			var items strings.Builder
			for i := 1; i <= 3; i++ {
				fmt.Fprintf(&items, "<item><title>Story %d</title><link>http://%s/a/%d</link><guid>s%d</guid></item>", i, r.Host, i, i)
			}
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://%s/</link>%s</channel></rss>`, r.Host, items.String())
		case strings.HasPrefix(r.URL.Path, "/a/") || r.URL.Path == "/submitted":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<html><head><title>%s</title></head><body><article><p>Text of %s.</p></article></body></html>", r.URL.Path, r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)

	stateIndex := "test-" + strings.TrimSuffix(be.prefix, ".") + "-fetch"
	tr := http.DefaultTransport.(*http.Transport).Clone()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer tr.CloseIdleConnections()
		if res, err := es.Indices.Delete([]string{stateIndex + "-state", stateIndex + "-seen"}, es.Indices.Delete.WithIgnoreUnavailable(true)); err == nil {
			res.Body.Close()
		}
	})
	sink := startSink(t, testClient(t, be), article.SubjectRaw)
	start := func(name string) *pipeline {
		return startPipeline(t, be, name, "", func(c stages.Common) error {
			c.RT.Cfg.NATSURL, c.RT.Cfg.ESURL = closedNATS, esURL
			env := map[string]string{"NEWSFLOW_FETCH_STATE_INDEX": stateIndex}
			cfg := stages.FetcherConfigFromEnv(&service.Env{Get: func(k string) string { return env[k] }}, c.RT.Cfg.NATSURL)
			if got := cfg.StoreKind(false); got != "elasticsearch" {
				t.Errorf("store with the Kafka bus: %s", got)
			}
			cfg.Fetch.AllowAddresses, cfg.Fetch.IgnoreRobots, cfg.Fetch.HostInterval = []string{"127.0.0.1"}, true, time.Millisecond
			cfg.Fetch.StartSpread = 10 * time.Millisecond
			cfg.Fetch.ReplicaID = name
			cfg.Sources = []fetch.Source{{Name: "site", URL: site.URL + "/feed.xml", Kind: "feed"}}
			_, err := stages.AddFetcher(context.Background(), c, cfg, nil)
			return err
		})
	}
	p := start("fetcher-a")
	waitFor(t, "the feed's 3 items on news.raw", func() bool { return len(sink.snapshot()) >= 3 })
	waitFor(t, "the HTTP server", func() bool { return p.rt.Addr() != "" })
	if code, _ := postURLs(t, nil, p.rt.Addr(), site.URL+"/submitted"); code != http.StatusAccepted {
		t.Fatalf("POST /v1/urls: %d", code)
	}
	waitFor(t, "the submitted URL on news.raw", func() bool { return len(sink.snapshot()) >= 4 })
	if err := p.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// A second replica on the same state: the feed is not due, nothing is re-published.
	p2 := start("fetcher-b")
	waitFor(t, "the second replica's HTTP server", func() bool { return p2.rt.Addr() != "" })
	time.Sleep(2 * time.Second)
	if got := len(sink.byKey(envID)); got != 4 || len(sink.snapshot()) != 4 {
		t.Fatalf("news.raw holds %d messages (%d articles), want 4", len(sink.snapshot()), got)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Get("http://" + p2.rt.Addr() + "/v1/feeds")
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
	if len(body.Feeds) != 1 || body.Feeds[0].Polls != 1 || body.Feeds[0].ItemsNew != 3 || body.Feeds[0].LastSuccess.IsZero() {
		t.Fatalf("the second replica reads the feed's state as %+v, want 1 poll and 3 new items", body.Feeds)
	}
}

// TestFetcherStoreKind: which store the fetcher opens for each bus and setting.
func TestFetcherStoreKind(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		natsBus bool
		want    string
		wantErr bool
	}{
		{"nats bus", nil, true, "nats", false},
		{"kafka bus", nil, false, "elasticsearch", false},
		{"kafka bus, state NATS set", map[string]string{"NEWSFLOW_FETCH_STATE_NATS_URL": "nats://state:4222"}, false, "nats", false},
		{"memory via state URL", map[string]string{"NEWSFLOW_FETCH_STATE_NATS_URL": "memory"}, false, "memory", false},
		{"explicit elasticsearch on nats", map[string]string{"NEWSFLOW_FETCH_STORE": "Elasticsearch"}, true, "elasticsearch", false},
		{"explicit nats on kafka", map[string]string{"NEWSFLOW_FETCH_STORE": "nats"}, false, "nats", false},
		{"explicit memory", map[string]string{"NEWSFLOW_FETCH_STORE": "memory"}, false, "memory", false},
		{"invalid", map[string]string{"NEWSFLOW_FETCH_STORE": "redis"}, false, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &service.Env{Get: func(k string) string { return tc.env[k] }}
			cfg := stages.FetcherConfigFromEnv(e, "nats://bus:4222")
			if err := e.Err(); (err != nil) != tc.wantErr {
				t.Fatalf("config error %v", err)
			}
			if tc.wantErr {
				return
			}
			if got := cfg.StoreKind(tc.natsBus); got != tc.want {
				t.Errorf("store %q, want %q", got, tc.want)
			}
		})
	}
}

//go:build genenvelopes

package article_test

// Regenerates testdata/enriched-farm.jsonl.gz, the real-ish enriched envelopes the partial
// decode tests compare against the full decode (pkg/article, pkg/index, pkg/stages/alerter):
// the news farm's pages (four templates, en/de/es/fr, synthetic) fetched over HTTP, cleaned
// and enriched by the real stages, encoded by article.Encode.
//
//	go test -tags genenvelopes -run TestGenerateEnvelopes ./article/

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/clean"
	"github.com/newsflow/newsflow/pkg/enrich"
	"github.com/newsflow/newsflow/pkg/newsfarm"
	"go.uber.org/zap"
)

func TestGenerateEnvelopes(t *testing.T) {
	start := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	f, err := newsfarm.New(newsfarm.Config{Seed: 18, Sites: 6, Backlog: 160, Start: start, PoisonEvery: -1, TrackingEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cl, err := clean.New(clean.DefaultConfig(), zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	en, err := enrich.New(enrich.Config{}, zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create("testdata/enriched-farm.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestCompression)
	n := 0
	for _, e := range f.Manifest(start) {
		if e.Kind != newsfarm.KindArticle && e.Kind != newsfarm.KindReprint {
			continue
		}
		res, err := http.Get(e.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fetched := e.Published.Add(90 * time.Second)
		raw := &article.Raw{URL: e.URL, CanonicalURL: e.Canonical, ContentType: "text/html",
			Source: article.Source{Name: "farm", Domain: "newsfarm.test"}, Body: string(body), FetchedAt: fetched,
			HTTP: &article.HTTPFacts{Status: 200, Bytes: len(body)}}
		c, err := cl.Clean(context.Background(), e.ID, raw)
		if err != nil {
			t.Logf("%s: %v", e.URL, err)
			continue
		}
		x, err := en.Enrich(context.Background(), e.ID, c)
		if err != nil {
			t.Fatal(err)
		}
		b, err := article.Encode(&article.Envelope{ID: e.ID, Stage: article.StageEnriched, SentAt: fetched.Add(time.Second), Enriched: x})
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(append(b, '\n'))
		n++
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d envelopes", n)
}

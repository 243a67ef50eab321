package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPollItemConcurrency polls a feed with 50 new items per poll whose pages answer
// after 20 ms (a remote site, not loopback), one item at a time (what the fetcher did
// before) and ItemConcurrency at a time, in the same run. Reports articles/s.
func BenchmarkPollItemConcurrency(b *testing.B) {
	page := "<html><head><title>t</title></head><body>" + strings.Repeat("<p>Some article text goes here, sentence after sentence.</p>", 350) + "</body></html>"
	var gen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rss" {
			g := gen.Add(1)
			var sb strings.Builder
			sb.WriteString(`<rss version="2.0"><channel><title>b</title>`)
			for i := range 50 {
				fmt.Fprintf(&sb, `<item><title>t</title><link>http://%s/a/%d-%d</link></item>`, r.Host, g, i)
			}
			sb.WriteString(`</channel></rss>`)
			io.WriteString(w, sb.String())
			return
		}
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	b.Cleanup(srv.Close)
	for _, n := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("items_at_once=%d", n), func(b *testing.B) {
			cfg := testConfig()
			cfg.DisablePoliteness, cfg.ItemConcurrency = true, n
			store := NewMemStore()
			src := Source{Name: "bench", URL: srv.URL + "/rss"}
			f, err := New(cfg, []Source{src}, store, &capture{}, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(f.client.close)
			ctx := context.Background()
			for b.Loop() {
				st, rev, _ := store.LoadFeed(ctx, src.Key())
				st.NextDue = time.Time{}
				store.SaveFeed(ctx, src.Key(), st, rev)
				f.PollFeed(ctx, 0)
			}
			b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "articles/s")
		})
	}
}

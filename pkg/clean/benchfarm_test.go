package clean

import (
	"context"
	"fmt"
	"testing"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
)

// BenchmarkCleanFarm is the full cleaner over the news-farm article pages of the WARC
// backfill (~43 KB of HTML each, four templates, en/de/es/fr), one page per op in turn;
// templates and dedup see each op as a new site, as BenchmarkClean.
func BenchmarkCleanFarm(b *testing.B) {
	cfg := DefaultConfig()
	cfg.DisableDedup = true
	c, err := New(cfg, zap.NewNop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	docs := farmDocs(b)[:64]
	for i := 0; b.Loop(); i++ {
		d := docs[i%len(docs)]
		raw := *d.raw
		raw.Source = article.Source{Domain: fmt.Sprint(i)}
		if _, err := c.Clean(context.Background(), fmt.Sprint(i), &raw); err != nil {
			b.Fatal(err)
		}
	}
}

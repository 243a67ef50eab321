// Command indexer consumes news.enriched and news.alerts and writes them to Elasticsearch,
// acking each message only after its bulk item succeeded. `indexer setup` only installs the
// index templates and exits.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "setup" {
		os.Exit(setup())
	}
	os.Exit(stages.Main("indexer", func(cfg service.Config, e *service.Env) func(stages.Common) error {
		icfg := stages.IndexerConfigFromEnv(e, cfg.ESURL)
		return func(c stages.Common) error {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			_, err := stages.AddIndexer(ctx, c, icfg)
			return err
		}
	}))
}

func setup() int {
	e := &service.Env{Get: os.Getenv}
	url := e.String("NEWSFLOW_ES_URL", "http://127.0.0.1:9200")
	cfg := stages.IndexerConfigFromEnv(e, url)
	if err := e.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "indexer setup: invalid configuration:\n%v\n", err)
		return 2
	}
	es, err := stages.NewESClient(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := index.Setup(ctx, es, cfg.Index.Setup); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("templates installed on %s (read aliases %s, %s)\n", url, cfg.Index.Setup.Names.ArticlesAlias(), cfg.Index.Setup.Names.AlertsAlias())
	return 0
}

// Command fetcher polls the configured feeds and sitemaps and publishes each new article to
// news.raw; it also serves POST /v1/urls (URLs stored on news.submit) and consumes news.submit
// to fetch them. Configuration: NEWSFLOW_* environment variables (NEWSFLOW_SOURCES,
// NEWSFLOW_FETCH_*).
package main

import (
	"context"
	"os"
	"time"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main("fetcher", func(cfg service.Config, e *service.Env) func(stages.Common) error {
		fcfg := stages.FetcherConfigFromEnv(e, cfg.NATSURL)
		return func(c stages.Common) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := stages.AddFetcher(ctx, c, fcfg, nil)
			return err
		}
	}))
}

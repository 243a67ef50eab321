// Command fetcher is the newsflow fetcher stage as its own service. Configuration: NEWSFLOW_*
// environment variables (see README).
package main

import (
	"context"
	"time"

	"os"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main("fetcher", func(c stages.Common, e *service.Env) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := stages.AddFetcher(ctx, c, stages.FetcherConfigFromEnv(e, c.RT.Cfg.NATSURL), nil)
		return err
	}))
}

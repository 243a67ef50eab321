// Command enricher consumes news.clean, adds entities, keywords, tone, quotes, places and
// dates, and publishes news.enriched. Configuration: NEWSFLOW_* environment variables.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main("enricher", func(_ service.Config, e *service.Env) func(stages.Common) error {
		cfg := stages.EnricherConfigFromEnv(e)
		return func(c stages.Common) error {
			_, err := stages.AddEnricher(c, cfg)
			return err
		}
	}))
}

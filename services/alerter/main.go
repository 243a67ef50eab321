// Command alerter consumes news.enriched, detects keyword and entity spikes and publishes
// news.alerts (and webhooks). Configuration: NEWSFLOW_* environment variables.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main("alerter", func(_ service.Config, e *service.Env) func(stages.Common) error {
		cfg := stages.AlerterConfigFromEnv(e)
		return func(c stages.Common) error {
			_, err := stages.AddAlerter(c, cfg)
			return err
		}
	}))
}

// Command cleaner consumes news.raw, extracts and cleans each article and publishes
// news.clean. Configuration: NEWSFLOW_* environment variables (see README).
package main

import (
	"os"
	"runtime/debug"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// Extraction allocates many short-lived DOM nodes; a larger GC target buys ~15% more
		// pages/s for a few MB of heap (see pkg/clean/README.md).
		debug.SetGCPercent(200)
	}
	os.Exit(stages.Main("cleaner", func(_ service.Config, e *service.Env) func(stages.Common) error {
		cfg := stages.CleanerConfigFromEnv(e)
		return func(c stages.Common) error {
			_, err := stages.AddCleaner(c, cfg)
			return err
		}
	}))
}

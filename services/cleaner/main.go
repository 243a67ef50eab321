// Command cleaner consumes news.raw, extracts and cleans each article and publishes
// news.clean. Configuration: NEWSFLOW_* environment variables (see README).
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main("cleaner", func(c stages.Common, e *service.Env) error {
		_, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(e))
		return err
	}))
}

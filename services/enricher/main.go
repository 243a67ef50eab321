// Command enricher is the newsflow enricher stage as its own service. Configuration: NEWSFLOW_*
// environment variables (see README).
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main("enricher", func(c stages.Common, e *service.Env) error {
		_, err := stages.AddEnricher(c, stages.EnricherConfigFromEnv(e))
		return err
	}))
}

// Command alerter is the newsflow alerter stage as its own service. Configuration: NEWSFLOW_*
// environment variables (see README).
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main("alerter", func(c stages.Common, e *service.Env) error {
		_, err := stages.AddAlerter(c, stages.AlerterConfigFromEnv(e))
		return err
	}))
}

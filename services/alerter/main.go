// Command alerter consumes news.enriched, detects keyword and entity spikes and publishes
// news.alerts (and webhooks). Configuration: NEWSFLOW_* environment variables; `alerter -h`.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main(stages.AlerterService, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

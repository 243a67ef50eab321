// Command alerter consumes news.enriched, detects keyword and entity spikes and publishes
// news.alerts (and webhooks). Configuration: NEWSFLOW_* environment variables; `alerter -h`.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/stages/alerter"
	"github.com/newsflow/newsflow/pkg/stages/kit"
)

func main() {
	os.Exit(kit.Main(alerter.Service, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

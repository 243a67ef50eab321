// Command indexer consumes news.enriched and news.alerts and writes them to Elasticsearch,
// acking each message only after its bulk item succeeded. `indexer setup` only installs the
// index templates and exits. Configuration: NEWSFLOW_* environment variables; `indexer -h`.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/stages"
)

func main() {
	os.Exit(stages.Main(stages.IndexerService, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

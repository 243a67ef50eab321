// Command indexer consumes news.enriched and news.alerts and writes them to Elasticsearch,
// acking each message only after its bulk item succeeded. `indexer setup` only installs the
// index templates and exits. Configuration: NEWSFLOW_* environment variables; `indexer -h`.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/stages/indexer"
	"github.com/newsflow/newsflow/pkg/stages/kit"
)

func main() {
	os.Exit(kit.Main(indexer.Service, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Command enricher consumes news.clean, adds entities, keywords, tone, quotes, places and
// dates, and publishes news.enriched. Configuration: NEWSFLOW_* environment variables;
// `enricher -h`.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/stages/enricher"
	"github.com/newsflow/newsflow/pkg/stages/kit"
)

func main() {
	os.Exit(kit.Main(enricher.Service, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

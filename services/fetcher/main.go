// Command fetcher polls the configured feeds and sitemaps and publishes each new article to
// news.raw; it also serves POST /v1/urls (URLs stored on news.submit) and consumes news.submit
// to fetch them. Configuration: NEWSFLOW_* environment variables (NEWSFLOW_SOURCES,
// NEWSFLOW_FETCH_*); `fetcher -h`.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/stages/fetcher"
	"github.com/newsflow/newsflow/pkg/stages/kit"
)

func main() {
	os.Exit(kit.Main(fetcher.Service, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

package app

import (
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// esClient is the Elasticsearch client of the operator commands (check, status, rules test),
// with the NEWSFLOW_ES_* credentials and TLS of getenv.
func esClient(getenv func(string) string, url string) (*elasticsearch.Client, error) {
	sec, err := service.SecurityFromEnv(getenv)
	if err != nil {
		return nil, cli.ConfigError(err)
	}
	return stages.NewESClient(url, sec.ES)
}

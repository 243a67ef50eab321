package app

import (
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/stages"
)

// esClient is the Elasticsearch client of the operator commands (check, status, rules test).
func esClient(_ func(string) string, url string) (*elasticsearch.Client, error) {
	return stages.NewESClient(url)
}

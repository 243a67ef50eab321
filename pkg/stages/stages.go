// Package stages wires each pipeline stage's logic (pkg/clean, pkg/enrich, ...) onto a
// service.Runtime and a bus. Each stage has its own package (pkg/stages/fetcher, cleaner,
// enricher, indexer, alerter) over pkg/stages/kit, so that a service binary links only its
// stage; this package gathers them under their former names for the all-in-one
// (services/newsflow, pkg/app) and the tests, which run every stage.
package stages

import (
	"github.com/newsflow/newsflow/pkg/stages/alerter"
	"github.com/newsflow/newsflow/pkg/stages/cleaner"
	"github.com/newsflow/newsflow/pkg/stages/enricher"
	"github.com/newsflow/newsflow/pkg/stages/esclient"
	"github.com/newsflow/newsflow/pkg/stages/fetcher"
	"github.com/newsflow/newsflow/pkg/stages/indexer"
	"github.com/newsflow/newsflow/pkg/stages/kit"
)

// The shared kit and each stage's types.
type (
	Common        = kit.Common
	Service       = kit.Service
	Configure     = kit.Configure
	FetcherConfig = fetcher.FetcherConfig
	CleanerConfig = cleaner.CleanerConfig
	IndexerConfig = indexer.IndexerConfig
	AlerterConfig = alerter.AlerterConfig
)

// The single-stage services and each stage's functions.
var (
	Main                  = kit.Main
	NewESClient           = esclient.New
	FetcherConfigFromEnv  = fetcher.FetcherConfigFromEnv
	AddFetcher            = fetcher.AddFetcher
	SubmitConsumeOptions  = fetcher.SubmitConsumeOptions
	FetcherService        = fetcher.Service
	CleanerConfigFromEnv  = cleaner.CleanerConfigFromEnv
	CleanProcess          = cleaner.CleanProcess
	AddCleaner            = cleaner.AddCleaner
	CleanerService        = cleaner.Service
	EnricherConfigFromEnv = enricher.EnricherConfigFromEnv
	EnrichProcess         = enricher.EnrichProcess
	AddEnricher           = enricher.AddEnricher
	EnricherService       = enricher.Service
	IndexerConfigFromEnv  = indexer.IndexerConfigFromEnv
	AddIndexer            = indexer.AddIndexer
	IndexerSubcommands    = indexer.IndexerSubcommands
	SetupIndex            = indexer.SetupIndex
	IndexerService        = indexer.Service
	AlerterConfigFromEnv  = alerter.AlerterConfigFromEnv
	AddAlerter            = alerter.AddAlerter
	AlerterService        = alerter.Service
)

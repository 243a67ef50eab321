package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/enrich"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// stageConfigs are the settings of every stage, as the all-in-one and `newsflow check` read
// them.
type stageConfigs struct {
	fetcher  stages.FetcherConfig
	indexer  stages.IndexerConfig
	alerter  stages.AlerterConfig
	enricher enrich.Config
	cleaner  stages.CleanerConfig
}

// readStageConfigs reads every stage's NEWSFLOW_* settings (parse errors go to e). stateNATS
// is the fetcher's default state store.
func readStageConfigs(e *service.Env, cfg service.Config, stateNATS string) stageConfigs {
	return stageConfigs{
		fetcher:  stages.FetcherConfigFromEnv(e, stateNATS),
		indexer:  stages.IndexerConfigFromEnv(e, cfg.ESURL),
		alerter:  stages.AlerterConfigFromEnv(e),
		enricher: stages.EnricherConfigFromEnv(e),
		cleaner:  stages.CleanerConfigFromEnv(e),
	}
}

// validate runs each component's own validation (what the stages would find only while
// wiring, after connecting) and checks that the files the settings name can be read: the
// alert rules (parsed and validated) and the enricher's alias tables. All problems are
// returned. The sources file is checked by the callers (checkSources).
func (s stageConfigs) validate() error {
	var errs []error
	add := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	add("indexer", s.indexer.Index.Validate())
	add("cleaner", s.cleaner.Clean.Validate())
	add("enricher", s.enricher.Validate())
	add("alerter", s.alerter.Alert.WithDefaults().Validate())
	for _, f := range s.enricher.AliasFiles {
		_, err := os.Stat(f)
		add("NEWSFLOW_ENRICH_ALIASES", err)
	}
	if s.alerter.RulesFile != "" {
		_, err := alert.LoadRules(s.alerter.RulesFile)
		add("NEWSFLOW_ALERT_RULES", err)
	}
	return errors.Join(errs...)
}

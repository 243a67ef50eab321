// Package enricher wires the enricher stage onto a runtime and a bus: the services/enricher binary
// (kit.Main(enricher.Service, ...)) and the all-in-one (through pkg/stages) use it.
package enricher

import (
	"context"
	"errors"
	"fmt"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/enrich"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages/kit"
)

// EnricherConfigFromEnv reads NEWSFLOW_ENRICH_* variables.
func EnricherConfigFromEnv(e *service.Env) enrich.Config {
	var c enrich.Config
	c.AliasFiles = e.List("NEWSFLOW_ENRICH_ALIASES", nil)
	c.MaxKeywords = e.Int("NEWSFLOW_ENRICH_MAX_KEYWORDS", 0)
	c.MaxTextBytes = e.Int("NEWSFLOW_ENRICH_MAX_TEXT_BYTES", 0)
	return c
}

// EnrichProcess is the enricher's ProcessFunc: clean → enriched.
func EnrichProcess(en *enrich.Enricher) service.ProcessFunc {
	return func(ctx context.Context, in *article.Envelope) ([]service.Output, error) {
		if in.Stage != article.StageClean {
			return nil, bus.Permanentf("enricher: %s: unexpected stage %q", in.ID, in.Stage)
		}
		out, err := en.Enrich(ctx, in.ID, in.Clean)
		if errors.Is(err, enrich.ErrInvalid) || errors.Is(err, enrich.ErrInternal) {
			return nil, bus.Permanent(fmt.Errorf("enricher: enrich %s: %w", in.ID, err))
		}
		if err != nil {
			return nil, fmt.Errorf("enricher: enrich %s: %w", in.ID, err)
		}
		return []service.Output{{Subject: article.SubjectEnriched, Envelope: &article.Envelope{ID: in.ID, Stage: article.StageEnriched, Enriched: out}}}, nil
	}
}

// AddEnricher builds the enricher and adds its consumer of news.clean.
func AddEnricher(c kit.Common, cfg enrich.Config) (*enrich.Enricher, error) {
	log := c.Log("enricher")
	en, err := enrich.New(cfg, log, c.RT.Reg)
	if err != nil {
		return nil, fmt.Errorf("enricher: %w", err)
	}
	m := service.NewStageMetrics("enricher", c.RT.Reg)
	h := service.StageHandler("enricher", c.Bus, EnrichProcess(en), log, m)
	c.RT.Consume(c.Bus, article.SubjectClean, c.RT.Cfg.ConsumeOptions("enricher"), h)
	return en, nil
}

// Service is the enricher binary, services/enricher: kit.Main(enricher.Service, ...).
var Service = kit.Service{
	Name:      "enricher",
	Short:     "enricher consumes news.clean, adds entities, keywords, tone, quotes, places and dates, and publishes news.enriched",
	Settings:  "NEWSFLOW_ENRICH_ALIASES, NEWSFLOW_ENRICH_MAX_KEYWORDS",
	Configure: kit.Wire(kit.EnvOnly(EnricherConfigFromEnv), 0, kit.NoCtx(AddEnricher)),
}

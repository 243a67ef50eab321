// Package cleaner wires the cleaner stage onto a runtime and a bus: the services/cleaner binary
// (kit.Main(cleaner.Service, ...)) and the all-in-one (through pkg/stages) use it.
package cleaner

import (
	"context"
	"fmt"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/clean"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages/kit"
	"go.uber.org/zap"
)

// CleanerConfig configures the cleaner stage.
type CleanerConfig struct {
	Clean        clean.Config
	SaveInterval time.Duration // how often template/dedup state is snapshotted (default 1m)
	// SharedState: every replica applies the same log of observations, so all learn the same
	// templates and find the same duplicates (NEWSFLOW_CLEAN_SHARED_STATE, default true).
	SharedState bool
	StateLog    string // subject/topic of that log (NEWSFLOW_CLEAN_STATE_LOG)
}

// CleanerConfigFromEnv reads NEWSFLOW_CLEAN_* variables.
func CleanerConfigFromEnv(e *service.Env) CleanerConfig {
	c := CleanerConfig{Clean: clean.DefaultConfig()}
	c.Clean.Languages = e.List("NEWSFLOW_CLEAN_LANGUAGES", c.Clean.Languages)
	c.Clean.MinTextRunes = e.Int("NEWSFLOW_CLEAN_MIN_TEXT_RUNES", c.Clean.MinTextRunes)
	c.Clean.Timeout = e.Duration("NEWSFLOW_CLEAN_TIMEOUT", c.Clean.Timeout)
	c.SaveInterval = e.Duration("NEWSFLOW_STATE_SAVE_INTERVAL", time.Minute)
	c.SharedState = e.Bool("NEWSFLOW_CLEAN_SHARED_STATE", true)
	c.StateLog = e.String("NEWSFLOW_CLEAN_STATE_LOG", "newsflow.cleaner.state")
	return c
}

// CleanProcess is the cleaner's ProcessFunc: raw → clean, keyed by the article ID of the
// page's own canonical URL (DESIGN.md), which may differ from the fetcher's.
func CleanProcess(c *clean.Cleaner) service.ProcessFunc {
	return func(ctx context.Context, in *article.Envelope) ([]service.Output, error) {
		if in.Stage != article.StageRaw {
			return nil, bus.Permanentf("cleaner: %s: unexpected stage %q", in.ID, in.Stage)
		}
		out, err := c.Clean(ctx, in.ID, in.Raw)
		if err != nil {
			return nil, fmt.Errorf("cleaner: clean %s: %w", in.ID, err)
		}
		id := in.ID
		if out.CanonicalURL != "" {
			id = article.IDFromCanonical(out.CanonicalURL)
		}
		return []service.Output{{Subject: article.SubjectClean, Envelope: &article.Envelope{ID: id, Stage: article.StageClean, Clean: out}}}, nil
	}
}

// AddCleaner builds the cleaner, restores its learned state and adds its consumer.
func AddCleaner(c kit.Common, cfg CleanerConfig) (*clean.Cleaner, error) {
	log := c.Log("cleaner")
	cl, err := clean.New(cfg.Clean, log, c.RT.Reg)
	if err != nil {
		return nil, fmt.Errorf("cleaner: %w", err)
	}
	if cfg.SaveInterval <= 0 {
		cfg.SaveInterval = time.Minute
	}
	shared := false
	if cfg.SharedState && (cl.Template != nil || cl.Dedup != nil) {
		if shared, err = addSharedCleanerState(c, cfg, cl, log); err != nil {
			return nil, err
		}
	}
	if cl.Template != nil && !shared {
		restore(c, log, "cleaner-template.snap", cl.Template.Restore)
		c.RT.PersistEvery(c.State, "cleaner-template.snap", cfg.SaveInterval, cl.Template.Snapshot)
	}
	if cl.Dedup != nil && !shared {
		restore(c, log, "cleaner-dedup.snap", cl.Dedup.Restore)
		c.RT.PersistEvery(c.State, "cleaner-dedup.snap", cfg.SaveInterval, cl.Dedup.Snapshot)
	}
	m := service.NewStageMetrics("cleaner", c.RT.Reg)
	h := service.StageHandler("cleaner", c.Bus, CleanProcess(cl), log, m)
	c.RT.Consume(c.Bus, article.SubjectRaw, c.RT.Cfg.ConsumeOptions("cleaner"), h)
	return cl, nil
}

func restore(c kit.Common, log *zap.Logger, name string, fn func([]byte) error) {
	b, err := c.State.Load(name)
	if err != nil {
		log.Warn("state not loaded", zap.String("name", name), zap.Error(err))
		return
	}
	if b == nil {
		return
	}
	if err := fn(b); err != nil {
		log.Warn("state not restored, starting fresh", zap.String("name", name), zap.Error(err))
		return
	}
	log.Info("state restored", zap.String("name", name), zap.Int("bytes", len(b)))
}

// Service is the cleaner binary, services/cleaner: kit.Main(cleaner.Service, ...).
var Service = kit.Service{
	Name:      "cleaner",
	Short:     "cleaner consumes news.raw, extracts and cleans each article and publishes news.clean",
	Settings:  "NEWSFLOW_CLEAN_LANGUAGES, NEWSFLOW_CLEAN_MIN_TEXT_RUNES, NEWSFLOW_CLEAN_TIMEOUT, NEWSFLOW_CLEAN_SHARED_STATE, NEWSFLOW_CLEAN_STATE_LOG, NEWSFLOW_STATE_SAVE_INTERVAL",
	Configure: kit.Wire(kit.EnvOnly(CleanerConfigFromEnv), 0, kit.NoCtx(AddCleaner)),
}

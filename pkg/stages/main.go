package stages

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/newsflow/newsflow/pkg/service"
	"go.uber.org/zap"
)

// Configure reads a stage's own NEWSFLOW_* settings (parse errors are collected in e) and
// returns the function that wires the stage once the runtime and bus exist.
type Configure func(cfg service.Config, e *service.Env) (wire func(c Common) error)

// Main is the whole main() of a single-stage service: it reads and validates the shared and
// the stage's NEWSFLOW_* configuration before connecting to anything (exit 2 listing every
// problem), builds the logger, runtime and bus, wires the stage, runs until SIGTERM and
// returns the process exit code (0 after a clean drain). Only this function reads the
// environment.
func Main(name string, configure Configure) int {
	cfg, err := service.LoadConfig(name, os.Getenv)
	e := &service.Env{Get: os.Getenv}
	var wire func(Common) error
	if err == nil {
		wire = configure(cfg, e)
		err = e.Err()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: invalid configuration:\n%v\n", name, err)
		return 2
	}
	log, err := service.NewLogger(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	rt := service.New(cfg, log)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	b, err := service.OpenBus(ctx, cfg, log)
	cancel()
	if err != nil {
		log.Error("bus unavailable", zap.Error(err))
		return 1
	}
	rt.OnStop(func() { _ = b.Close() })
	rt.OnForce(func() { _ = b.Close() }) // cancels handlers still running past the drain budget
	c := Common{RT: rt, Bus: b, State: service.StateDir(e.String("NEWSFLOW_STATE_DIR", "data/"+name))}
	if err := wire(c); err != nil {
		log.Error("stage setup failed", zap.Error(err))
		_ = b.Close()
		return 1
	}
	if err := rt.Run(context.Background()); err != nil {
		log.Error("service failed", zap.Error(err))
		return 1
	}
	return 0
}

package stages

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/newsflow/newsflow/pkg/service"
	"go.uber.org/zap"
)

// Main is the whole main() of a single-stage service: it reads the shared NEWSFLOW_* config,
// builds the logger, runtime and bus, lets add wire the stage, runs until SIGTERM and returns
// the process exit code (0 after a clean drain). Only this function reads the environment.
func Main(name string, add func(c Common, e *service.Env) error) int {
	cfg, err := service.LoadConfig(name, os.Getenv)
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
	e := &service.Env{Get: os.Getenv}
	c := Common{RT: rt, Bus: b, State: service.StateDir(e.String("NEWSFLOW_STATE_DIR", "data/"+name))}
	if err := add(c, e); err != nil {
		log.Error("stage setup failed", zap.Error(err))
		_ = b.Close()
		return 1
	}
	if err := e.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: invalid configuration:\n%v\n", name, err)
		_ = b.Close()
		return 2
	}
	if err := rt.Run(context.Background()); err != nil {
		log.Error("service failed", zap.Error(err))
		return 1
	}
	return 0
}

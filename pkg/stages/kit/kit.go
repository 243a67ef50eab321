// Package kit is what every stage's wiring shares, and no more: Common (runtime, bus, state
// dir), the Service description of a single-stage binary and Main, its whole main(). It
// imports no stage logic, so a service binary (services/<name>) links only the stage package
// it names (pkg/stages/<name>) and that stage's logic, not every stage's.
package kit

import (
	"context"
	"io"
	"time"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// Common holds what every stage gets: the runtime (logger, metrics, actors), the bus and a
// state directory for snapshots.
type Common struct {
	RT    *service.Runtime
	Bus   bus.Bus
	State service.StateDir
}

// Log is the runtime's logger named for stage.
func (c Common) Log(stage string) *zap.Logger { return c.RT.Log.Named(stage) }

// Configure reads a stage's own NEWSFLOW_* settings (parse errors are collected in e) and
// returns the function that wires the stage once the runtime and bus exist.
type Configure func(cfg service.Config, e *service.Env) (wire func(c Common) error)

// Service describes a single-stage service binary.
type Service struct {
	Name      string // binary and stage name
	Short     string // one line for --help
	Settings  string // the stage's own NEWSFLOW_* variables, for --help
	Configure Configure
	// Subcommands, when set, adds commands below the service (the indexer's setup).
	Subcommands func(getenv func(string) string) []*cobra.Command
}

// Main is the whole main() of a single-stage service: it parses the command line (-h/--help
// and --version print and exit 0; unknown flags or arguments exit 2), reads and validates the
// shared and the stage's NEWSFLOW_* configuration before connecting to anything (exit 2
// listing every problem), builds the logger, runtime and bus, wires the stage, runs until
// SIGTERM and returns the process exit code (0 after a clean drain). The environment is read
// only through getenv (os.Getenv in the main).
func Main(s Service, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := &cobra.Command{
		Use:   s.Name,
		Short: s.Short,
		Long: s.Short + "\n\nConfiguration: NEWSFLOW_* environment variables (docs/config.md): the shared\n" +
			"NEWSFLOW_BUS, NEWSFLOW_NATS_URL, NEWSFLOW_KAFKA_BROKERS, NEWSFLOW_HTTP_ADDR, NEWSFLOW_STATE_DIR, ...\n" +
			"and the stage's own: " + s.Settings + ".\n" +
			"Invalid settings are all listed and exit 2 before anything connects.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return serve(s.Name, getenv, s.Configure) },
	}
	if s.Subcommands != nil {
		cmd.AddCommand(s.Subcommands(getenv)...)
	}
	return cli.Execute(cmd, args, stdout, stderr)
}

// serve runs one stage until SIGTERM.
func serve(name string, getenv func(string) string, configure Configure) error {
	cfg, err := service.LoadConfig(name, getenv)
	e := &service.Env{Get: getenv}
	var wire func(Common) error
	if err == nil {
		wire = configure(cfg, e)
		err = e.Err()
	}
	if err != nil {
		return cli.ConfigError(err)
	}
	log, err := service.NewLogger(cfg)
	if err != nil {
		return cli.ConfigError(err)
	}
	rt := service.New(cfg, log)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	b, err := service.OpenBus(ctx, cfg, log)
	cancel()
	if err != nil {
		log.Error("bus unavailable", zap.Error(err))
		return cli.Reported(exitCode(err))
	}
	rt.OnStop(func() { _ = b.Close() })
	rt.OnForce(func() { _ = b.Close() }) // cancels handlers still running past the drain budget
	c := Common{RT: rt, Bus: b, State: service.StateDir(e.String("NEWSFLOW_STATE_DIR", "data/"+name))}
	if err := wire(c); err != nil {
		log.Error("stage setup failed", zap.Error(err))
		rt.Abort() // stops what the stage started, closes the bus
		return cli.Reported(exitCode(err))
	}
	if err := rt.Run(context.Background()); err != nil {
		log.Error("service failed", zap.Error(err))
		return cli.Reported(exitCode(err))
	}
	return nil
}

// exitCode is 2 for a failure configuration must fix (credentials rejected, certificate not
// trusted, a file missing, an unprotected API: service.ConnError), else 1.
func exitCode(err error) int {
	if service.IsConnError(err) {
		return cli.ExitUsage
	}
	return cli.ExitFailure
}

// Wire builds a Configure from a stage's env reader and its Add function, which gets a
// context bounded by setup (none when 0).
func Wire[C, S any](fromEnv func(service.Config, *service.Env) C, setup time.Duration, add func(context.Context, Common, C) (S, error)) Configure {
	return func(cfg service.Config, e *service.Env) func(Common) error {
		c := fromEnv(cfg, e)
		return func(common Common) error {
			ctx := context.Background()
			if setup > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, setup)
				defer cancel()
			}
			_, err := add(ctx, common, c)
			return err
		}
	}
}

// EnvOnly adapts an env reader that needs no shared configuration for Wire.
func EnvOnly[C any](f func(*service.Env) C) func(service.Config, *service.Env) C {
	return func(_ service.Config, e *service.Env) C { return f(e) }
}

// NoCtx adapts an Add function that takes no context for Wire.
func NoCtx[C, S any](f func(Common, C) (S, error)) func(context.Context, Common, C) (S, error) {
	return func(_ context.Context, c Common, cfg C) (S, error) { return f(c, cfg) }
}

package stages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

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

// IndexerSubcommands is the indexer's `setup`: install the index templates and exit.
func IndexerSubcommands(getenv func(string) string) []*cobra.Command {
	return []*cobra.Command{{
		Use:   "setup",
		Short: "install the Elasticsearch index templates (NEWSFLOW_ES_URL, NEWSFLOW_INDEX_*) and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e := &service.Env{Get: getenv}
			names, err := SetupIndex(e, e.String("NEWSFLOW_ES_URL", service.DefaultConfig("indexer").ESURL))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "templates installed (read aliases %s, %s)\n", names.ArticlesAlias(), names.AlertsAlias())
			return nil
		},
	}}
}

// SetupIndex installs the index templates configured by NEWSFLOW_INDEX_* on the
// Elasticsearch at esURL, after validating the configuration (a cli.ConfigError).
func SetupIndex(e *service.Env, esURL string) (index.Names, error) {
	cfg := IndexerConfigFromEnv(e, esURL)
	sec := service.LoadSecurity(e)
	if err := errors.Join(e.Err(), sec.Validate()); err != nil {
		return index.Names{}, cli.ConfigError(err)
	}
	es, err := NewESClient(esURL, sec.ES)
	if err != nil {
		return index.Names{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := index.Setup(ctx, es, cfg.Index.Setup); err != nil {
		return index.Names{}, redact.Error(fmt.Errorf("install templates on %s: %w", redact.URL(esURL), err), append(redact.Credentials(esURL), sec.Secrets()...)...)
	}
	return cfg.Index.Setup.Names, nil
}

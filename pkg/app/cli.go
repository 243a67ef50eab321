package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/clean"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/dlq"
	"github.com/newsflow/newsflow/pkg/enrich"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
)

// Main runs the newsflow command line (args without the program name) and returns the exit
// code: 0, 1 when a command failed, 2 for a usage error or invalid configuration. getenv and
// stdin are the process's (os.Getenv, os.Stdin) in the main.
func Main(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cli.Execute(Command(getenv, stdin), args, stdout, stderr)
}

// Command is the newsflow command tree.
func Command(getenv func(string) string, stdin io.Reader) *cobra.Command {
	root := &cobra.Command{
		Use:   "newsflow",
		Short: "newsflow — the whole news pipeline in one binary",
		Long: "newsflow — the whole news pipeline in one binary: `run` runs every stage in one process;\n" +
			"extract, search, replay, setup and dlq are the user's tools.\n\n" +
			"Configuration: NEWSFLOW_* environment variables (docs/config.md); flags override them.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q", args[0])
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error { return cli.UsageError("a command is required") },
	}
	root.AddCommand(runCommand(getenv), extractCommand(stdin), searchCommand(getenv), replayCommand(getenv), setupCommand(getenv), dlqCommand(getenv))
	root.AddCommand(importCommand(getenv))
	root.AddCommand(checkCommand(getenv), rulesCommand(getenv), statusCommand(getenv)) // operator commands: check, rules test, status (issue 16)
	return root
}

func esDefault(getenv func(string) string) string {
	return envOr(getenv, "NEWSFLOW_ES_URL", service.DefaultConfig("newsflow").ESURL)
}

// esFlag defines --es with NEWSFLOW_ES_URL (or the default) as its value; the default shown by
// --help is redacted, so a password in NEWSFLOW_ES_URL never reaches the usage text.
func esFlag(f *pflag.FlagSet, p *string, getenv func(string) string) {
	f.StringVar(p, "es", esDefault(getenv), "Elasticsearch URL (NEWSFLOW_ES_URL)")
	f.Lookup("es").DefValue = redact.URL(esDefault(getenv))
}

func runCommand(getenv func(string) string) *cobra.Command {
	var o RunOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run every stage in one process over an embedded NATS JetStream",
		Long: "Runs every stage in one process over an embedded NATS JetStream; without sources it serves\n" +
			"the offline demo site. Ctrl-C drains and stops cleanly. All configuration is validated before\n" +
			"anything is started (exit 2 listing every problem).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("nats-port") && getenv("NEWSFLOW_EMBEDDED_NATS_PORT") != "" {
				o.NATSPort = 0 // Run reads (and validates) NEWSFLOW_EMBEDDED_NATS_PORT
			}
			o.Out = cmd.OutOrStdout()
			return Run(o, getenv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DataDir, "data", envOr(getenv, "NEWSFLOW_DATA_DIR", "data"), "data directory: embedded NATS, stage state, log (NEWSFLOW_DATA_DIR)")
	f.StringVar(&o.SourcesFile, "sources", getenv("NEWSFLOW_SOURCES"), "sources file, YAML or OPML; empty: the offline demo (NEWSFLOW_SOURCES)")
	esFlag(f, &o.ESURL, getenv)
	f.StringVar(&o.HTTPAddr, "http", envOr(getenv, "NEWSFLOW_HTTP_ADDR", "127.0.0.1:8080"), "metrics, health and /v1/urls address (NEWSFLOW_HTTP_ADDR)")
	f.IntVar(&o.NATSPort, "nats-port", 4223, "embedded NATS client port, -1: random (NEWSFLOW_EMBEDDED_NATS_PORT)")
	return cmd
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}

// Extract cleans and enriches one page (HTML or text) and returns the enriched article.
func Extract(ctx context.Context, pageURL, body, contentType string) (*article.Enriched, error) {
	cl, err := clean.New(clean.DefaultConfig(), zap.NewNop(), nil)
	if err != nil {
		return nil, err
	}
	en, err := enrich.New(enrich.Config{}, zap.NewNop(), nil)
	if err != nil {
		return nil, err
	}
	id, canon, err := article.ID(pageURL)
	if err != nil {
		return nil, err
	}
	raw := &article.Raw{URL: pageURL, CanonicalURL: canon, ContentType: contentType, Body: body, FetchedAt: time.Now().UTC()}
	c, err := cl.Clean(ctx, id, raw)
	if err != nil {
		return nil, err
	}
	return en.Enrich(ctx, id, c)
}

func extractCommand(stdin io.Reader) *cobra.Command {
	var format, pageURL string
	cmd := &cobra.Command{
		Use:   "extract <url|file|->",
		Short: "clean and enrich one page (a URL, a file, or - for stdin) and print it",
		Long: "Cleans and enriches one page, fetched from a URL, read from a file or from stdin (-), and\n" +
			"prints the enriched article as JSON or text. Exits 1 for an HTTP error status or when no\n" +
			"article text is found.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "json" && format != "text" {
				return cli.UsageError("-o %q: want json or text", format)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			p, err := readPage(ctx, args[0], pageURL, stdin)
			if err != nil {
				return err
			}
			e, err := Extract(ctx, p.url, p.body, p.contentType)
			if err != nil {
				return err
			}
			if strings.TrimSpace(e.Text) == "" {
				return fmt.Errorf("%s: no article text found", args[0])
			}
			if format == "text" {
				return printText(cmd.OutOrStdout(), e)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(e)
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "json", "output format: json or text")
	cmd.Flags().StringVar(&pageURL, "url", "", "the page's URL when reading a file or stdin (default: https://local.file/<path>)")
	return cmd
}

type page struct{ url, body, contentType string }

// readPage fetches target (http or https), reads it from stdin ("-") or from a file.
func readPage(ctx context.Context, target, pageURL string, stdin io.Reader) (page, error) {
	const limit = 8 << 20
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return page{}, err
		}
		client := &http.Client{Timeout: 30 * time.Second}
		res, err := client.Do(req)
		if err != nil {
			return page{}, err
		}
		defer res.Body.Close()
		if res.StatusCode >= 400 {
			return page{}, fmt.Errorf("GET %s: HTTP %s", target, res.Status)
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, limit))
		if err != nil {
			return page{}, err
		}
		return page{url: res.Request.URL.String(), body: string(b), contentType: res.Header.Get("Content-Type")}, nil
	}
	var b []byte
	var err error
	if target == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, limit))
	} else {
		b, err = os.ReadFile(target)
	}
	if err != nil {
		return page{}, err
	}
	if pageURL == "" {
		pageURL = "https://local.file/" + strings.TrimLeft(filepath.ToSlash(target), "./")
		if target == "-" {
			pageURL = "https://local.file/stdin"
		}
	}
	body := string(b)
	head := body[:min(len(body), 2048)]
	ct := "text/html"
	if !strings.Contains(strings.ToLower(head), "<html") && !strings.Contains(head, "<p") {
		ct = "text/plain"
	}
	return page{url: pageURL, body: body, contentType: ct}, nil
}

// printText prints an enriched article for a terminal: title, metadata, text, then the
// entities and keywords.
func printText(w io.Writer, e *article.Enriched) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", e.Title, e.URL)
	meta := []string{}
	if e.PublishedAt != nil {
		meta = append(meta, "published "+e.PublishedAt.Format(time.RFC3339))
	}
	if e.Language != "" {
		meta = append(meta, "language "+e.Language)
	}
	if len(e.Authors) > 0 {
		meta = append(meta, "by "+strings.Join(e.Authors, ", "))
	}
	meta = append(meta, fmt.Sprintf("%d words", e.WordCount))
	fmt.Fprintf(&b, "%s\n\n%s\n", strings.Join(meta, " · "), e.Text)
	if len(e.Entities) > 0 {
		names := make([]string, 0, len(e.Entities))
		for _, en := range e.Entities {
			names = append(names, en.Name+" ("+en.Type+")")
		}
		fmt.Fprintf(&b, "\nentities: %s\n", strings.Join(names, ", "))
	}
	if len(e.Keywords) > 0 {
		terms := make([]string, 0, len(e.Keywords))
		for _, k := range e.Keywords {
			terms = append(terms, k.Term)
		}
		fmt.Fprintf(&b, "keywords: %s\n", strings.Join(terms, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func searchCommand(getenv func(string) string) *cobra.Command {
	var n int
	var es string
	cmd := &cobra.Command{
		Use:   "search <query>...",
		Short: "search the indexed articles, with highlights",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sec, err := service.SecurityFromEnv(getenv)
			if err != nil {
				return cli.ConfigError(err)
			}
			return search(cmd.Context(), cmd.OutOrStdout(), es, sec.ES, envOr(getenv, "NEWSFLOW_INDEX_PREFIX", "newsflow"), strings.Join(args, " "), n)
		},
	}
	cmd.Flags().IntVarP(&n, "limit", "n", 10, "number of results")
	esFlag(cmd.Flags(), &es, getenv)
	return cmd
}

func search(ctx context.Context, out io.Writer, es string, sec service.ESSecurity, prefix, q string, n int) error {
	client, err := stages.NewESClient(es, sec)
	if err != nil {
		return err
	}
	hits, total, err := index.Search(ctx, client, index.Names{Prefix: prefix}, q, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d matching articles\n\n", total)
	plain := strings.NewReplacer("\x1b[1m", "", "\x1b[0m", "")
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			plain = strings.NewReplacer() // a terminal: keep the bold highlights
		}
	}
	for _, h := range hits {
		fmt.Fprintf(out, "%s  [%s] %s\n  %s\n", h.Published.Format("2006-01-02 15:04"), h.Source, h.Title, h.URL)
		for _, s := range h.Highlights {
			fmt.Fprintf(out, "    … %s …\n", plain.Replace(s))
		}
		fmt.Fprintln(out)
	}
	return nil
}

func setupCommand(getenv func(string) string) *cobra.Command {
	var es string
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "install the Elasticsearch index templates and print how to import the Kibana objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names, err := stages.SetupIndex(&service.Env{Get: getenv}, es)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Elasticsearch templates installed on %s (aliases %s, %s).\n", redact.URL(es), names.ArticlesAlias(), names.AlertsAlias())
			fmt.Fprintln(out, "Import the Kibana data views, searches and dashboard with:")
			fmt.Fprintln(out, "  KIBANA_URL=http://localhost:5601 bash deploy/kibana/import.sh")
			return nil
		},
	}
	esFlag(cmd.Flags(), &es, getenv)
	return cmd
}

func parseFrom(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("--from is required")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--from %q: want RFC 3339 or a duration like 24h", s)
}

// dlqCommand is `newsflow dlq list|show|requeue|purge`; the logic is in pkg/dlq. The bus is
// the services' (NEWSFLOW_BUS, NEWSFLOW_NATS_URL, NEWSFLOW_KAFKA_BROKERS).
func dlqCommand(getenv func(string) string) *cobra.Command {
	var (
		subject, prefix, stage, reason, since, until, output string
		limit                                                int
	)
	cmd := &cobra.Command{
		Use:   "dlq list|show|requeue|purge",
		Short: "list, show, requeue or purge dead letters",
		Long: "Reads the dead letters on the bus the services use (NEWSFLOW_BUS, NEWSFLOW_NATS_URL,\n" +
			"NEWSFLOW_KAFKA_BROKERS) without disturbing their consumers. The filters select for list,\n" +
			"requeue and purge. Requeue republishes each original payload to its original subject once\n" +
			"(later requeues skip it); purge deletes (NATS) or hides (Kafka: a compacted <dlq>.purged topic).",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return cli.UsageError("a dlq command is required: list, show, requeue or purge")
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&subject, "subject", "news.dlq", "the dead-letter subject (topic)")
	pf.StringVar(&prefix, "stream-prefix", "NEWSFLOW", "NATS stream prefix")
	pf.StringVar(&stage, "stage", "", "only dead letters of this stage (cleaner, enricher, indexer, ...)")
	pf.StringVar(&reason, "reason", "", "only dead letters whose reason contains this (case-insensitive)")
	pf.StringVar(&since, "since", "", "only dead letters since: RFC 3339 or a duration back from now (24h)")
	pf.StringVar(&until, "until", "", "only dead letters before: RFC 3339 or a duration back from now")
	pf.IntVar(&limit, "limit", 0, "at most this many, oldest first (0: all; list: 100)")
	pf.StringVarP(&output, "output", "o", "table", "list and show output: table (text) or json")

	// open validates everything, then connects; ids are the IDs given as arguments.
	open := func(c *cobra.Command, ids []string, needSelection bool, all bool) (*dlq.Tool, dlq.Filter, error) {
		f := dlq.Filter{IDs: ids, Stage: stage, Reason: reason, Limit: limit}
		var err error
		now := time.Now()
		if f.Since, err = dlq.ParseTime(since, now); err != nil {
			return nil, f, cli.UsageError("--since %v", err)
		}
		if f.Until, err = dlq.ParseTime(until, now); err != nil {
			return nil, f, cli.UsageError("--until %v", err)
		}
		if output != "table" && output != "text" && output != "json" {
			return nil, f, cli.UsageError("-o %q: want table or json", output)
		}
		if limit < 0 {
			return nil, f, cli.UsageError("--limit %d: want 0 or more", limit)
		}
		if needSelection && f.Empty() && !all {
			return nil, f, cli.UsageError("select dead letters: IDs, a filter (--stage, --reason, --since, --until) or --all")
		}
		cfg, err := service.LoadConfig("newsflow", getenv)
		if err != nil {
			return nil, f, cli.ConfigError(err)
		}
		ctx, cancel := context.WithTimeout(c.Context(), 15*time.Second)
		defer cancel()
		nb, err := service.NATSBusConfig(cfg)
		if err != nil {
			return nil, f, cli.ConfigError(err)
		}
		kb, err := service.KafkaBusConfig(cfg, nil)
		if err != nil {
			return nil, f, cli.ConfigError(err)
		}
		tool, err := dlq.Open(ctx, dlq.Config{Bus: cfg.Bus, NATSURL: cfg.NATSURL, KafkaBrokers: cfg.KafkaBrokers, KafkaReplicas: cfg.KafkaReplicas, StreamPrefix: prefix, Subject: subject,
			NATSOptions: nb.Options, KafkaTLS: kb.TLS, KafkaSASL: kb.SASL})
		if err != nil {
			return nil, f, err
		}
		where := cfg.NATSURL
		if cfg.Bus == "kafka" {
			where = strings.Join(cfg.KafkaBrokers, ",")
		}
		fmt.Fprintf(c.ErrOrStderr(), "dead letters on %s (%s %s)\n", subject, cfg.Bus, redact.URL(where))
		return tool, f, nil
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "list dead letters (table or -o json)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if !c.Flags().Changed("limit") {
				limit = 100
			}
			tool, f, err := open(c, nil, false, false)
			if err != nil {
				return err
			}
			defer tool.Close()
			es, err := tool.List(c.Context(), f)
			if err != nil {
				return err
			}
			if output == "json" {
				js := make([]dlq.JSON, len(es))
				for i, e := range es {
					js[i] = dlq.ToJSON(e, false)
				}
				return writeJSON(c.OutOrStdout(), js)
			}
			return dlq.WriteTable(c.OutOrStdout(), es)
		},
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "print one dead letter whole (reason, attempts, subject, payload)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			tool, _, err := open(c, nil, false, false)
			if err != nil {
				return err
			}
			defer tool.Close()
			e, err := tool.Get(c.Context(), args[0])
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(c.OutOrStdout(), dlq.ToJSON(*e, true))
			}
			return dlq.WriteEntry(c.OutOrStdout(), e)
		},
	}
	var requeueAll bool
	requeue := &cobra.Command{
		Use:   "requeue [ID...]",
		Short: "republish original payloads to their original subjects, once",
		RunE: func(c *cobra.Command, args []string) error {
			tool, f, err := open(c, args, true, requeueAll)
			if err != nil {
				return err
			}
			defer tool.Close()
			res, err := tool.Requeue(c.Context(), f)
			for _, e := range res.Requeued {
				fmt.Fprintf(c.OutOrStdout(), "requeued %s to %s\n", e.ID, e.Subject)
			}
			for _, e := range res.Skipped {
				fmt.Fprintf(c.OutOrStdout(), "skipped %s (already requeued or no original subject)\n", e.ID)
			}
			fmt.Fprintf(c.OutOrStdout(), "%d requeued, %d skipped\n", len(res.Requeued), len(res.Skipped))
			return err
		},
	}
	requeue.Flags().BoolVar(&requeueAll, "all", false, "requeue every dead letter when no ID or filter is given")
	var purgeAll, yes bool
	purge := &cobra.Command{
		Use:   "purge [ID...] --yes",
		Short: "remove dead letters (NATS: deleted; Kafka: hidden)",
		RunE: func(c *cobra.Command, args []string) error {
			if !yes {
				return cli.UsageError("purge removes dead letters: add --yes")
			}
			tool, f, err := open(c, args, true, purgeAll)
			if err != nil {
				return err
			}
			defer tool.Close()
			gone, err := tool.Purge(c.Context(), f)
			fmt.Fprintf(c.OutOrStdout(), "%d purged\n", len(gone))
			return err
		},
	}
	purge.Flags().BoolVar(&purgeAll, "all", false, "purge every dead letter when no ID or filter is given")
	purge.Flags().BoolVar(&yes, "yes", false, "confirm the purge")
	cmd.AddCommand(list, show, requeue, purge)
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

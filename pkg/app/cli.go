package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/clean"
	"github.com/newsflow/newsflow/pkg/enrich"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
	"go.uber.org/zap"
)

const usage = `newsflow — the whole news pipeline in one binary

usage:
  newsflow run [-data DIR] [-sources feeds.yaml|feeds.opml] [-es URL] [-http ADDR]
      every stage in one process over an embedded NATS JetStream; without sources it serves
      the offline demo site. Ctrl-C drains and stops cleanly.
  newsflow extract <url|file>        clean + enrich one page, print the JSON
  newsflow search [-n 10] "<query>"  search the index with highlights
  newsflow replay -from <RFC3339|duration> [-nats URL]
      re-enrich retained news.clean messages (after an enricher upgrade)
  newsflow setup [-es URL]           install Elasticsearch templates, print the Kibana import

Configuration: NEWSFLOW_* environment variables (README.md).
`

// Main runs the CLI and returns the exit code.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], getenv, stdout)
	case "extract":
		err = cmdExtract(args[1:], stdout)
	case "search":
		err = cmdSearch(args[1:], getenv, stdout)
	case "replay":
		err = cmdReplay(args[1:], getenv, stdout)
	case "setup":
		err = cmdSetup(args[1:], getenv, stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "newsflow: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "newsflow %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func esDefault(getenv func(string) string) string {
	if v := getenv("NEWSFLOW_ES_URL"); v != "" {
		return v
	}
	return "http://127.0.0.1:9200"
}

func cmdRun(args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	o := RunOptions{Out: out}
	fs.StringVar(&o.DataDir, "data", envOr(getenv, "NEWSFLOW_DATA_DIR", "data"), "data directory (embedded NATS, state, log)")
	fs.StringVar(&o.SourcesFile, "sources", getenv("NEWSFLOW_SOURCES"), "sources file (YAML or OPML); empty = offline demo")
	fs.StringVar(&o.ESURL, "es", esDefault(getenv), "Elasticsearch URL")
	fs.StringVar(&o.HTTPAddr, "http", envOr(getenv, "NEWSFLOW_HTTP_ADDR", "127.0.0.1:8080"), "metrics/health address")
	fs.IntVar(&o.NATSPort, "nats-port", 4223, "embedded NATS client port (0 = random)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return Run(o, getenv)
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

func cmdExtract(args []string, out io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("want one URL or file")
	}
	target := args[0]
	var body, ct, pageURL string
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		client := &http.Client{Timeout: 30 * time.Second}
		res, err := client.Get(target)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
		if err != nil {
			return err
		}
		body, ct, pageURL = string(b), res.Header.Get("Content-Type"), res.Request.URL.String()
	} else {
		b, err := os.ReadFile(target)
		if err != nil {
			return err
		}
		body = string(b)
		ct = "text/html"
		if !strings.Contains(strings.ToLower(body[:min(len(body), 2048)]), "<html") && !strings.Contains(body[:min(len(body), 2048)], "<p") {
			ct = "text/plain"
		}
		pageURL = "https://local.file/" + strings.TrimLeft(target, "./")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := Extract(ctx, pageURL, body, ct)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

func cmdSearch(args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	n := fs.Int("n", 10, "results")
	es := fs.String("es", esDefault(getenv), "Elasticsearch URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := strings.Join(fs.Args(), " ")
	if q == "" {
		return fmt.Errorf("want a query")
	}
	client, err := stages.NewESClient(*es)
	if err != nil {
		return err
	}
	hits, total, err := index.Search(context.Background(), client, index.Names{Prefix: envOr(getenv, "NEWSFLOW_INDEX_PREFIX", "newsflow")}, q, *n)
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

func cmdSetup(args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	es := fs.String("es", esDefault(getenv), "Elasticsearch URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := stages.IndexerConfigFromEnv(&service.Env{Get: getenv}, *es)
	client, err := stages.NewESClient(*es)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := index.Setup(ctx, client, cfg.Index.Setup); err != nil {
		return err
	}
	fmt.Fprintf(out, "Elasticsearch templates installed on %s (aliases %s, %s).\n", *es, cfg.Index.Setup.Names.ArticlesAlias(), cfg.Index.Setup.Names.AlertsAlias())
	fmt.Fprintln(out, "Import the Kibana data views, searches and dashboard with:")
	fmt.Fprintln(out, "  KIBANA_URL=http://localhost:5601 bash deploy/kibana/import.sh")
	return nil
}

// cmdReplay re-enriches news.clean messages retained in JetStream since -from and publishes
// them to news.enriched; the indexer replaces older documents (newer enrichment version).
func cmdReplay(args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	from := fs.String("from", "", "start time: RFC 3339 (2026-11-01T00:00:00Z) or a duration back from now (24h)")
	natsURL := fs.String("nats", envOr(getenv, "NEWSFLOW_NATS_URL", "nats://127.0.0.1:4223"), "NATS URL (the all-in-one's embedded server listens on 4223)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start, err := parseFrom(*from, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := natsbus.New(ctx, natsbus.Config{URL: *natsURL, ConnectName: "newsflow-replay"}, zap.NewNop())
	if err != nil {
		return err
	}
	defer b.Close()
	en, err := enrich.New(enrich.Config{}, zap.NewNop(), nil)
	if err != nil {
		return err
	}
	js := b.JetStream()
	stream := natsbus.StreamName("NEWSFLOW", article.SubjectClean)
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{article.SubjectClean}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
	if err != nil {
		return err
	}
	total := info.State.Msgs
	var done, failed uint64
	bar := func(final bool) {
		pct := 0.0
		if total > 0 {
			pct = float64(done) / float64(total)
		}
		n := int(pct * 30)
		fmt.Fprintf(out, "\rreplay [%s%s] %d re-enriched, %d failed", strings.Repeat("#", n), strings.Repeat(".", 30-n), done, failed)
		if final {
			fmt.Fprintln(out)
		}
	}
	for {
		fctx, fcancel := context.WithTimeout(ctx, 3*time.Second)
		m, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		fcancel()
		_ = fctx
		if err != nil { // no more retained messages
			bar(true)
			return nil
		}
		env, err := article.Decode(m.Data())
		if err != nil || env.Clean == nil {
			failed++
			continue
		}
		e, err := en.Enrich(ctx, env.ID, env.Clean)
		if err != nil {
			failed++
			continue
		}
		data, err := article.Encode(&article.Envelope{ID: env.ID, Stage: article.StageEnriched, Enriched: e})
		if err != nil {
			failed++
			continue
		}
		// A replay must not be swallowed by publish dedup of the original enriched message.
		if err := b.Publish(ctx, article.SubjectEnriched, bus.Outgoing{Key: env.ID + "-replay-" + time.Now().UTC().Format("20060102T150405"), Data: data}); err != nil {
			return err
		}
		done++
		if done%10 == 0 {
			bar(false)
		}
	}
}

func parseFrom(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("-from is required")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("-from %q: want RFC 3339 or a duration like 24h", s)
}

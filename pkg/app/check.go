package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"gopkg.in/yaml.v3"
)

// environ lists the process environment for `newsflow check`'s unknown-variable scan (the
// only thing getenv cannot answer); tests replace it.
var environ = os.Environ

// checkReport collects the lines of `newsflow check`: one per item, ok/FAILED/skipped, the
// problems indented below.
type checkReport struct {
	out              io.Writer
	invalid, failing bool
}

func (r *checkReport) item(status, name, detail string, problems ...string) {
	fmt.Fprintf(r.out, "%-7s %-14s %s\n", status, name, detail)
	for _, p := range problems {
		fmt.Fprintf(r.out, "        - %s\n", p)
	}
}

// config reports a configuration item: invalid (exit 2) when problems are listed.
func (r *checkReport) config(name, okDetail string, problems []string) {
	if len(problems) > 0 {
		r.invalid = true
		r.item("FAILED", name, fmt.Sprintf("%d problem(s)", len(problems)), problems...)
		return
	}
	r.item("ok", name, okDetail)
}

// server reports a connection: failing (exit 1) on err.
func (r *checkReport) server(name, target string, detail string, err error) {
	if err != nil {
		r.failing = true
		r.item("FAILED", name, target+": "+oneLine(err.Error()))
		return
	}
	r.item("ok", name, target+": "+detail)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// problemLines flattens joined errors into unique lines, in order.
func problemLines(errs ...error) []string {
	var out []string
	seen := map[string]bool{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, l := range strings.Split(err.Error(), "\n") {
			l = strings.TrimPrefix(strings.TrimSpace(l), "config for newsflow: ")
			if l != "" && !seen[l] && !strings.HasSuffix(l, "problem(s):") {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

func checkCommand(getenv func(string) string) *cobra.Command {
	var sources, rules, es string
	var offline bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check",
		Short: "validate the configuration, sources and rules files, then test the bus and Elasticsearch connections (changes nothing)",
		Long: "check validates every NEWSFLOW_* variable (docs/config.md; unknown NEWSFLOW_* names are\n" +
			"errors, typos included), the sources file (every problem with its line) and the alert rules file\n" +
			"(every problem with its line), then connects to the bus (NEWSFLOW_BUS) and Elasticsearch and\n" +
			"reports each as ok or FAILED with the reason. It creates and changes nothing.\n\n" +
			"Exit status: 0 all ok; 2 invalid configuration, sources or rules (servers are not contacted);\n" +
			"1 a server cannot be reached or refused the credentials.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := &checkReport{out: cmd.OutOrStdout()}
			cfg, sc := checkConfig(r, getenv, es)
			checkSources(r, sources)
			checkRules(r, rules)
			switch {
			case r.invalid:
				r.item("skipped", "bus", "the configuration is invalid")
				r.item("skipped", "elasticsearch", "the configuration is invalid")
			case offline:
				r.item("skipped", "bus", "--offline")
				r.item("skipped", "elasticsearch", "--offline")
			default:
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				checkBus(ctx, r, cfg)
				checkES(ctx, r, getenv, cfg.ESURL, sc.indexer.Index.Setup.Names.ArticlesAlias())
			}
			switch {
			case r.invalid:
				return cli.Reported(cli.ExitUsage)
			case r.failing:
				return cli.Reported(cli.ExitFailure)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sources, "sources", getenv("NEWSFLOW_SOURCES"), "sources file to check, YAML or OPML (NEWSFLOW_SOURCES)")
	f.StringVar(&rules, "rules", getenv("NEWSFLOW_ALERT_RULES"), "alert rules file to check (NEWSFLOW_ALERT_RULES; empty: the shipped rules)")
	esFlag(f, &es, getenv)
	f.BoolVar(&offline, "offline", false, "check the files and settings only, contact no server")
	f.DurationVar(&timeout, "timeout", 15*time.Second, "budget for the connection checks")
	return cmd
}

// checkConfig validates every NEWSFLOW_* variable: unknown names, types and secret files, the
// shared settings and every stage's own (the rules file is checkRules').
func checkConfig(r *checkReport, getenv func(string) string, esURL string) (service.Config, stageConfigs) {
	var problems []error
	for _, k := range service.UnknownVars(environ()) {
		problems = append(problems, fmt.Errorf("%s: not a newsflow setting (typo? see docs/config.md)", k))
	}
	problems = append(problems, service.CheckEnv(getenv))
	get := func(k string) string {
		if k == "NEWSFLOW_ES_URL" && esURL != "" {
			return esURL
		}
		return getenv(k)
	}
	cfg, err := service.LoadConfig("newsflow", get)
	problems = append(problems, err)
	e := &service.Env{Get: get}
	sc := readStageConfigs(e, cfg, cfg.NATSURL)
	sc.alerter.RulesFile = "" // checkRules lists its problems
	problems = append(problems, e.Err(), sc.validate())
	set := 0
	for _, v := range service.Vars() {
		if getenv(v.Name) != "" || (v.Secret && getenv(v.Name+service.FileSuffix) != "") {
			set++
		}
	}
	r.config("configuration", fmt.Sprintf("%d NEWSFLOW_* variables set, all valid (bus %s)", set, cfg.Bus), problemLines(problems...))
	return cfg, sc
}

// checkSources lists every problem of the sources file, with line numbers for YAML.
func checkSources(r *checkReport, path string) {
	if path == "" {
		r.item("ok", "sources", "none set (newsflow run serves the offline demo; the fetcher only fetches submitted URLs)")
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		r.config("sources", "", []string{err.Error()})
		return
	}
	var n int
	var problems []string
	if strings.EqualFold(filepath.Ext(path), ".opml") || bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
		srcs, err := fetch.ParseOPML(b)
		n = len(srcs)
		problems = problemLines(err)
	} else {
		// ParseSourcesYAML lists every problem, one "line N: ..." a line.
		srcs, err := fetch.ParseSourcesYAML(b)
		n = len(srcs)
		problems = problemLines(err)
	}
	for i := range problems {
		problems[i] = path + ": " + problems[i]
	}
	r.config("sources", fmt.Sprintf("%d sources in %s", n, path), problems)
}

// checkRules lists every problem of the rules file: YAML syntax, unknown keys and wrong types
// (all, with lines), then each rule's validation and duplicate IDs, at the rule's line.
func checkRules(r *checkReport, path string) {
	if path == "" {
		r.item("ok", "rules", fmt.Sprintf("none set: the %d shipped rules", len(alert.DefaultRules())))
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		r.config("rules", "", []string{err.Error()})
		return
	}
	n, problems := ruleProblems(b)
	for i := range problems {
		problems[i] = path + ": " + problems[i]
	}
	r.config("rules", fmt.Sprintf("%d rules in %s", n, path), problems)
}

// ruleProblems returns the number of rules of a rules document and all its problems.
func ruleProblems(b []byte) (int, []string) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return 0, []string{oneLine(strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	if len(root.Content) == 0 {
		return 0, []string{"empty rules document (want `rules: [...]`)"}
	}
	var problems []string
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f alert.RulesFile
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return 0, []string{oneLine(err.Error())}
		}
		for _, e := range te.Errors {
			problems = append(problems, e)
		}
	}
	var items []*yaml.Node
	if doc := root.Content[0]; doc.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == "rules" && doc.Content[i+1].Kind == yaml.SequenceNode {
				items = doc.Content[i+1].Content
			}
		}
	}
	if items == nil {
		problems = append(problems, "no `rules:` list")
	}
	seen := map[string]int{}
	for _, it := range items {
		var rule alert.Rule
		_ = it.Decode(&rule) // type errors are listed above
		rule = rule.WithDefaults()
		if err := rule.Validate(); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %v", it.Line, err))
		}
		if l, dup := seen[rule.ID]; dup && rule.ID != "" {
			problems = append(problems, fmt.Sprintf("line %d: rule %q: duplicate id (first at line %d)", it.Line, rule.ID, l))
		} else {
			seen[rule.ID] = it.Line
		}
	}
	sort.SliceStable(problems, func(i, j int) bool { return lineOf(problems[i]) < lineOf(problems[j]) })
	return len(items), problems
}

// lineOf returns N of a "line N: ..." problem (0 otherwise).
func lineOf(s string) int {
	var n int
	_, _ = fmt.Sscanf(s, "line %d:", &n)
	return n
}

// checkBus connects to the configured bus as the services do (credentials included) and
// asks it something that changes nothing: the JetStream account (NATS), the cluster metadata
// (Kafka, done by the connect itself).
func checkBus(ctx context.Context, r *checkReport, cfg service.Config) {
	target := cfg.Bus + " " + redact.URL(cfg.NATSURL)
	if cfg.Bus == "kafka" {
		target = "kafka " + redact.URL(strings.Join(cfg.KafkaBrokers, ","))
	}
	b, err := service.OpenBus(ctx, cfg, zap.NewNop())
	if err != nil {
		r.server("bus", target, "", err)
		return
	}
	defer b.Close()
	detail := "connected"
	if nb, ok := b.(*natsbus.Bus); ok {
		info, err := nb.JetStream().AccountInfo(ctx)
		if err != nil {
			r.server("bus", target, "", fmt.Errorf("JetStream: %w", err))
			return
		}
		detail = fmt.Sprintf("JetStream enabled, %d streams, %d consumers", info.Streams, info.Consumers)
	}
	r.server("bus", target, detail, nil)
}

// checkES asks Elasticsearch for its version and cluster health and whether the articles
// alias exists (templates installed), changing nothing.
func checkES(ctx context.Context, r *checkReport, getenv func(string) string, url, alias string) {
	target := redact.URL(url)
	secrets := redact.Credentials(url)
	es, err := esClient(getenv, url)
	if err != nil {
		r.server("elasticsearch", target, "", err)
		return
	}
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := esGet(ctx, es, "/", &info); err != nil {
		r.server("elasticsearch", target, "", redact.Error(err, secrets...))
		return
	}
	var health struct {
		Status string `json:"status"`
	}
	if err := esGet(ctx, es, "/_cluster/health", &health); err != nil {
		r.server("elasticsearch", target, "", redact.Error(err, secrets...))
		return
	}
	detail := fmt.Sprintf("version %s, cluster %s", info.Version.Number, health.Status)
	var aliases map[string]any
	if err := esGet(ctx, es, "/_alias/"+alias, &aliases); err != nil {
		detail += ", read alias " + alias + " missing (run `newsflow setup` or start the indexer)"
	} else {
		detail += ", read alias " + alias + " present"
	}
	r.server("elasticsearch", target, detail, nil)
}

// esGet GETs path and decodes the JSON answer into v; a non-2xx status is an error.
func esGet(ctx context.Context, es *elasticsearch.Client, path string, v any) error {
	return esDo(ctx, es, http.MethodGet, path, nil, v)
}

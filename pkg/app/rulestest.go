package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
	"github.com/spf13/cobra"
)

func rulesCommand(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "alert rule tools: test a rule against the indexed articles",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return cli.UsageError("a rules command is required (test)") },
	}
	var rulesFile, es, since string
	test := &cobra.Command{
		Use:   "test RULE",
		Short: "dry-run one alert rule against the articles indexed in Elasticsearch and print what it would have fired",
		Long: "test replays the entity and keyword mentions of the articles indexed over --since (oldest\n" +
			"first, in event time) through a fresh alerter holding only RULE (an id in --rules, or in the\n" +
			"shipped rules), and prints every alert message it would have sent. Nothing is published or\n" +
			"notified, and the running alerter is not touched. The detector's warm-up (NEWSFLOW_ALERT_WARMUP,\n" +
			"default 1h of stream time) applies: nothing fires during the first part of the replay.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := time.ParseDuration(since)
			if err != nil || d <= 0 {
				return cli.UsageError("--since %q: want a positive duration such as 24h", since)
			}
			e := &service.Env{Get: getenv}
			acfg := stages.AlerterConfigFromEnv(e)
			prefix := e.String("NEWSFLOW_INDEX_PREFIX", "newsflow")
			if err := e.Err(); err != nil {
				return cli.ConfigError(err)
			}
			rule, err := findRule(rulesFile, args[0])
			if err != nil {
				return err
			}
			client, err := esClient(getenv, es)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
			defer cancel()
			return testRule(ctx, cmd.OutOrStdout(), client, index.Names{Prefix: prefix}.ArticlesAlias(), acfg.Alert, rule, time.Now().Add(-d))
		},
	}
	test.Flags().StringVar(&rulesFile, "rules", getenv("NEWSFLOW_ALERT_RULES"), "rules file holding RULE (NEWSFLOW_ALERT_RULES; empty: the shipped rules)")
	test.Flags().StringVar(&since, "since", "24h", "replay the articles fetched over this past duration")
	esFlag(test.Flags(), &es, getenv)
	cmd.AddCommand(test)
	return cmd
}

// findRule returns the rule id of the rules file (the shipped rules when path is empty),
// enabled; an unknown id is a usage error listing the ids there are.
func findRule(path, id string) (alert.Rule, error) {
	rules := alert.DefaultRules()
	if path != "" {
		var err error
		if rules, err = alert.LoadRules(path); err != nil {
			return alert.Rule{}, cli.ConfigError(err)
		}
	}
	var ids []string
	for _, r := range rules {
		if r.ID == id {
			r.Disabled = false
			return r, nil
		}
		ids = append(ids, r.ID)
	}
	where := "the shipped rules"
	if path != "" {
		where = path
	}
	return alert.Rule{}, cli.UsageError("no rule %q in %s (there are: %s)", id, where, strings.Join(ids, ", "))
}

// testRule replays the articles fetched since from into a fresh alerter with only rule and
// prints its alert messages.
func testRule(ctx context.Context, out io.Writer, es *elasticsearch.Client, alias string, cfg alert.Config, rule alert.Rule, from time.Time) error {
	var mu sync.Mutex
	var fired []*article.Alert
	cfg.Now = nil // FiredAt is the event time of the detection, as in a replay
	cfg.OnAlert = func(a *article.Alert) {
		mu.Lock()
		fired = append(fired, a)
		mu.Unlock()
	}
	a, err := alert.New(cfg, []alert.Rule{rule}, nil, nil, nil, nil)
	if err != nil {
		return cli.ConfigError(fmt.Errorf("rule %s: %w", rule.ID, err))
	}
	defer a.Close()
	var n int
	var first, last time.Time
	err = scanArticles(ctx, es, alias, from, func(e *article.Enriched, t time.Time) error {
		if n == 0 {
			first = t
		}
		n++
		last = t
		return a.Observe(ctx, e)
	})
	if err != nil {
		return err
	}
	if n > 0 {
		a.Tick(last.Add(time.Hour)) // close the last windows: resolutions
	}
	mu.Lock()
	defer mu.Unlock()
	fmt.Fprintf(out, "rule %s (%s): %d articles fetched since %s replayed", rule.ID, rule.Type, n, from.UTC().Format(time.RFC3339))
	if n > 0 {
		fmt.Fprintf(out, " (event time %s .. %s)", first.UTC().Format("2006-01-02 15:04"), last.UTC().Format("2006-01-02 15:04"))
	}
	episodes := 0
	for _, al := range fired {
		if al.Status == alert.StatusFiring {
			episodes++
		}
	}
	fmt.Fprintf(out, "\n%d alert messages, %d episodes would have fired\n", len(fired), episodes)
	for _, al := range fired {
		fmt.Fprintf(out, "%s  %-12s %s:%s  %s\n", al.FiredAt.UTC().Format("2006-01-02 15:04"), al.Status, al.TermKind, al.Term, al.Reason)
	}
	return nil
}

// scanArticles calls fn for every article in alias fetched since from, oldest event time
// first (search_after paging on @timestamp, id).
func scanArticles(ctx context.Context, es *elasticsearch.Client, alias string, from time.Time, fn func(*article.Enriched, time.Time) error) error {
	var after []any
	for {
		q := map[string]any{
			"size":    500,
			"query":   map[string]any{"range": map[string]any{"fetched_at": map[string]any{"gte": from.UTC().Format(time.RFC3339)}}},
			"sort":    []any{map[string]any{"@timestamp": "asc"}, map[string]any{"id": "asc"}},
			"_source": map[string]any{"excludes": []string{"text_lang", "quotes", "places", "dates_mentioned"}},
		}
		if after != nil {
			q["search_after"] = after
		}
		body, _ := json.Marshal(q)
		var res struct {
			Hits struct {
				Hits []struct {
					Source index.ArticleDoc `json:"_source"`
					Sort   []any            `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := esDo(ctx, es, http.MethodPost, "/"+alias+"/_search", body, &res); err != nil {
			return fmt.Errorf("search %s: %w", alias, err)
		}
		for _, h := range res.Hits.Hits {
			d := h.Source
			if err := fn(enrichedFromDoc(&d), d.Timestamp); err != nil {
				return err
			}
		}
		if len(res.Hits.Hits) == 0 {
			return nil
		}
		after = res.Hits.Hits[len(res.Hits.Hits)-1].Sort
	}
}

// enrichedFromDoc rebuilds what the alerter reads of an article from its indexed document.
func enrichedFromDoc(d *index.ArticleDoc) *article.Enriched {
	e := &article.Enriched{Entities: d.EntityDetails}
	e.URL, e.CanonicalURL, e.Title, e.Description, e.Text = d.URL, d.CanonicalURL, d.Title, d.Description, d.Text
	e.Source, e.Language, e.PublishedAt, e.FetchedAt = d.Source, d.Language, d.PublishedAt, d.FetchedAt
	e.Tags, e.ClusterID, e.DuplicateOf, e.ContentHash, e.SimHash = d.Tags, d.ClusterID, d.DuplicateOf, d.ContentHash, d.SimHash
	for _, k := range d.Keywords {
		e.Keywords = append(e.Keywords, article.Keyword{Term: k})
	}
	e.Authors = slices.Clone(d.Authors)
	return e
}

// esDo sends method path with body and decodes the JSON answer into v; non-2xx is an error.
func esDo(ctx context.Context, es *elasticsearch.Client, method, path string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := es.Perform(req)
	if err != nil {
		return redact.Error(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, oneLine(string(b[:min(len(b), 300)])))
	}
	return json.Unmarshal(b, v)
}

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestRulesTest indexes a burst of articles mentioning "Acme" into an isolated prefix of the
// real Elasticsearch and dry-runs a watch rule over them: it fires once the window holds
// threshold mentions, and a rule that does not match prints nothing.
func TestRulesTest(t *testing.T) {
	esURL := testenv.Server(t, "NEWSFLOW_ES_URL")
	prefix := fmt.Sprintf("nfrt%d", time.Now().UnixNano()%1e9)
	env := map[string]string{"NEWSFLOW_ES_URL": esURL, "NEWSFLOW_INDEX_PREFIX": prefix, "NEWSFLOW_ALERT_WARMUP": "-1s"}
	getenv := func(k string) string { return env[k] }
	if _, err := stages.SetupIndex(&service.Env{Get: getenv}, esURL); err != nil {
		t.Fatal(err)
	}
	es, err := esClient(getenv, esURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteESPrefix(t, env, esURL, prefix) })
	// Six articles a minute apart an hour ago, each naming Acme, plus two about something else.
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var bulk bytes.Buffer
	names := index.Names{Prefix: prefix}
	for i := range 8 {
		ts := base.Add(time.Duration(i) * time.Minute)
		e := &article.Enriched{}
		e.URL = fmt.Sprintf("https://news.example/%d", i)
		e.CanonicalURL, e.Language, e.FetchedAt, e.PublishedAt = e.URL, "en", ts, &ts
		e.Source = article.Source{Name: fmt.Sprintf("site%d", i), Domain: fmt.Sprintf("site%d.example", i)}
		e.Title = fmt.Sprintf("Acme story number %d about widgets and more", i)
		e.Entities = []article.Entity{{Type: "ORG", Name: "Acme", Normalized: "acme", Mentions: 2}}
		if i >= 6 {
			e.Title, e.Entities = fmt.Sprintf("Weather report %d for the coming days", i), nil
		}
		id := fmt.Sprintf("rt-%d", i)
		meta, _ := json.Marshal(map[string]any{"create": map[string]any{"_index": names.ArticleIndex(ts), "_id": id}})
		doc, _ := json.Marshal(index.NewArticleDoc(id, e))
		bulk.Write(meta)
		bulk.WriteByte('\n')
		bulk.Write(doc)
		bulk.WriteByte('\n')
	}
	var res struct {
		Errors bool `json:"errors"`
	}
	if err := esDo(context.Background(), es, http.MethodPost, "/_bulk?refresh=true", bulk.Bytes(), &res); err != nil || res.Errors {
		t.Fatalf("bulk: %v (errors %v)", err, res.Errors)
	}
	rules := writeFile(t, t.TempDir(), "rules.yaml", `rules:
  - id: watch-acme
    type: watch
    entities: ["Acme"]
    threshold: 4
    window: 15m
  - id: watch-nothing
    type: watch
    terms: [zeppelin]
    threshold: 1
`)
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
		not  string
	}{
		{"fires", []string{"watch-acme", "--since", "3h"}, 0, []string{"rule watch-acme (watch): 8 articles", "1 episodes would have fired", "firing"}, ""},
		{"silent", []string{"watch-nothing", "--since", "3h"}, 0, []string{"8 articles", "0 alert messages, 0 episodes"}, "firing"},
		{"window excludes", []string{"watch-acme", "--since", "1m"}, 0, []string{"0 articles", "0 episodes"}, ""},
		{"unknown rule", []string{"nope"}, 2, []string{`no rule "nope"`, "watch-acme, watch-nothing"}, ""},
		{"bad since", []string{"watch-acme", "--since", "yesterday"}, 2, []string{"want a positive duration"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(append([]string{"rules", "test", "--rules", rules}, tt.args...), getenv, nil, &out, &errb)
			got := out.String() + errb.String()
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.code, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			if tt.not != "" && strings.Contains(got, tt.not) {
				t.Errorf("output has %q:\n%s", tt.not, got)
			}
		})
	}
}

package stages_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestPipelineOnRealBus runs the cleaner and the enricher, wired exactly as the services
// wire them, on each real backend: good articles (HTML with boilerplate and a plain-text
// page) must come out of news.enriched with entities; every kind of bad input must end on
// news.dlq with a clear reason and its original bytes; the runtime must stay healthy and
// drain cleanly when stopped.
func TestPipelineOnRealBus(t *testing.T) {
	onRealBackends(t, runPipeline)
}

// goodArticle is a page the pipeline must turn into an enriched article.
type goodArticle struct {
	file        string
	url         string // as fetched
	declared    string // the page's rel=canonical ("" if none)
	contentType string
	entity      string // an entity name (substring) the enricher must find
}

var goodArticles = []goodArticle{
	{
		file: "ecb-rates.html",
		// Fetched from a short link: the page's canonical URL re-keys the article.
		url:         "https://www.theledger.example.com/s/98231?utm_source=rss",
		declared:    "https://www.theledger.example.com/markets/2026/11/26/ecb-holds-rates",
		contentType: "text/html; charset=utf-8",
		entity:      "Lagarde",
	},
	{
		file:        "dublin-datacentre.html",
		url:         "https://irishtechwire.example.ie/tech/microsoft-grange-castle-data-centre",
		contentType: "text/html",
		entity:      "Microsoft",
	},
	{
		file:        "nairobi-climate.html",
		url:         "http://www.dailyhorizon.example.com/africa/2026/11/24/guterres-adaptation.html",
		contentType: "", // no Content-Type header: sniffed
		entity:      "Guterres",
	},
	{
		file:        "summit-plaintext.txt",
		url:         "https://wirewatch.example.org/2026/11/grain-corridor-talks",
		contentType: "text/plain; charset=utf-8",
		entity:      "Erdogan",
	},
}

// boilerplate are lines of the test pages that must not survive cleaning.
var boilerplate = []string{
	"Leave a Reply", "Your email address will not be published", "Back to top", "See also",
	"Read on", "We use cookies", "Sign up for our", "All rights reserved", "Share this article",
	"Most read", "Coffee lover", "Reproduction without permission",
}

// badInput is a message the cleaner must dead-letter.
type badInput struct {
	name    string
	key     string
	data    []byte
	reason  string // substring of the dead letter's reason
	subject string // where it is published ("" = news.raw, for the cleaner)
	stage   string // the stage that must dead-letter it ("" = cleaner)
}

func badInputs(t testing.TB) []badInput {
	t.Helper()
	fetched := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	mk := func(name, url, ct, body, reason string) badInput {
		id, b := rawEnvelope(t, url, ct, body, fetched)
		return badInput{name: name, key: id, data: b, reason: reason}
	}
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + strings.Repeat("\x00\x01\x02\x03", 512)
	deep := strings.Repeat("<div>", 10_000) + "<p>Deep down there is a sentence.</p>" + strings.Repeat("</div>", 10_000)
	return []badInput{
		mk("binary body", "https://cdn.example.com/img/photo-123", "application/octet-stream", png, "binary content"),
		mk("empty body", "https://news.example.com/empty", "text/html", "", "empty body"),
		mk("whitespace body", "https://news.example.com/blank", "text/html", " \n\t \r\n ", "empty body"),
		mk("10000-deep nesting", "https://news.example.com/deep", "text/html", "<html><body>"+deep+"</body></html>", "nesting too deep"),
		{name: "broken json", key: "broken-json-1", data: []byte(`{"schema":1,"id":"broken","stage":"raw","raw":{"url":"https://ex`), reason: "decode"},
		{name: "not json at all", key: "not-json-1", data: []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), reason: "decode"},
		{
			name:   "unknown schema version",
			key:    "schema-99",
			data:   []byte(`{"schema":99,"id":"schema-99","stage":"raw","sent_at":"2026-11-27T08:00:00Z","raw":{"url":"https://news.example.com/v99","body":"<p>from the future</p>"}}`),
			reason: "unsupported schema version",
		},
		// Enricher input that cannot be enriched, published straight to news.clean.
		{name: "raw envelope on news.clean", key: wrongStage.ID, data: mustEncode(t, wrongStage), reason: `unexpected stage "raw"`,
			subject: article.SubjectClean, stage: "enricher"},
		{name: "broken json on news.clean", key: "broken-json-2", data: []byte(`{"schema":1,"stage":"clean","clean":{"text":"x`), reason: "decode",
			subject: article.SubjectClean, stage: "enricher"},
	}
}

var wrongStage = &article.Envelope{ID: "wrong-stage-1", Stage: article.StageRaw, Raw: &article.Raw{URL: "https://news.example.com/raw", Body: "<p>raw</p>"}}

func mustEncode(t testing.TB, e *article.Envelope) []byte {
	t.Helper()
	b, err := article.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edgeClean is odd but valid enricher input (issue 5, "Bad input"): it must give a defined
// output on news.enriched, never a crash or a retry loop.
type edgeClean struct {
	name          string
	clean         article.Clean
	noSentiment   bool // unsupported language: sentiment must be null, not a guess
	wantEntityAny bool // at least one entity expected
}

func edgeCleans() []edgeClean {
	long := strings.Repeat("The Port of Rotterdam said on Monday that container volumes rose. ", 10_000) // ~660 KB
	mk := func(name, lang, text string) article.Clean {
		return article.Clean{URL: "https://edge.example.com/" + name, CanonicalURL: "https://edge.example.com/" + name,
			Title: name, Text: text, Language: lang, WordCount: len(strings.Fields(text)),
			FetchedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	}
	return []edgeClean{
		{name: "empty-text", clean: mk("empty-text", "en", "")},
		{name: "mixed-scripts", clean: mk("mixed-scripts", "en",
			"Angela Merkel met Владимир Путин and 習近平 in Berlin. «Мы договорились», said one aide; "+
				"مرحبا بكم. The talks with Emmanuel Macron continued in Paris on Friday."), wantEntityAny: true},
		{name: "no-sentences", clean: mk("no-sentences", "en", strings.Repeat("||| 12 --- ;; 0x1F ", 3000))},
		{name: "unsupported-language", clean: mk("unsupported-language", "sw",
			"Rais wa Kenya alisema Jumatatu kwamba serikali itajenga barabara mpya kutoka Nairobi hadi Mombasa mwaka ujao."),
			noSentiment: true},
		{name: "660KB-text", clean: mk("660KB-text", "en", long), wantEntityAny: true},
	}
}

func runPipeline(t *testing.T, be backend) {
	client := testClient(t, be)
	enriched := startSink(t, client, article.SubjectEnriched)
	dlq := startSink(t, client, article.SubjectDLQ)

	state := service.StateDir(t.TempDir())
	noEnv := &service.Env{Get: func(string) string { return "" }}
	p := startPipeline(t, be, "stagetest-pipeline", state, func(c stages.Common) error {
		if _, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(noEnv)); err != nil {
			return err
		}
		_, err := stages.AddEnricher(c, stages.EnricherConfigFromEnv(noEnv))
		return err
	})

	fetched := time.Date(2026, 11, 27, 7, 30, 0, 0, time.UTC)
	wantID := map[string]string{} // url → ID of the enriched article
	for _, g := range goodArticles {
		id, b := rawEnvelope(t, g.url, g.contentType, readTestdata(t, g.file), fetched)
		publish(t, client, article.SubjectRaw, id, b)
		want, _, err := article.ChooseCanonical(g.url, g.declared)
		if err != nil {
			t.Fatal(err)
		}
		wantID[g.url] = want
	}
	bads := badInputs(t)
	for _, b := range bads {
		subject := article.SubjectRaw
		if b.subject != "" {
			subject = b.subject
		}
		publish(t, client, subject, b.key, b.data)
	}
	edges := edgeCleans()
	for _, e := range edges {
		c := e.clean
		publish(t, client, article.SubjectClean, "edge-"+e.name,
			mustEncode(t, &article.Envelope{ID: "edge-" + e.name, Stage: article.StageClean, Clean: &c}))
	}

	byURL := func() map[string]*article.Envelope {
		return enriched.byKey(func(e *article.Envelope) string {
			if e.Enriched == nil {
				return ""
			}
			return e.Enriched.URL
		})
	}
	byKey := func() map[string]*article.Envelope { return dlq.byKey(envID) }
	waitFor(t, fmt.Sprintf("%d enriched articles and %d dead letters", len(goodArticles)+len(edges), len(bads)), func() bool {
		return len(byURL()) >= len(goodArticles)+len(edges) && len(byKey()) >= len(bads)
	})

	// The service is alive and ready after the bad input.
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get("http://" + p.rt.Addr() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d %s after bad input", path, res.StatusCode, body)
		}
	}

	gotEnriched, gotDLQ := byURL(), byKey()
	t.Run("good articles enriched", func(t *testing.T) {
		for _, g := range goodArticles {
			e := gotEnriched[g.url]
			if e == nil {
				t.Errorf("%s: not on news.enriched", g.file)
				continue
			}
			en := e.Enriched
			if e.Stage != article.StageEnriched || e.ID != wantID[g.url] {
				t.Errorf("%s: stage %q id %s, want enriched %s", g.file, e.Stage, e.ID, wantID[g.url])
			}
			if en.Title == "" || en.WordCount < 50 || en.ContentHash == "" || en.EnrichmentVersion != article.EnrichmentVersion {
				t.Errorf("%s: title %q words %d hash %q version %d", g.file, en.Title, en.WordCount, en.ContentHash, en.EnrichmentVersion)
			}
			if en.DuplicateOf != "" {
				t.Errorf("%s: marked duplicate of %s; the test articles are distinct", g.file, en.DuplicateOf)
			}
			var names []string
			found := false
			for _, ent := range en.Entities {
				names = append(names, ent.Type+":"+ent.Name)
				found = found || strings.Contains(ent.Name, g.entity)
			}
			if !found {
				t.Errorf("%s: no entity %q among %v", g.file, g.entity, names)
			}
			for _, bp := range boilerplate {
				if strings.Contains(en.Text, bp) {
					t.Errorf("%s: boilerplate %q survived cleaning", g.file, bp)
				}
			}
		}
	})
	t.Run("bad input dead-lettered", func(t *testing.T) {
		for _, b := range bads {
			e := gotDLQ[b.key]
			if e == nil {
				t.Errorf("%s: not on news.dlq (key %s)", b.name, b.key)
				continue
			}
			d := e.DLQ
			if e.Stage != article.StageDLQ || d == nil {
				t.Errorf("%s: dead letter stage %q payload %v", b.name, e.Stage, d)
				continue
			}
			stage, subject := "cleaner", article.SubjectRaw
			if b.stage != "" {
				stage, subject = b.stage, b.subject
			}
			if d.Stage != stage || d.Subject != be.subject(subject) || d.Attempts != 1 {
				t.Errorf("%s: dead letter from stage %q subject %q attempts %d, want %s on %s at the first attempt",
					b.name, d.Stage, d.Subject, d.Attempts, stage, be.subject(subject))
			}
			if !strings.Contains(d.Reason, b.reason) {
				t.Errorf("%s: reason %q, want it to contain %q", b.name, d.Reason, b.reason)
			}
			if !bytes.Equal(d.Payload, b.data) {
				t.Errorf("%s: payload not the original bytes (%d bytes, want %d)", b.name, len(d.Payload), len(b.data))
			}
		}
		if len(gotDLQ) != len(bads) {
			t.Errorf("%d dead letters, want %d (good articles must not be dead-lettered)", len(gotDLQ), len(bads))
		}
	})

	t.Run("odd enricher input has a defined output", func(t *testing.T) {
		for _, e := range edges {
			env := gotEnriched[e.clean.URL]
			if env == nil {
				t.Errorf("%s: not on news.enriched", e.name)
				continue
			}
			en := env.Enriched
			if env.ID != "edge-"+e.name || en.EnrichmentVersion != article.EnrichmentVersion {
				t.Errorf("%s: id %s version %d", e.name, env.ID, en.EnrichmentVersion)
			}
			if e.noSentiment && en.Sentiment != nil {
				t.Errorf("%s: sentiment %v for an unsupported language, want null", e.name, *en.Sentiment)
			}
			if e.wantEntityAny && len(en.Entities) == 0 {
				t.Errorf("%s: no entities", e.name)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		want := map[string]float64{
			`newsflow_stage_messages_total{outcome="ok",stage="cleaner"}`:            float64(len(goodArticles)),
			`newsflow_stage_messages_total{outcome="dead_letter",stage="cleaner"}`:   4, // binary, empty, blank, deep
			`newsflow_stage_messages_total{outcome="decode_error",stage="cleaner"}`:  3, // broken JSON, not JSON, schema 99
			`newsflow_stage_messages_total{outcome="ok",stage="enricher"}`:           float64(len(goodArticles) + len(edges)),
			`newsflow_stage_messages_total{outcome="dead_letter",stage="enricher"}`:  1, // raw envelope on news.clean
			`newsflow_stage_messages_total{outcome="decode_error",stage="enricher"}`: 1, // broken JSON
		}
		got := gatherCounters(t, p.rt)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
	})

	if err := p.stop(t); err != nil {
		t.Fatalf("runtime stop: %v, want a clean drain (nil)", err)
	}
	if err := cleanerStateSaved(state.Load); err != nil {
		t.Errorf("on stop: %v", err)
	}
}

// gatherCounters returns every counter and gauge of rt's registry as `name{label="v",...}` → value.
func gatherCounters(t testing.TB, rt *service.Runtime) map[string]float64 {
	t.Helper()
	mfs, err := rt.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_COUNTER && mf.GetType() != dto.MetricType_GAUGE {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			v := m.GetCounter().GetValue()
			if mf.GetType() == dto.MetricType_GAUGE {
				v = m.GetGauge().GetValue()
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = v
		}
	}
	return out
}

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"go.uber.org/zap"
	"golang.org/x/text/encoding/charmap"
)

const samplePage = `<!doctype html><html lang="en"><head><title>Mayor opens new bridge | City Times</title>
<link rel="canonical" href="https://citytimes.example/news/bridge?utm_source=x">
<meta property="article:published_time" content="2026-03-10T09:00:00Z"></head><body>
<nav>Home | World | Sport</nav><article><h1>Mayor opens new bridge</h1>
<p>Mayor Anne Hidalgo opened the new pedestrian bridge over the Seine in Paris on Tuesday, city officials said.</p>
<p>"This bridge connects two neighbourhoods that were cut off for decades," Hidalgo said at the ceremony, which drew hundreds of residents.</p>
<p>The bridge cost 40 million euros and took three years to build, according to the city of Paris. Engineers from Eiffage designed the steel arch.</p>
<p>Leave a Reply</p><p>Your email address will not be published.</p></article><footer>Back to top</footer></body></html>`

func TestCLIUsageAndErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "no command", args: nil, code: 2, want: "Usage:"},
		{name: "unknown command", args: []string{"explode"}, code: 2, want: "unknown command"},
		{name: "help", args: []string{"help"}, code: 0, want: "Available Commands:"},
		{name: "help on a command", args: []string{"help", "run"}, code: 0, want: "newsflow run [flags]"},
		{name: "help flag", args: []string{"--help"}, code: 0, want: "Available Commands:"},
		{name: "version", args: []string{"--version"}, code: 0, want: "newsflow dev"},
		{name: "subcommand version", args: []string{"replay", "--version"}, code: 0, want: "newsflow dev"},
		{name: "subcommand help", args: []string{"run", "-h"}, code: 0, want: "--sources"},
		{name: "extract help does not open a file", args: []string{"extract", "--help"}, code: 0, want: "--output"},
		{name: "extract needs a target", args: []string{"extract"}, code: 2, want: "accepts 1 arg"},
		{name: "extract output format", args: []string{"extract", "-o", "yaml", "page.html"}, code: 2, want: "want json or text"},
		{name: "extract missing file", args: []string{"extract", "no-such-file.html"}, code: 1, want: "no-such-file.html"},
		{name: "replay needs --from", args: []string{"replay", "--nats", "nats://127.0.0.1:1"}, code: 2, want: "--from"},
		{name: "replay bad --from", args: []string{"replay", "--from", "yesterday"}, code: 2, want: "want RFC 3339"},
		{name: "search needs a query", args: []string{"search"}, code: 2, want: "requires at least 1 arg"},
		{name: "flag after an argument", args: []string{"search", "volcano", "--bogus"}, code: 2, want: "unknown flag: --bogus"},
		{name: "unexpected argument", args: []string{"setup", "now"}, code: 2, want: "unknown command \"now\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, func(string) string { return "" }, nil, &out, &errb)
			if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("code %d (want %d), output %q", code, tt.code, out.String()+errb.String())
			}
		})
	}
}

// TestRunInvalidConfiguration: `newsflow run` lists every invalid setting (shared, stage and
// sources file) and exits 2 before it creates its data directory or connects to anything.
func TestRunInvalidConfiguration(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{
		"NEWSFLOW_CONCURRENCY":        "0",
		"NEWSFLOW_INDEX_WORKERS":      "many",
		"NEWSFLOW_EMBEDDED_NATS_PORT": "x",
		"NEWSFLOW_ES_URL":             "http://127.0.0.1:1",
	}
	var out, errb bytes.Buffer
	code := Main([]string{"run", "--data", data, "--sources", filepath.Join(t.TempDir(), "missing.yaml")}, func(k string) string { return env[k] }, nil, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, errb.String())
	}
	for _, want := range []string{"NEWSFLOW_CONCURRENCY=0", "NEWSFLOW_INDEX_WORKERS", "NEWSFLOW_EMBEDDED_NATS_PORT", "missing.yaml"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory created before the configuration was validated: %v", err)
	}
}

// TestRunRefusesOpenAPI: `newsflow run` on a non-loopback address without NEWSFLOW_API_TOKEN
// exits 2 before it creates anything (it used to start every stage, then exit 1).
func TestRunRefusesOpenAPI(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	code := Main([]string{"run", "--data", data, "--http", "0.0.0.0:0"}, func(string) string { return "" }, nil, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "NEWSFLOW_API_TOKEN") {
		t.Errorf("stderr does not say what to set:\n%s", errb.String())
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory created before the configuration was validated: %v", err)
	}
}

func TestExtractInputsAndOutputs(t *testing.T) {
	// a Russian article in windows-1251, as many Russian sites still serve it
	ru, err := charmap.Windows1251.NewEncoder().String("<html><head><title>Новые меры поддержки</title></head><body><article><h1>Новые меры поддержки</h1>" +
		strings.Repeat("<p>Правительство объявило о новых мерах поддержки для малого бизнеса в регионах страны. Министр экономики рассказал журналистам о планах на следующий год.</p>", 4) +
		"</article></body></html>")
	if err != nil {
		t.Fatal(err)
	}
	ruMeta := strings.Replace(ru, "<head>", `<head><meta charset="windows-1251">`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ru":
			w.Header().Set("Content-Type", "text/html; charset=windows-1251")
			_, _ = w.Write([]byte(ru))
		case "/bridge":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(samplePage))
		case "/empty":
			_, _ = w.Write([]byte("<html><body><nav>Home</nav></body></html>"))
		default:
			http.Error(w, "<html><body><p>Page not found. "+strings.Repeat("Sorry, nothing here. ", 30)+"</p></body></html>", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{name: "stdin as text", args: []string{"extract", "-", "-o", "text"}, stdin: samplePage, code: 0, want: "entities: "},
		{name: "flags before the argument", args: []string{"extract", "--output=text", "--url", "https://citytimes.example/news/bridge", "-"}, stdin: samplePage, code: 0, want: "https://citytimes.example/news/bridge"},
		{name: "url", args: []string{"extract", srv.URL + "/bridge"}, code: 0, want: `"enrichment_version"`},
		{name: "http error page", args: []string{"extract", srv.URL + "/gone"}, code: 1, want: "404"},
		{name: "empty extraction", args: []string{"extract", "-"}, stdin: "<html><body><script>x()</script></body></html>", code: 1, want: "text"},
		{name: "url in windows-1251", args: []string{"extract", "-o", "text", srv.URL + "/ru"}, code: 0, want: "Правительство объявило"},
		{name: "stdin in windows-1251 with meta charset", args: []string{"extract", "-o", "text", "-"}, stdin: ruMeta, code: 0, want: "Правительство объявило"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, func(string) string { return "" }, strings.NewReader(tt.stdin), &out, &errb)
			if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("code %d (want %d), stdout %q, stderr %q", code, tt.code, out.String(), errb.String())
			}
			if code != 0 && out.Len() > 0 {
				t.Fatalf("failed extraction printed %q", out.String())
			}
		})
	}
}

func TestExtractFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(p, []byte(samplePage), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"extract", p}, func(string) string { return "" }, nil, &out, &errb); code != 0 {
		t.Fatalf("extract exit %d: %s", code, errb.String())
	}
	var e article.Enriched
	if err := json.Unmarshal(out.Bytes(), &e); err != nil {
		t.Fatalf("extract output is not JSON: %v", err)
	}
	if !strings.Contains(e.Text, "pedestrian bridge") || strings.Contains(e.Text, "Leave a Reply") {
		t.Fatalf("text not cleaned: %q", e.Text)
	}
	names := map[string]bool{}
	for _, en := range e.Entities {
		names[en.Name] = true
	}
	if !names["Paris"] || e.EnrichmentVersion != article.EnrichmentVersion {
		t.Fatalf("entities %v, enrichment version %d", e.Entities, e.EnrichmentVersion)
	}
}

func TestParseFrom(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-11-01T00:00:00Z", want: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{in: "24h", want: now.Add(-24 * time.Hour)},
		{in: "yesterday", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseFrom(tt.in, now)
			if (err != nil) != tt.wantErr || (!tt.wantErr && !got.Equal(tt.want)) {
				t.Fatalf("parseFrom(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

// TestReplayReenriches retains clean messages in a real (embedded) JetStream and checks that
// replay publishes a re-enriched copy of each to news.enriched.
func TestReplayReenriches(t *testing.T) {
	srv, url, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	b, err := natsbus.New(context.Background(), natsbus.Config{URL: url}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i, title := range []string{"Paris bridge opens", "Berlin council votes"} {
		c := &article.Clean{URL: "https://e.example/" + title, Title: title, Text: title + ". Mayor Anne Hidalgo spoke in Paris on Tuesday.", Language: "en", FetchedAt: time.Now()}
		env := &article.Envelope{ID: strings.Repeat("0", 31) + string(rune('a'+i)), Stage: article.StageClean, Clean: c}
		data, _ := article.Encode(env)
		if err := b.Publish(context.Background(), article.SubjectClean, bus.Outgoing{Key: env.ID, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"replay", "--from", "1h", "--nats", url}, func(string) string { return "" }, nil, &out, &errb); code != 0 {
		t.Fatalf("replay exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "2 re-enriched, 0 failed") {
		t.Fatalf("replay output %q", out.String())
	}
	got := make(chan *article.Envelope, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Consume(ctx, article.SubjectEnriched, bus.ConsumeOptions{Group: "check"}, func(_ context.Context, m bus.Message) error {
			e, err := article.Decode(m.Data())
			if err == nil {
				got <- e
			}
			return nil
		})
	}()
	for i := 0; i < 2; i++ {
		select {
		case e := <-got:
			if e.Enriched == nil || e.Enriched.EnrichmentVersion != article.EnrichmentVersion {
				t.Fatalf("not an enriched envelope: %+v", e)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("re-enriched messages not published")
		}
	}
	cancel()
	<-done
}

// TestHelpHidesTheESPassword: --help shows NEWSFLOW_ES_URL as the --es default, redacted.
func TestHelpHidesTheESPassword(t *testing.T) {
	env := map[string]string{"NEWSFLOW_ES_URL": "http://elastic:S3cretHelpPass@127.0.0.1:1"}
	for _, cmd := range []string{"run", "search", "setup"} {
		t.Run(cmd, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Main([]string{cmd, "--help"}, func(k string) string { return env[k] }, nil, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if all := out.String() + errb.String(); strings.Contains(all, "S3cretHelpPass") || !strings.Contains(all, "127.0.0.1:1") {
				t.Fatalf("help leaks the password or lost the host:\n%s", all)
			}
		})
	}
}

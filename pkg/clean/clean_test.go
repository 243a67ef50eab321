package clean

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readPage(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCleanHTMLPage(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := New(DefaultConfig(), zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	fetched := time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)
	out, err := c.Clean(context.Background(), "p1", &article.Raw{
		URL: "https://harbour-times.example/news/0-harbour-plan?utm_medium=feed", ContentType: "text/html; charset=utf-8",
		Body: readPage(t, "page1.html"), FetchedAt: fetched,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Title != "Council unveils harbour district plan with new housing" {
		t.Errorf("title = %q", out.Title)
	}
	if len(out.Authors) != 1 || out.Authors[0] != "Ana Lopez" {
		t.Errorf("authors = %q", out.Authors)
	}
	if out.DateSource != "jsonld" || out.PublishedAt == nil || out.PublishedAt.Format(time.RFC3339) != "2024-03-05T09:30:00+01:00" {
		t.Errorf("published = %v (%s)", out.PublishedAt, out.DateSource)
	}
	if out.ModifiedAt == nil || out.ModifiedAt.Format(time.RFC3339) != "2024-03-05T11:30:00+01:00" {
		t.Errorf("modified = %v", out.ModifiedAt)
	}
	if out.CanonicalURL != "https://harbour-times.example/news/0-harbour-plan" {
		t.Errorf("canonical = %q", out.CanonicalURL)
	}
	if out.SiteName != "Harbour-Times.Example" || out.Image != "https://harbour-times.example/img/a.jpg" {
		t.Errorf("site %q image %q", out.SiteName, out.Image)
	}
	if out.Language != "en" || len(out.Tags) == 0 || out.Description == "" {
		t.Errorf("lang %q tags %q desc %q", out.Language, out.Tags, out.Description)
	}
	if len(out.Paragraphs) != 15 { // 14 paragraphs + the attribution
		t.Errorf("got %d paragraphs: %q", len(out.Paragraphs), out.Paragraphs)
	}
	for _, bad := range []string{"See also", "Photo:", "Leave a Reply", "Related headline", "Reader 1", "newsletter", "All rights reserved", "Section 1 news", "By Ana Lopez"} {
		if strings.Contains(out.Text, bad) {
			t.Errorf("text contains boilerplate %q", bad)
		}
	}
	if !strings.Contains(out.Text, "(Reporting by Ana Lopez; Editing by John Roe)") {
		t.Errorf("attribution lost")
	}
	if got := testutil.ToFloat64(c.m.pages.WithLabelValues("ok")); got != 1 {
		t.Errorf("pages_total{ok} = %v", got)
	}
	if n, _ := testutil.GatherAndCount(reg, "newsflow_cleaner_removed_blocks_total"); n == 0 {
		t.Errorf("no removed_blocks metric")
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestCleanBadInput(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxInputBytes = 1 << 20
	c, err := New(cfg, zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat("<div>", 10000) + "text" + strings.Repeat("</div>", 10000)
	for _, tc := range []struct {
		name string
		raw  *article.Raw
		want error
	}{
		{"nil raw", nil, ErrEmpty},
		{"empty", &article.Raw{ContentType: "text/html"}, ErrEmpty},
		{"whitespace", &article.Raw{ContentType: "text/html", Body: " \n\t "}, ErrEmpty},
		{"binary NUL", &article.Raw{ContentType: "text/html", Body: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, ErrBinary},
		{"binary controls", &article.Raw{Body: strings.Repeat("\x01\x02\x03abc", 100)}, ErrBinary},
		{"pdf content type", &article.Raw{ContentType: "application/pdf", Body: "%PDF-1.4 ..."}, ErrContentType},
		{"json content type", &article.Raw{ContentType: "application/json", Body: `{"a":1}`}, ErrContentType},
		{"huge", &article.Raw{ContentType: "text/html", Body: "<p>" + strings.Repeat("a", 2<<20)}, ErrTooLarge},
		{"deep nesting", &article.Raw{ContentType: "text/html", Body: deep}, ErrTooDeep},
		{"broken encoding", &article.Raw{ContentType: "text/plain", Body: strings.Repeat("\xff\xfe\xc3", 300)}, ErrEncoding},
		{"bad gzip", &article.Raw{ContentType: "text/html", BodyGzip: []byte("not gzip")}, ErrEncoding},
		{"html without text", &article.Raw{ContentType: "text/html", Body: "<html><body><script>x()</script></body></html>"}, ErrNoText},
		{"only boilerplate", &article.Raw{ContentType: "text/plain", Body: "Leave a Reply\nBack to top\n"}, ErrNoText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Clean(context.Background(), "id1", tc.raw)
			if err == nil {
				t.Fatalf("no error, got %+v", out)
			}
			if !bus.IsPermanent(err) {
				t.Errorf("error %v is not permanent", err)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCleanInputForms(t *testing.T) {
	c := newTestCleaner(t)
	page := readPage(t, "page2.html")
	for _, tc := range []struct {
		name string
		raw  *article.Raw
	}{
		{"gzip body", &article.Raw{URL: "https://citynews.example/a", ContentType: "text/html", BodyGzip: gz(page)}},
		{"no content type", &article.Raw{URL: "https://citynews.example/a", Body: page}},
		{"xhtml", &article.Raw{URL: "https://citynews.example/a", ContentType: "application/xhtml+xml", Body: page}},
		{"invalid utf8 sprinkled", &article.Raw{URL: "https://citynews.example/a", ContentType: "text/html", Body: strings.Replace(page, "council", "coun\xffcil", 3)}},
		{"truncated html", &article.Raw{URL: "https://citynews.example/a", ContentType: "text/html", Body: page[:len(page)*2/3]}},
		{"html labelled as text", &article.Raw{URL: "https://citynews.example/a", ContentType: "text/html", Body: "Just a short plain text note.\nWith two lines of content here."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Clean(context.Background(), tc.name, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if out.WordCount == 0 || strings.ContainsRune(out.Text, '\uFFFD') {
				t.Errorf("bad output: %d words, text %q", out.WordCount, out.Text[:min(80, len(out.Text))])
			}
		})
	}
}

func TestCleanCanceled(t *testing.T) {
	c := newTestCleaner(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Clean(ctx, "x", &article.Raw{ContentType: "text/html", Body: readPage(t, "page1.html")})
	if err == nil || bus.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want retryable context.Canceled", err)
	}
}

func TestCleanDuplicates(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := New(DefaultConfig(), zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	seed := readPage(t, "seed-article.txt")
	at := time.Date(2021, 12, 30, 9, 0, 0, 0, time.UTC)
	first, err := c.Clean(context.Background(), "wire-1", &article.Raw{URL: "https://a.example/x", ContentType: "text/plain", Body: seed, FetchedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	// A reprint on another site with a different intro line and a typo fixed.
	reprint := strings.Replace(seed, "Blinkin expressed", "Blinken expressed", 1) + "\nThis article first appeared on a partner site.\n"
	second, err := c.Clean(context.Background(), "wire-2", &article.Raw{URL: "https://b.example/y", ContentType: "text/plain", Body: reprint, FetchedAt: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Duplicates are keyed by the published ID: that of the canonical URL.
	id1 := article.IDFromCanonical("https://a.example/x")
	if second.DuplicateOf != id1 || second.ClusterID != id1 || first.ClusterID != id1 || first.DuplicateOf != "" {
		t.Errorf("first dup=%q cluster=%q; second dup=%q cluster=%q", first.DuplicateOf, first.ClusterID, second.DuplicateOf, second.ClusterID)
	}
	if got := testutil.ToFloat64(c.m.duplicates); got != 1 {
		t.Errorf("duplicates_total = %v", got)
	}
}

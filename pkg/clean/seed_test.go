package clean

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
)

func newTestCleaner(t testing.TB) *Cleaner {
	t.Helper()
	c, err := New(DefaultConfig(), zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSeedArticle is the acceptance test: the scraped seed article cleans to its news
// text with none of the boilerplate lines.
func TestSeedArticle(t *testing.T) {
	b, err := os.ReadFile("testdata/seed-article.txt")
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCleaner(t)
	fetched := time.Date(2021, 12, 30, 9, 0, 0, 0, time.UTC)
	out, err := c.Clean(context.Background(), "seed", &article.Raw{
		URL: "https://example.com/world/biden-putin-ukraine", ContentType: "text/plain; charset=utf-8",
		Body: string(b), FetchedAt: fetched, Source: article.Source{Domain: "example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"See also", "How is Alex, the robot", "Video: They defended themselves",
		"Read on:", "Freddie Dawson", "Beer specialist", "Leave a Reply",
		"Your email address will not be published", "Back to top",
		"(Image: Reuters)", "(Photo: Reuters)", "EFE / EPA / MIKHAIL METZEL",
		"In a phone call on Thursday, the US President will tell you that they\n",
	} {
		if strings.Contains(out.Text, bad) {
			t.Errorf("cleaned text still contains %q", bad)
		}
	}
	for _, good := range []string{
		"President Joe Biden will offer Vladimir Putin a “diplomatic path” out of tensions over Ukraine",
		"The two sides discussed efforts to “peacefully resolve the conflict in eastern Ukraine”",
		"Communication between the two leaders",
		"January 10 negotiations tense.",
		"(with information from the EFE and AFP)",
	} {
		if !strings.Contains(out.Text, good) {
			t.Errorf("cleaned text lost %q", good)
		}
	}
	if len(out.Paragraphs) != 19 {
		t.Errorf("got %d paragraphs, want the 19 news paragraphs", len(out.Paragraphs))
	}
	if last := out.Paragraphs[len(out.Paragraphs)-1]; last != "(with information from the EFE and AFP)" {
		t.Errorf("last paragraph = %q, want the attribution", last)
	}
	if want := "Biden will seek to de-escalate the conflict in Ukraine with diplomacy but prepares for the advance of Russian forces"; out.Title != want {
		t.Errorf("title = %q", out.Title)
	}
	if strings.Contains(out.Text, out.Title) {
		t.Errorf("title repeated in text")
	}
	if out.Language != "en" || out.LanguageConf <= 0.5 {
		t.Errorf("language = %q (%.2f)", out.Language, out.LanguageConf)
	}
	if out.DateSource != "fetched" || out.PublishedAt == nil || !out.PublishedAt.Equal(fetched) {
		t.Errorf("date = %v from %q", out.PublishedAt, out.DateSource)
	}
	if out.WordCount < 500 || out.ContentHash == "" || len(out.SimHash) != 16 || out.ClusterID != article.IDFromCanonical(out.CanonicalURL) {
		t.Errorf("word count %d, hash %q, simhash %q, cluster %q", out.WordCount, out.ContentHash, out.SimHash, out.ClusterID)
	}
	if out.RemovedBlocks < 12 {
		t.Errorf("removed blocks = %d, want >= 12", out.RemovedBlocks)
	}
	if testing.Verbose() {
		for i, p := range out.Paragraphs {
			t.Logf("%2d %s", i, p)
		}
	}
}
